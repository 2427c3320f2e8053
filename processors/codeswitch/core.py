"""The mechanics every code-switching mode shares: words with offsets, protected spans,
seeded choice of what to switch, and applying replacements with their provenance.

A *unit* is a run of consecutive source words (``first``..``last`` word index) with its
replacement, language and method.  Modes only differ in how they propose units; the
choice (``select_units``) and the rewrite (``apply_units``) are the same for all, so the
ratio and the span records mean the same thing in every mode.

Ratio: switched source words / switchable source words, where a *word* is a token with
a letter and a switchable word is one outside protected spans (code, URLs, e-mails,
placeholders, markup, math: ``processors/translate/protect.py``) and without a digit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

import pyarrow as pa

from babelmill.processors.codeswitch.metrics import utterance_metrics
from babelmill.processors.translate.protect import protected_spans

_WORD = re.compile(r"\w+(?:['’\-]\w+)*")
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_TOKEN = re.compile(r"\w+(?:['’\-]\w+)*|[^\w\s]")
#: the label of punctuation, numbers and protected text in the metrics
UNIVERSAL = "univ"

SPAN_TYPE = pa.list_(
    pa.struct(
        [
            pa.field("segment", pa.int32()),
            pa.field("start", pa.int32()),
            pa.field("end", pa.int32()),
            pa.field("source", pa.string()),
            pa.field("out_start", pa.int32()),
            pa.field("out_end", pa.int32()),
            pa.field("replacement", pa.string()),
            pa.field("lang", pa.string()),
            pa.field("method", pa.string()),
        ]
    )
)


class Word(NamedTuple):
    start: int
    end: int
    switchable: bool


class Unit(NamedTuple):
    """Source words ``first..last`` (inclusive) to be replaced by ``replacement``."""

    first: int
    last: int
    replacement: str
    lang: str
    method: str

    @property
    def size(self) -> int:
        return self.last - self.first + 1


def file_digest(path: str | None) -> str | None:
    """A content hash of an input file (lexicon, templates, tokenizer) for the run's
    fingerprint: editing the file must not let a rerun resume with stale shards."""
    import os

    if not path:
        return None
    if os.path.isdir(path):
        path = os.path.join(path, "tokenizer.json")
    if not os.path.isfile(path):
        return None
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def row_rng(seed: int, *key: Any) -> random.Random:
    """A generator that depends only on the seed and the row's identity (not on batch or
    shard boundaries), so a rerun or a resumed run makes the same choices."""
    digest = hashlib.blake2b("\x1f".join(map(str, (seed, *key))).encode("utf-8"), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "little"))


def _inside(spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


def words(text: str, whitespace: bool = False) -> tuple[list[Word], list[tuple[int, int]]]:
    """The words of ``text`` (tokens with a letter) and whether each may be switched,
    plus the protected spans found on the way.

    ``whitespace=True`` takes whitespace-separated tokens (the indexing of Pharaoh
    word alignments); all other tokens are returned too, marked by a letter check.
    """
    protected = protected_spans(text)
    out = []
    pattern = re.compile(r"\S+") if whitespace else _WORD
    for m in pattern.finditer(text):
        s, e = m.span()
        tok = m.group()
        if tok.isalpha():  # the common case: letters only, no regex needed
            ok = True
        else:
            letter = _LETTER.search(tok) is not None
            if not whitespace and not letter:
                continue
            ok = letter and not _DIGIT.search(tok)
        if ok and protected and _inside(protected, s, e):
            ok = False
        out.append(Word(s, e, ok))
    return out, protected


def target_count(rng: random.Random, ratio: float, n: int) -> int:
    """``ratio * n`` rounded stochastically, so the mean over rows hits the ratio exactly."""
    exact = max(0.0, min(1.0, ratio)) * n
    base = int(exact)
    return base + (1 if rng.random() < exact - base else 0)


def joined_by_space(text: str, ws: Sequence[Word], first: int, last: int) -> bool:
    """Words ``first..last`` are separated by whitespace only (a phrase, not ``a/b``)."""
    return all(not text[ws[i].end : ws[i + 1].start].strip() for i in range(first, last))


def select_units(rng: random.Random, candidates: list[Unit], budget: int) -> list[Unit]:
    """Pick non-overlapping candidates in random order until ``budget`` words are switched.

    A unit that would overshoot is taken only when that lands closer to the budget than
    stopping short; the result is sorted by position.
    """
    order = list(candidates)
    rng.shuffle(order)
    taken: list[Unit] = []
    used: set[int] = set()
    count = 0
    for u in order:
        if count >= budget:
            break
        span = range(u.first, u.last + 1)
        if any(i in used for i in span):
            continue
        if count + u.size > budget and (count + u.size - budget) >= (budget - count):
            continue
        taken.append(u)
        used.update(span)
        count += u.size
    return sorted(taken, key=lambda u: u.first)


def match_case(source: str, replacement: str) -> str:
    """Carry a capitalised or upper-case source word's case over to its replacement."""
    if not replacement or not source:
        return replacement
    if source.isupper() and len(source) > 1:
        return replacement.upper()
    if source[0].isupper() and replacement[0].islower():
        return replacement[0].upper() + replacement[1:]
    return replacement


@dataclasses.dataclass
class Switched:
    """One segment after switching: its text and the spans, in source and output offsets."""

    text: str
    spans: list[dict[str, Any]]
    words: int
    switched: int


def apply_units(text: str, ws: Sequence[Word], units: Sequence[Unit], segment: int = 0) -> Switched:
    """Rewrite ``text`` with each unit's replacement; record where every span went."""
    out: list[str] = []
    spans = []
    pos = 0
    length = 0
    for u in units:
        s, e = ws[u.first].start, ws[u.last].end
        out.append(text[pos:s])
        length += s - pos
        out.append(u.replacement)
        spans.append(
            {
                "segment": segment,
                "start": s,
                "end": e,
                "source": text[s:e],
                "out_start": length,
                "out_end": length + len(u.replacement),
                "replacement": u.replacement,
                "lang": u.lang,
                "method": u.method,
            }
        )
        length += len(u.replacement)
        pos = e
    out.append(text[pos:])
    return Switched("".join(out), spans, sum(1 for w in ws if w.switchable), sum(u.size for u in units))


def token_labels(text: str, spans: Sequence[dict[str, Any]], src_lang: str) -> list[str]:
    """A language label per output token: the replacement's language inside a switched
    span, the source language for other words, ``univ`` for punctuation, numbers and
    protected text (so the metrics of synthetic and natural text are comparable)."""
    protected = protected_spans(text)
    labels = []
    k = 0
    ordered = sorted(spans, key=lambda sp: sp["out_start"])
    for m in _TOKEN.finditer(text):
        s, e = m.span()
        while k < len(ordered) and ordered[k]["out_end"] <= s:
            k += 1
        tok = m.group()
        if not _LETTER.search(tok) or _DIGIT.search(tok) or _inside(protected, s, e):
            labels.append(UNIVERSAL)
        elif k < len(ordered) and ordered[k]["out_start"] <= s < ordered[k]["out_end"]:
            labels.append(ordered[k]["lang"])
        else:
            labels.append(src_lang)
    return labels


def _label_piece(text: str, offset: int, lang: str, protected: Sequence[tuple[int, int]], out: list[str]) -> None:
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if (
            not _LETTER.search(tok)
            or _DIGIT.search(tok)
            or (protected and _inside(protected, offset + m.start(), offset + m.end()))
        ):
            out.append(UNIVERSAL)
        else:
            out.append(lang)


def source_side_labels(
    source: str, protected: Sequence[tuple[int, int]], spans: Sequence[dict[str, Any]], src_lang: str, out: list[str]
) -> None:
    """``token_labels`` of the switched text, built from the source and the spans
    without tokenizing the output again: the text between spans is the source's own,
    and switched spans start and end on word boundaries."""
    pos = 0
    for sp in sorted(spans, key=lambda x: x["start"]):
        _label_piece(source[pos : sp["start"]], pos, src_lang, protected, out)
        _label_piece(sp["replacement"], -(10**9), sp["lang"], (), out)
        pos = sp["end"]
    _label_piece(source[pos:], pos, src_lang, protected, out)


def word_labels(text: str, ws: Sequence[Word], units: Sequence[Unit], src_lang: str, out: list[str]) -> None:
    """Language labels of the switched text's language words, from the source words and
    the chosen units (the metrics only count language tokens, so punctuation, numbers
    and protected text, all language-independent, can be left out).  Equal to the
    language tokens of ``token_labels`` on the output for word-tokenized modes."""
    k = 0
    i = 0
    n = len(ws)
    while i < n:
        if k < len(units) and units[k].first == i:
            u = units[k]
            for m in _WORD.finditer(u.replacement):
                tok = m.group()
                if tok.isalpha() or (_LETTER.search(tok) and not _DIGIT.search(tok)):
                    out.append(u.lang)
            i = u.last + 1
            k += 1
            continue
        if ws[i].switchable:  # other words are protected or hold digits: independent
            out.append(src_lang)
        i += 1


def metrics_of(labels: Sequence[str]) -> dict[str, Any]:
    m = utterance_metrics(labels)
    return {
        "cmi": m.cmi,
        "cmi_2016": m.cmi_2016,
        "m_index": m.m_index,
        "i_index": m.i_index,
        "switch_points": m.switch_points,
        "burstiness": m.burstiness,
    }


def row_metrics(texts: Sequence[str], spans: Sequence[dict[str, Any]], src_lang: str) -> dict[str, Any]:
    """The mixing metrics of a switched row (all its segments taken as one utterance),
    from the output text."""
    labels: list[str] = []
    for i, t in enumerate(texts):
        labels += token_labels(t, [sp for sp in spans if sp["segment"] == i], src_lang)
    return metrics_of(labels)
