"""Word aligners, symmetrisation, name matching and span projection on generated data."""

from __future__ import annotations

import random
import sys

import pytest

from babelmill.processors.ner.spans import Span, iob2_from_spans, spans_from_iob2
from babelmill.processors.projection.aligners.base import direction_confidence
from babelmill.processors.projection.names import NameMatcher, romanize
from babelmill.processors.projection.project import SpanProjector
from babelmill.processors.projection.symmetrize import parse_pharaoh, symmetrize

# --- symmetrisation on hand cases -------------------------------------------------------

FWD = [(0, 0), (1, 2), (2, 2), (3, 3)]
REV = [(0, 0), (1, 1), (2, 2), (3, 4)]


def test_intersection_and_union():
    assert symmetrize(FWD, REV, "intersection") == [(0, 0), (2, 2)]
    assert symmetrize(FWD, REV, "union") == [(0, 0), (1, 1), (1, 2), (2, 2), (3, 3), (3, 4)]


def test_grow_diag_final_and():
    # grow-diag adds (1, 1) (diagonal neighbour of (0, 0), target 1 unaligned) and (1, 2)
    # (neighbour of (2, 2), source 1 unaligned at the time it is considered), then
    # (3, 3) as a neighbour of (2, 2); (3, 4) joins in final-and? no: source 3 is taken.
    links = symmetrize(FWD, REV, "grow-diag-final-and")
    assert (0, 0) in links and (2, 2) in links and (1, 1) in links and (3, 3) in links
    assert set(links) <= set(FWD) | set(REV)
    # final-and: a link whose two words are both unaligned is added
    assert symmetrize([(0, 0), (5, 7)], [(0, 0)], "grow-diag-final-and") == [(0, 0), (5, 7)]
    # ... but not when one side is already aligned (that is final, not final-and)
    assert symmetrize([(0, 0), (0, 3)], [(0, 0)], "grow-diag-final-and") == [(0, 0)]
    assert symmetrize([(0, 0), (0, 3)], [(0, 0)], "grow-diag-final") == [(0, 0), (0, 3)]


def test_symmetrize_rejects_unknown_method():
    with pytest.raises(ValueError, match="not one of"):
        symmetrize([], [], "grow-sideways")


def test_parse_pharaoh_zero_and_one_based():
    assert parse_pharaoh("1-2 3p4 5?6", one_based=True) == [(0, 1), (2, 3), (4, 5)]
    assert parse_pharaoh("0-0 2-1") == [(0, 0), (2, 1)]


# --- name matching across scripts -------------------------------------------------------


def test_romanize_cyrillic_and_han():
    assert romanize("Путин") == "putin"
    assert romanize("北京") == "beijing"
    assert romanize("Zürich") == "zurich"


def test_name_matcher_cyrillic_and_cjk():
    nm = NameMatcher()
    assert nm.similarity("Putin", "Путин") >= 0.9
    assert nm.similarity("Putin", "Путина") >= nm.threshold  # inflected (genitive)
    assert nm.similarity("Putin", "Женева") < nm.threshold
    ru = "Президент Путин прибыл в Женеву .".split()
    assert nm.find(["Putin"], ru)[:2] == (1, 2)
    zh = ["我们", "在", "北京", "见面", "。"]
    assert nm.find(["Beijing"], zh)[:2] == (2, 3)
    assert nm.find(["Moscow"], zh) is None


def test_name_matcher_digits_and_priors():
    nm = NameMatcher()
    assert nm.similarity("1999", "1999") == 1.0
    assert nm.similarity("1999", "1998") == 0.0
    # the letters break ties between spans with the same digits
    tgt = "die Norm ISO 9002 gilt".split()
    assert nm.find(["ISO", "9002"], tgt)[:2] == (2, 4)
    priors = nm.priors([["Mr", "Nistorescu", "said"]], [["Herr", "Nistorescu", "sagte"]])
    assert ("Nistorescu", "Nistorescu", 1.0) in priors
    assert all(s != "said" for s, _, _ in priors)


# --- span projection on generated pairs with known alignments ---------------------------


def _generated_pairs(n: int, seed: int = 0):
    """Source sentences with entities, a target that reorders chunks and renames words,
    and the exact links and target spans that follow."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = [f"w{rng.randint(0, 50)}" for _ in range(rng.randint(6, 14))]
        # one or two entities of 1-3 capitalised tokens at random, non-overlapping places
        spans: list[Span] = []
        pos = 0
        for label in rng.sample(["PER", "LOC", "ORG"], rng.randint(1, 2)):
            start = rng.randint(pos, len(words) - 1)
            end = min(len(words), start + rng.randint(1, 3))
            if start >= len(words):
                break
            for k in range(start, end):
                words[k] = f"N{rng.randint(0, 999)}"
            spans.append(Span(start, end, label))
            pos = end + 1
            if pos >= len(words):
                break
        # target: swap the two halves (reordering) and translate each word
        cut = rng.randint(1, len(words) - 1)
        order = list(range(cut, len(words))) + list(range(cut))
        tgt = [("x" + words[i][1:]) if words[i][0] == "w" else words[i] for i in order]
        where = {src_i: j for j, src_i in enumerate(order)}
        links = [(i, where[i]) for i in range(len(words))]
        gold = []
        for s in spans:
            js = sorted(where[i] for i in range(s.start, s.end))
            if js[-1] - js[0] + 1 == len(js):  # entity not split by the reordering
                gold.append(Span(js[0], js[-1] + 1, s.label))
        out.append((words, tgt, [s for s in spans if any(g.label == s.label for g in gold)], links, sorted(gold)))
    return out


def test_projection_exact_with_known_links():
    projector = SpanProjector()
    for src, tgt, spans, links, gold in _generated_pairs(200):
        got = projector.project(src, tgt, spans, links)
        assert got.spans == gold, (src, tgt, spans)
        assert got.flags == []
        assert iob2_from_spans(len(tgt), got.spans) == iob2_from_spans(len(tgt), gold)


def test_projection_flags_and_repairs():
    src = "Mr Smith met the European Parliament in Paris".split()
    tgt = "Herr Smith traf das Europäische Parlament , danach Paris".split()
    spans = spans_from_iob2(["O", "B-PER", "O", "O", "B-ORG", "I-ORG", "O", "B-LOC"])
    # a stray link from "Parliament" to "," adds trailing punctuation: trimmed;
    # "Paris" has no link: the name matcher finds it
    links = {(0, 0): 1.0, (1, 1): 1.0, (2, 2): 1.0, (3, 3): 1.0, (4, 4): 1.0, (5, 5): 1.0, (5, 6): 0.5}
    got = SpanProjector().project(src, tgt, spans, links)
    assert got.spans == [Span(1, 2, "PER"), Span(4, 6, "ORG"), Span(8, 9, "LOC")]
    assert [e.method for e in got.entities] == ["align", "align", "name"]
    assert got.flags == []
    # without the name matcher "Paris" is lost and the parity checks say so
    lost = SpanProjector(name_matcher=None).project(src, tgt, spans, links)
    assert lost.flags == ["entity_lost", "entity_count_mismatch", "type_multiset_mismatch"]


def test_projection_length_cap_type_conflict_and_confidence():
    src = "A B C".split()
    tgt = "a b c d e f g h".split()
    too_long = SpanProjector(name_matcher=None, max_gap=10).project(src, tgt, [Span(0, 1, "PER")], [(0, 0), (0, 7)])
    assert too_long.spans == [] and "span_too_long" in too_long.flags
    # two entities of different types aligned to the same target word
    conflict = SpanProjector(name_matcher=None).project(
        src, tgt, [Span(0, 1, "PER"), Span(2, 3, "LOC")], {(0, 1): 1.0, (2, 1): 0.5}
    )
    assert conflict.spans == [Span(1, 2, "PER")]
    assert "type_conflict" in conflict.flags
    low = SpanProjector(name_matcher=None, min_confidence=0.8, drop_low_confidence=True).project(
        src, tgt, [Span(0, 2, "ORG")], {(0, 0): 0.5}
    )
    assert low.spans == [] and "low_alignment_confidence" in low.flags


def test_projection_subword_merge_and_stopword_edges():
    src = ["the", "Commission", "agreed"]
    # sub-word target tokens: word ids widen the span to the whole word
    tgt = ["die", "Kommis", "##sion", "stimmte", "zu"]
    got = SpanProjector(name_matcher=None).project(src, tgt, [Span(1, 2, "ORG")], [(1, 1)], tgt_word_ids=[0, 1, 1, 2, 3])
    assert got.spans == [Span(1, 3, "ORG")]
    # an article linked to the entity is stripped from the edge when it is a stopword
    tgt2 = ["die", "Kommission", "stimmte", "zu"]
    plain = SpanProjector(name_matcher=None, weak_edge=0).project(src, tgt2, [Span(1, 2, "ORG")], [(1, 0), (1, 1)])
    assert plain.spans == [Span(0, 2, "ORG")]
    trimmed = SpanProjector(name_matcher=None, weak_edge=0, edge_stopwords=frozenset({"die"})).project(
        src, tgt2, [Span(1, 2, "ORG")], [(1, 0), (1, 1)]
    )
    assert trimmed.spans == [Span(1, 2, "ORG")]


def test_direction_confidence():
    conf = direction_confidence([(0, 0), (1, 1)], [(0, 0)], [(0, 0), (1, 1), (2, 2)])
    assert conf == {(0, 0): 1.0, (1, 1): 0.5, (2, 2): 0.25}


# --- eflomal ----------------------------------------------------------------------------


def test_eflomal_missing_is_one_line_error(monkeypatch):
    from babelmill.processors.projection.aligners.eflomal import EflomalAligner, MissingExtraError

    monkeypatch.setitem(sys.modules, "eflomal", None)
    with pytest.raises(MissingExtraError) as err:
        EflomalAligner().align([["a"]], [["b"]])
    message = str(err.value)
    assert "babelmill[eflomal]" in message and "\n" not in message


def test_eflomal_projection_on_generated_corpus():
    pytest.importorskip("eflomal")
    from babelmill.processors.projection.aligners.eflomal import EflomalAligner

    pairs = _generated_pairs(400, seed=3)
    aligner = EflomalAligner("intersection")
    scored = aligner.align_scored([p[0] for p in pairs], [p[1] for p in pairs])
    projector = SpanProjector()
    exact = sum(projector.project(s, t, sp, links).spans == gold for (s, t, sp, _, gold), links in zip(pairs, scored))
    # a clean 1:1 word mapping with reordering: eflomal (sampling) gets nearly every span
    assert exact >= 0.97 * len(pairs)
    # an empty side keeps the line numbering and yields no links
    links = aligner.align([["a", "b"], [], ["b"]] * 5, [["x"], ["y"], ["z", "x"]] * 5)
    assert len(links) == 15 and links[1] == []
    assert all(i < 2 and j < 2 for row in links for i, j in row)
