"""Marker rules for close languages and ``auto``'s answer-pair routing.

Sentences written here for the test (no evaluation data); the rules on hand-built
predictions, then ``auto`` end to end on the real shipped models.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from babelmill.langs import coverage
from babelmill.processors.lid import AutoLanguageIdentifier
from babelmill.processors.lid.common import Prediction
from babelmill.processors.lid.markers import (
    BACKEND,
    MarkerRules,
    SerboCroatianRule,
    UzbekSpellingRule,
    VoteRule,
)

MAITHILI = "ओ कहलथि जे हमरा सभ लग एकटा नीक घर अछि आ ओ सेहो पहिने छोट छल।"
HINDI = "वह कहता है कि हमारे पास एक अच्छा घर है और यह पहले छोटा था।"
NEPALI_WITH_HINDI_WORD = "उहाँले भन्नुभयो कि हाम्रो घर राम्रो छ र है भनेर सोध्नुभयो।"
MALAY = "Beliau menyatakan bahawa hospital baharu itu dibina kerana penduduk semakin ramai."
INDONESIAN = "Dia mengatakan bahwa pemerintah membangun rumah sakit karena penduduk bertambah."
UZBEK = "U o'z uyiga qaytib, bolalar bilan birga o'qishni boshladi va kitob o'qidi."
TURKISH = "Bugün okula gittim ve öğretmenle uzun uzun konuştum."
CROATIAN = "Tko je rekao da znanost na sveučilištu nije važna za tisuću ljudi?"
SERBIAN_LATIN = "Gde je reka? Ovde je uvek lepo vreme i deca se igraju."
BOSNIAN = "Naučnici na univerzitetu su rekli da je to uvijek bilo tako u porodici."
SERBIAN_CYRILLIC = "Где је река? Овде је увек лепо време."
EGYPTIAN = "أنا مش عايز أروح دلوقتي عشان الجو وحش خالص."
STANDARD_ARABIC = "هذا الكتاب الذي قرأته ليس جديدا ولكنه مفيد."
CANTONESE = "佢話佢今日唔嚟喇，我哋去邊度食飯？"
MANDARIN = "他说他今天不来了，我们去哪里吃饭？"
SOUTH_AZERBAIJANI = "بو ایل چوخ یاخشی اولدو، آما هله ایش وار و داها چوخ ایشلرین وار."
PERSIAN = "این کتاب را از کتابخانه گرفتم و به خانه بردم."
ENGLISH = "The weather was lovely and the children played outside all day."


def _pred(texts_answers: list[tuple[str, str]]) -> tuple[pl.Series, Prediction]:
    texts = pl.Series([t for t, _ in texts_answers], dtype=pl.String)
    answers = [a for _, a in texts_answers]
    n = len(answers)
    labels = pa.array([[a, "en"] for a in answers], pa.list_(pa.string()))
    scores = pa.array([[0.9, 0.05]] * n, pa.list_(pa.float32()))
    pred = Prediction(pl.Series(answers, dtype=pl.String), np.full(n, 0.9), labels, scores, pl.Series(["heliport"] * n))
    return texts, pred


CASES = [
    (MAITHILI, "hi", "mai"),
    (MAITHILI, "ne", "mai"),
    (HINDI, "hi", "hi"),
    (HINDI, "mai", "hi"),
    (NEPALI_WITH_HINDI_WORD, "ne", "ne"),
    (MALAY, "id", "ms"),
    (INDONESIAN, "id", "id"),
    (INDONESIAN, "ms", "id"),
    (UZBEK, "az", "uz"),
    (UZBEK, "sv", "uz"),
    (TURKISH, "tr", "tr"),
    (CROATIAN, "sr", "hr"),
    (SERBIAN_LATIN, "hr", "sr"),
    (BOSNIAN, "hr", "bs"),
    (SERBIAN_CYRILLIC, "sr", "sr"),
    (EGYPTIAN, "ar", "arz"),
    (STANDARD_ARABIC, "ar", "ar"),
    (STANDARD_ARABIC, "arz", "ar"),
    (CANTONESE, "zh", "yue"),
    (MANDARIN, "zh", "zh"),
    (SOUTH_AZERBAIJANI, "fa", "azb"),
    (PERSIAN, "fa", "fa"),
    (ENGLISH, "en", "en"),
]


def test_rules_revise_exactly_the_marked_answers() -> None:
    texts, pred = _pred([(t, a) for t, a, _ in CASES])
    out = MarkerRules().revise(texts, pred)
    got = out.lang.to_list()
    for (text, answer, want), g in zip(CASES, got):
        assert g == want, (text, answer, g)
    moved = [i for i, (_, a, w) in enumerate(CASES) if a != w]
    kept = [i for i, (_, a, w) in enumerate(CASES) if a == w]
    backend = out.backend.to_list()
    assert all(backend[i] == BACKEND for i in moved) and all(backend[i] == "heliport" for i in kept)
    # the score is the models' confidence in the group; the top-k list leads with the new code
    assert np.array_equal(out.score, pred.score)
    labels, scores = out.labels.to_pylist(), out.scores.to_pylist()
    for i in moved:
        assert labels[i][0] == CASES[i][2] and CASES[i][1] in labels[i] and len(labels[i]) == 2
        assert scores[i][0] == pytest.approx(0.9)
    for i in kept:
        assert labels[i] == [CASES[i][1], "en"]


def test_no_candidates_returns_the_prediction_itself() -> None:
    texts, pred = _pred([(ENGLISH, "en"), ("Der Hund schläft im Garten.", "de")])
    assert MarkerRules().revise(texts, pred) is pred


def test_vote_rule() -> None:
    rule = VoteRule(answers=frozenset({"hi", "ne", "mai"}), left="mai", right="hi", min_left=2)
    assert rule.decide("hi", {"mai": 2, "hi": 1}) == "mai"
    assert rule.decide("hi", {"mai": 1}) == "hi"  # below min_left
    assert rule.decide("hi", {"mai": 2, "hi": 2}) == "hi"  # a tie keeps the answer
    assert rule.decide("mai", {"hi": 3}) == "hi"
    assert rule.decide("ne", {"hi": 3}) == "ne"  # only left's answers move to right


def test_serbo_croatian_rule() -> None:
    rule = SerboCroatianRule()
    assert rule.decide("hr", {"ekavian": 2, "ijekavian": 1}) == "sr"
    assert rule.decide("sr", {"hr": 1}) == "hr"
    assert rule.decide("hr", {"sr_bs": 1, "ijekavian": 1}) == "bs"
    assert rule.decide("sr", {"sr_bs": 1}) == "sr"  # Serbian vocabulary without ijekavian forms
    assert rule.decide("sh", {"ijekavian": 1}) == "hr"
    assert rule.decide("sr", {"ekavian": 3, "cyrillic": 5}) == "sr"
    assert rule.decide("hr", {"ekavian": 3, "cyrillic": 5}) == "hr"  # Cyrillic: left to the models


def test_uzbek_rule_needs_spelling_words_and_no_turkic_letters() -> None:
    rule = UzbekSpellingRule()
    assert rule.decide("az", {"spelling": 2, "words": 1}) == "uz"
    assert rule.decide("az", {"spelling": 1, "words": 3}) == "az"
    assert rule.decide("az", {"spelling": 3, "words": 0}) == "az"
    assert rule.decide("tr", {"spelling": 3, "words": 2, "other_letters": 1}) == "tr"


def test_rules_off_keeps_the_models_answer() -> None:
    texts = pl.Series([MAITHILI * 3, EGYPTIAN * 3], dtype=pl.String)
    on = AutoLanguageIdentifier(top_k=1)
    off = AutoLanguageIdentifier(top_k=1, markers=False)
    got_on, got_off = on.predict(texts, k=1), off.predict(texts, k=1)
    assert got_on.lang.to_list() == ["mai", "arz"]
    assert got_on.backend.to_list() == [BACKEND, BACKEND]
    assert "mai" not in got_off.lang.to_list() and "arz" not in got_off.lang.to_list()
    assert on.config()["markers"] and not off.config()["markers"]


def test_marker_answers_reach_the_stage_columns_and_counters() -> None:
    stage = AutoLanguageIdentifier(top_k=2)
    batch = pa.table({"id": ["a", "b"], "text": [MAITHILI * 3, HINDI * 3]})
    out = stage(batch)
    assert out.column("lang").to_pylist() == ["mai", "hi"]
    assert out.column("lid_backend").to_pylist()[0] == BACKEND
    assert out.column("lid_labels").to_pylist()[0][0] == "mai"
    counters = stage.take_counters()
    assert counters.get(f"decided:{BACKEND}:mai") == 1


def test_answer_pair_routing() -> None:
    pairs = coverage.pair_routing()
    assert ("ace", "jv") in pairs and ("ace", "su") in pairs
    stage = AutoLanguageIdentifier()
    he = pl.Series(["ace", "ace", "ace", "ja"], dtype=pl.String)
    ft = pl.Series(["jv", "id", "su", "zh"], dtype=pl.String)
    # heliport's ace stands against lid.176's Indonesian, not against its Javanese / Sundanese
    assert stage._takes(he, ft).tolist() == [True, False, True, True]
    assert stage._defer(he).all()


def test_auto_accuracy_makes_a_target_covered() -> None:
    hr = coverage.get("hr")
    assert hr.auto_accuracy is not None and hr.auto_accuracy >= hr.accuracy["lid176"]
    assert hr.well_covered()
