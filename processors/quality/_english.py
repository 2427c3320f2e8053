"""English word tokenization in polars regexes, shaped after spaCy's blank English tokenizer.

datatrove's Gopher and FineWeb filters count words with ``spacy.blank("en")``; its token
boundaries decide word counts, mean word length and the n-grams of the repetition rules.
Running spaCy costs milliseconds per document, so this module rebuilds its rules (whitespace
chunks, prefix/suffix peeling, infix splits, contraction exceptions) as polars regex passes
over the whole batch:

1. ``SPLIT_PATTERN`` then ``SPLIT_PATTERN_FINAL`` insert spaces where spaCy splits *inside*
   a whitespace chunk (contractions, clitics, ``'s``, infix hyphens/commas/periods/slashes,
   ellipses; units after numbers in the final pass only).  Two passes let chains
   (``a-b-c``) split fully.
2. ``TOKEN_PATTERN`` then finds tokens left to right: clitic tokens, ellipses, prefix
   punctuation, known abbreviations, capital initials (``F.``, ``U.S.``), the core of a
   chunk with its trailing punctuation peeled, and single characters.

Polars' regex engine has no look-around, so context rules are written with capture groups
and ASCII ``\\b``/``\\B``.  On 19,500 real English sentences (FLORES, lingua, Tatoeba) the
tokens equal spaCy's for all but 4 (0.02%); the known gaps are spaCy special cases matched
inside a chunk (emoticons such as ``):`` after a word), quotes kept on an infix piece
(``words”.The``) and units followed by more text (``5.43km/s``).
"""

from __future__ import annotations

import re

import polars as pl

#: Python's ``str.isspace`` characters: Unicode White_Space plus the four separators
#: U+001C..U+001F, which spaCy and ``str.split`` also treat as whitespace.
WS = r"\s\x1c-\x1f"
#: ASCII word boundaries: the Unicode ones make Rust's lazy DFA fall back to a slow engine
#: on non-ASCII text, and every boundary used here sits next to an ASCII letter or period.
_B = r"(?-u:\b)"
_NB = r"(?-u:\B)"

# --- contraction exceptions (facts from spaCy's English tokenizer exceptions) ---------
# Each host is listed in lower case; the exceptions exist in lower and title case only.
_NT_HOSTS = "ai are ca could dare did do does had has have is may might must need ought sha should was were wo would"
_CLITIC_HOSTS_APOS = {
    "m": "i",
    "re": "how there these they those we what when where who why you",
    "ve": "could how i might must not should there these they those we what when where who why would you",
    "ll": "he how i it she that there these they this those we what when where who why you",
    "d": "he how i it she that there these they this those we what when where who why you",
    "s": "he how it let she that there this what when where who why",
}
_CLITIC_HOSTS_BARE = {
    "m": "i",
    "re": "how there these they those what when where why you",
    "ve": "could how i might must not should there these they those we what when where who why would you",
    "ll": "how it that there these they this those what when where who why you",
    "d": "he how i it that there these they this those we what when where who why you",
    "s": "he how she that there this what when where who why",
}
#: cannot -> can not, gonna -> gon na, gotta -> got ta
_FIXED_SPLITS = (("can", "not"), ("gon", "na"), ("got", "ta"))

#: Abbreviations spaCy keeps whole with their final period (its exception list).
_ABBREVIATIONS = (
    "Adm Ak Ala Apr Ariz Ark Aug Bros Calif Co Colo Conn Corp Dec Del Dr Feb Fla Ga Gen Gov Ia Id Ill Inc Ind "
    "Jan Jr Jul Jun Kan Kans Ky La Ltd Mar Mass Md Messrs Mich Minn Miss Mo Mont Mr Mrs Ms Mt Neb Nebr Nev Nov "
    "Oct Okla Ore Pa Prof Rep Rev Sen Sep Sept St Tenn Va Wash Wis co vs "
    r"e\.g i\.e a\.m p\.m v\.s E\.g I\.e"
)

# --- character classes (spaCy's punctuation, quote, currency lists) -----------------------
_PUNCT = ",:;!?¿؟¡()[]{}<>_#*&。？！，、；：～·।،۔؛٪…"
_QUOTES = "'\"”“`‘´’‚,„»«「」『』（）〔〕【】《》〈〉⟦⟧"
_CURRENCY = "$£€¥฿₽﷼₴₠₡₢₣₤₥₦₧₨₩₪₫₭₮₯₰₱₲₳₵₶₷₸₹₺₻₼₾₿"
_DASHES = "—–"
#: spaCy's "icons" are symbols of category So except the degree sign.
_ICONS = r"\p{So}--°"


def _cls(chars: str) -> str:
    return "".join(re.escape(c) if c in "\\^-[]&~|" else c for c in dict.fromkeys(chars))


_PREFIX = "[" + _cls(_PUNCT + _QUOTES + _CURRENCY + _DASHES + "§%=") + "[" + _ICONS + "]]"
_SUFFIX_CHARS = _cls(_PUNCT + _QUOTES + _CURRENCY + _DASHES + ".%")
#: Units spaCy splits off a number (5km -> 5 km), longest first so that km/h wins over km.
_UNITS = "|".join(
    sorted(
        "km m dm cm mm ha µm nm yd in ft kg g mg µg t lb oz m/s km/h kmh mph hPa Pa mbar mb MB kb KB gb GB tb TB T G M K".split(),
        key=len,
        reverse=True,
    )
)


def _title_alt(words: str) -> str:
    """``do does`` -> ``[Dd]o|[Dd]oes`` (spaCy lists lower and title case only)."""
    out = []
    for w in sorted(words.split(), key=len, reverse=True):
        first = w[0]
        out.append((f"[{first}{first.upper()}]" if first.isalpha() and first.upper() != first else first) + w[1:])
    return "|".join(out)


def _split_pattern(final: bool) -> tuple[str, int]:
    """One alternation; each branch captures (left, middle, right) and the replacement
    puts spaces between them, so a single ``replace_all`` handles every split rule."""
    branches: list[tuple[str, str, str]] = []
    # spans spaCy never splits inside (URLs, exceptions with infix characters): matched
    # first so that no other branch sees them
    branches.append((rf"https?://[^{WS}]+|www\.[^{WS}]+|Ph\.D\.|and/or", "", ""))
    # ellipses and icons are split off wherever they are
    branches.append(("", r"\.\.+|…|[" + _ICONS + "]", ""))
    # n't / nt contractions
    branches.append((_B + r"(?:" + _title_alt(_NT_HOSTS) + ")", "", r"n['’]?t" + _B))
    # stacked clitics: you'd've -> you 'd 've (host part done by the clitic branch below)
    for clitic, hosts in _CLITIC_HOSTS_APOS.items():
        tail = r"(?:['’]ve)?" if clitic in ("d", "ll") else ""
        branches.append((_B + r"(?:" + _title_alt(hosts) + ")", "", rf"['’]{clitic}{tail}" + _B))
    for clitic, hosts in _CLITIC_HOSTS_BARE.items():
        branches.append((_B + r"(?:" + _title_alt(hosts) + ")", "", rf"{clitic}" + _B))
    for a, b in _FIXED_SPLITS:
        branches.append((_B + r"(?:" + _title_alt(a) + ")", "", rf"{b}" + _B))
    branches.append((r"['’](?:d|ll)", "", r"['’]ve" + _B))
    # the generic 's suffix (John's -> John 's)
    branches.append((rf"[^{WS}]", "", r"['’][sS]" + _B))
    # infixes
    quotes = _cls(_QUOTES)
    branches.append(("[0-9]", r"[+\-*^]", "[0-9-]"))
    # a period between a lower-case letter and a capital (end.Next); a quote on the right
    # counts only when more of the word follows (spaCy peels trailing quotes first)
    branches.append((rf"[\p{{Ll}}{quotes}]", r"\.", rf"\p{{Lu}}|[{quotes}]+[^{WS}{_SUFFIX_CHARS}]"))
    branches.append((r"\p{L}", ",", r"\p{L}"))
    branches.append((r"[\p{L}0-9]", "---|--|——|-|–|—|~", r"\p{L}"))
    branches.append((r"[\p{L}0-9]", "[:<>=/]", r"\p{L}"))
    # units and times after numbers (5km -> 5 km, 10am -> 10 am)
    branches.append((_B + r"(?:1[0-2]|[1-9])", "", r"(?:am|pm|a\.m\.|p\.m\.)" + _NB + r"|(?:am|pm)" + _B))
    if final:
        branches.append(("[0-9]", "", rf"(?:{_UNITS})" + _B))
    else:
        # split in the last pass only, so that no infix rule sees "km/h" after "70"; the
        # protected span runs to the end of the chunk because the replacement appends spaces
        branches.append((rf"[0-9](?:{_UNITS})" + _B + f"[^{WS}]*", "", ""))
    parts = [f"({left})({mid})({right})" for left, mid, right in branches]
    return "|".join(parts), len(branches)


def _replacement(n_branches: int) -> str:
    return " ".join("".join(f"${{{3 * i + k + 1}}}" for i in range(n_branches)) for k in range(3))


#: First pass (units after numbers protected) and second pass (chains finished, units split).
SPLIT_PATTERN, _N1 = _split_pattern(final=False)
SPLIT_PATTERN_FINAL, _N2 = _split_pattern(final=True)
SPLIT_REPLACEMENT = _replacement(_N1)
SPLIT_REPLACEMENT_FINAL = _replacement(_N2)

TOKEN_PATTERN = "|".join(
    [
        r"['’](?:[sSdm]|ll|re|ve)" + _B,  # clitics split off by SPLIT_PATTERN
        r"\.\.+|''|US\$|C\$|A\$",  # ellipsis, spaCy's special '' and currency prefixes
        _PREFIX,  # one leading punctuation mark
        r"(?:" + "|".join(_ABBREVIATIONS.split()) + r"|[a-zäöü])\." + _NB,  # abbreviations kept whole
        rf"(?:[^{WS}]*[^{WS}\p{{Lu}}])?\p{{Lu}}\." + _NB,  # capital initials: F.  U.S.  Ph.D.
        rf"[^{WS}]*[^{WS}{_SUFFIX_CHARS}]",  # chunk core, trailing punctuation left out
        rf"[^{WS}]",  # any other single character
    ]
)


def english_tokens(text: pl.Expr) -> pl.Expr:
    """``list[str]`` of spaCy-like English tokens for each text."""
    return spaced_english(text).str.extract_all(TOKEN_PATTERN)


def spaced_english(text: pl.Expr) -> pl.Expr:
    """The text with spaces inserted at every split point inside a whitespace chunk."""
    return text.str.replace_all(SPLIT_PATTERN, SPLIT_REPLACEMENT).str.replace_all(
        SPLIT_PATTERN_FINAL, SPLIT_REPLACEMENT_FINAL
    )
