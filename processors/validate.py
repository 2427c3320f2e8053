"""Checks every job runs first: documents with nothing in them go no further."""

from __future__ import annotations

from typing import ClassVar

import polars as pl

from babelmill.processors.base import Filter


class EmptyTextFilter(Filter):
    """Rejects documents whose text is empty or only whitespace (``empty_text``).

    Malformed records never reach a stage (the reader quarantines them); this is the
    first decision about well-formed ones, so every job starts with it.
    """

    name: ClassVar[str] = "validate"
    reasons: ClassVar[tuple[str, ...]] = ("empty_text",)
    columns: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(self, min_chars: int = 1) -> None:
        self.min_chars = min_chars

    def decide(self, df: pl.DataFrame) -> pl.Expr:
        stripped_len = pl.col("text").str.strip_chars().str.len_chars()
        return (
            pl.when(stripped_len < self.min_chars).then(pl.lit("empty_text")).otherwise(pl.lit(None, dtype=pl.String))
        )
