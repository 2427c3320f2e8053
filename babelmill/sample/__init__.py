"""Generated sample input for the demo, the tests and the benchmarks.

``write_sample`` writes a small, deterministic imitation of a multilingual web crawl:

* good documents in 15 languages (60-400 words, a headline, paragraphs) built from
  hand-written phrase banks by per-language grammar templates, so that, like real
  prose, they pass datatrove's Gopher quality / Gopher repetition / FineWeb quality
  filters and fastText lid.176 names their language;
* some of them carrying PII (documentation e-mail domains, IPv4 ranges and phone
  numbers) for the PII scrubber;
* ~5% exact and ~5% near duplicates (1-3 word edits of long documents, word 5-gram
  Jaccard >= 0.85 with the original, so MinHash finds them);
* ~12% bad documents, one kind per common web failure (see ``BAD_KINDS``);
* one whitespace-only document and a set of malformed lines (``MALFORMED_LINES``).

Every record says what it was generated as in ``kind`` (duplicates name their
original in ``dup_of``; PII documents list the inserted values in ``pii``), so runs
can be scored against the intent.  ``write_instruction_sample`` writes Alpaca,
ShareGPT and OpenAI ``messages`` files for the translation job.

All text here was written for this project; the phrase banks (YAML files next to
the generator: ``grammars.yaml``, ``web.yaml``, ``instructions.yaml``) are deliberately
plain (a teacher buys bread at the market) but grammatical.
"""

from __future__ import annotations

from babelmill.sample.instructions import (
    INSTRUCTION_MALFORMED,
    SYSTEM_PROMPTS,
    instruction_records,
    write_instruction_sample,
)
from babelmill.sample.web import (
    BAD_KINDS,
    COOKIE,
    FOREIGN_LANGS,
    GRAMMARS,
    LANGS,
    MALFORMED_LINES,
    NAV,
    PII_FRAMES,
    UNSPACED,
    WORDS,
    Grammar,
    add_pii,
    make_bad_document,
    make_document,
    make_headline,
    make_sentence,
    near_duplicate,
    near_duplicate_edits,
    sample_records,
    write_sample,
)

__all__ = [
    "BAD_KINDS",
    "COOKIE",
    "FOREIGN_LANGS",
    "GRAMMARS",
    "INSTRUCTION_MALFORMED",
    "LANGS",
    "MALFORMED_LINES",
    "NAV",
    "PII_FRAMES",
    "SYSTEM_PROMPTS",
    "UNSPACED",
    "WORDS",
    "Grammar",
    "add_pii",
    "instruction_records",
    "make_bad_document",
    "make_document",
    "make_headline",
    "make_sentence",
    "near_duplicate",
    "near_duplicate_edits",
    "sample_records",
    "write_instruction_sample",
    "write_sample",
]
