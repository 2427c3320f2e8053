"""The reusable translation core (``translate_texts``) and the plain ``TextTranslator``
stage on it: protect -> segment -> translate -> restore, one translator call per
language pair, and the same texts out as the instruction translator gives."""

from __future__ import annotations

import pickle

import pyarrow as pa
import pytest

from instruct_doubles import ReverseTranslator, StandInSpec, reverse_words
from babelmill.processors.base import Resources
from babelmill.processors.instruct import InstructionParser, InstructionTranslator, TargetExpander
from babelmill.processors.translate import TextTranslator, translate_texts
from babelmill.processors.translate.checks import OUTPUT, PROBLEMS, SOURCE, TranslationQualityFilter

TEXTS = [
    "Call `sorted(xs)` to get a list. See https://example.org/docs for more.",
    "Hello {name}! You have two messages.",
    "Call `sorted(xs)` to get a list. See https://example.org/docs for more.",
]


def test_translate_texts_protects_segments_and_restores() -> None:
    engine = ReverseTranslator()
    results, stats = translate_texts(engine, TEXTS, "en", "de")
    assert len(results) == 3 and engine.calls == [("en", "de", stats.sent)]
    first = results[0]
    # code and the URL are held back and put back verbatim; the words around them are translated
    assert "`sorted(xs)`" in first.text and "https://example.org/docs" in first.text
    assert reverse_words("get a list") in first.text and "get a list" not in first.text
    assert "{name}" in results[1].text and reverse_words("messages") in results[1].text
    assert results[2] == first  # identical texts: identical results
    assert stats.units == sum(len(r.unit_scores) for r in results) and stats.sent < stats.units
    assert first.score == pytest.approx(-0.25) and not first.failed
    assert first.source_units and all("⟦" not in u for u in first.source_units + first.output_units)


def test_lost_placeholders_are_reported_per_text() -> None:
    results, _ = translate_texts(ReverseTranslator(drop_sentinel=True), ["Use `x` here."], "en", "fr")
    assert results[0].failed and results[0].problems


def test_nothing_to_translate_calls_nothing() -> None:
    engine = ReverseTranslator()
    results, stats = translate_texts(engine, [], "en", "de")
    assert results == [] and engine.calls == [] and stats.sent == 0


def test_text_translator_reads_languages_from_columns_or_parameters() -> None:
    stage = TextTranslator(StandInSpec(), src_lang="en")
    batch = pa.table(
        {"id": ["a", "b", "c", "d"], "text": [TEXTS[0], TEXTS[1], None, "  "], "tgt_lang": ["de", "fr", "de", "de"]}
    )
    out = stage(batch)
    want_de, _ = translate_texts(ReverseTranslator(), [TEXTS[0]], "en", "de")
    want_fr, _ = translate_texts(ReverseTranslator(), [TEXTS[1]], "en", "fr")
    assert out.column("translation").to_pylist() == [want_de[0].text, want_fr[0].text, None, "  "]
    assert out.column("translation_score").to_pylist() == [-0.25, -0.5, None, None]
    assert out.column("model").to_pylist() == ["stand-in/reverse"] * 4
    assert stage.translator.calls == [
        ("en", "de", len(want_de[0].source_units)),
        ("en", "fr", len(want_fr[0].source_units)),
    ]
    counters = stage.take_counters()
    assert counters["units"] == len(want_de[0].source_units) + len(want_fr[0].source_units) and counters["chars"] > 0
    # the checks can follow it
    checked = TranslationQualityFilter(skip=("wrong_language", "untranslated"))(out)
    assert checked.column("drop_reason").to_pylist() == [None] * 4
    assert {SOURCE, OUTPUT, PROBLEMS} <= set(out.column_names)


def test_text_translator_without_a_language_fails_clearly() -> None:
    stage = TextTranslator(StandInSpec())
    with pytest.raises(ValueError, match="no tgt language"):
        stage(pa.table({"text": ["hi"], "src_lang": ["en"]}))


def test_text_translator_is_a_picklable_model_stage() -> None:
    stage = TextTranslator(StandInSpec(), "en", "de", output="text_de")
    assert stage.stateful and stage.resources == Resources(1.0, 0.0)
    stage.setup()
    clone = pickle.loads(pickle.dumps(stage))
    assert "_translator" not in clone.__dict__
    assert clone(pa.table({"text": ["Good morning."]})).column("text_de").to_pylist() == [
        f"de: {reverse_words('Good morning.')}"
    ]
    assert stage.config()["spec"] == {"drop_sentinel": False} and stage.config()["output"] == "text_de"


def test_instruction_translator_and_translate_texts_agree() -> None:
    """The instruction stage is translate_texts per field: same texts, same scores."""
    from instruct_doubles import ALPACA, docs

    table = TargetExpander(["de"])(InstructionParser()(docs([ALPACA], ids=["a"])))
    out = InstructionTranslator(StandInSpec(), fields=("instruction",))(table)
    want, _ = translate_texts(ReverseTranslator(), [ALPACA["instruction"]], "en", "de")
    assert out.column("messages").to_pylist()[0][0]["content"].startswith(want[0].text)
    assert out.column("score").to_pylist() == [pytest.approx(want[0].score)]
