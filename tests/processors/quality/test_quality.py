"""Quality filters: per-rule cases, 100% agreement with datatrove on generated English,
per-language profiles, C4's line rewriting, picklability.

All text is generated here or written for these tests (no real corpus, no network).
"""

from __future__ import annotations

import pickle
import random
from collections import Counter

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from babelmill import langs
from babelmill.processors.base import DROP_REASON
from babelmill.processors.quality import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)
from babelmill.processors.quality._common import profile_code, tokenize_series
from babelmill.processors.quality.gopher_repetition import _NGrams, greedy_repeated_chars

# ---------------------------------------------------------------------------------------------
# A generator of English-like documents that exercises every rule.  Vocabulary and sentence
# shapes are invented; many documents land close to a threshold on purpose.
# ---------------------------------------------------------------------------------------------

STOP = "the be to of and that have with".split()
FUNCTION = "a in is it for on was as at by this from or an are not but which we you they he she".split()
NOUNS = (
    "river garden market teacher window system village engine letter journey morning history "
    "harbor student bridge council forest machine picture kitchen station library weather "
    "mountain doctor program village painter network summer account museum island factory "
    "measure product question surface practice officer project country evening animal"
).split()
VERBS = (
    "builds carries finds opens watches measures follows describes changes covers reaches "
    "returns improves supports explains produces repairs collects answers visits"
).split()
ADJ = (
    "quiet careful bright local ancient narrow heavy simple gentle modern public private "
    "useful common remote wooden sudden patient curious regular"
).split()
NAMES = "Maria Jonas Okafor Lindqvist Tanaka Herrera Dubois Novak Chen Ahmed".split()
CONTRACTIONS = "don't can't won't isn't it's we're they've I'm you'll she'd wasn't haven't".split()
HYPHENATED = "well-known long-term part-time low-cost high-quality state-of-the-art e-mail".split()
ABBREV = ["Dr.", "Mr.", "Mrs.", "U.S.", "e.g.", "i.e.", "Inc.", "St."]
LONG_WORDS = "internationalization characteristically disproportionately telecommunications".split()


def _word(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.22:
        return rng.choice(STOP)
    if r < 0.42:
        return rng.choice(FUNCTION)
    if r < 0.65:
        return rng.choice(NOUNS)
    if r < 0.78:
        return rng.choice(VERBS)
    if r < 0.88:
        return rng.choice(ADJ)
    if r < 0.91:
        return rng.choice(CONTRACTIONS)
    if r < 0.94:
        return rng.choice(HYPHENATED)
    if r < 0.96:
        return str(rng.choice([3, 12, 1999, 2024, 45, 7])) + rng.choice(["", "", "%", "km"])
    if r < 0.98:
        return rng.choice(NAMES) + rng.choice(["", "'s"])
    return rng.choice(ABBREV) + " " + rng.choice(NAMES)


def sentence(rng: random.Random, lo: int = 6, hi: int = 18) -> str:
    words = [_word(rng) for _ in range(rng.randint(lo, hi))]
    if rng.random() < 0.3:
        words.insert(rng.randrange(1, len(words)), rng.choice([",", ",", ";", "(" + rng.choice(NOUNS) + ")"]))
    text = " ".join(words).replace(" ,", ",").replace(" ;", ";")
    if rng.random() < 0.1:
        text = '"' + text + '," ' + rng.choice(NAMES) + " said"
    text = text[0].upper() + text[1:]
    return text + rng.choice([".", ".", ".", ".", "!", "?", "...", ".", "…"] if rng.random() < 0.5 else ["."])


def paragraph(rng: random.Random, lo: int = 2, hi: int = 6) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(lo, hi)))


def prose(rng: random.Random, lo: int = 2, hi: int = 7) -> str:
    sep = rng.choice(["\n", "\n\n", "\n\n", "\n \n", "\r\n"])
    return sep.join(paragraph(rng) for _ in range(rng.randint(lo, hi)))


def _bullets(rng: random.Random) -> str:
    mark = rng.choice(["- ", "• ", "  - ", "-", "* "])
    items = [mark + " ".join(_word(rng) for _ in range(rng.randint(2, 9))) for _ in range(rng.randint(3, 25))]
    if rng.random() < 0.5:
        items.insert(0, paragraph(rng, 1, 2))
    return "\n".join(items)


def _menu(rng: random.Random) -> str:
    lines = [rng.choice(NOUNS).title() + rng.choice(["", " " + rng.choice(NOUNS)]) for _ in range(rng.randint(4, 30))]
    return "\n".join(lines + [paragraph(rng, 1, 3) for _ in range(rng.randint(0, 3))])


def _repeated_lines(rng: random.Random) -> str:
    base = [sentence(rng) for _ in range(rng.randint(2, 6))]
    lines = [
        rng.choice(base) if rng.random() < rng.uniform(0.1, 0.6) else sentence(rng) for _ in range(rng.randint(6, 20))
    ]
    return "\n".join(lines)


def _repeated_paragraphs(rng: random.Random) -> str:
    paras = [paragraph(rng) for _ in range(rng.randint(2, 4))]
    out = [rng.choice(paras) if rng.random() < 0.4 else paragraph(rng) for _ in range(rng.randint(3, 8))]
    return "\n\n".join(out)


def _repeated_ngrams(rng: random.Random) -> str:
    phrase = " ".join(_word(rng) for _ in range(rng.randint(2, 7)))
    parts = []
    for _ in range(rng.randint(4, 14)):
        parts.append(sentence(rng, 3, 10) if rng.random() < 0.6 else phrase)
    return " ".join(parts) + "."


def _hashtags(rng: random.Random) -> str:
    words = [("#" if rng.random() < rng.uniform(0.05, 0.3) else "") + _word(rng) for _ in range(rng.randint(40, 120))]
    return " ".join(words) + "."


def _ellipsis(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(4, 14)):
        s = sentence(rng)
        if rng.random() < rng.uniform(0.1, 0.6):
            s = s.rstrip(".!?…") + rng.choice(["...", "…", "... ", " ...", "...."])
        lines.append(s)
    return "\n".join(lines)


def _numbers(rng: random.Random) -> str:
    rows = [" ".join(str(rng.randint(0, 9999)) for _ in range(rng.randint(3, 8))) for _ in range(rng.randint(3, 12))]
    return paragraph(rng, 1, 3) + "\n" + "\n".join(rows)


def _salad(rng: random.Random) -> str:
    pool = NOUNS + VERBS + ADJ
    return " ".join(rng.choice(pool) for _ in range(rng.randint(45, 120))) + "."


def _word_lengths(rng: random.Random) -> str:
    if rng.random() < 0.5:
        pool = LONG_WORDS + ["the", "of", "and"]
    else:
        pool = ["a", "is", "to", "of", "it", "be", "the", "at", "on", "and", "an"]
    return " ".join(rng.choice(pool) for _ in range(rng.randint(50, 90))) + "."


def _c4_noise(rng: random.Random) -> str:
    lines = [paragraph(rng, 1, 3) for _ in range(rng.randint(2, 7))]
    extras = [
        "Please enable JavaScript to view the comments powered by our partner.",
        "This site uses cookies to improve your experience with the service.",
        "Read our privacy policy and terms of use before you continue here.",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.",
        "function show() { return the river; }",
        "The " + rng.choice(NOUNS) + " was described in a report.[1] It was confirmed later.[citation needed]",
        "Short line.",
        "Click here",
        "A " + "x" * 1001 + " word that is far too long for the line.",
        "Wait for it...",
        "Use the {name} field to describe the " + rng.choice(NOUNS) + " and the bridge.",
    ]
    for _ in range(rng.randint(1, 4)):
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(extras))
    return "\n".join(lines)


def _tiny(rng: random.Random) -> str:
    return rng.choice([sentence(rng), " ".join(_word(rng) for _ in range(rng.randint(1, 55))), "", "   ", "\n\n"])


def _newlines(rng: random.Random) -> str:
    return "\n".join(
        " ".join(_word(rng) for _ in range(rng.randint(1, 4))) + rng.choice(["", "."])
        for _ in range(rng.randint(10, 40))
    )


def _inline_ellipsis(rng: random.Random) -> str:
    words = [
        _word(rng) + (" ..." if rng.random() < rng.uniform(0.03, 0.2) else "") for _ in range(rng.randint(50, 120))
    ]
    return " ".join(words) + "."


def _spaced_out(rng: random.Random) -> str:
    """Short lines and blank lines: FineWeb's newline-per-word (list) rule."""
    lines = []
    for _ in range(rng.randint(5, 20)):
        lines.append(" ".join(rng.choice(LONG_WORDS + NOUNS) for _ in range(rng.randint(2, 4))) + ".")
        lines.extend([""] * rng.randint(0, 2))
    return "\n".join(lines)


KINDS = [
    (prose, 8),
    (_bullets, 2),
    (_menu, 2),
    (_repeated_lines, 2),
    (_repeated_paragraphs, 2),
    (_repeated_ngrams, 2),
    (_hashtags, 1),
    (_ellipsis, 2),
    (_numbers, 1),
    (_salad, 1),
    (_word_lengths, 1),
    (_c4_noise, 3),
    (_tiny, 1),
    (_newlines, 1),
    (_inline_ellipsis, 1),
    (_spaced_out, 1),
]


def english_docs(n: int, seed: int = 0) -> list[str]:
    """``n`` generated documents; the same seed gives the same documents."""
    rng = random.Random(seed)
    makers = [m for m, w in KINDS for _ in range(w)]
    docs = []
    for _ in range(n):
        doc = rng.choice(makers)(rng)
        if rng.random() < 0.15:  # mix kinds inside one document
            doc = doc + rng.choice(["\n", "\n\n"]) + rng.choice(makers)(rng)
        docs.append(doc)
    return docs


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

GOOD = (
    "The old harbor of the town has been rebuilt with care, and the people who live there are proud of it. "
    "Fishing boats still leave before dawn, but most visitors come for the market that opens on the square each Saturday.\n\n"
    "Local farmers bring cheese, bread and fresh vegetables to sell, and musicians play near the fountain until the late afternoon. "
    "Children run between the stalls while their parents talk with neighbours they have known for many years.\n\n"
    "In winter the streets are quiet again. The council hopes that a new ferry line will bring more guests with the spring, "
    "although some residents would rather keep the place as calm as it is now."
)

CHINESE = (
    "我们的城市在一条大河的旁边，每年春天都有很多人来这里看花。公园里的老人喜欢下棋，孩子们在草地上跑来跑去。"
    "市政府在去年修建了一座新的图书馆，里面有很多书和安静的阅读室。周末的时候，很多家庭会带着孩子去图书馆看书，"
    "然后在附近的小饭馆吃午饭。这个城市的交通也很方便，地铁和公交车可以到达大部分地方。他说，这里的生活虽然简单，但是很舒服。"
)

SWAHILI = (
    "Kijiji chetu kiko karibu na mto mkubwa, na watu wengi hulima mahindi na maharagwe katika mashamba yao. "
    "Kila asubuhi watoto wa shule hutembea pamoja kwenda shuleni, na walimu huwasubiri kwa furaha. "
    "Katika mwaka uliopita serikali ilijenga kituo kipya cha afya, na sasa wagonjwa hupata huduma bila kusafiri mbali. "
    "Wazee wa kijiji hukutana jioni chini ya mti mkubwa kuzungumza juu ya habari za siku. "
    "Soko la wiki hufanyika kila Jumamosi, na wafanyabiashara huleta samaki, matunda na nguo kutoka mjini."
)


def batch(texts: list[str], lang: str | list[str | None] | None = "en") -> pa.Table:
    langs_col = lang if isinstance(lang, list) else [lang] * len(texts)
    return pa.table(
        {"id": [str(i) for i in range(len(texts))], "text": texts, "lang": pa.array(langs_col, pa.string())}
    )


def reasons(f, texts: list[str], lang: str | list[str | None] | None = "en") -> list[str | None]:
    return f(batch(texts, lang)).column(DROP_REASON).to_pylist()


def datatrove_reason(f, text: str) -> str | None:
    from datatrove.data import Document

    result = f.filter(Document(text=text, id="x"))
    return None if result is True else result[1]


@pytest.fixture(scope="module")
def datatrove_filters():
    from datatrove.pipeline.filters import C4QualityFilter as DC4
    from datatrove.pipeline.filters import FineWebQualityFilter as DFW
    from datatrove.pipeline.filters import GopherQualityFilter as DGQ
    from datatrove.pipeline.filters import GopherRepetitionFilter as DGR

    return {"gopher_quality": DGQ(), "gopher_repetition": DGR(), "fineweb_quality": DFW(), "c4_quality": DC4()}


OURS = {
    "gopher_quality": GopherQualityFilter,
    "gopher_repetition": GopherRepetitionFilter,
    "fineweb_quality": FineWebQualityFilter,
    "c4_quality": C4QualityFilter,
}


def words(n: int, rng: random.Random | None = None) -> str:
    rng = rng or random.Random(n)
    return " ".join(rng.choice(NOUNS + VERBS + ADJ + STOP) for _ in range(n))


# ---------------------------------------------------------------------------------------------
# per-rule cases: the expected reason, and datatrove giving the same one
# ---------------------------------------------------------------------------------------------

PARA = [paragraph(random.Random(i), 3, 4) for i in range(12)]
LONG = "\n\n".join(PARA[:5])

CASES = {
    "gopher_quality": [
        (GOOD, None),
        ("A short note about the river and the bridge.", "gopher_short_doc"),
        (" ".join(["a to of is it at on be"] * 10) + ".", "gopher_below_avg_threshold"),
        (" ".join(LONG_WORDS * 15) + " the and of.", "gopher_above_avg_threshold"),
        (GOOD + " " + " ".join(f"#tag{i}" for i in range(24)), "gopher_too_many_hashes"),
        (" ... ".join(GOOD.split(" ")[:70]) + ".", "gopher_too_many_ellipsis"),
        ("\n".join("- " + s for s in GOOD.replace("\n\n", " ").split(". ")), "gopher_too_many_bullets"),
        ("\n".join(s + "..." for s in GOOD.replace("\n\n", " ").split(". ")[:9]), "gopher_too_many_end_ellipsis"),
        (
            "The and of " + " ".join(str(1000 + i * 7) for i in range(80)) + " the river.",
            "gopher_below_alpha_threshold",
        ),
        (words(80).replace(" the ", " ").replace(" and ", " ").replace(" of ", " ").replace(" be ", " ") + ".", None),
        (" ".join(w for w in words(120).split() if w not in STOP) + ".", "gopher_enough_stop_words"),
    ],
    "gopher_repetition": [
        (GOOD, None),
        ("", "empty"),
        ("\n\n".join([PARA[0], PARA[1], PARA[0], PARA[0], PARA[2]]), "dup_para_frac"),
        ("\n\n".join(PARA[:8] + [" ".join(PARA[8:12])] * 2), "dup_para_char_frac"),
        ("\n".join([PARA[0], "Next.", "Next.", "Next.", PARA[1], PARA[2]]), "dup_line_frac"),
        ("\n".join(PARA[:4] + [PARA[5] + PARA[6]] + ["x"] + [PARA[5] + PARA[6]]), "dup_line_char_frac"),
        (" ".join(["the river"] * 40) + " " + PARA[0], "top_2_gram"),
        (" ".join(PARA[:3] + [" ".join(PARA[0].split()[:12])] * 3), "duplicated_5_n_grams"),
    ],
    "fineweb_quality": [
        (GOOD, None),
        ("\n \n\t\n", "empty"),
        ("\n".join(f"Menu item number {i} for the shop" for i in range(10)), "line_punct_ratio"),
        ("\n".join(["Home.", "About us.", "Contact.", "Shop.", GOOD.replace("\n\n", " ")]), "short_line_ratio"),
        ("\n".join(PARA[:6] + [PARA[0]]), "char_dup_ratio"),
        ("\n\n".join(f"{a.title()} {b}." for a in LONG_WORDS for b in LONG_WORDS if a != b), "list_ratio"),
    ],
    "c4_quality": [
        (LONG, None),
        (LONG + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit.", "lorem_ipsum"),
        (LONG + "\nThe value is stored in the {field} of the record.", "curly_bracket"),
        ("One line only. It has two sentences.", "too_few_sentences"),
        (LONG + "\nfunction f() { return 1 }", None),  # no terminal mark: the line goes first
    ],
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_rule_gives_datatrove_reason(name, datatrove_filters):
    texts = [t for t, _ in CASES[name]]
    expected = [r for _, r in CASES[name]]
    ours = reasons(OURS[name](), texts)
    theirs = [datatrove_reason(datatrove_filters[name], t) for t in texts]
    assert theirs == expected, "the hand-written case does not test what it claims"
    assert ours == expected


OVERRIDES = [
    ("gopher_quality", {"max_doc_words": 20}, GOOD, "gopher_long_doc"),
    ("gopher_quality", {"min_doc_words": 0}, "A short note about the river and the bridge.", None),
    ("gopher_quality", {"stop_words": ["harbor", "market"]}, GOOD, None),
    ("gopher_quality", {"stop_words": ["zebra", "quartz"]}, GOOD, "gopher_enough_stop_words"),
    (
        "fineweb_quality",
        {"line_punct_thr": 0.0},
        "\n".join(f"Menu item number {i} for the shop" for i in range(10)),
        None,
    ),
    (
        "gopher_repetition",
        {"top_n_grams": ((2, 0.9),)},
        " ".join(["the river"] * 40) + " " + PARA[0],
        "duplicated_5_n_grams",
    ),
    ("gopher_repetition", {"dup_n_grams": ()}, " ".join(PARA[:3] + [" ".join(PARA[0].split()[:12])] * 3), None),
]


@pytest.mark.parametrize("name,kwargs,text,expected", OVERRIDES)
def test_parameters_override_profile(name, kwargs, text, expected):
    """Constructor values replace the profile's for every language (a falsy one switches the
    rule off, as in datatrove)."""
    from datatrove.pipeline.filters import FineWebQualityFilter as DFW
    from datatrove.pipeline.filters import GopherQualityFilter as DGQ
    from datatrove.pipeline.filters import GopherRepetitionFilter as DGR

    ref = {"gopher_quality": DGQ, "gopher_repetition": DGR, "fineweb_quality": DFW}[name](**kwargs)
    assert datatrove_reason(ref, text) == expected
    assert reasons(OURS[name](**kwargs), [text]) == [expected]


# ---------------------------------------------------------------------------------------------
# agreement with datatrove on generated English
# ---------------------------------------------------------------------------------------------

ALL_REASONS = {
    "gopher_quality": {
        "gopher_short_doc",
        "gopher_below_avg_threshold",
        "gopher_above_avg_threshold",
        "gopher_too_many_hashes",
        "gopher_too_many_ellipsis",
        "gopher_too_many_bullets",
        "gopher_too_many_end_ellipsis",
        "gopher_below_alpha_threshold",
        "gopher_enough_stop_words",
    },
    "gopher_repetition": {
        "empty",
        "dup_para_frac",
        "dup_line_frac",
        "dup_line_char_frac",
        "top_2_gram",
        "top_3_gram",
        "top_4_gram",
        "duplicated_5_n_grams",
    },
    "fineweb_quality": {"empty", "line_punct_ratio", "short_line_ratio", "char_dup_ratio", "list_ratio"},
    "c4_quality": {"too_few_sentences", "lorem_ipsum", "curly_bracket"},
}


@pytest.mark.slow
def test_agreement_with_datatrove_on_generated_english(datatrove_filters):
    from datatrove.data import Document

    docs = english_docs(320, seed=2024)
    table = batch(docs)
    for name, ref in datatrove_filters.items():
        out = OURS[name]()(table)
        ours = out.column(DROP_REASON).to_pylist()
        theirs, cleaned = [], []
        for i, text in enumerate(docs):
            doc = Document(text=text, id=str(i))
            result = ref.filter(doc)
            theirs.append(None if result is True else result[1])
            cleaned.append(doc.text)
        seen = set(theirs) - {None}
        assert ALL_REASONS[name] <= seen, f"{name}: the generated set misses {ALL_REASONS[name] - seen}"
        assert Counter(ours) == Counter(theirs)
        assert ours == theirs
        if name == "c4_quality":  # datatrove rewrites kept documents: so do we
            kept = [i for i, r in enumerate(ours) if r is None]
            texts = out.column("text").to_pylist()
            assert [texts[i] for i in kept] == [cleaned[i] for i in kept]
            assert any(texts[i] != docs[i] for i in kept)


TRICKY = [
    "I don't think it's the U.S. Army's job, e.g. at 10am or 5:30 p.m. on Jan. 3rd.",
    'Dr. Smith paid $4.50 (about 20% more) for 5km of rope; John F. Kennedy said "ask not".',
    "A well-known, state-of-the-art e-mail from 1990-2000 said: we'll see... what's next?!",
    "They've gone to the U.K. and can't return; she'd said 'no' and he'll cope.",
    "Visit https://example.com/a-b?x=1, or www.example.org. The end.Next starts here.",
    "Items: #1, #2 & #3 -- see [citation needed] and/or the 3.5 km/h figure.",
    "Rock'n'roll isn't dead; O'Brien's band plays C++ tunes at 8pm (ish)...",
    "cannot gonna gotta dont cant wont Im youre hes thats whos",
]


def test_english_tokens_match_spacy():
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    spacy_en = load_word_tokenizer("eng")
    ours = tokenize_series(pl.Series(TRICKY), "en").to_list()
    for text, tokens in zip(TRICKY, ours, strict=True):
        assert tokens == spacy_en.word_tokenize(text), text


def _datatrove_find_all_duplicate(words: list[str], n: int) -> int:
    from datatrove.pipeline.filters.gopher_repetition_filter import find_all_duplicate

    return find_all_duplicate(words, n)


def test_greedy_duplicate_walk_matches_datatrove():
    """Random token streams full of repeats; equal-length tokens so "".join cannot collide."""
    rng = random.Random(5)
    vocab = ["aa", "bb", "cc", "dd", "ee"]
    docs = [[rng.choice(vocab[: rng.randint(2, 5)]) for _ in range(rng.randint(0, 80))] for _ in range(300)]
    flat = pl.Series([w for d in docs for w in d])
    rows = np.repeat(np.arange(len(docs)), [len(d) for d in docs])
    grams = _NGrams(flat, rows, len(docs))
    for n in (2, 5, 7):
        repeat, first, ids = grams.repeats(n)
        bounds = np.searchsorted(grams.rows[repeat], np.arange(len(docs) + 1))
        sizes = grams.cum[repeat + n] - grams.cum[repeat]
        for j, d in enumerate(docs):
            lo, hi = bounds[j], bounds[j + 1]
            got = greedy_repeated_chars(
                repeat[lo:hi].tolist(), first[lo:hi].tolist(), ids[lo:hi].tolist(), sizes[lo:hi].tolist(), n
            )
            assert got == _datatrove_find_all_duplicate(d, n), (n, d)
        # most common n-gram (ties: first inserted) times its length
        from datatrove.pipeline.filters.gopher_repetition_filter import find_top_duplicate, get_n_grams

        top = grams.top(n)
        for j, d in enumerate(docs):
            expected = find_top_duplicate(get_n_grams(d, n)) if len(d) >= n else None
            assert (np.isnan(top[j]) and expected is None) or top[j] == expected


# ---------------------------------------------------------------------------------------------
# languages
# ---------------------------------------------------------------------------------------------


def test_chinese_is_segmented_and_kept():
    p = langs.get("zh")
    assert len(p.tokenize_many([CHINESE])[0]) >= 50
    for f in (GopherQualityFilter(), GopherRepetitionFilter(), FineWebQualityFilter()):
        assert reasons(f, [CHINESE], "zh") == [None], f.name
    # without its segmenter the paragraph is a handful of "words"
    assert reasons(GopherQualityFilter(), [CHINESE], "en") == ["gopher_short_doc"]


def test_swahili_uses_swahili_stop_words_and_thresholds():
    assert reasons(GopherQualityFilter(), [SWAHILI], "sw") == [None]
    assert reasons(GopherQualityFilter(), [SWAHILI], "en") == ["gopher_enough_stop_words"]
    # mean word length between Swahili's maximum and English's
    q_sw, q_en = langs.get("sw").quality, langs.get("en").quality
    assert q_sw.max_avg_word_length < q_en.max_avg_word_length
    rng = random.Random(3)
    size = int(q_en.max_avg_word_length)
    long_words = ["".join(rng.choice("aeioukmnlt") for _ in range(size)) for _ in range(70)]
    text = " ".join(long_words + ["na", "ya", "the", "of", "and", "wa"]) + "."
    assert reasons(GopherQualityFilter(), [text], ["sw"]) == ["gopher_above_avg_threshold"]
    assert reasons(GopherQualityFilter(), [text], ["en"]) == [None]


def test_mixed_batch_and_unknown_language_default():
    texts = [GOOD, SWAHILI, CHINESE, GOOD, GOOD]
    lang = ["en", "swh", "zh", None, "klingon"]
    assert profile_code(None, "en") == "en" and profile_code("klingon", "en") == "en"
    assert reasons(GopherQualityFilter(), texts, lang) == [None] * 5
    # the default language is a parameter
    assert reasons(GopherQualityFilter(language="sw"), [GOOD], [None]) == ["gopher_enough_stop_words"]


def test_c4_skips_languages_without_it():
    curly = SWAHILI + "\nThe value is stored in the {field} of the record."
    f = C4QualityFilter()
    out = f(batch([curly], "sw"))
    assert out.column(DROP_REASON).to_pylist() == [None]
    assert out.column("text").to_pylist() == [curly]
    assert reasons(C4QualityFilter(languages=["sw"]), [curly], "sw") == ["curly_bracket"]
    assert reasons(C4QualityFilter(), [curly], "en") == ["curly_bracket"]


def test_c4_rewrites_kept_text_and_counts_lines():
    text = (
        GOOD.replace("\n\n", "\n")
        + "\nPlease enable JavaScript to see the map of the town.\nRead our privacy policy first, it is short.\nMenu\nThe harbor was rebuilt.[1]"
    )
    f = C4QualityFilter()
    out = f(batch([text]))
    assert out.column(DROP_REASON).to_pylist() == [None]
    kept = out.column("text").to_pylist()[0]
    assert "JavaScript" not in kept and "privacy" not in kept and "\nMenu" not in kept
    assert kept.endswith("The harbor was rebuilt.")
    counters = f.take_counters()
    assert counters["line-filter-javascript"] == 1 and counters["line-filter-policy"] == 1
    assert counters["line-filter-no_terminal_punc"] == 1
    assert counters["line-kept"] == counters["line-total"] - 3
    # decide-only mode leaves the text alone
    out = C4QualityFilter(modify_text=False)(batch([text]))
    assert out.column("text").to_pylist() == [text]


# ---------------------------------------------------------------------------------------------
# stage contract
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", list(OURS.values()))
def test_filters_pickle_and_keep_rows(cls):
    f = pickle.loads(pickle.dumps(cls()))
    table = batch([GOOD, "", GOOD]).append_column(DROP_REASON, pa.array(["earlier", None, None], pa.string()))
    out = f(table)
    assert out.num_rows == 3
    assert out.column(DROP_REASON).to_pylist()[0] == "earlier"  # an earlier decision stands
    assert out.column(DROP_REASON).to_pylist()[1] is not None
    assert out.column(DROP_REASON).to_pylist()[2] is None


def test_chain_through_executor():
    from babelmill.pipelines.executor import process_batch
    from babelmill.pipelines.ledger import Ledger

    stages = [GopherQualityFilter(), GopherRepetitionFilter(), FineWebQualityFilter(), C4QualityFilter()]
    docs = english_docs(60, seed=9)
    ledger = Ledger.for_stages(["read"] + [s.name for s in stages])
    kept, rejected = process_batch(batch(docs), stages, ledger, [])
    assert kept.num_rows + sum(t.num_rows for t in rejected) == len(docs)
    assert 0 < kept.num_rows < len(docs)
    assert ledger.stage("c4_quality").counters["line-kept"] > 0
