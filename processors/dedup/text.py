"""Text normalisation and word tokenisation for deduplication.

Both exact and near dedup compare *normalised* text, so that copies differing only
in case, spacing, punctuation or numbers still collide.  The normalisation follows
FineWeb's ``simplify_text`` (datatrove):

1. Unicode NFKC (full-width forms, ligatures and compatibility characters folded);
2. lowercase (``str.lower``, full Unicode), unless ``lowercase=False``;
3. invisible format characters (Unicode Cf: soft hyphen, BOM, bidi marks, zero-width
   space) are deleted, except ZWNJ/ZWJ, which Persian and Indic words need;
4. every run of decimal digits, with ``.``/``,`` decimal parts, becomes ``0``
   (FineWeb's ``norm_numbers``: "page 12" and "page 13" are the same text);
5. every run of anything that is not a letter, mark or number (punctuation, symbols,
   whitespace, controls, in every script) becomes one space; the ends are stripped
   (FineWeb's ``remove_punctuation`` + ``norm_whitespace``, by Unicode category
   instead of a fixed character list).

Unlike FineWeb we keep combining marks: FineWeb deletes them after NFD, which erases
vowel signs in Indic and Southeast-Asian scripts and merges distinct words.

After this the text is words separated by single spaces.  Words come from the
document's language profile (``langs``):

- ``tokenizer="lang"`` (default): spaced scripts are split on those spaces, which is
  exactly what the profile's ``word_regex`` yields on normalised text (tested for
  every spaced profile) at a fifth of the cost; scripts written without spaces
  (zh, ja, th, ...) go through the profile's segmenter, ``tokenize_many``, one call per
  language per batch;
- ``tokenizer="regex"``: the profile's ``word_regex`` with polars ``str.extract_all``;
- ``tokenizer="whitespace"``: spaces only, whatever the language.

Documents whose language is missing or unknown to ``langs`` are split on spaces.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow as pa

from babelmill import langs

#: Invisible format characters, except ZWNJ / ZWJ (parts of Persian and Indic words).
FORMAT_PATTERN = r"[\p{Cf}--[\x{200C}\x{200D}]]"
#: Runs of digits (any script) with optional decimal parts, as FineWeb's NUMBERS_PATTERN.
NUMBER_PATTERN = r"\p{Nd}+(?:[.,،٫]\p{Nd}+)*"
#: Runs of characters that are neither word characters nor a plain space.  Replacing
#: these and then squeezing double spaces is 2x faster in polars than replacing every
#: separator run (which matches at every single space).
SEPARATOR_PATTERN = r"[^\p{L}\p{M}\p{N}\x{200C}\x{200D}\x20]+"

TOKENIZERS = ("lang", "regex", "whitespace")


def _nfkc(texts: list[str | None], lowercase: bool) -> list[str]:
    # CPython's normalize first runs a quick check that returns already-normalised
    # strings untouched: on mostly-ASCII text it is >10x faster than polars' normalize.
    norm = unicodedata.normalize
    if lowercase:
        return [norm("NFKC", t).lower() if t else "" for t in texts]
    return [norm("NFKC", t) if t else "" for t in texts]


def normalize_texts(
    texts: pa.Array | pa.ChunkedArray | pl.Series | list[str | None], lowercase: bool = True
) -> pl.Series:
    """Normalised text (see the module docstring); nulls become empty strings."""
    if isinstance(texts, (pa.Array, pa.ChunkedArray)):
        values = texts.to_pylist()
    elif isinstance(texts, pl.Series):
        values = texts.to_list()
    else:
        values = list(texts)
    series = pl.Series("norm", _nfkc(values, lowercase), dtype=pl.String)
    series = series.str.replace_all(FORMAT_PATTERN, "").str.replace_all(NUMBER_PATTERN, "0")
    series = series.str.replace_all(SEPARATOR_PATTERN, " ").str.replace_all(r"\x20{2,}", " ")
    return series.str.strip_chars(" ")


@dataclass(frozen=True)
class WordSplitter:
    """How one language's normalised text is cut into words."""

    kind: str  # "regex" | "segmenter" | "whitespace"
    regex: str | None = None
    profile: Any = None  # the langs profile, for segmenters

    def split(self, norm: pl.Series) -> pl.Series:
        """Words per document as a ``list[str]`` series (no empty words)."""
        if self.kind == "regex":
            return norm.str.extract_all(self.regex)
        if self.kind == "segmenter":
            words = self.profile.tokenize_many(norm.to_list())
            cleaned = [[w for w in doc if w and not w.isspace()] for doc in words]
            return pl.Series(norm.name, cleaned, dtype=pl.List(pl.String))
        # Normalised text holds single spaces between words and none at the ends.
        return pl.select(
            pl.when(norm == "").then(pl.lit([], dtype=pl.List(pl.String))).otherwise(norm.str.split(" "))
        ).to_series()


WHITESPACE = WordSplitter("whitespace")


def splitter_for(lang: str | None, tokenizer: str = "lang") -> WordSplitter | None:
    """The word splitter for a language code; None when ``langs`` does not know it."""
    if tokenizer == "whitespace":
        return WHITESPACE
    if not lang:
        return None
    try:
        profile = langs.get(lang)
    except LookupError:
        return None
    if not profile.spaced or not profile.word_regex:
        return WordSplitter("segmenter", profile=profile)
    if tokenizer == "regex":
        return WordSplitter("regex", regex=profile.word_regex)
    return WHITESPACE
