"""Language profiles built from ``languages.tsv`` and ``fineweb2.yaml`` (lazily, once per process)."""

from __future__ import annotations

import csv
import dataclasses
import difflib
import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from .tokenize import WordTokenizer, make_tokenizer

#: The fixed Gopher stop words datatrove uses for English.
GOPHER_ENGLISH_STOPWORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})
#: Default minimum LID confidence (lid.176) when the table says nothing else.
DEFAULT_LID_THRESHOLD = 0.5


class UnknownLanguageError(LookupError):
    """Raised by :func:`get` for a code or name no profile answers to; lists near matches."""

    def __init__(self, query: str, suggestions: list[str]):
        self.query = query
        self.suggestions = suggestions
        hint = f"; did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown language {query!r}{hint} (`babelmill langs` lists the {len(_table())} known ones)")


@dataclass(frozen=True)
class QualityThresholds:
    """Per-language thresholds for the Gopher, FineWeb and C4 filters.

    Defaults are datatrove's (its English settings).  As in datatrove, a line / paragraph
    repetition fraction (``dup_*_frac``) of 0 disables that check, while the n-gram fractions are
    always applied (FineWeb-2 publishes a few 0.0 values: any repeated n-gram rejects);
    ``short_line_thr=1.0`` disables the short-line check (a ratio never exceeds 1).
    """

    # Gopher quality
    min_doc_words: int = 50
    max_doc_words: int = 100_000
    min_avg_word_length: float = 3
    max_avg_word_length: float = 10
    max_symbol_word_ratio: float = 0.1
    max_bullet_lines_ratio: float = 0.9
    max_ellipsis_lines_ratio: float = 0.3
    max_non_alpha_words_ratio: float = 0.8
    min_stop_words: int = 2
    # Gopher repetition
    dup_line_frac: float = 0.3
    dup_para_frac: float = 0.3
    dup_line_char_frac: float = 0.2
    dup_para_char_frac: float = 0.2
    top_n_grams: tuple[tuple[int, float], ...] = ((2, 0.2), (3, 0.18), (4, 0.16))
    dup_n_grams: tuple[tuple[int, float], ...] = (
        (5, 0.15),
        (6, 0.14),
        (7, 0.13),
        (8, 0.12),
        (9, 0.11),
        (10, 0.10),
    )
    # FineWeb quality
    line_punct_thr: float = 0.12
    line_punct_exclude_zero: bool = False
    short_line_thr: float = 0.67
    short_line_length: int = 30
    char_duplicates_ratio: float = 0.01
    new_line_ratio: float = 0.3
    # C4
    c4_enabled: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, eq=False)
class LanguageProfile:
    """Everything babelmill knows about one language.  Pickles as a reference to its code."""

    code: str
    name: str
    iso1: str | None
    iso3: str
    script: str
    flores: str | None
    lid_labels: dict[str, str]
    m2m100: str | None
    madlad: str | None
    tokenizer: WordTokenizer
    lid_threshold: float
    lid_thresholds: dict[str, float]
    quality: QualityThresholds
    quality_source: str
    gopher_stopwords: frozenset[str]
    sentence_terminals: str
    aliases: tuple[str, ...] = field(default=())

    # -- tokenization ---------------------------------------------------------------------
    @property
    def spaced(self) -> bool:
        """Whether words are separated by spaces (False for zh, ja, th, lo, km, my, bo ...)."""
        return self.tokenizer.spaced

    @property
    def word_regex(self) -> str | None:
        """Rust/polars-compatible pattern matching one token; None when a segmenter is needed."""
        return self.tokenizer.word_regex

    @property
    def word_presplit(self) -> tuple[tuple[str, str], ...]:
        """(pattern, replacement) pairs to apply with ``str.replace_all`` before ``extract_all``."""
        return self.tokenizer.presplit

    def word_tokenize(self, text: str) -> list[str]:
        return self.tokenizer.tokenize(text)

    def tokenize_many(self, texts: list[str]) -> list[list[str]]:
        return self.tokenizer.tokenize_many(texts)

    def words_expr(self, expr: Any) -> Any:
        """A polars expression: the token list of ``expr`` (pre-split rules applied).

        Raises ValueError for languages that need a Python segmenter (``word_regex is None``).
        """
        if self.word_regex is None:
            raise ValueError(f"{self.code} needs the {self.tokenizer.name} segmenter; use tokenize_many")
        for pattern, replacement in self.word_presplit:
            expr = expr.str.replace_all(pattern, replacement)
        return expr.str.extract_all(self.word_regex)

    def lid_threshold_for(self, family: str) -> float:
        """Minimum confidence for this language under a LID model family ("lid176", "glotlid",
        "openlid"); FineWeb-2's per-language value for GlotLID, else ``lid_threshold``."""
        return self.lid_thresholds.get(family, self.lid_threshold)

    # -- stop words -----------------------------------------------------------------------
    @property
    def stopwords(self) -> frozenset[str]:
        """Lower-cased stop words (stopwordsiso; FineWeb-2's frequent words where it has none)."""
        return _stopwords(self.code)[0]

    @property
    def stopwords_source(self) -> str:
        """ "stopwordsiso", "fineweb2" or "none"."""
        return _stopwords(self.code)[1]

    # -- plumbing -------------------------------------------------------------------------
    def __reduce__(self):
        return (get, (self.code,))

    def __repr__(self) -> str:
        return f"LanguageProfile({self.code!r}, {self.name!r}, script={self.script!r}, flores={self.flores!r})"

    def __hash__(self) -> int:
        return hash(self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LanguageProfile) and other.code == self.code


# ---------------------------------------------------------------------------------------------
# Table loading
# ---------------------------------------------------------------------------------------------

#: Characters that end a sentence, by script (plus the Latin ones, which every script borrows).
_TERMINALS_BY_SCRIPT = {
    "Arab": "؟۔.!?",
    "Deva": "।॥.!?",
    "Beng": "।॥.!?",
    "Guru": "।॥.!?",
    "Gujr": "।॥.!?",
    "Orya": "।॥.!?",
    "Hans": "。！？.!?",
    "Hant": "。！？.!?",
    "Jpan": "。！？.!?",
    "Thai": ".!?",
    "Laoo": ".!?",
    "Khmr": "។៕!?.",
    "Mymr": "။!?.",
    "Tibt": "།༎!?.",
    "Ethi": "።፧!?.",
    "Armn": "։՞՜.!?",
    "Grek": ".!;",
    "Thaa": ".!?؟",
    "Sinh": ".!?",
}
_DEFAULT_TERMINALS = ".!?"


def _data(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


@functools.cache
def _fineweb2() -> dict[str, dict[str, Any]]:
    import yaml

    # libyaml's loader when present: ~10x faster, and every Ray worker loads this file.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    configs = yaml.load(_data("fineweb2.yaml"), Loader=loader) or {}
    for label, cfg in configs.items():
        if len(cfg["top_n_grams"]) != 3 or len(cfg["dup_n_grams"]) != 6:
            raise ValueError(f"fineweb2.yaml: {label} needs 3 top_n_grams and 6 dup_n_grams")
    return configs


def _opt(value: str) -> str | None:
    return value or None


#: Deliberate departures from the published FineWeb-2 values, with the reason.
QUALITY_OVERRIDES: dict[str, tuple[dict[str, Any], str]] = {
    "ko": (
        {"min_stop_words": 0},
        (
            "FineWeb-2's Korean stop words are Kiwi morphemes (의, 는, 을 ...); babelmill's Korean "
            "tokens are space-separated words (eojeol), which they never equal, so the check is off"
        ),
    ),
}


def _quality(code: str, tokenizer: str, cfg: dict[str, Any] | None) -> tuple[QualityThresholds, frozenset[str], str]:
    """Thresholds, Gopher stop words and their source for one language."""
    if code == "en":
        return QualityThresholds(c4_enabled=True), GOPHER_ENGLISH_STOPWORDS, "default"
    if cfg is None:
        # No published per-language values: datatrove's defaults, word-length bounds widened for
        # segmenters whose tokens are shorter than English words, and no stop-word check.
        if tokenizer in ("jieba", "ja_runs", "my_syllables", "bo_syllables", "laonlp", "khmernltk", "pythainlp"):
            q = QualityThresholds(min_avg_word_length=1, max_avg_word_length=6, min_stop_words=0)
        else:
            q = QualityThresholds(min_stop_words=0)
        return q, frozenset(), "default"
    q = QualityThresholds(
        min_avg_word_length=cfg["min_avg_word_length"],
        max_avg_word_length=cfg["max_avg_word_length"],
        max_non_alpha_words_ratio=cfg["max_non_alpha_words_ratio"],
        dup_line_frac=cfg["dup_line_frac"],
        # FineWeb-2 disables the paragraph and line-character repetition checks, the short-line
        # check, C4, and raises char_duplicates_ratio from 0.01 to 0.1.
        dup_para_frac=0.0,
        dup_line_char_frac=0.0,
        dup_para_char_frac=0.0,
        top_n_grams=tuple(zip((2, 3, 4), cfg["top_n_grams"])),
        dup_n_grams=tuple(zip((5, 6, 7, 8, 9, 10), cfg["dup_n_grams"])),
        line_punct_thr=cfg["line_punct_thr"],
        short_line_thr=1.0,
        char_duplicates_ratio=0.1,
        new_line_ratio=cfg["new_line_ratio"],
    )
    if code in QUALITY_OVERRIDES:
        q = dataclasses.replace(q, **QUALITY_OVERRIDES[code][0])
    words = cfg["stopwords"]
    if isinstance(words, str):  # space separated; a list where a stop word contains a space
        words = words.split()
    return q, frozenset(w.lower() for w in words), "fineweb2"


def _row_profile(row: dict[str, str]) -> LanguageProfile:
    code = row["code"]
    labels = {fam: row[fam] for fam in ("lid176", "glotlid", "openlid") if row[fam]}
    cfg = _fineweb2().get(row["glotlid"]) if row["glotlid"] else None
    quality, gopher, source = _quality(code, row["tokenizer"], cfg)
    lid_threshold = float(row["lid_threshold"] or DEFAULT_LID_THRESHOLD)
    lid_thresholds = {"lid176": lid_threshold}
    if cfg is not None:
        lid_thresholds["glotlid"] = float(cfg["language_score"])
    return LanguageProfile(
        code=code,
        name=row["name"],
        iso1=_opt(row["iso1"]),
        iso3=row["iso3"],
        script=row["script"],
        flores=_opt(row["flores"]),
        lid_labels=labels,
        m2m100=_opt(row["m2m100"]),
        madlad=_opt(row["madlad"]),
        tokenizer=make_tokenizer(row["tokenizer"], frozenset(r for r in row["rules"].split(",") if r), code),
        lid_threshold=lid_threshold,
        lid_thresholds=lid_thresholds,
        quality=quality,
        quality_source=source,
        gopher_stopwords=gopher,
        sentence_terminals=_TERMINALS_BY_SCRIPT.get(row["script"], _DEFAULT_TERMINALS),
        aliases=tuple(a.strip() for a in row["aliases"].split(",") if a.strip()),
    )


@functools.cache
def _table() -> tuple[LanguageProfile, ...]:
    lines = [line for line in _data("languages.tsv").splitlines() if line and not line.startswith("#")]
    rows = list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    return tuple(_row_profile(row) for row in rows)


def _key(text: str) -> str:
    return text.strip().casefold()


@functools.cache
def _index() -> dict[str, LanguageProfile]:
    """Every code, name, alias, FLORES code and LID label -> profile (first writer wins)."""
    index: dict[str, LanguageProfile] = {}

    def add(key: str | None, profile: LanguageProfile) -> None:
        if key:
            index.setdefault(_key(key), profile)

    profiles = _table()
    # Primary keys first so an alias of one language never shadows another's own code.
    for p in profiles:
        add(p.code, p)
    for p in profiles:
        for key in (p.iso1, p.iso3, p.flores, p.name, *p.lid_labels.values(), *p.aliases):
            add(key, p)
    return index


@functools.cache
def _labels() -> dict[tuple[str, str], LanguageProfile]:
    return {(fam, label): p for p in _table() for fam, label in p.lid_labels.items()}


_LABEL_PREFIX = "__label__"
_TAG_SPLIT = re.compile(r"[-_]")


def get(code: str) -> LanguageProfile:
    """The profile for a code or name.

    Accepts ISO 639-1 ("sw"), ISO 639-3 incl. macro/individual codes ("swa", "swh"), FLORES-200
    codes ("swh_Latn"), English names ("Swahili"), LID labels ("__label__sw", "swh_Latn") and
    BCP-47-style tags ("sw-KE", "zh_Hant_TW": the base language is used).  Case-insensitive.
    """
    if isinstance(code, LanguageProfile):
        return code
    query = str(code)
    key = _key(query).removeprefix(_LABEL_PREFIX)
    index = _index()
    if key in index:
        return index[key]
    base = _TAG_SPLIT.split(key, maxsplit=1)[0]
    if base != key and base in index:
        return index[base]
    raise UnknownLanguageError(query, suggest(query))


def suggest(query: str, n: int = 5) -> list[str]:
    """``"code (Name)"`` of the languages whose codes or names are closest to ``query``."""
    key = _key(query).removeprefix(_LABEL_PREFIX)
    index = _index()
    # Short codes differ by one letter from many others; a looser cutoff still finds some.
    cutoff = 0.5 if len(key) <= 3 else 0.6
    out: list[str] = []
    for match in difflib.get_close_matches(key, list(index), n=4 * n, cutoff=cutoff):
        p = index[match]
        label = f"{p.code} ({p.name})"
        if label not in out:
            out.append(label)
    return out[:n]


def by_label(family: str, label: str) -> LanguageProfile | None:
    """The profile a LID model's label belongs to (``"lid176"``, ``"glotlid"``, ``"openlid"``)."""
    label = label.removeprefix(_LABEL_PREFIX)
    return _labels().get((family, label))


def all_profiles() -> list[LanguageProfile]:
    return list(_table())


def codes() -> list[str]:
    return [p.code for p in _table()]


@functools.cache
def _stopwords(code: str) -> tuple[frozenset[str], str]:
    p = get(code)
    import stopwordsiso

    iso_code = {"nb": "no"}.get(p.code, p.iso1 or p.code)
    if stopwordsiso.has_lang(iso_code):
        return frozenset(w.lower() for w in stopwordsiso.stopwords(iso_code)), "stopwordsiso"
    if p.quality_source == "fineweb2" and p.gopher_stopwords:
        return p.gopher_stopwords, "fineweb2"
    return frozenset(), "none"


def table_rows() -> list[dict[str, Any]]:
    """One flat dict per language (for ``babelmill langs [--json]``)."""
    rows = []
    for p in _table():
        rows.append(
            {
                "code": p.code,
                "name": p.name,
                "iso1": p.iso1,
                "iso3": p.iso3,
                "script": p.script,
                "flores": p.flores,
                "lid176": p.lid_labels.get("lid176"),
                "glotlid": p.lid_labels.get("glotlid"),
                "openlid": p.lid_labels.get("openlid"),
                "m2m100": p.m2m100,
                "madlad": p.madlad,
                "tokenizer": p.tokenizer.name,
                "n_stopwords": len(p.stopwords),
                "lid_threshold": p.lid_threshold,
                "quality_source": p.quality_source,
            }
        )
    return rows
