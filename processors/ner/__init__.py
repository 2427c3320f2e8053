"""NER rows: IOB2 tag sequences, entity spans, and the readers and writers around them.

Modules: ``spans`` (spans <-> IOB2), ``schemes`` (IOB1/BIOES/IO -> IOB2), ``readers``
(CoNLL, JSONL, HF datasets), ``writers`` (``ner_tags`` as ClassLabel ids, CoNLL),
``features`` (HF features in Arrow metadata), ``options`` (reader options).  Only spans
is imported here: the readers import ``processors.io``, which imports the options.
"""

from babelmill.processors.ner.spans import Span, iob2_from_spans, spans_from_iob2

__all__ = ["Span", "iob2_from_spans", "spans_from_iob2"]
