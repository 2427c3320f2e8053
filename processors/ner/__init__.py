"""NER rows: IOB2 tag sequences, entity spans, and the readers and writers around them."""

from babelmill.processors.ner.spans import Span, iob2_from_spans, spans_from_iob2

__all__ = ["Span", "iob2_from_spans", "spans_from_iob2"]
