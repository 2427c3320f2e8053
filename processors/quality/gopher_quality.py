"""Gopher quality heuristics (Rae et al. 2021, table A1), decided like datatrove's
``GopherQualityFilter``: same rules, same order, same reason strings, per-language values."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import polars as pl

from babelmill.processors.quality._common import (
    NON_PUNCT,
    NULL_REASON,
    WS,
    QualityFilter,
    flat_rows,
    profile,
    row_codes,
    row_sum,
    splitlines_count,
    splitlines_text,
    tokens_for,
)


class GopherQualityFilter(QualityFilter):
    """Rejects documents whose word statistics do not look like prose.

    Rules, first failing one is the reason (datatrove's order):
    ``gopher_short_doc`` / ``gopher_long_doc`` (non-symbol words outside
    [min_doc_words, max_doc_words]), ``gopher_below_avg_threshold`` /
    ``gopher_above_avg_threshold`` (mean length of those words), ``gopher_too_many_hashes`` /
    ``gopher_too_many_ellipsis`` (per word), ``gopher_too_many_bullets`` /
    ``gopher_too_many_end_ellipsis`` (share of lines), ``gopher_below_alpha_threshold`` (share of
    words with a letter), ``gopher_enough_stop_words`` (fewer distinct stop words than
    ``min_stop_words``; datatrove's name for the reason).

    Words are the row language's tokens (spaCy-shaped regex for English); stop words are
    ``p.gopher_stopwords`` unless ``stop_words`` is given, and match case-sensitively as in
    datatrove.  A falsy threshold switches its rule off, as in datatrove.
    """

    name: ClassVar[str] = "gopher_quality"
    reasons: ClassVar[tuple[str, ...]] = (
        "gopher_short_doc",
        "gopher_long_doc",
        "gopher_below_avg_threshold",
        "gopher_above_avg_threshold",
        "gopher_too_many_hashes",
        "gopher_too_many_ellipsis",
        "gopher_too_many_bullets",
        "gopher_too_many_end_ellipsis",
        "gopher_below_alpha_threshold",
        "gopher_enough_stop_words",
    )

    def __init__(
        self,
        min_doc_words: int | None = None,
        max_doc_words: int | None = None,
        min_avg_word_length: float | None = None,
        max_avg_word_length: float | None = None,
        max_symbol_word_ratio: float | None = None,
        max_bullet_lines_ratio: float | None = None,
        max_ellipsis_lines_ratio: float | None = None,
        max_non_alpha_words_ratio: float | None = None,
        min_stop_words: int | None = None,
        stop_words: list[str] | None = None,
        language: str = "en",
    ) -> None:
        self.min_doc_words = min_doc_words
        self.max_doc_words = max_doc_words
        self.min_avg_word_length = min_avg_word_length
        self.max_avg_word_length = max_avg_word_length
        self.max_symbol_word_ratio = max_symbol_word_ratio
        self.max_bullet_lines_ratio = max_bullet_lines_ratio
        self.max_ellipsis_lines_ratio = max_ellipsis_lines_ratio
        self.max_non_alpha_words_ratio = max_non_alpha_words_ratio
        self.min_stop_words = min_stop_words
        self.stop_words = sorted(stop_words) if stop_words is not None else None
        self.language = self.checked_language(language)

    def _stop_words(self, code: str) -> frozenset[str]:
        if self.stop_words is not None:
            return frozenset(self.stop_words)
        return profile(code).gopher_stopwords

    def decide(self, df: pl.DataFrame) -> pl.Series:
        n = df.height
        codes = row_codes(df, self.language)
        tokens = tokens_for(df, codes)
        flat, rows = flat_rows(tokens)

        # per-token properties, summed per row
        props = flat.to_frame("w").select(
            non_symbol=pl.col("w").str.contains(NON_PUNCT),
            alpha=pl.col("w").str.contains(r"\p{L}"),
            length=pl.col("w").str.len_chars(),
        )
        non_symbol = props.get_column("non_symbol").to_numpy()
        n_words = row_sum(rows, None, n)
        n_non_symbol = row_sum(rows, non_symbol, n)
        non_symbol_chars = row_sum(rows, non_symbol * props.get_column("length").to_numpy(), n)
        n_alpha = row_sum(rows, props.get_column("alpha").to_numpy(), n)
        n_stop = self._distinct_stop_words(flat, rows, codes, n)

        avg_len = non_symbol_chars / np.maximum(n_non_symbol, 1)
        stats = pl.DataFrame(
            {
                "n_words": n_words,
                "n_non_symbol": n_non_symbol.astype(np.int64),
                # np.mean([]) is NaN in datatrove and NaN compares False: null does the same here
                "avg_len": pl.Series(avg_len).set(pl.Series(n_non_symbol == 0), None),
                "n_alpha": n_alpha.astype(np.int64),
                "n_stop": n_stop,
            }
        )
        text = pl.col("text").fill_null("")
        lines = splitlines_text(text)
        frame = pl.concat([df.select(text.alias("text")), stats], how="horizontal").with_columns(
            hashes=text.str.count_matches("#", literal=True),
            ellipsis=text.str.count_matches("...", literal=True) + text.str.count_matches("…", literal=True),
            n_lines=splitlines_count(lines),
            bullets=lines.str.count_matches(rf"(?m)^[{WS}--\n]*[•\-]"),
            end_ellipsis=lines.str.count_matches(rf"(?m)(?:\.\.\.|…)[{WS}--\n]*$"),
        )
        thr = {f: self.gate(f, codes) for f in self._gated()}
        frame = frame.with_columns(**{f"t_{k}": v for k, v in thr.items()})

        def t(name: str) -> pl.Expr:
            return pl.col(f"t_{name}")

        # no words / no lines: the ratio rules cannot fire (datatrove would divide by zero)
        words = pl.when(pl.col("n_words") > 0).then(pl.col("n_words").cast(pl.Float64))
        lines_n = pl.when(pl.col("n_lines") > 0).then(pl.col("n_lines").cast(pl.Float64))
        rules = [
            (pl.col("n_non_symbol") < t("min_doc_words"), "gopher_short_doc"),
            (pl.col("n_non_symbol") > t("max_doc_words"), "gopher_long_doc"),
            (pl.col("avg_len") < t("min_avg_word_length"), "gopher_below_avg_threshold"),
            (pl.col("avg_len") > t("max_avg_word_length"), "gopher_above_avg_threshold"),
            (pl.col("hashes") / words > t("max_symbol_word_ratio"), "gopher_too_many_hashes"),
            (pl.col("ellipsis") / words > t("max_symbol_word_ratio"), "gopher_too_many_ellipsis"),
            (pl.col("bullets") / lines_n > t("max_bullet_lines_ratio"), "gopher_too_many_bullets"),
            (pl.col("end_ellipsis") / lines_n > t("max_ellipsis_lines_ratio"), "gopher_too_many_end_ellipsis"),
            (pl.col("n_alpha") / words < t("max_non_alpha_words_ratio"), "gopher_below_alpha_threshold"),
            (pl.col("n_stop") < t("min_stop_words"), "gopher_enough_stop_words"),
        ]
        expr = NULL_REASON
        for cond, reason in reversed(rules):
            # a null threshold (rule off) or statistic never rejects
            expr = pl.when(cond.fill_null(False)).then(pl.lit(reason)).otherwise(expr)
        return frame.select(expr.alias("reason")).to_series()

    @staticmethod
    def _gated() -> tuple[str, ...]:
        return (
            "min_doc_words",
            "max_doc_words",
            "min_avg_word_length",
            "max_avg_word_length",
            "max_symbol_word_ratio",
            "max_bullet_lines_ratio",
            "max_ellipsis_lines_ratio",
            "max_non_alpha_words_ratio",
            "min_stop_words",
        )

    def _distinct_stop_words(self, flat: pl.Series, rows: np.ndarray, codes: pl.Series, n: int) -> np.ndarray:
        """Distinct stop words per row (``len(stop_words & set(words))``, case-sensitive)."""
        out = np.zeros(n, dtype=np.int64)
        if not len(rows):
            return out
        uniq = codes.unique().to_list()
        stops = {c: self._stop_words(c) for c in uniq}
        every = sorted(set().union(*stops.values()))
        if not every:
            return out
        hit = np.flatnonzero(flat.is_in(every).to_numpy())
        if not len(hit):
            return out
        found = pl.DataFrame({"row": rows[hit], "w": flat.gather(hit)})
        if len(uniq) > 1:  # keep a word only where it is a stop word of the row's language
            found = found.with_columns(code=codes.gather(rows[hit])).filter(
                pl.any_horizontal([(pl.col("code") == c) & pl.col("w").is_in(sorted(s)) for c, s in stops.items() if s])
            )
        rows_found = found.unique(["row", "w"]).get_column("row").to_numpy()
        return np.bincount(rows_found, minlength=n).astype(np.int64)
