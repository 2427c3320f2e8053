"""Histograms of documents (languages, LID scores, lengths) that merge by addition.

Each shard computes them on its kept and rejected rows while they are in memory and
stores them in its completion marker, so the dataset card and the run report cost
O(shards) at the end of a run instead of a rescan of every output row.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

log = logging.getLogger(__name__)

#: LID score histogram: bins of 0.02 over [0, 1].
SCORE_BINS = 50
#: Length histogram: bins per decade of characters (log scale).
LEN_BINS_PER_DECADE = 10
UNDETERMINED = "und"


@dataclass
class SideStats:
    """Histograms of one side (kept or rejected), small whatever the row count."""

    docs: int = 0
    chars: int = 0
    files: int = 0
    langs: Counter = field(default_factory=Counter)
    scores: list[int] = field(default_factory=lambda: [0] * SCORE_BINS)
    scores_null: int = 0
    lengths: Counter = field(default_factory=Counter)  # len bin -> docs; bin -1 is the empty text
    errors: list[str] = field(default_factory=list)

    @property
    def scored(self) -> int:
        return sum(self.scores)

    def add(self, other: "SideStats") -> None:
        self.docs += other.docs
        self.chars += other.chars
        self.files += other.files
        self.langs.update(other.langs)
        self.scores = [a + b for a, b in zip(self.scores, other.scores)]
        self.scores_null += other.scores_null
        self.lengths.update(other.lengths)
        self.errors.extend(other.errors)

    def to_dict(self) -> dict[str, Any]:
        return {
            "docs": self.docs,
            "chars": self.chars,
            "langs": dict(self.langs),
            "scores": self.scores,
            "scores_null": self.scores_null,
            "lengths": {str(k): v for k, v in self.lengths.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SideStats":
        return cls(
            docs=d["docs"],
            chars=d["chars"],
            langs=Counter(d["langs"]),
            scores=list(d["scores"]),
            scores_null=d["scores_null"],
            lengths=Counter({int(k): v for k, v in d["lengths"].items()}),
        )


# ---------------------------------------------------------------------------- statistics


def _collect(lf: pl.LazyFrame) -> pl.DataFrame:
    try:
        return lf.collect(engine="streaming")
    except TypeError:  # polars without the engine argument
        return lf.collect()


def _binned(lf: pl.LazyFrame, length: pl.Expr | None = None) -> pl.LazyFrame:
    """One row per (lang, score bin, length bin): the only thing the report needs."""
    n = (pl.col("text").str.len_chars() if length is None else length).fill_null(0).cast(pl.Int64)
    lang = pl.col("lang").cast(pl.String)
    score = pl.col("lang_score").cast(pl.Float64).fill_nan(None)
    return (
        lf.select(
            pl.when(lang.is_null() | (lang.str.strip_chars() == ""))
            .then(pl.lit(UNDETERMINED))
            .otherwise(lang)
            .alias("lang"),
            (score.clip(0.0, 1.0) * SCORE_BINS).floor().cast(pl.Int32).clip(0, SCORE_BINS - 1).alias("score_bin"),
            pl.when(n == 0)
            .then(pl.lit(-1))
            .otherwise((n.cast(pl.Float64).log10() * LEN_BINS_PER_DECADE + 1e-9).floor())
            .cast(pl.Int32)
            .alias("len_bin"),
            n.alias("n"),
        )
        .group_by("lang", "score_bin", "len_bin")
        .agg(pl.len().alias("docs"), pl.col("n").sum().alias("chars"))
    )


def _scan(files: list[str], fmt: str) -> pl.LazyFrame:
    schema = {"text": pl.String, "lang": pl.String, "lang_score": pl.Float64}
    if fmt == "jsonl":
        return pl.scan_ndjson(files, schema=schema)
    return pl.scan_parquet(
        files,
        schema=schema,
        missing_columns="insert",
        extra_columns="ignore",
        cast_options=pl.ScanCastOptions(float_cast="upcast"),
    )


def _scan_one(path: str, fmt: str) -> pl.LazyFrame:
    """Slow path for a file the multi-file scan refused: take what columns it has."""
    if fmt == "jsonl":
        return _scan([path], fmt)
    have = pl.read_parquet_schema(path)
    lf = pl.scan_parquet(path)
    cols = [
        pl.col(c).cast(t, strict=False) if c in have else pl.lit(None, dtype=t).alias(c)
        for c, t in (("text", pl.String), ("lang", pl.String), ("lang_score", pl.Float64))
    ]
    return lf.select(cols)


def _fold(stats: SideStats, agg: pl.DataFrame) -> None:
    for lang, score_bin, len_bin, docs, chars in agg.iter_rows():
        stats.docs += docs
        stats.chars += chars or 0
        stats.langs[lang] += docs
        stats.lengths[len_bin] += docs
        if score_bin is None:
            stats.scores_null += docs
        else:
            stats.scores[score_bin] += docs


def side_stats(files: list[str], fmt: str) -> SideStats:
    """Aggregate one side's files; a file that cannot be read is reported, not fatal."""
    stats = SideStats(files=len(files))
    if not files:
        return stats
    try:
        _fold(stats, _collect(_binned(_scan(files, fmt))))
        return stats
    except Exception as exc:  # noqa: BLE001 - fall back to file by file, isolating the bad one
        log.debug("multi-file scan failed (%s); reading file by file", exc)
    for path in files:
        try:
            _fold(stats, _collect(_binned(_scan_one(path, fmt))))
        except Exception as exc:  # noqa: BLE001
            stats.errors.append(f"{os.path.basename(path)}: {type(exc).__name__}: {exc}".splitlines()[0][:300])
    return stats


def table_stats(table: pa.Table) -> SideStats:
    """Histograms of one in-memory batch; lengths come from Arrow, without a copy of the text."""
    stats = SideStats()
    if table.num_rows == 0:
        return stats
    n = table.num_rows
    lengths = pc.utf8_length(table.column("text")) if "text" in table.column_names else pa.nulls(n, pa.int32())
    cols = {
        "text_len": lengths,
        "lang": table.column("lang") if "lang" in table.column_names else pa.nulls(n, pa.string()),
        "lang_score": table.column("lang_score") if "lang_score" in table.column_names else pa.nulls(n, pa.float32()),
    }
    lf = pl.from_arrow(pa.table(cols)).lazy()  # type: ignore[union-attr]
    _fold(stats, _binned(lf, length=pl.col("text_len")).collect())
    return stats
