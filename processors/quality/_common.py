"""Shared machinery of the quality filters: language profiles per row, word tokens per
language group, and the line/paragraph helpers that reproduce Python's ``str`` semantics in
polars expressions (datatrove's filters are written with ``splitlines``/``strip``/``split``
and the decisions only agree if the polars versions split exactly the same way).
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Any, ClassVar

import numpy as np
import polars as pl
import pyarrow as pa
from datatrove.utils.text import PUNCTUATION_SET, TERMINAL_PUNCTUATION

from babelmill import langs
from babelmill.processors.base import DROP_REASON, Filter, set_drop_reason
from babelmill.processors.quality._english import TOKEN_PATTERN as EN_TOKEN_PATTERN
from babelmill.processors.quality._english import english_tokens, spaced_english

#: Python's ``str.isspace`` characters (what ``strip()``/``split()`` remove).
PY_WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
#: A regex class body for the same characters (Rust's ``\s`` lacks U+001C..U+001F).
WS = r"\s\x1c-\x1f"
#: Separators of ``str.splitlines`` ("\r\n" counts once).
SPLITLINES_SEP = "\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]"


def char_class(chars) -> str:
    """A Rust regex character class body matching exactly ``chars``."""
    return "".join(re.escape(c) if c in "\\^-[]&~|" or not c.isprintable() else c for c in sorted(set(chars)))


#: A token is a "word" for Gopher if it has one character outside datatrove's punctuation set.
NON_PUNCT = "[^" + char_class(PUNCTUATION_SET) + "]"
TERMINAL = "[" + char_class(TERMINAL_PUNCTUATION) + "]"
NULL_REASON = pl.lit(None, dtype=pl.String)

ENGLISH = "en"


@functools.lru_cache(maxsize=4096)
def profile_code(lang: str | None, default: str) -> str:
    """The ``langs`` code of a row's language, or of ``default`` when unknown."""
    if lang:
        try:
            return langs.get(lang).code
        except LookupError:
            pass
    return langs.get(default).code


@functools.lru_cache(maxsize=1024)
def profile(code: str) -> langs.LanguageProfile:
    return langs.get(code)


def row_codes(df: pl.DataFrame, default: str) -> pl.Series:
    """Profile code of every row (the ``lang`` column, ``default`` where null/unknown)."""
    fallback = profile_code(None, default)
    if "lang" not in df.columns:
        return pl.Series("code", [fallback] * df.height, dtype=pl.String)
    lang = df.get_column("lang").cast(pl.String)
    mapping = {u: profile_code(u, default) for u in lang.unique().to_list() if u is not None}
    return lang.replace_strict(mapping, default=fallback, return_dtype=pl.String).fill_null(fallback).alias("code")


def groups(codes: pl.Series) -> dict[str, np.ndarray | None]:
    """Row indices per language code (``None`` when every row has that code)."""
    uniq = codes.unique().to_list()
    if len(uniq) == 1:
        return {uniq[0]: None}
    idx = codes.to_frame("c").with_row_index("i").group_by("c").agg("i")
    return {c: np.asarray(i, dtype=np.int64) for c, i in idx.iter_rows()}


def _regex_tokens(text: pl.Expr, p: Any) -> pl.Expr:
    for pattern, repl in getattr(p, "word_presplit", ()) or ():
        text = text.str.replace_all(pattern, repl)
    return text.str.extract_all(p.word_regex)


def tokenize_series(texts: pl.Series, code: str) -> pl.Series:
    """Word tokens of ``texts`` in language ``code`` as ``list[str]``.

    English uses the spaCy-shaped regexes of ``_english`` (datatrove tokenizes English with
    spaCy); other spaced languages their profile's ``word_regex``; the rest one batched
    ``tokenize_many`` call.
    """
    if code == ENGLISH:
        out = texts.to_frame("t").select(english_tokens(pl.col("t"))).to_series()
    else:
        p = profile(code)
        if p.word_regex:
            out = texts.to_frame("t").select(_regex_tokens(pl.col("t"), p)).to_series()
        else:
            out = pl.Series(p.tokenize_many(texts.fill_null("").to_list()), dtype=pl.List(pl.String))
    return out.alias("tokens")


def token_count_series(texts: pl.Series, code: str) -> pl.Series:
    """Number of word tokens (cheaper than materialising them for regex languages)."""
    if code == ENGLISH:
        t = spaced_english(pl.col("t"))
        return texts.to_frame("t").select(t.str.count_matches(EN_TOKEN_PATTERN)).to_series().cast(pl.Int64)
    p = profile(code)
    if p.word_regex and not getattr(p, "word_presplit", None):
        return texts.to_frame("t").select(pl.col("t").str.count_matches(p.word_regex)).to_series().cast(pl.Int64)
    return tokenize_series(texts, code).list.len().cast(pl.Int64)


def per_group(texts: pl.Series, codes: pl.Series, fn) -> pl.Series:
    """Apply ``fn(texts_of_group, code)`` per language group and reassemble in row order."""
    parts = groups(codes)
    if not parts:
        return fn(texts, ENGLISH)
    if len(parts) == 1:
        ((code, _),) = parts.items()
        return fn(texts, code)
    pieces, order = [], []
    for code, idx in parts.items():
        pieces.append(fn(texts.gather(idx), code))
        order.append(idx)
    merged = pl.concat(pieces)
    inverse = np.empty(len(texts), dtype=np.int64)
    inverse[np.concatenate(order)] = np.arange(len(texts))
    return merged.gather(inverse)


class TokenCache:
    """Word tokens of the last batch tokenized in this process, keyed by (language, text).

    The quality filters usually run back to back on the same rows (each one on what the
    previous one kept), so the second and third find every row here instead of tokenizing
    again.  Only the most recent batch is kept; keys are 64-bit hashes of the text and the
    language code.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame: pl.DataFrame | None = None

    @staticmethod
    def keys(texts: pl.Series, codes: pl.Series) -> pl.Series:
        return (texts.hash(seed=3) ^ codes.hash(seed=5)).alias("k")

    def get(self, texts: pl.Series, codes: pl.Series) -> tuple[pl.Series, pl.Series | None]:
        """(keys, tokens or None when some row is not cached)."""
        keys = self.keys(texts, codes)
        frame = self._frame
        if frame is None:
            return keys, None
        hit = keys.to_frame().join(frame, on="k", how="left", maintain_order="left").get_column("tokens")
        return keys, None if hit.null_count() else hit

    def put(self, keys: pl.Series, tokens: pl.Series) -> None:
        frame = pl.DataFrame([keys, tokens.alias("tokens")]).unique("k", keep="first")
        with self._lock:
            self._frame = frame


_CACHE = TokenCache()


def tokens_for(df: pl.DataFrame, codes: pl.Series) -> pl.Series:
    """Word tokens of every row (in its row's language), reusing the last batch's tokens."""
    texts = df.get_column("text").fill_null("")
    keys, tokens = _CACHE.get(texts, codes)
    if tokens is None:
        tokens = per_group(texts, codes, tokenize_series)
        _CACHE.put(keys, tokens)
    return tokens.alias("tokens")


def token_counts_for(texts: pl.Series, codes: pl.Series) -> pl.Series:
    """Word count of every row: from the token cache when it has the rows, else counted."""
    _, tokens = _CACHE.get(texts, codes)
    if tokens is not None:
        return tokens.list.len().cast(pl.Int64)
    return per_group(texts, codes, token_count_series)


def flat_rows(lists: pl.Series) -> tuple[pl.Series, np.ndarray]:
    """Values of a list column flattened, with the row index of every value.

    Values must not be null (tokens, lines): ``explode`` turns an empty list into one null,
    which is dropped here.
    """
    lens = lists.list.len().fill_null(0).to_numpy()
    rows = np.repeat(np.arange(len(lens), dtype=np.int64), lens)
    flat = lists.explode()
    if flat.len() != len(rows):
        flat = flat.drop_nulls()
    return flat, rows


def row_sum(rows: np.ndarray, values: np.ndarray | None, n: int) -> np.ndarray:
    """Per-row sum of ``values`` (or count when None)."""
    if values is None:
        return np.bincount(rows, minlength=n).astype(np.int64)
    return np.bincount(rows, weights=values, minlength=n)


def first_distinct(keys: pl.Series, rows: np.ndarray) -> np.ndarray:
    """``True`` where a value is the first of its kind within its row (find_duplicates)."""
    mixed = keys.hash(seed=7).to_numpy() ^ (rows.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    return pl.Series(mixed).is_first_distinct().to_numpy()


def splitlines_text(text: pl.Expr) -> pl.Expr:
    """Text with every ``str.splitlines`` separator turned into one ``\\n``."""
    return text.str.replace_all(SPLITLINES_SEP, "\n")


def splitlines_count(normalized: pl.Expr) -> pl.Expr:
    """``len(text.splitlines())`` from the normalized text."""
    n_sep = normalized.str.count_matches("\n", literal=True)
    return (
        pl.when(normalized.str.len_bytes() == 0)
        .then(0)
        .otherwise(n_sep + 1 - normalized.str.ends_with("\n").cast(pl.UInt32))
        .cast(pl.Int64)
    )


class QualityFilter(Filter):
    """Base of the quality filters: per-row language profiles and parameter resolution.

    ``language`` is the profile used for rows whose ``lang`` is null or unknown.  Constructor
    thresholds left at ``None`` come from each row's ``langs`` profile
    (``p.quality.<field>``); a value given here overrides it for every language.
    """

    #: what ``decide`` reads (``lang`` may be missing: every row then gets ``language``)
    columns: ClassVar[tuple[str, ...] | None] = ("text", "lang")

    language: str

    @staticmethod
    def checked_language(language: str) -> str:
        """The profile code of ``language``; an unknown one fails here, at construction."""
        return langs.get(language).code

    def __call__(self, batch: pa.Table) -> pa.Table:
        cols = [c for c in self.columns or () if c in batch.column_names]
        df = pl.from_arrow(batch.select(cols))
        assert isinstance(df, pl.DataFrame)
        if df.height:
            reason = self.decide(df)
            if isinstance(reason, pl.Expr):
                reason = df.select(reason.alias(DROP_REASON)).to_series()
        else:
            reason = pl.Series(DROP_REASON, [], dtype=pl.String)
        return set_drop_reason(batch, reason.cast(pl.String).to_arrow())

    # -- parameters -------------------------------------------------------------------------
    def value(self, name: str, code: str) -> Any:
        """Threshold ``name`` for language ``code``: the override if set, else the profile's."""
        override = getattr(self, name)
        if override is not None:
            return override
        return getattr(profile(code).quality, name)

    def per_row(self, name: str, codes: pl.Series, dtype=pl.Float64) -> pl.Series:
        """Threshold ``name`` for every row (null where the rule is off for that language)."""
        uniq = codes.unique().to_list()
        vals = {c: self.value(name, c) for c in uniq}
        if len(uniq) == 1:
            v = vals[uniq[0]]
            return pl.Series(name, [v] * len(codes), dtype=dtype)
        return codes.replace_strict(vals, return_dtype=dtype).alias(name)

    def gate(self, name: str, codes: pl.Series) -> pl.Series:
        """Like ``per_row`` but null where datatrove would skip the rule (falsy threshold)."""
        s = self.per_row(name, codes)
        return pl.select(pl.when(s.is_not_null() & (s != 0)).then(s)).to_series().alias(name)
