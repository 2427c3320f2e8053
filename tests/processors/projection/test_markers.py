"""Marker projection: the parser on every malformed case, label assignment, the stages,
and the plumbing through a tiny random CTranslate2 model."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import babelmill.langs as langs
from babelmill.processors.projection.markers import (
    MarkedSpan,
    MarkerInserter,
    MarkerProjector,
    MarkerTranslator,
    marked_sentence,
    parse_markers,
    project_markers,
    tokenize_with_spans,
)
from babelmill.processors.ner.spans import Span
from echo_translator import Echo

DE = langs.get("de").word_tokenize


def _spans(p):
    return [(p.text[s.start : s.end], s.pair) for s in p.spans]


# ------------------------------------------------------------------ parser


def test_parse_well_formed() -> None:
    p = parse_markers("[Anna] fuhr nach [Berlin].")
    assert p.text == "Anna fuhr nach Berlin."
    assert p.spans == [MarkedSpan(0, 4, 0), MarkedSpan(15, 21, 0)]
    assert (p.nested, p.unbalanced, p.empty) == (0, 0, 0)


def test_parse_nested_keeps_outermost() -> None:
    for text in ("Die [[Bank of] America] ist groß", "Die [Bank of [America]] ist groß"):
        p = parse_markers(text)
        assert _spans(p) == [("Bank of America", 0)] and p.nested == 1 and p.unbalanced == 0
        assert p.text == "Die Bank of America ist groß"


def test_parse_unbalanced_markers_are_removed_and_counted() -> None:
    p = parse_markers("[Anna fuhr nach [Berlin].")  # an open never closed
    assert _spans(p) == [("Berlin", 0)] and p.unbalanced == 1 and p.text == "Anna fuhr nach Berlin."
    p = parse_markers("Anna] fuhr nach [Berlin]")  # a close with no open
    assert _spans(p) == [("Berlin", 0)] and p.unbalanced == 1
    p = parse_markers("[Anna {fuhr] nach", pairs=[("[", "]"), ("{", "}")])  # a close that skips another pair's open
    assert _spans(p) == [("Anna fuhr", 0)] and p.unbalanced == 1


def test_parse_empty_whitespace_and_multichar_markers() -> None:
    p = parse_markers("[ ] und [ Berlin ]")
    assert _spans(p) == [("Berlin", 0)] and p.empty == 1
    p = parse_markers("<e>Anna</e> und <e>Berlin</e>", pairs=[("<e>", "</e>")])
    assert p.text == "Anna und Berlin" and _spans(p) == [("Anna", 0), ("Berlin", 0)]
    with pytest.raises(ValueError):
        parse_markers("x", pairs=[("[", "[")])


def test_marked_sentence_replaces_marker_chars_in_tokens() -> None:
    text, replaced = marked_sentence(["The", "[", "Bank", "]", "of", "Oslo"], [Span(5, 6, "LOC")])
    assert text == "The ( Bank ) of [Oslo]" and replaced == 2
    text, _ = marked_sentence(
        ["Ann", "met", "Bo", "Li"], [Span(0, 1, "PER"), Span(2, 4, "PER")], [("[", "]"), ("{", "}")]
    )
    assert text == "[Ann] met {Bo Li}"


def test_detokenized_marked_sentence() -> None:
    tokens = ["Ana", "(", "Lima", ")", "said", ":", "we", "do", "n't", "know", "."]
    text, _ = marked_sentence(tokens, [Span(0, 1, "PER"), Span(2, 3, "LOC")], detokenize=True)
    assert text == "[Ana] ([Lima]) said: we don't know."
    text, _ = marked_sentence(
        ["安娜", "去", "了", "柏林", "。"], [Span(0, 1, "PER"), Span(3, 4, "LOC")], detokenize=True, spaced=False
    )
    assert text == "[安娜]去了[柏林]。"
    batch = MarkerInserter()(
        pa.table({"tokens": [["安娜", "去", "柏林"]], "tags": [["B-PER", "O", "B-LOC"]], "lang": ["zh"]})
    )
    assert batch.column("mt_source").to_pylist() == ["[安娜]去[柏林]"]


def test_tokenize_with_spans_cuts_at_span_boundaries() -> None:
    tokens, spans = tokenize_with_spans("Die Berliner Luft", [(4, 10)], DE)
    assert tokens == ["Die", "Berlin", "er", "Luft"] and spans == [(1, 2)]


# ------------------------------------------------------------------ projection


def _project(src_tags, output, translations, sources, **kw):
    return project_markers(src_tags, output, translations, sources, DE, **kw)


def test_well_formed_projection() -> None:
    r = _project(["B-PER", "O", "O", "B-LOC"], "[Anna] fuhr nach [Berlin].", ["Anna", "Berlin"], ["Anna", "Berlin"])
    assert r.tokens == ["Anna", "fuhr", "nach", "Berlin", "."]
    assert r.tags == ["B-PER", "O", "O", "B-LOC", "O"]
    assert r.reason is None and r.counts == {}
    assert r.details[1] == {
        "src_start": 3,
        "src_end": 4,
        "tgt_start": 3,
        "tgt_end": 4,
        "label": "LOC",
        "method": "markers",
        "confidence": 1.0,
    }


def test_reordered_spans_get_labels_by_similarity() -> None:
    # source: Paris (LOC) ... Bank of America (ORG); the translation puts the ORG first
    r = _project(
        ["B-LOC", "O", "B-ORG", "I-ORG", "I-ORG"],
        "Die [Bank von Amerika] ist in [Paris].",
        ["Paris", "Bank von Amerika"],
        ["Paris", "Bank of America"],
    )
    assert r.tags == ["O", "B-ORG", "I-ORG", "I-ORG", "O", "O", "B-LOC", "O"]
    assert r.counts == {"marker_reordered": 1} and r.reason is None


def test_lost_marker_recovered_by_fuzzy_match() -> None:
    r = _project(["B-PER", "O", "B-LOC"], "Anna fuhr nach [Berlin].", ["Anna", "Berlin"], ["Anna", "Berlin"])
    assert r.tags == ["B-PER", "O", "O", "B-LOC", "O"]
    assert r.details[0]["method"] == "fuzzy" and r.counts == {"entity_recovered": 1} and r.reason is None


def test_entity_lost() -> None:
    r = _project(["B-PER", "O", "B-LOC"], "Sie fuhr nach [Berlin].", ["Anna", "Berlin"], ["Anna", "Berlin"])
    assert r.reason == "entity_lost" and r.counts == {"entity_lost": 1}
    assert r.tags == ["O", "O", "O", "B-LOC", "O"]


def test_duplicated_marker_takes_the_label_it_repeats() -> None:
    r = _project(["B-PER", "O", "B-LOC"], "Anna fuhr nach [Berlin], [Berlin]!", ["Anna", "Berlin"], ["Anna", "Berlin"])
    assert r.tags == ["B-PER", "O", "O", "B-LOC", "O", "B-LOC", "O"]
    assert r.counts == {"marker_duplicated": 1, "entity_recovered": 1} and r.reason is None


def test_unexplained_extra_span_is_a_mismatch() -> None:
    r = _project(["O", "B-LOC"], "In [Berlin] [regnet] es.", ["Berlin"], ["Berlin"])
    assert r.reason == "marker_mismatch" and r.counts == {"marker_extra": 1}


def test_nested_and_unbalanced_in_projection() -> None:
    r = _project(
        ["B-ORG", "I-ORG", "I-ORG"], "Die [[Bank of] America] wächst", ["Bank of America"], ["Bank of America"]
    )
    assert r.tags == ["O", "B-ORG", "I-ORG", "I-ORG", "O"] and r.counts == {"marker_nested": 1}
    r = _project(["B-PER", "O", "B-LOC"], "[Anna fuhr nach [Berlin].", ["Anna", "Berlin"], ["Anna", "Berlin"])
    assert r.tags == ["B-PER", "O", "O", "B-LOC", "O"] and r.counts == {"marker_unbalanced": 1, "entity_recovered": 1}


def test_marker_pairs_restrict_assignment_and_low_confidence() -> None:
    # with two pairs, the span in {} can only be the second entity, whatever its text
    r = _project(
        ["B-PER", "O", "B-PER"], "{Xyz} traf [Ann].", ["Ann", "Bo"], ["Ann", "Bo"], pairs=[("[", "]"), ("{", "}")]
    )
    assert [d["src_start"] for d in r.details] == [2, 0]
    r = _project(["B-PER"], "[Xyz] kam.", ["Ann"], ["Ann"], min_confidence=0.5)
    assert r.reason == "low_confidence" and r.counts == {"low_confidence": 1}


def test_span_length_cap() -> None:
    r = _project(["B-PER", "O"], "[Anna fuhr heute mit dem Zug] weg.", ["Anna"], ["Anna"])
    assert r.reason == "span_too_long" and r.counts["span_too_long"] == 1
    r = _project(["B-PER", "O"], "[Anna fuhr heute mit dem Zug] weg.", ["Anna"], ["Anna"], max_span_ratio=None)
    assert r.reason is None
    r = _project(["B-PER", "O"], "[Anna Maria Lena] kam.", ["Anna"], ["Anna"])  # 3 tokens for 1: within the cap
    assert r.reason is None


def test_projection_into_unspaced_script() -> None:
    zh = langs.get("zh")
    r = project_markers(
        ["B-PER", "O", "B-LOC"],
        "[安娜]去了[柏林]。",
        ["安娜", "柏林"],
        ["Anna", "Berlin"],
        zh.word_tokenize,
        spaced=False,
    )
    assert r.tokens[0] == "安娜" and r.tags[0] == "B-PER" and r.tags[r.tokens.index("柏林")] == "B-LOC"


# ------------------------------------------------------------------ stages


def _ner_batch() -> pa.Table:
    return pa.table(
        {
            "id": ["s1", "s2", "s3"],
            "tokens": [["Ana", "visits", "Lima"], ["no", "names", "here"], ["Ana", "will", "drop", "it"]],
            "tags": [["B-PER", "O", "B-LOC"], ["O", "O", "O"], ["B-PER", "O", "O", "O"]],
            "lang": ["en", "en", "en"],
        }
    )


def test_stage_chain_with_a_stand_in_translator() -> None:
    inserter, translator, projector = MarkerInserter(), MarkerTranslator(Echo(), src="en", tgt="de"), MarkerProjector()
    batch = inserter(_ner_batch())
    assert batch.column("mt_source").to_pylist()[0] == "[Ana] visits [Lima]"
    assert MarkerInserter(detokenize=False)(_ner_batch()).column("mt_source").to_pylist()[2] == "[Ana] will drop it"
    assert batch.column("mt_entities").to_pylist()[0] == ["Ana", "Lima"]
    batch = translator(batch)
    assert translator.take_counters()["segments"] == 3 + 3
    out = projector(batch)
    rows = out.to_pylist()
    assert [r["id"] for r in rows] == ["s1#de", "s2#de", "s3#de"]
    assert [r["source_id"] for r in rows] == ["s1", "s2", "s3"]
    assert rows[0]["tokens"] == ["ANA", "VISITS", "LIMA"] and rows[0]["tags"] == ["B-PER", "O", "B-LOC"]
    assert rows[0]["lang"] == "de" and rows[0]["src_tags"] == ["B-PER", "O", "B-LOC"]
    assert rows[1]["tags"] == ["O", "O", "O"] and rows[1]["drop_reason"] is None
    assert rows[2]["drop_reason"] == "entity_lost"
    assert out.schema.field("projection").type == pa.list_(
        pa.struct([(f.name, f.type) for f in out.schema.field("projection").type.value_type])
    )
    counters = projector.take_counters()
    assert (counters["entities"], counters["projected"], counters["lost"]) == (3, 2, 1)
    assert (
        counters["entities_PER"],
        counters["projected_PER"],
        counters["entities_LOC"],
        counters["projected_LOC"],
    ) == (2, 1, 1, 1)


def test_tiny_ct2_model_plumbing(tmp_path_factory: pytest.TempPathFactory) -> None:
    import tiny_models

    from babelmill.processors.translate.engine import CTranslate2Spec

    root = tmp_path_factory.getbasetemp()
    spec = CTranslate2Spec(str(tiny_models.cached("marian", root)), device="cpu", cache_dir=str(root / "ct2-markers"))
    batch = MarkerInserter()(_ner_batch())
    translator = MarkerTranslator(spec, src="en", tgt="de")
    batch = translator(batch)
    outputs = batch.column("mt_output").to_pylist()
    assert all(isinstance(t, str) for t in outputs)
    assert [len(x) for x in batch.column("mt_entity_translations").to_pylist()] == [2, 0, 1]
    out = MarkerProjector()(batch)
    allowed = {None, "entity_lost", "marker_mismatch", "span_too_long", "low_confidence", "empty_translation"}
    for row in out.to_pylist():
        assert row["drop_reason"] in allowed
        if row["drop_reason"] is None:
            assert len(row["tokens"]) == len(row["tags"])
            assert len(row["projection"]) >= len([t for t in row["src_tags"] if t.startswith("B-")])


def test_project_markers_job_end_to_end(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, ray_session) -> None:
    """A marker-projection run through the runner on the tiny model: conservation,
    quarantine, resume and a ``datasets`` round trip of the ``ner_tags`` labels."""
    import datasets
    import tiny_models

    from babelmill.pipelines.jobs import project_markers_job
    from babelmill.pipelines.runner import run
    from babelmill.processors.translate.engine import CTranslate2Spec

    root = tmp_path_factory.getbasetemp()
    spec = CTranslate2Spec(str(tiny_models.cached("marian", root)), device="cpu", cache_dir=str(root / "ct2-markers"))
    words = tiny_models.sentences(6, seed=3)
    lines = []
    for k, sentence in enumerate(words):
        toks = sentence.split()
        tags = ["O"] * len(toks)
        if k % 2 == 0:  # half the sentences have an entity (IOB1, as CoNLL-2003 writes it)
            tags[0] = "I-PER" if k % 4 == 0 else "I-LOC"
        lines += [f"{t} {g}" for t, g in zip(toks, tags)] + [""]
    lines += ["ragged", ""]
    (tmp_path / "en.conll").write_text("\n".join(lines))

    def job():
        return project_markers_job([str(tmp_path / "en.conll")], tmp_path / "out", spec, ["de"], src="en")

    first = run(job())
    led = first.ledger
    assert led.input == 7 and led.quarantined == 1
    assert led.input == led.kept + led.rejected + led.quarantined
    assert led.kept >= 3  # the sentences without entities always survive
    reasons = set(led.drop_reasons())
    assert reasons <= {"entity_lost", "marker_mismatch", "span_too_long", "low_confidence", "empty_translation"}
    again = run(job())
    assert again.shards_skipped == again.shards_total and again.ledger.kept == led.kept
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "out" / "data" / "de" / "*.parquet"), split="train")
    assert ds.features["ner_tags"].feature.names == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    for row in ds:
        assert ds.features["ner_tags"].feature.int2str(row["ner_tags"]) == row["tags"]
        assert row["id"] == f"{row['source_id']}#de" and row["tgt_lang"] == "de" and row["src_lang"] == "en"
    assert "mt_output" not in ds.column_names
