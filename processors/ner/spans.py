"""Entity spans and IOB2 tags, the two views of one annotation.

Projection works on spans (token ranges with a type); files and models use IOB2 tags.
Both conversions are total: ``spans_from_iob2`` reads an invalid sequence the way
seqeval's strict mode would after repair (an ``I-`` that does not continue a span of its
own type starts a new span), so a tag list round-trips through spans to valid IOB2.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence


@dataclasses.dataclass(frozen=True, order=True)
class Span:
    """Tokens ``start`` (inclusive) to ``end`` (exclusive) form one entity of ``label``."""

    start: int
    end: int
    label: str

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"empty or negative span {self.start}:{self.end}")

    def __len__(self) -> int:
        return self.end - self.start


def spans_from_iob2(tags: Sequence[str]) -> list[Span]:
    """Entity spans of an IOB2 sequence, in order.

    ``B-X`` opens a span; ``I-X`` continues an open span of type ``X`` and otherwise
    opens a new one; ``O`` (and anything without a ``B-``/``I-`` prefix) closes it.
    """
    spans: list[Span] = []
    start, label = -1, ""
    for i, tag in enumerate(tags):
        prefix, _, kind = tag.partition("-")
        if prefix == "I" and kind and label == kind:
            continue
        if label:
            spans.append(Span(start, i, label))
            label = ""
        if prefix in ("B", "I") and kind:
            start, label = i, kind
    if label:
        spans.append(Span(start, len(tags), label))
    return spans


def iob2_from_spans(n_tokens: int, spans: Sequence[Span]) -> list[str]:
    """IOB2 tags for ``n_tokens`` tokens; overlapping spans are refused, not merged."""
    tags = ["O"] * n_tokens
    for span in sorted(spans):
        if span.end > n_tokens:
            raise ValueError(f"span {span.start}:{span.end} beyond {n_tokens} tokens")
        if any(t != "O" for t in tags[span.start : span.end]):
            raise ValueError(f"span {span.start}:{span.end} {span.label} overlaps another span")
        tags[span.start] = f"B-{span.label}"
        for i in range(span.start + 1, span.end):
            tags[i] = f"I-{span.label}"
    return tags
