"""FineWeb's line-level quality rules (Penedo et al. 2024), decided like datatrove's
``FineWebQualityFilter``: same rules, order and reason strings, per-language values."""

from __future__ import annotations

import re
from typing import ClassVar

import numpy as np
import polars as pl

from babelmill.processors.quality._common import (
    PY_WHITESPACE,
    TERMINAL,
    QualityFilter,
    char_class,
    first_distinct,
    flat_rows,
    row_codes,
    row_sum,
    token_counts_for,
)


class FineWebQualityFilter(QualityFilter):
    """Rejects list-like and boilerplate-like documents.

    Over the non-blank lines of ``text.split("\\n")`` (first failing rule is the reason):
    ``empty`` (no such line), ``line_punct_ratio`` (share of lines ending in a terminal mark
    below ``line_punct_thr``; with ``line_punct_exclude_zero`` a share of exactly 0 passes),
    ``short_line_ratio`` (share of lines of at most ``short_line_length`` characters above
    ``short_line_thr``), ``char_dup_ratio`` (characters of repeated lines over the characters
    of the text without newlines above ``char_duplicates_ratio``), ``list_ratio`` (newlines per
    word above ``new_line_ratio``).  ``stop_chars`` defaults to datatrove's terminal
    punctuation (all scripts).
    """

    name: ClassVar[str] = "fineweb_quality"
    reasons: ClassVar[tuple[str, ...]] = (
        "empty",
        "line_punct_ratio",
        "short_line_ratio",
        "char_dup_ratio",
        "list_ratio",
    )

    def __init__(
        self,
        line_punct_thr: float | None = None,
        line_punct_exclude_zero: bool | None = None,
        stop_chars: tuple[str, ...] | None = None,
        short_line_thr: float | None = None,
        short_line_length: int | None = None,
        char_duplicates_ratio: float | None = None,
        new_line_ratio: float | None = None,
        language: str = "en",
    ) -> None:
        self.line_punct_thr = line_punct_thr
        self.line_punct_exclude_zero = line_punct_exclude_zero
        self.stop_chars = tuple(stop_chars) if stop_chars is not None else None
        self.short_line_thr = short_line_thr
        self.short_line_length = short_line_length
        self.char_duplicates_ratio = char_duplicates_ratio
        self.new_line_ratio = new_line_ratio
        self.language = self.checked_language(language)

    def _ends_pattern(self) -> str:
        """``line.endswith(stop_chars)`` as a regex."""
        if self.stop_chars is None:
            return TERMINAL + "$"
        singles = [c for c in self.stop_chars if len(c) == 1]
        longer = [c for c in self.stop_chars if len(c) > 1]
        parts = (["[" + char_class(singles) + "]"] if singles else []) + [re.escape(c) for c in longer]
        return "(?:" + "|".join(parts) + ")$" if parts else r"[^\s\S]"

    def decide(self, df: pl.DataFrame) -> pl.Series:
        n = df.height
        codes = row_codes(df, self.language)
        text = df.get_column("text").fill_null("")
        lines = text.str.split("\n").list.eval(
            pl.element().filter(pl.element().str.strip_chars(PY_WHITESPACE).str.len_bytes() > 0)
        )
        flat, rows = flat_rows(lines)
        n_lines = row_sum(rows, None, n).astype(np.float64)
        line_len = flat.str.len_chars().to_numpy()
        ends = flat.str.contains(self._ends_pattern()).to_numpy()
        short_len = self.per_row("short_line_length", codes).to_numpy()
        short = line_len <= short_len[rows] if len(rows) else np.zeros(0, bool)
        dup_chars = row_sum(rows, ~first_distinct(flat, rows) * line_len, n) if len(rows) else np.zeros(n)
        body_chars = (text.str.len_chars() - text.str.count_matches("\n", literal=True)).to_numpy().astype(np.float64)

        with np.errstate(divide="ignore", invalid="ignore"):
            punct_ratio = row_sum(rows, ends, n) / n_lines
            short_ratio = row_sum(rows, short, n) / n_lines
            dup_ratio = dup_chars / body_chars
        reason = np.full(n, None, dtype=object)
        reason[n_lines == 0] = "empty"

        def apply(hit: np.ndarray, name: str) -> None:
            reason[(reason == None) & hit] = name  # noqa: E711 - elementwise on an object array

        punct_thr = self.per_row("line_punct_thr", codes).to_numpy()
        exclude_zero = self.per_row("line_punct_exclude_zero", codes, dtype=pl.Boolean).to_numpy()
        apply((punct_ratio < punct_thr) & ~((punct_ratio == 0) & exclude_zero), "line_punct_ratio")
        apply(short_ratio > self.per_row("short_line_thr", codes).to_numpy(), "short_line_ratio")
        apply(dup_ratio > self.per_row("char_duplicates_ratio", codes).to_numpy(), "char_dup_ratio")

        alive = np.flatnonzero(reason == None)  # noqa: E711
        if len(alive):
            sub_text = text.gather(alive)
            words = token_counts_for(sub_text, codes.gather(alive)).to_numpy().astype(np.float64)
            newlines = sub_text.str.count_matches("\n", literal=True).to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(words > 0, newlines / np.maximum(words, 1), np.nan)
            hit = ratio > self.per_row("new_line_ratio", codes.gather(alive)).to_numpy()
            sub = reason[alive]
            sub[hit] = "list_ratio"
            reason[alive] = sub
        return pl.Series("reason", reason.tolist(), dtype=pl.String)
