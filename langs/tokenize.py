"""Word tokenizers, one per writing-system family.

Two kinds:

* **Regex tokenizers** (every script that puts spaces between words, plus Japanese, Burmese and
  Tibetan, whose tokens can be cut out by script class or syllable).  The pattern is written in
  the common subset of Rust's ``regex`` crate and Python's ``regex`` module, so the same string
  drives ``pl.col("text").str.extract_all(p.word_regex)`` and ``p.word_tokenize`` and both give
  the same tokens.  A few splits need context that a lookaround-free pattern cannot see (``don't``
  -> ``do`` + ``n't``, ``5km`` -> ``5`` + ``km``); they are done first by *pre-split* rules,
  ``(pattern, replacement)`` pairs that insert a space (``p.word_presplit``; polars:
  ``str.replace_all``; ``p.words_expr(col)`` applies both steps).
* **Segmenters** for scripts written without spaces where a dictionary or model is needed:
  jieba (Chinese), pythainlp ``newmm`` (Thai), laonlp (Lao), khmer-nltk (Khmer).  They are imported
  lazily, once per process.  When laonlp / khmer-nltk are missing, Lao / Khmer fall back to a
  regex over orthographic syllables (documented degradation, warned once).

The tokens mirror what datatrove's word tokenizers return (spaCy for ~100 languages: punctuation
marks are tokens of their own, whitespace is dropped), because the per-language quality thresholds
were calibrated on those tokens.  spaCy's per-language differences that change token counts often
(hyphenated words kept or split, "2016." kept, "Dr." kept, elided articles) are per-language
*rules* (``languages.tsv`` column ``rules``).
"""

from __future__ import annotations

import functools
import logging
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import regex

# ---------------------------------------------------------------------------------------------
# Building blocks (Rust-regex / Python-regex common subset: no lookaround, no backreferences, no
# nested character classes).
#
# The spaced-script pattern mirrors how spaCy cuts a whitespace-separated chunk: punctuation is
# split off the *ends* of the chunk (prefixes, suffixes), inside the chunk only at spaCy's infix
# points (hyphen between letters, comma between letters, "lower.Upper", ellipsis, symbols), and
# everything else stays glued ("AT&T", "1,000", "10:30", "COVID-19", "O'Neil").  Without
# lookaround, "glued only if followed by X" is written by consuming X as part of the same token.
# ---------------------------------------------------------------------------------------------


def _cls(chars: str) -> str:
    """Escape characters for use inside a [...] class (valid for both regex engines)."""
    return "".join("\\" + c if c in "\\[]^-&~|#.$*+?(){}" else c for c in chars)


def _alternation(parts: Sequence[str]) -> str:
    return "(?:" + "|".join(parts) + ")"


_PUNCT = _cls("…,:;!?¿؟¡()[]{}<>_#*&。？！，、；：～·।،۔؛٪፡።፣፤፥፦፧፨")
_QUOTES = _cls("'\"”“`‘´’‚„»«「」『』（）〔〕【】《》〈〉〈〉⟦⟧")
_CURRENCY = _cls("$£€¥฿﷼") + "\u20a0-\u20bf"
#: Characters split off the start of a chunk (spaCy's prefixes).
_PREFIX = _PUNCT + _QUOTES + _CURRENCY + _cls("§%=—–+") + "\\p{So}"
#: Characters split off the end of a chunk (spaCy's suffixes; "%" approximated as always,
#: currency after digits is a pre-split rule, "." is handled by the letter / digit units).
_SUFFIX = _PUNCT + _QUOTES + _cls("—–.%") + "\\p{So}"
#: Characters whose splitting depends on both neighbours (spaCy's infixes).
_INFIX = _cls(".,:<>=/-–—~…")
#: Letters and combining marks; a run of them is one unit of a token.
_LETTER = "\\p{L}\\p{M}\u200c\u200d"
#: Glue characters other than letters: never end a token, never split inside one.
_PLAIN = f"[^\\s{_LETTER}{_SUFFIX}{_INFIX}]"
#: Suffix characters other than infix ones: glued when a letter or plain character follows
#: ("AT&T", "PR(E", "O'Neil").
_GLUE_SUFFIX = "[" + _cls(";!?¿؟¡()[]{}_#*&。？！，、；：～·।،۔؛٪%") + _QUOTES + "]"
_HYPHEN = "[\\-–—~]"
#: Word-final characters after which spaCy does not split a period: letters of scripts its
#: lower-case class leaves out, and Latin / Arabic combining marks ("ọ̀rọ̀.", "سابقاً.").
_PERIOD_KEEPERS = (
    "\\p{Armenian}\\p{Georgian}\\p{Thaana}\\p{Gurmukhi}\\p{Gujarati}\\p{Oriya}\\p{Malayalam}"
    "\\p{Thai}\\p{Lao}\\p{Khmer}\\p{Myanmar}\\p{Tibetan}"
    "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u064b-\u065f\u0670\u06d6-\u06ed"
)

_URL = '(?:[hH][tT][tT][pP][sS]?://|www\\.)[^\\s<>"]*[^\\s<>"\'.,;:!?)\\]}]'
#: "U.S.", "e.g.", "z.B.", "т.е.": letters each followed by a period.
_DOTTED = "(?:\\p{L}\\.){2,}"
_ELLIPSIS = "\\.{2,}|…"
_DASHES = "-{2,}"
_ANY = "\\S"

#: Units that spaCy splits off a number ("5km" -> "5" "km"); longest first so "km/h" wins.
_UNITS = sorted(
    "km m dm cm mm ha µm nm yd in ft kg g mg µg t lb oz m/s km/h kmh mph hPa Pa mbar mb MB kb KB gb GB "
    "tb TB T G M K км м дм см мм нм кг г мг м/с км/ч кПа Па мбар Кб КБ кб Мб МБ мб Гб ГБ гб Тб ТБ".split(),
    key=len,
    reverse=True,
)
_UNIT_SPLIT = ("(\\p{N})(" + "|".join(re.escape(u) for u in _UNITS) + ")\\b", "${1} ${2}")
_CURRENCY_SPLIT = ("(\\p{N})([" + _CURRENCY + "])", "${1} ${2}")
#: "'s" is a suffix in every spaCy language ("NASA's" -> "NASA" "'s").
_S_SPLIT = ("([\\p{L}\\p{N}])(['’][sS])\\b", "${1} ${2}")

#: Per-language rules (``languages.tsv`` column ``rules``), each a spaCy behaviour that differs
#: from its base tokenizer and changes token counts often enough to matter.
RULES = {
    "hyphen": "keep hyphens between letters (de 'E-Mails', nl, sv, es, pt ...)",
    "numhyphen": "split a hyphen between a digit and a letter (en '1st-class', id, pl ...)",
    "ordinal": "keep the period after a number (de '3.', sr '2016.', tr ...)",
    "period": "never split a word-final period (ar, fa, am, ti)",
    "abbr": "keep the period of 'Dr.' and 'Prof.'",
    "no_initial": "split the period after a single lower-case letter (lt, pl, tr)",
    "elision": "an elided word keeps its apostrophe as a token of its own (fr 'l'', it 'dell'')",
    "no_s": "keep \"'s\" on its word (de, nl, sv, es ... 'radio's')",
    "clitics": "split hyphenated clitic pronouns (fr 'dit -il', ca 'fer -ho', ro 's- a', hu '-e')",
}

_MT_ARTICLES = (
    "(?i:il|l|tal|tas|tat|tad|tan|taż|tar|taċ|tax|taz|fil|fl|mill|mal|bil|bl|għall|għal|lill|sal|dal|"
    "it|is|id|in|ir|iż|iċ|ix|iz|ta|ma|bi|fi|mi|lil|sa|da|bħall|d|t|s|n|r|ż|ċ|x|z)"
)

#: Pre-split rules of the "clitics" rule, per language (ISO 639-1), and the clitic tokens they
#: create (spaCy's fr / ca / ro / hu exceptions).
_CLITICS: dict[str, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    "fr": (
        (
            (
                "([\\p{L}])(-(?:t-)?(?:il|elle|on|ils|elles|je|tu|nous|vous|ce|le|la|les|lui|leur|moi|toi|y|en))\\b",
                "${1} ${2}",
            ),
            ("(-t)(-(?:il|elle|on))\\b", "${1} ${2}"),
        ),
        ("-t", "-(?:il|elle|on|ils|elles|je|tu|nous|vous|ce|le|la|les|lui|leur|moi|toi|y|en)"),
    ),
    "ca": (
        (
            ("([\\p{L}])(-(?:ho|hi|en|ne|la|les|lo|los|li|lis|me|te|se|nos|vos|us))\\b", "${1} ${2}"),
            ("\\b([DdPp])(els?)([\\s,.;:!?)]|$)", "${1} ${2}${3}"),
            ("\\b(a)(ls?)([\\s,.;:!?)]|$)", "${1} ${2}${3}"),
            ("([\\p{L}])(['’](?:n|l|ls|m|t|s|hi|ho))\\b", "${1} ${2}"),
        ),
        ("-(?:ho|hi|en|ne|la|les|lo|los|li|lis|me|te|se|nos|vos|us)", "['’](?:n|l|ls|m|t|s|hi|ho)"),
    ),
    "ro": (
        (
            (
                "\\b((?i:într|dintr|printr|s|l|m|n|v|i|c|d|ne|mi|ți|și|să|nu|le|te|se|ce|de|a|o)-)(\\p{L}{1,4})\\b",
                "${1} ${2}",
            ),
        ),
        (),
    ),
    "hu": (
        (("([\\p{L}])(-e)\\b", "${1} ${2}"),),
        ("-e",),
    ),
    # Maltese articles and prepositions fused with the article ("il-", "tal-", "fil-") are
    # tokens of their own, hyphen included (FineWeb-2's Maltese stop words are exactly these).
    "mt": (
        (("\\b(" + _MT_ARTICLES + "-)(\\p{L})", "${1} ${2}"),),
        (_MT_ARTICLES + "-",),
    ),
}


def _core_parts(rules: frozenset[str]) -> tuple[str, str]:
    """(first unit, any later unit) of a chunk's core: what is left between split-off prefixes
    and suffixes."""
    letters = f"[{_LETTER}]+"
    if "hyphen" in rules:
        letters += f"(?:{_HYPHEN}[{_LETTER}\\p{{N}}]+)*{_HYPHEN}?"  # "E-Mails", "Handels-"
    else:
        # "COVID-19", "pre-2020" stay whole; so do hyphens next to letters of the scripts
        # spaCy's letter class leaves out ("Էյ-Դի-Թի", "QVC-ի").
        letters = (
            f"(?:[{_PERIOD_KEEPERS}][{_LETTER}]*(?:{_HYPHEN}[{_LETTER}\\p{{N}}]+)+"
            f"|[{_LETTER}]+(?:{_HYPHEN}[{_PERIOD_KEEPERS}][{_LETTER}]*)*(?:{_HYPHEN}\\p{{N}}+)?)"
        )
    digits = "\\p{N}+"
    if "numhyphen" not in rules:
        digits += f"(?:{_HYPHEN}[{_LETTER}]+)?"  # "1-ci", "1960-х" stay whole
    digits += "(?:\\.\\p{Lu})?"  # "1.Break" stays (only "lower.Upper" splits)
    if "ordinal" in rules:
        digits += "\\.?"
    units = [
        f"[{_LETTER}]*\\p{{Ll}}\\p{{Lu}}\\.",  # "PhD.", "McD." keep their period
        "\\p{Lu}\\.",  # an initial keeps its period ("John F. Kennedy", "U.N")
        f"[{_LETTER}]*[{_PERIOD_KEEPERS}]\\.",
        letters,
        digits,
    ]
    unit = _alternation(units)
    # At the start of a token a lone lower-case letter keeps its period too ("s.", spaCy's
    # exceptions), which also keeps "a.b" whole.
    first_units = units if "no_initial" in rules else ["\\p{Ll}\\.", *units]
    body = [
        unit,
        "\\p{N}[–—~]\\p{N}",  # en dash between digits stays: "1000–1300"
        "\\.[\\p{Ll}\\p{Lo}\\p{Lm}\\p{M}\\p{N}_]",  # "3.50", "example.com"; "end.Next" splits
        ",\\p{N}",  # "1,000"; "a,b" splits
        # "10:30", "3/4", "X=(x1"; "A/B", "a:" split
        f"[:<>=/](?:{_GLUE_SUFFIX}*(?:\\p{{N}}|{_PLAIN})|{_GLUE_SUFFIX}+[{_LETTER}])",
        f"{_GLUE_SUFFIX}+(?:[{_LETTER}\\p{{N}}]|{_PLAIN})",  # "AT&T", "O'Neil", "w]hile"
        f"{_PLAIN}+",
    ]
    if "period" in rules:
        body.insert(0, "\\.")
    return f"(?:{_alternation(first_units)}|[^\\s{_LETTER}\\p{{N}}{_PREFIX}{_INFIX}])", _alternation(body)


def _core(rules: frozenset[str]) -> str:
    first, later = _core_parts(rules)
    return f"{first}{later}*"


# --- English -----------------------------------------------------------------------------------

#: Abbreviations whose period stays on the token (the common ones spaCy's English exceptions keep).
_EN_ABBREVIATIONS = (
    "Mr Mrs Ms Messrs Dr Prof St Mt Jr Sr Rev Gen Gov Sen Rep Adm Bros Inc Ltd Co Corp co vs "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec "
    "Ala Ariz Ark Calif Colo Conn Del Fla Ga Ia Id Ill Ind Kan Kans Ky La Mass Md Mich Minn Miss Mo "
    "Mont Neb Nebr Nev Okla Ore Pa Tenn Va Wash Wis Ph.D D.C N.Y"
).split()
_EN_SPECIAL = [
    "(?:" + "|".join(re.escape(a) for a in sorted(_EN_ABBREVIATIONS, key=len, reverse=True)) + ")\\.",
    "and/or",
    # Clitics split off by the pre-split rules ("'s", "'ll", "n't"); "'em", "'cause" are tokens.
    "['’](?:s|S|m|d|ll|re|ve|em|cause)",
]
#: English keeps the final period only of capital dotted abbreviations and of the few
#: lower-case ones spaCy lists ("a.k.a." -> "a.k.a" ".").
_EN_DOTTED = "(?:\\p{Lu}\\.){2,}|[Ee]\\.g\\.|[Ii]\\.e\\.|[ap]\\.m\\.|v\\.s\\."


def _cap(word: str) -> str:
    """``do`` -> ``[Dd]o``: spaCy's exceptions cover lower-case and capitalised forms only."""
    return f"[{word[0].upper()}{word[0]}]{word[1:]}"


def _caps(words: str) -> str:
    return "|".join(_cap(w) for w in words.split())


#: Pre-split rules for English: (Rust-syntax pattern, replacement).  They reproduce the splits
#: spaCy's English exceptions make that need right context: n't / 'll / 're ... contractions with
#: and without apostrophe, "cannot", "gonna", "gotta", clock times ("3pm"), units ("5km").
def _combine(pairs: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """One pre-split rule from many ``(stem)(suffix)`` pairs: unmatched groups expand to nothing,
    so ``${1}${3}.. ${2}${4}..`` rebuilds whichever pair matched (one pass instead of many)."""
    pattern = "\\b(?:" + "|".join(f"({stem})({suffix})" for stem, suffix in pairs) + ")\\b"
    left = "".join(f"${{{2 * i + 1}}}" for i in range(len(pairs)))
    right = "".join(f"${{{2 * i + 2}}}" for i in range(len(pairs)))
    return pattern, f"{left} {right}"


_EN_PRESPLIT: tuple[tuple[str, str], ...] = (
    ("([\\p{L}])(n['’]t)\\b", "${1} ${2}"),
    ("([\\p{L}\\p{N}])(['’](?:s|S|m|d|ll|re|ve))\\b", "${1} ${2}"),
    _combine(
        [
            (
                _caps(
                    "ai are ca could dare did does do had has have is may might must need ought sha should was were wo would"
                ),
                "nt",
            ),
            ("[Ii]", "m|ve"),
            (_caps("he"), "s|d"),
            (_caps("she"), "s"),
            (_caps("it"), "d|ll"),
            (_caps("we"), "d|ve"),
            (_caps("you they"), "d|ll|re|ve"),
            (_caps("that this"), "s|d|ll"),
            (_caps("there these those what when where why how"), "s|d|ll|re|ve"),
            (_caps("who"), "s|d|ll|ve"),
            (_caps("could should would might must"), "ve"),
            (_caps("can"), "not"),
            (_caps("gon got"), "na|ta"),
        ]
    ),
    ("\\b(1[0-2]|[1-9])(am|pm|a\\.m\\.|p\\.m\\.)", "${1} ${2}"),
    _UNIT_SPLIT,
    _CURRENCY_SPLIT,
)
GENERIC_PRESPLIT: tuple[tuple[str, str], ...] = (_S_SPLIT, _UNIT_SPLIT, _CURRENCY_SPLIT)


@functools.cache
def spaced_pattern(rules: frozenset[str] = frozenset(), english: bool = False, lang: str = "") -> str:
    """The token pattern for a spaced script under the given per-language rules."""
    unknown = set(rules) - set(RULES)
    if unknown:
        raise ValueError(f"unknown tokenizer rules {sorted(unknown)}; known: {sorted(RULES)}")
    specials: list[str] = ["''"]
    if english:
        specials += _EN_SPECIAL
    elif "abbr" in rules:
        specials.append("(?:Dr|Prof)\\.")
    if "clitics" in rules:
        specials += list(_CLITICS[lang][1])
    if "elision" in rules:
        specials += ["[Aa]ujourd['’]hui", f"[{_LETTER}]+['’]"]
    core = _core(frozenset(rules))
    dotted = _EN_DOTTED if english else _DOTTED
    clitic_s = [] if "no_s" in rules else ["['’][sS]"]
    return _alternation([_URL, *specials, dotted, *clitic_s, _ELLIPSIS, _DASHES, core, _ANY])


def presplit_rules(rules: frozenset[str], lang: str = "") -> tuple[tuple[str, str], ...]:
    """Pre-split rules for a spaced script under the given per-language rules."""
    out = [] if "no_s" in rules else [_S_SPLIT]
    if "clitics" in rules:
        out += list(_CLITICS[lang][0])
    return (*out, _UNIT_SPLIT, _CURRENCY_SPLIT)


GENERIC_REGEX = spaced_pattern()
ENGLISH_REGEX = spaced_pattern(frozenset({"numhyphen", "abbr"}), english=True)
_BASE_CORE = _core(frozenset())

#: Japanese: runs of one script class approximate words: katakana runs (loanwords), kanji and
#: hiragana runs cut into pairs (most kanji words are two characters; particles and endings are
#: one or two kana).  Whole runs average ~4 characters, too long for FineWeb-2's Japanese bounds,
#: which were computed on SudachiPy morphemes (~2 characters).
JAPANESE_REGEX = _alternation(
    [
        "[\\p{Han}々〆ヵヶ]{1,2}",
        "[\\p{Katakana}ー゛゜]+",
        "[\\p{Hiragana}ー゛゜]{1,2}",
        _URL,
        _ELLIPSIS,
        _BASE_CORE,
        _ANY,
    ]
)

#: Burmese orthographic syllable: a base (consonant / independent vowel) with its dependent
#: signs, stacked consonants (virama U+1039) and killed consonants (asat U+103A).
_MY_BASE = (
    "[\u1000-\u102a\u103f\u104c-\u104f\u1050-\u1055\u105a-\u105d\u1061\u1065\u1066\u106e-\u1070\u1075-\u1081\u108e]"
)
_MY_CONS = "[\u1000-\u1021\u1050-\u1055\u105a-\u105d\u1061\u1065\u1066\u106e-\u1070\u1075-\u1081\u108e]"
_MY_SIGN = (
    "[\u102b-\u103e\u1056-\u1059\u105e-\u1060\u1062-\u1064\u1067-\u106d\u1071-\u1074\u1082-\u108d\u108f\u109a-\u109d]"
)
_MY_SYLLABLE = f"{_MY_BASE}(?:{_MY_SIGN}|\u1039{_MY_CONS}|{_MY_CONS}\u103a|{_MY_CONS}\u1039)*"
BURMESE_REGEX = _alternation([_MY_SYLLABLE, _URL, _ELLIPSIS, _BASE_CORE, _ANY])

#: Tibetan syllable: letters, vowel signs and subjoined letters up to and including the tsheg.
_BO_SYLLABLE = "[\u0f00\u0f40-\u0f6c\u0f71-\u0f84\u0f86-\u0f87\u0f88-\u0f8c\u0f8d-\u0fbc\u0fc6]+[\u0f0b\u0f0c]?"
TIBETAN_REGEX = _alternation([_BO_SYLLABLE, _URL, _ELLIPSIS, _BASE_CORE, _ANY])

#: Fallback syllables for Lao and Khmer when laonlp / khmer-nltk are not installed: a letter
#: followed by its combining marks (and, for Khmer, coeng U+17D2 + subscript consonant and a
#: final consonant silenced by bantoc / toandakhiat).  Unmarked final consonants start a new
#: "syllable" (a dictionary is needed to know better).
_LAO_SYLLABLE = "[\u0e80-\u0eaf\u0ebd\u0ec0-\u0ec4\u0edc-\u0edf][\u0eb0-\u0ebc\u0ec6\u0ec8-\u0ece]*"
_KM_SYLLABLE = "[\u1780-\u17b3](?:[\u17b4-\u17d1\u17d3\u17dd]|\u17d2[\u1780-\u17b3]|[\u1780-\u17a2][\u17cb\u17cd])*"
LAO_FALLBACK_REGEX = _alternation([_LAO_SYLLABLE, _URL, _ELLIPSIS, _BASE_CORE, _ANY])
KHMER_FALLBACK_REGEX = _alternation([_KM_SYLLABLE, _URL, _ELLIPSIS, _BASE_CORE, _ANY])


def rust_to_python_replacement(replacement: str) -> str:
    """``${1} ${2}`` (Rust / polars) -> ``\\g<1> \\g<2>`` (Python)."""
    return re.sub(r"\$\{(\d+)\}", r"\\g<\1>", replacement)


@functools.cache
def _compiled(pattern: str) -> regex.Pattern:
    return regex.compile(pattern)


_CHUNKS = regex.compile("\\S+").findall
_CHUNK_CACHE_SIZE = 100_000


@functools.cache
def _chunk_cache(pattern: str, presplit: tuple[tuple[str, str], ...]) -> dict[str, list[str]]:
    return {}


@functools.cache
def _compiled_presplit(rules: tuple[tuple[str, str], ...]) -> tuple[tuple[regex.Pattern, str], ...]:
    return tuple((regex.compile(p), rust_to_python_replacement(r)) for p, r in rules)


# ---------------------------------------------------------------------------------------------
# Tokenizer objects.  They hold only strings, so profiles pickle cheaply; heavy state (jieba's
# dictionary, khmer-nltk's CRF model) lives in per-process caches.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WordTokenizer:
    """A named tokenizer; ``word_regex`` is set when a regex alone reproduces it."""

    name: str
    word_regex: str | None
    presplit: tuple[tuple[str, str], ...] = ()
    rules: frozenset[str] = frozenset()

    @property
    def spaced(self) -> bool:
        return self.name in ("en", "regex")

    def tokenize(self, text: str) -> list[str]:
        if not text:
            return []
        if self.word_regex is None:
            return _SEGMENTERS[self.name]()(text)
        # Neither a token nor a pre-split match spans whitespace, and no pattern looks behind, so
        # both can run per whitespace-separated chunk; chunks repeat (Zipf), so their tokens are
        # cached.  Same result as running them over the whole text (tested against polars).
        presplit = _compiled_presplit(self.presplit)
        find = _compiled(self.word_regex).findall
        cache = _chunk_cache(self.word_regex, self.presplit)
        out: list[str] = []
        for chunk in _CHUNKS(text):
            tokens = cache.get(chunk)
            if tokens is None:
                split = chunk
                for pattern, replacement in presplit:
                    split = pattern.sub(replacement, split)
                tokens = find(split)
                if len(cache) >= _CHUNK_CACHE_SIZE:
                    cache.clear()
                cache[chunk] = tokens
            out.extend(tokens)
        return out

    def tokenize_many(self, texts: Sequence[str]) -> list[list[str]]:
        if self.word_regex is None:
            segment = _SEGMENTERS[self.name]()
            return [segment(t) if t else [] for t in texts]
        return [self.tokenize(t) for t in texts]


def _strip(tokens: Sequence[str]) -> list[str]:
    """Drop whitespace tokens and surrounding spaces, as datatrove's tokenizers do."""
    out = []
    for token in tokens:
        token = token.strip()
        if token:
            out.append(token)
    return out


@functools.cache
def _jieba() -> Callable[[str], list[str]]:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return lambda text: _strip(tokenizer.lcut(text))


@functools.cache
def _pythainlp() -> Callable[[str], list[str]]:
    from pythainlp.tokenize import word_tokenize

    return lambda text: _strip(word_tokenize(text, engine="newmm", keep_whitespace=False))


def _syllable_fallback(package: str, pattern: str) -> Callable[[str], list[str]]:
    warnings.warn(
        f"{package} is not installed: falling back to orthographic syllables "
        f"(pip install {package} for dictionary words)",
        RuntimeWarning,
        stacklevel=3,
    )
    return _compiled(pattern).findall


@functools.cache
def _laonlp() -> Callable[[str], list[str]]:
    try:
        from laonlp.tokenize import word_tokenize
    except ImportError:
        return _syllable_fallback("laonlp", LAO_FALLBACK_REGEX)
    return lambda text: _strip(word_tokenize(text))


@functools.cache
def _khmernltk() -> Callable[[str], list[str]]:
    try:
        from khmernltk import word_tokenize
    except ImportError:
        return _syllable_fallback("khmer-nltk", KHMER_FALLBACK_REGEX)
    logging.getLogger("khmer-nltk").setLevel(logging.WARNING)
    return lambda text: _strip(word_tokenize(text))


_SEGMENTERS: dict[str, Callable[[], Callable[[str], list[str]]]] = {
    "jieba": _jieba,
    "pythainlp": _pythainlp,
    "laonlp": _laonlp,
    "khmernltk": _khmernltk,
}

_FIXED: dict[str, WordTokenizer] = {
    "en": WordTokenizer("en", ENGLISH_REGEX, _EN_PRESPLIT, frozenset({"numhyphen", "abbr"})),
    "ja_runs": WordTokenizer("ja_runs", JAPANESE_REGEX),
    "my_syllables": WordTokenizer("my_syllables", BURMESE_REGEX),
    "bo_syllables": WordTokenizer("bo_syllables", TIBETAN_REGEX),
    "jieba": WordTokenizer("jieba", None),
    "pythainlp": WordTokenizer("pythainlp", None),
    "laonlp": WordTokenizer("laonlp", None),
    "khmernltk": WordTokenizer("khmernltk", None),
}
TOKENIZER_NAMES = ("regex", *_FIXED)


@functools.cache
def make_tokenizer(name: str, rules: frozenset[str] = frozenset(), lang: str = "") -> WordTokenizer:
    """The tokenizer called ``name`` ("regex" takes per-language ``rules``; ``lang`` picks the
    clitic list of the "clitics" rule)."""
    if name == "regex":
        if "clitics" in rules and lang not in _CLITICS:
            raise ValueError(f"no clitic rules for {lang!r}; known: {sorted(_CLITICS)}")
        lang = lang if "clitics" in rules else ""
        return WordTokenizer("regex", spaced_pattern(rules, lang=lang), presplit_rules(rules, lang), rules)
    if name not in _FIXED:
        raise ValueError(f"unknown tokenizer {name!r}; known: {', '.join(TOKENIZER_NAMES)}")
    if rules:
        raise ValueError(f"tokenizer {name!r} takes no rules (got {sorted(rules)})")
    return _FIXED[name]
