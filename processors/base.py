"""The stage contract every babelmill processor follows.

A stage is configured in ``__init__``, loads heavy resources once per worker in
``setup()`` and transforms a batch (an Arrow table) in ``__call__``.  Filters never
delete rows: they fill the ``drop_reason`` column and the runner routes those rows to
the rejected sink, so every dropped document stays accounted for.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections import Counter
from typing import Any, ClassVar

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - registers pa.compute

from babelmill.processors.resources import Resources

DROP_REASON = "drop_reason"

__all__ = [
    "DROP_REASON",
    "Resources",
    "Stage",
    "Filter",
    "GlobalStage",
    "GlobalStep",
    "StageContractError",
    "set_drop_reason",
]


class StageContractError(RuntimeError):
    """A stage broke its declared contract (an undeclared drop reason, ...): a bug in it."""


class Stage:
    """A per-row batch transform.

    Subclasses set ``name`` and override ``__call__``.  ``stateful`` stages (models) are
    run inside long-lived Ray actors so that ``setup()`` happens once per worker instead
    of once per shard.  Every stage declares what the runner may expect of it:
    ``expands`` (it may return more rows than it got) and ``reasons`` (every
    ``drop_reason`` it can write; ``{...}`` stands for a variable part, as in
    ``top_{n}_gram``).  The executor refuses a reason that is not declared.
    """

    name: ClassVar[str] = "stage"
    resources: ClassVar[Resources] = Resources()
    stateful: ClassVar[bool] = False
    expands: ClassVar[bool] = False
    reasons: ClassVar[tuple[str, ...]] = ()

    def declared_reasons(self) -> tuple[str, ...]:
        """The reasons this instance may write (a stage whose reasons depend on its
        parameters overrides this; ``reasons`` lists the defaults)."""
        return type(self).reasons

    def declares(self, reason: str) -> bool:
        """Whether ``reason`` is one this stage declared (patterns included)."""
        declared = self.declared_reasons()
        if reason in declared:
            return True
        return any("{" in d and _pattern(d).fullmatch(reason) for d in declared)

    def setup(self) -> None:
        """Load models or other heavy state; called once per worker before any batch."""

    def __call__(self, batch: pa.Table) -> pa.Table:  # pragma: no cover - abstract
        raise NotImplementedError

    def count(self, key: str, n: int = 1) -> None:
        """Add to a stage-specific counter that the runner sums into the ledger."""
        counters = self.__dict__.setdefault("_counters", Counter())
        counters[key] += n

    def take_counters(self) -> Counter:
        """Counters since the last call (the runner collects them after every batch)."""
        return self.__dict__.pop("_counters", Counter())

    def config(self) -> dict[str, Any]:
        """Parameters that change the output; they go into the run fingerprint."""
        return {
            k: v
            for k, v in vars(self).items()
            if not k.startswith("_") and isinstance(v, (str, int, float, bool, list, tuple, dict, type(None)))
        }


@functools.lru_cache(maxsize=None)
def _pattern(declared: str) -> re.Pattern[str]:
    parts = re.split(r"\{[^}]*\}", declared)
    return re.compile(".+?".join(re.escape(p) for p in parts))


class Filter(Stage):
    """A stage that only decides: rows it rejects get a reason, nothing else changes.

    ``decide`` returns a polars expression that evaluates to the drop reason (a string)
    for rows to reject and to null for rows to keep.  Expressing the decision over the
    whole batch keeps per-row Python out of the hot path.
    """

    name: ClassVar[str] = "filter"
    #: columns ``decide`` reads; only these are converted to polars (None: all).
    columns: ClassVar[tuple[str, ...] | None] = None

    def decide(self, df: pl.DataFrame) -> pl.Expr | pl.Series:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, batch: pa.Table) -> pa.Table:
        df = pl.from_arrow(batch.select(list(self.columns)) if self.columns is not None else batch)
        assert isinstance(df, pl.DataFrame)
        reason = self.decide(df)
        if isinstance(reason, pl.Expr):
            reason = df.select(reason.alias(DROP_REASON)).to_series()
        return set_drop_reason(batch, reason.cast(pl.String).to_arrow())


def set_drop_reason(batch: pa.Table, reason: pa.Array | pa.ChunkedArray) -> pa.Table:
    """Record ``reason`` (null: keep) in ``drop_reason``; a reason already there wins.

    Every stage that rejects rows writes its decision through this one function, so
    "the first decision stands" holds everywhere.
    """
    if not isinstance(reason, (pa.Array, pa.ChunkedArray)):
        reason = pa.array(reason, pa.string())
    if reason.type != pa.string():
        reason = reason.cast(pa.string())
    if DROP_REASON in batch.column_names:
        column = pa.compute.coalesce(batch.column(DROP_REASON), reason)
        return batch.set_column(batch.column_names.index(DROP_REASON), DROP_REASON, column)
    return batch.append_column(DROP_REASON, reason)


@dataclasses.dataclass(frozen=True)
class GlobalStep:
    """One parallel piece of a global stage's global phase.

    It reads ``columns`` of the keys every shard emitted, concatenated in global row
    order (row ``i`` is document ``i``), and returns a partial result for ``combine``.
    """

    name: str
    columns: tuple[str, ...]


class GlobalStage(Stage):
    """A stage whose decision needs the whole dataset (dedup, word alignment, ...).

    The runner runs it in three phases, each resumable, without knowing what it does:

    1. map, per shard: ``keys(batch)`` -> the columns this shard emits for its kept rows
       (any columns: band hashes, or the texts themselves for a step that trains on
       every row), with the schema ``key_schema()``;
    2. global: one Ray task per ``steps()`` entry, each reading its declared columns of
       every shard (``run_step``), then one task ``combine``-s the partial results into
       the *resolved* table: an int64 ``doc`` column, sorted, one row per document the
       decision concerns, plus whatever ``mark`` needs;
    3. finish, per shard: ``mark(batch, doc, resolved)`` applies the decision to the
       shard's rows (``doc``: their global indices), then the stages after it run.

    Counters the global step adds (with ``count``) are declared in ``global_counters``
    and recorded once per run, not once per shard.
    """

    global_counters: ClassVar[tuple[str, ...]] = ()

    def key_schema(self) -> pa.Schema:  # pragma: no cover - abstract
        """The columns ``keys`` returns (an empty shard still writes them)."""
        raise NotImplementedError

    def keys(self, batch: pa.Table) -> pa.Table:  # pragma: no cover - abstract
        """Per-row columns the global step reads; same row count and order as ``batch``."""
        raise NotImplementedError

    def steps(self) -> list[GlobalStep]:  # pragma: no cover - abstract
        """The global step's independent pieces; the runner runs them in parallel."""
        raise NotImplementedError

    def run_step(self, step: GlobalStep, keys: pa.Table) -> Any:  # pragma: no cover - abstract
        """One piece over ``step.columns`` of every document (row ``i``: document ``i``)."""
        raise NotImplementedError

    def combine(self, n_docs: int, results: dict[str, Any]) -> pa.Table:  # pragma: no cover - abstract
        """The resolved table from every step's result (keyed by step name)."""
        raise NotImplementedError

    def mark(self, batch: pa.Table, doc: Any, resolved: pa.Table) -> pa.Table:  # pragma: no cover - abstract
        """Apply the decision to a batch whose rows are the documents ``doc``."""
        raise NotImplementedError

    def summary(self, resolved: pa.Table) -> dict[str, int]:
        """Figures about the decision, shown in the progress line and kept in the run state."""
        return {}

    def run_global(self, table: pa.Table) -> pa.Table:
        """All three phases on one in-memory table (rows numbered in table order)."""
        keys = self.keys(table)
        results = {step.name: self.run_step(step, keys.select(list(step.columns))) for step in self.steps()}
        doc = np.arange(table.num_rows, dtype=np.int64)
        return self.mark(table, doc, self.combine(table.num_rows, results))

    def __call__(self, batch: pa.Table) -> pa.Table:
        """Decide within this one batch only; the runner's global phase covers a whole run."""
        return self.run_global(batch)
