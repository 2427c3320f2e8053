"""TextNormalizer: mojibake repaired (only where the batch regex suspects damage), one
Unicode normal form, control characters gone, and nothing else about the rows changed."""

from __future__ import annotations

import unicodedata

import pyarrow as pa
import pytest

from babelmill.processors import normalize
from babelmill.processors.base import DROP_REASON
from babelmill.processors.normalize import TextNormalizer


def batch(texts: list[str | None]) -> pa.Table:
    n = len(texts)
    return pa.table(
        {
            "id": [f"d{i}" for i in range(n)],
            "text": pa.array(texts, pa.string()),
            "lang": pa.array(["en"] * n, pa.string()),
            DROP_REASON: pa.array([None] * n, pa.string()),
        }
    )


def texts(table: pa.Table) -> list[str | None]:
    return table.column("text").to_pylist()


def test_mojibake_entities_and_controls_are_repaired_and_counted() -> None:
    stage = TextNormalizer()
    out = stage(batch(["cafÃ© au lait", "Fish &amp; chips", "bell\x07here", "plain text stays"]))
    assert texts(out) == ["café au lait", "Fish & chips", "bellhere", "plain text stays"]
    assert stage.take_counters()["ftfy_fixed"] == 3


def test_only_suspect_documents_reach_ftfy(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real = normalize.ftfy.fix_text

    def spy(text: str, **kwargs: object) -> str:
        seen.append(text)
        return real(text, **kwargs)

    monkeypatch.setattr(normalize.ftfy, "fix_text", spy)
    TextNormalizer()(batch(["clean English sentence.", "Ünïcödé that is fine", "naÃ¯ve", "Здравствуйте, мир"]))
    assert seen == ["naÃ¯ve"]


def test_suspect_but_unfixable_text_is_kept_and_not_counted() -> None:
    stage = TextNormalizer()
    out = stage(batch(["a lost character: \ufffd here"]))
    assert texts(out) == ["a lost character: \ufffd here"]
    assert stage.take_counters()["ftfy_fixed"] == 0


def test_nfc_applies_to_every_document() -> None:
    decomposed = unicodedata.normalize("NFD", "café naïve Ångström")
    assert decomposed != "café naïve Ångström"
    out = TextNormalizer()(batch([decomposed]))
    assert texts(out) == ["café naïve Ångström"]


def test_other_forms_and_switches() -> None:
    nfkc = TextNormalizer(form="NFKC")(batch(["ﬁne ２０２４"]))
    assert texts(nfkc) == ["fine 2024"]
    decomposed = unicodedata.normalize("NFD", "cafÃ© é")
    # no repair, no normal form: the text passes through as it was
    untouched = TextNormalizer(fix_encoding=False, form="")(batch([decomposed]))
    assert texts(untouched) == [decomposed]
    # repair off, NFC on: the mojibake stays, the accents compose
    nfc_only = TextNormalizer(fix_encoding=False)(batch(["cafÃ© e\u0301"]))
    assert texts(nfc_only) == ["cafÃ© é"]


def test_rows_nulls_and_other_columns_are_kept() -> None:
    inp = batch(["cafÃ©", None, "", "ok"])
    out = TextNormalizer()(inp)
    assert out.num_rows == inp.num_rows
    assert out.column_names == inp.column_names
    assert texts(out) == ["café", None, "", "ok"]
    for name in ("id", "lang", DROP_REASON):
        assert out.column(name).equals(inp.column(name))


def test_empty_batch() -> None:
    out = TextNormalizer()(batch([]))
    assert out.num_rows == 0 and out.schema.field("text").type == pa.string()
