from __future__ import annotations

import pytest

from babelmill.processors.ner import Span, iob2_from_spans, spans_from_iob2


def test_spans_from_valid_iob2() -> None:
    tags = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "O"]
    assert spans_from_iob2(tags) == [Span(0, 2, "PER"), Span(3, 4, "LOC"), Span(4, 6, "LOC")]


def test_invalid_continuations_open_new_spans() -> None:
    # I- after O, and a type change inside a span, each start a new entity
    tags = ["O", "I-ORG", "I-ORG", "I-PER", "O", "I-MISC"]
    assert spans_from_iob2(tags) == [Span(1, 3, "ORG"), Span(3, 4, "PER"), Span(5, 6, "MISC")]


def test_round_trip_repairs_to_valid_iob2() -> None:
    tags = ["I-ORG", "I-ORG", "O", "I-PER"]
    assert iob2_from_spans(4, spans_from_iob2(tags)) == ["B-ORG", "I-ORG", "O", "B-PER"]


def test_overlap_and_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="overlaps"):
        iob2_from_spans(4, [Span(0, 2, "PER"), Span(1, 3, "LOC")])
    with pytest.raises(ValueError, match="beyond"):
        iob2_from_spans(2, [Span(1, 3, "PER")])
    with pytest.raises(ValueError):
        Span(2, 2, "PER")
