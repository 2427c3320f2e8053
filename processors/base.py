"""The stage contract every babelmill processor follows.

A stage is configured in ``__init__``, loads heavy resources once per worker in
``setup()`` and transforms a batch (an Arrow table) in ``__call__``.  Filters never
delete rows: they fill the ``drop_reason`` column and the runner routes those rows to
the rejected sink, so every dropped document stays accounted for.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any, ClassVar

import polars as pl
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - registers pa.compute

DROP_REASON = "drop_reason"


@dataclasses.dataclass(frozen=True)
class Resources:
    """What one worker running the stage needs from the Ray scheduler."""

    num_cpus: float = 1.0
    num_gpus: float = 0.0


class Stage:
    """A per-row batch transform.

    Subclasses set ``name`` and override ``__call__``.  ``stateful`` stages (models) are
    run inside long-lived Ray actors so that ``setup()`` happens once per worker instead
    of once per shard.
    """

    name: ClassVar[str] = "stage"
    resources: ClassVar[Resources] = Resources()
    stateful: ClassVar[bool] = False

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
        column = reason.cast(pl.String).to_arrow()
        if DROP_REASON in batch.column_names:
            # An earlier decision in the same stage wins; fill only the undecided rows.
            column = pa.compute.coalesce(batch.column(DROP_REASON), column)
            return batch.set_column(batch.column_names.index(DROP_REASON), DROP_REASON, column)
        return batch.append_column(DROP_REASON, column)
