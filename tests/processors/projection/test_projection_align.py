"""Word aligners, symmetrisation, name matching and span projection on generated data."""

from __future__ import annotations

import random
import sys

import pytest
import tiny_models

from babelmill.processors.ner.spans import Span, iob2_from_spans, spans_from_iob2
from babelmill.processors.projection.aligners.base import direction_confidence
from babelmill.processors.projection.names import NameMatcher, romanize
from babelmill.processors.projection.project import SpanProjector, collocations
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
    tgt = "A B C D E F G H".split()  # capitalised: persons are names in a cased script
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
    got = SpanProjector(name_matcher=None).project(
        src, tgt, [Span(1, 2, "ORG")], [(1, 1)], tgt_word_ids=[0, 1, 1, 2, 3]
    )
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


# --- SimAlign on a tiny random BERT ------------------------------------------------------


@pytest.mark.parametrize("method", ["argmax", "itermax", "match"])
def test_simalign_tiny_bert_projects_exactly(tmp_path, method):
    from babelmill.processors.projection.aligners.simalign import SimAlignAligner

    # the target is the source itself: every word's contextual vector is its own best
    # match, so each method must return the diagonal and projection is the identity
    rng = random.Random(1)
    vocab = [f"t{i}" for i in range(40)]
    src = [rng.sample(vocab, rng.randint(3, 9)) for _ in range(6)]
    model = tiny_models.build_bert(tmp_path / "bert", vocab)
    aligner = SimAlignAligner(model, method=method, layer=1, batch_size=4)
    scored = aligner.align_scored(src, src)
    for sent, links in zip(src, scored):
        assert sorted(links) == [(i, i) for i in range(len(sent))]
        assert all(0.99 <= c <= 1.0001 for c in links.values())
        spans = [Span(0, 2, "PER")]
        assert SpanProjector(name_matcher=None).project(sent, sent, spans, links).spans == spans


def test_simalign_missing_model_is_clear(tmp_path):
    from babelmill.processors.errors import ModelNotFoundError
    from babelmill.processors.projection.aligners.simalign import SimAlignAligner

    with pytest.raises(ModelNotFoundError, match="mBERT"):
        SimAlignAligner(tmp_path / "nothing").align([["a"]], [["b"]])


# --- the MT model's attention and the score method on tiny random models ----------------


@pytest.fixture(scope="module", params=["marian", "m2m100"])
def tiny_translator(request, tmp_path_factory):
    import tiny_models

    from babelmill.processors.translate.engine import CTranslate2Spec

    root = tmp_path_factory.getbasetemp()
    path = tiny_models.cached(request.param, root)
    return CTranslate2Spec(str(path), device="cpu", compute_type="float32", cache_dir=str(root / "ct2-proj")).build()


def test_attention_aligner_matches_raw_attention(tiny_translator):
    from babelmill.processors.projection.aligners.attention import AttentionAligner
    from babelmill.processors.projection.ct2words import WordPieces

    src = [["Ka", "lumo", "verin"], ["tasko", "brel"]]
    tgt = [["Omi", "sutra", "pel", "danu"], ["fira"]]
    aligner = AttentionAligner(tiny_translator, "en", "de", symmetrization="union")
    mats = aligner.matrices(src, tgt)
    wp = WordPieces(tiny_translator, "en", "de")
    for s, t, mat in zip(src, tgt, mats):
        assert mat.shape == (len(t), len(s))
        # recompute one sentence by hand from CTranslate2's raw attention
        pieces, owner = wp.source(s)
        t_pieces, t_owner = wp.encode(t, "tgt")
        prefix = wp.target_prefix()
        res = tiny_translator._ct2.translate_batch(
            [pieces],
            target_prefix=[prefix + t_pieces],
            return_attention=True,
            beam_size=1,
            max_decoding_length=len(prefix) + len(t_pieces) + 1,
        )[0]
        rows = res.attention[0][len(prefix) : len(prefix) + len(t_pieces)]
        for j in range(len(t)):
            mine = [r for r, o in zip(rows, t_owner) if o == j]
            for i in range(len(s)):
                expect = sum(sum(v for v, o in zip(r, owner) if o == i) for r in mine) / len(mine)
                assert mat[j, i] == pytest.approx(expect, abs=1e-5)
        assert (mat.sum(axis=1) <= 1.0 + 1e-4).all()
    # union of the two argmax directions: every word of both sides has a link
    for s, t, links in zip(src, tgt, aligner.align(src, tgt)):
        assert {i for i, _ in links} == set(range(len(s)))
        assert {j for _, j in links} == set(range(len(t)))


def test_score_projector_with_tiny_model_picks_best_scores(tiny_translator):
    from babelmill.processors.projection.score import CT2Scorer, ScoreProjector

    scorer = CT2Scorer(tiny_translator, "en", "de")
    src = ["Mr", "Ka", "Lumo", "said"]
    tgt = ["Herr", "Omi", "Sutra", "sagte"]
    spans = [Span(1, 3, "PER")]
    proj = ScoreProjector(scorer, max_extra=0).project(src, tgt, spans)
    # the chosen span is the argmax of the model's own scores over all candidates
    cands = ScoreProjector(scorer, max_extra=0).candidates(2, len(tgt))
    scores = scorer([["Ka", "Lumo"]] * len(cands), [tgt[a:b] for a, b in cands])
    assert all(x < 0 for x in scores)
    best = cands[max(range(len(cands)), key=lambda k: (scores[k], -k))]
    assert proj.spans == [Span(best[0], best[1], "PER")]


def test_score_projector_exact_with_a_known_scorer():
    from babelmill.processors.projection.score import ScoreProjector

    # scorers that know the generated word mapping: w<k> <-> x<k>, names unchanged
    def scorer(a: str, b: str):
        def score(sources, targets):
            out = []
            for s, t in zip(sources, targets):
                expect = [(b + w[1:]) if w[0] == a else w for w in s]
                same = len(set(expect) & set(t))
                out.append(-1.0 * (len(expect) + len(t) - 2 * same))
            return out

        return score

    projector = ScoreProjector(scorer("w", "x"), backward=scorer("x", "w"))
    for src, tgt, spans, _, gold in _generated_pairs(60, seed=5):
        assert projector.project(src, tgt, spans).spans == gold


# --- stages -----------------------------------------------------------------------------


def test_project_spans_stage_and_eflomal_global_phases():
    pytest.importorskip("eflomal")
    import pyarrow as pa

    from babelmill.processors.projection.stages import EflomalAlignStage, ProjectSpansStage, projection_rates

    pairs = _generated_pairs(300, seed=7)
    table = pa.table(
        {
            "id": [str(k) for k in range(len(pairs))],
            "src_tokens": [p[0] for p in pairs],
            "src_tags": [iob2_from_spans(len(p[0]), p[2]) for p in pairs],
            "tgt_tokens": [p[1] for p in pairs],
        }
    )
    stage = EflomalAlignStage()
    # the global step sees every shard's keys; apply() attaches each shard's slice
    shards = [table.slice(0, 150), table.slice(150)]
    result = stage.run_global(pa.concat_tables([stage.keys(s) for s in shards]))
    aligned = pa.concat_tables(
        [stage.apply(shards[0], result.slice(0, 150)), stage.apply(shards[1], result.slice(150))]
    )
    project = ProjectSpansStage()
    out = project(aligned)
    assert out.num_rows == table.num_rows  # nothing deleted
    exact = sum(spans_from_iob2(tags) == p[4] for tags, p in zip(out.column("tags").to_pylist(), pairs))
    assert exact >= 0.95 * len(pairs)
    counters = project.take_counters()
    assert counters["entities_in"] == sum(len(p[2]) for p in pairs)
    assert counters["entities_projected"] + counters["entities_lost"] == counters["entities_in"]
    rates = projection_rates(counters)
    assert set(rates) <= {"PER", "LOC", "ORG"} and all(0.9 <= r <= 1.0 for r in rates.values())
    reasons = out.column("drop_reason").to_pylist()
    flags = out.column("projection_flags").to_pylist()
    assert all((r is None) == ("entity_lost" not in f) for r, f in zip(reasons, flags))
    with pytest.raises(ValueError, match="unknown projection flag"):
        ProjectSpansStage(drop_on=["too_pretty"])


def test_capitalisation_rule_from_the_target_corpus():
    from babelmill.processors.projection.project import capitalised_share, projector_for

    german_like = [["Die", "Kommission", "hat", "den", "Bericht", "gelesen"]] * 3
    romance_like = [["La", "comisión", "ha", "leído", "el", "informe"]] * 3
    assert capitalised_share(german_like) > 0.3 > capitalised_share(romance_like)
    assert projector_for("de", german_like).keep_sole_links is False
    es = projector_for("es", romance_like)
    assert es.keep_sole_links is True and "el" in es.edge_stopwords
    # "Member States" -> "Estados miembros": "miembros" is the only link of "Member"
    src, tgt = ["the", "Member", "States", "agree"], ["los", "Estados", "miembros", "acuerdan"]
    links = {(1, 2): 0.5, (2, 1): 1.0, (0, 0): 1.0, (3, 3): 1.0}
    spans = [Span(1, 3, "ORG")]
    assert es.project(src, tgt, spans, links).spans == [Span(1, 3, "ORG")]
    de_rule = projector_for("es", romance_like, keep_sole_links=False)
    assert de_rule.project(src, tgt, spans, links).spans == [Span(1, 2, "ORG")]


def test_stop_list_word_that_is_the_entity_words_best_link_stays():
    # stop lists carry content words ("gruppo"); one that is the sole best link of a
    # capitalised entity word is part of the name, an article linked to "the" is not
    src = ["the", "PPE-DE", "Group", "asked"]
    tgt = ["il", "gruppo", "PPE-DE", "chiede"]
    links = {(0, 0): 1.0, (1, 2): 1.0, (2, 1): 1.0, (3, 3): 1.0}
    stop = frozenset({"il", "gruppo"})
    got = SpanProjector(name_matcher=None, edge_stopwords=stop).project(src, tgt, [Span(1, 3, "ORG")], links)
    assert got.spans == [Span(1, 3, "ORG")]
    off = SpanProjector(name_matcher=None, edge_stopwords=stop, anchor_stopwords=False)
    assert off.project(src, tgt, [Span(1, 3, "ORG")], links).spans == [Span(2, 3, "ORG")]
    # an entity that opens with "the": its article does not anchor "il"
    src2 = ["the", "Netherlands", "voted"]
    tgt2 = ["i", "Paesi", "Bassi", "votano"]
    got2 = SpanProjector(
        name_matcher=None, edge_stopwords=frozenset({"i"}), source_stopwords=frozenset({"the"})
    ).project(src2, tgt2, [Span(0, 2, "LOC")], {(0, 0): 1.0, (1, 1): 1.0, (1, 2): 1.0, (2, 3): 1.0})
    assert got2.spans == [Span(1, 3, "LOC")]


def test_collocations_complete_a_span_over_unlinked_words():
    corpus = [["il", "Regno", "Unito", verb] for verb in ("vota", "vince", "perde")] + [
        ["nel", "Regno", "Unito"],
        ["il", "Regno", "di", "Napoli"],
    ]
    found = collocations(corpus, frozenset({"il", "nel", "di"}))
    assert ("Regno", "Unito") in found and ("il", "Regno") not in found and ("Unito", "vota") not in found
    src, tgt = ["the", "UK", "votes"], ["il", "Regno", "Unito", "vota"]
    links = {(0, 0): 1.0, (1, 1): 1.0, (2, 3): 1.0}
    got = SpanProjector(name_matcher=None, collocations=found).project(src, tgt, [Span(1, 2, "LOC")], links)
    assert got.spans == [Span(1, 3, "LOC")]
    # a neighbour the aligner linked elsewhere is not taken
    linked = {**links, (2, 2): 1.0}
    assert SpanProjector(name_matcher=None, collocations=found).project(
        src, tgt, [Span(1, 2, "LOC")], linked
    ).spans == [Span(1, 2, "LOC")]
    assert SpanProjector(name_matcher=None).project(src, tgt, [Span(1, 2, "LOC")], links).spans == [Span(1, 2, "LOC")]


def test_name_projected_onto_a_lower_case_adjective_becomes_misc():
    src = ["ports", "in", "Belgium", "and", "Japan", "Inc"]
    tgt = ["porti", "belgi", "e", "Giappone", "Inc"]
    links = {(0, 0): 1.0, (2, 1): 1.0, (3, 2): 1.0, (4, 3): 1.0, (5, 4): 1.0}
    spans = [Span(2, 3, "LOC"), Span(4, 6, "ORG")]
    got = SpanProjector(name_matcher=None).project(src, tgt, spans, links)
    # "belgi" is the adjective (MISC in CoNLL); "Giappone Inc" keeps its type
    assert got.spans == [Span(1, 2, "MISC"), Span(3, 5, "ORG")]
    kept = SpanProjector(name_matcher=None, adjective_types=frozenset()).project(src, tgt, spans, links)
    assert kept.spans == [Span(1, 2, "LOC"), Span(3, 5, "ORG")]
    # caseless scripts say nothing: a Han "adjective" keeps its type
    han = SpanProjector(name_matcher=None).project(["Belgium"], ["比利时"], [Span(0, 1, "LOC")], [(0, 0)])
    assert han.spans == [Span(0, 1, "LOC")]


def test_person_on_lower_case_words_of_a_cased_script_is_refused():
    # "Mr Monti" linked to the verb next to it: a person's name is capitalised in any cased script
    src = ["Mr", "Monti", "thinks", "so", ",", "Mr", "Rossi", "too"]
    tgt = ["il", "signor", "pensa", "così", ",", "anche", "il", "signor", "Rossi"]
    links = {(0, 1): 1.0, (1, 2): 1.0, (2, 2): 1.0, (3, 3): 1.0, (4, 4): 1.0, (5, 7): 1.0, (6, 8): 1.0, (7, 5): 1.0}
    spans = [Span(1, 2, "PER"), Span(6, 7, "PER")]
    got = SpanProjector(name_matcher=None).project(src, tgt, spans, links)
    assert got.spans == [Span(8, 9, "PER")] and "entity_lost" in got.flags
    # switched off, the verb is kept
    off = SpanProjector(name_matcher=None, cased_types=frozenset()).project(src, tgt, spans, links)
    assert off.spans == [Span(2, 3, "PER"), Span(8, 9, "PER")]
    # the name matcher still gets its chance at a refused entity
    tgt2 = ["il", "signor", "pensa", "così", ",", "Monti", "e", "anche", "Rossi"]
    links2 = {(1, 2): 1.0, (6, 8): 1.0}
    named = SpanProjector().project(src, tgt2, spans, links2)
    assert named.spans == [Span(5, 6, "PER"), Span(8, 9, "PER")]
    assert [e.method for e in named.entities] == ["name", "align"]
    # only persons by default; digits and caseless scripts are never refused
    loc = SpanProjector(name_matcher=None).project(["in", "Belgium"], ["in", "belgio"], [Span(1, 2, "LOC")], [(1, 1)])
    assert loc.spans == [Span(1, 2, "MISC")]
    han = SpanProjector(name_matcher=None).project(["Mr", "Wang"], ["王", "先生"], [Span(1, 2, "PER")], [(1, 0)])
    assert han.spans == [Span(0, 1, "PER")]
    agent = SpanProjector(name_matcher=None).project(
        ["Agent", "007"], ["agente", "007"], [Span(0, 2, "PER")], [(0, 0), (1, 1)]
    )
    assert agent.spans == [Span(0, 2, "PER")]


def _noisy_runs(gold: list[list[tuple[int, int]]], lengths, n_runs: int, noise: float, seed: int):
    """Directional runs of a sampler: each run moves a random share of the gold links
    (forward one link per target word, reverse one per source word) to a random word."""
    rng = random.Random(seed)
    runs = []
    for _ in range(n_runs):
        run = []
        for links, (n_src, n_tgt) in zip(gold, lengths):
            fwd = [(rng.randrange(n_src), j) if rng.random() < noise else (i, j) for i, j in links]
            rev = [(i, rng.randrange(n_tgt)) if rng.random() < noise else (i, j) for i, j in links]
            run.append((fwd, rev))
        runs.append(run)
    return runs


def test_combine_runs_votes_links_of_independent_trainings():
    from babelmill.processors.projection.aligners.eflomal import combine_runs

    pairs = _generated_pairs(300, seed=5)
    gold = [sorted(links) for _, _, _, links, _ in pairs]
    lengths = [(len(s), len(t)) for s, t, _, _, _ in pairs]
    runs = _noisy_runs(gold, lengths, 5, noise=0.1, seed=1)

    def wrong(scored):
        return sum(len(set(s) ^ set(g)) for s, g in zip(scored, gold))

    single = [combine_runs([run]) for run in runs]
    # one run is scored as before: symmetrised, with direction-agreement confidences
    fwd, rev = runs[0][0]
    assert single[0][0] == direction_confidence(fwd, rev, symmetrize(fwd, rev, "grow-diag-final-and"))
    voted = combine_runs(runs)
    assert len(voted) == len(pairs)
    # the vote undoes most of each run's independent noise
    assert wrong(voted) < 0.5 * min(wrong(s) for s in single)
    projector = SpanProjector(name_matcher=None)

    def exact(scored):
        return sum(projector.project(s, t, sp, links).spans == g for (s, t, sp, _, g), links in zip(pairs, scored))

    assert exact(voted) > max(exact(s) for s in single)
    # per word, the link most runs chose is kept if at least ``agreement`` of them chose it
    # (ties: the first); a word the runs disagree on stays unlinked in that direction
    tie = combine_runs([[([(0, 0)], [(0, 0)])], [([(1, 0)], [(0, 1)])]], agreement=0.5)
    assert tie == [{(0, 0): 1.0}]
    three = [[([(0, 0)], [(0, 0)])], [([(0, 0)], [(0, 1)])], [([(1, 0)], [(0, 2)])]]
    assert combine_runs(three, agreement=0.5) == [{(0, 0): 0.5}]
    # the default asks for 3 of 4 runs (0.75): 2 of 4 is not enough
    four = [*three, [([(0, 0)], [(0, 1)])]]
    assert combine_runs(four) == [{(0, 0): 0.5}]
    assert combine_runs([*four, [([(2, 0)], [(0, 0)])]], agreement=0.8) == [{}]
    assert combine_runs([]) == []


def test_eflomal_runs_are_voted():
    pytest.importorskip("eflomal")
    from babelmill.processors.projection.aligners.eflomal import EflomalAligner

    pairs = _generated_pairs(200, seed=4)
    aligner = EflomalAligner(runs=3)
    runs = aligner.directional_runs([p[0] for p in pairs], [p[1] for p in pairs])
    assert len(runs) == 3 and all(len(run) == len(pairs) for run in runs)
    scored = aligner.align_scored([p[0] for p in pairs], [p[1] for p in pairs])
    projector = SpanProjector()
    exact = sum(projector.project(s, t, sp, links).spans == gold for (s, t, sp, _, gold), links in zip(pairs, scored))
    assert exact >= 0.97 * len(pairs)


def test_eflomal_global_stage_passes_its_runs_and_keys_resumption_on_them():
    from babelmill.processors.projection.pipeline import EflomalGlobalAlign

    stage = EflomalGlobalAlign(runs=2)
    assert stage.aligner("it").runs == 2 and EflomalGlobalAlign().aligner(None).runs == 5
    assert stage.config() != EflomalGlobalAlign(runs=3).config()


@pytest.mark.parametrize("reverse", [None, "same", "spec"])
def test_score_stage_wires_the_reverse_direction(monkeypatch, reverse):
    """``reverse``: no p(entity | candidate), the MT model itself run target -> source,
    or a second (target -> source) model; each built once per worker."""
    import babelmill.processors.projection.score as score_mod
    from babelmill.processors.projection.pipeline import ScoreProjectStage

    class Spec:
        def __init__(self, name):
            self.name = name

        def build(self):
            return f"translator:{self.name}"

    made = []

    class RecordingScorer:
        def __init__(self, translator, src, tgt):
            made.append((translator, src, tgt))

    monkeypatch.setattr(score_mod, "CT2Scorer", RecordingScorer)
    rev = Spec("de-en") if reverse == "spec" else reverse
    stage = ScoreProjectStage(Spec("en-de"), reverse=rev)
    projector = stage.projector_for("en", "de").projector
    expected = {None: None, "same": ("translator:en-de", "de", "en"), "spec": ("translator:de-en", "de", "en")}
    assert sorted(made) == sorted([("translator:en-de", "en", "de"), *([expected[reverse]] if reverse else [])])
    assert (projector.backward is None) == (reverse is None)
    assert stage.projector_for("en", "de").projector is projector  # cached per pair
    assert "_reverse" not in stage.__getstate__()
