"""Runs the chain of per-row stages over one shard, in one process, without Ray.

This is what a Ray task (or actor) executes for each shard, and what tests call
directly.  Outputs are committed atomically and the completion marker is written last,
so a shard is either finished (marker present) or will be redone from scratch.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.ledger import Ledger, StageCounts
from pipelines.stats import SideStats, table_stats
from processors.base import DROP_REASON, Stage
from processors.io import InputShard, QuarantineRecord, ReaderOptions, read_shard
from processors.io.writers import QuarantineSink, TableSink, atomic_write_bytes
from processors.schema import conform

log = logging.getLogger(__name__)

READ_STAGE = "read"
DROP_STAGE = "drop_stage"
STATE_DIR = "_babelmill"


@dataclasses.dataclass(frozen=True)
class OutputLayout:
    """Where a run's files go, relative to ``--output``."""

    root: Path
    fmt: str = "parquet"

    def data(self, shard_id: str) -> Path:
        return self.root / "data" / f"part-{shard_id}.{self.fmt}"

    def rejected(self, shard_id: str) -> Path:
        return self.root / "rejected" / f"part-{shard_id}.parquet"

    def quarantine(self, shard_id: str) -> Path:
        return self.root / "quarantine" / f"part-{shard_id}.jsonl"

    def marker(self, shard_id: str) -> Path:
        return self.root / STATE_DIR / "done" / f"{shard_id}.json"

    @property
    def ledger(self) -> Path:
        return self.root / "ledger.json"

    @property
    def run_file(self) -> Path:
        return self.root / STATE_DIR / "run.json"


def stage_names(stages: list[Stage]) -> list[str]:
    return [READ_STAGE] + [s.name for s in stages]


def _split(table: pa.Table, stage: str, counts: StageCounts) -> tuple[pa.Table, pa.Table | None]:
    """Separate rows a stage rejected; record them per reason."""
    if DROP_REASON not in table.column_names:
        counts.kept += table.num_rows
        return table, None
    reasons = table.column(DROP_REASON)
    if reasons.null_count == table.num_rows:
        counts.kept += table.num_rows
        return table.drop_columns([DROP_REASON]), None
    dropped_mask = pc.is_valid(reasons)
    rejected = table.filter(dropped_mask)
    kept = table.filter(pc.invert(dropped_mask)).drop_columns([DROP_REASON])
    for reason, n in pl.from_arrow(rejected.column(DROP_REASON)).value_counts().iter_rows():  # type: ignore[union-attr]
        counts.dropped[reason] += n
    counts.kept += kept.num_rows
    rejected = rejected.append_column(DROP_STAGE, pa.array([stage] * rejected.num_rows, pa.string()))
    return kept, rejected


def _row_json(row: pa.Table) -> str:
    values = {k: v[0] for k, v in row.to_pydict().items()}
    return orjson.dumps(values, default=str).decode()


def _run_stage(stage: Stage, table: pa.Table, counts: StageCounts, quarantine: list[QuarantineRecord]) -> pa.Table:
    """Call a stage; if the batch raises, retry row by row and quarantine the rows that fail."""
    n = table.num_rows
    counts.rows_in += n
    try:
        out = stage(table)
        if out.num_rows != n:
            raise RuntimeError(f"stage {stage.name} returned {out.num_rows} rows for {n}; filters must mark rows, not remove them")
        return out
    except Exception as exc:  # noqa: BLE001 - isolate the bad rows, keep the rest
        log.warning("stage %s failed on a batch of %d rows (%s); retrying row by row", stage.name, n, exc)
    pieces = []
    for i in range(n):
        row = table.slice(i, 1)
        try:
            out = stage(row)
            if out.num_rows != 1:
                raise RuntimeError(f"returned {out.num_rows} rows for 1")
            pieces.append(out)
        except Exception as exc:  # noqa: BLE001
            counts.errored += 1
            source = row.column("source")[0].as_py() if "source" in row.column_names else ""
            rid = row.column("id")[0].as_py() if "id" in row.column_names else i
            quarantine.append(QuarantineRecord(source or "", rid, f"{stage.name}: {type(exc).__name__}: {exc}", stage=stage.name, raw=_row_json(row)))
    if not pieces:
        return table.slice(0, 0)
    return pa.concat_tables(pieces, promote_options="permissive")


def process_batch(table: pa.Table, stages: list[Stage], ledger: Ledger, quarantine: list[QuarantineRecord]) -> tuple[pa.Table, list[pa.Table]]:
    """Run the chain on one batch; returns kept rows and the rejected tables."""
    rejected: list[pa.Table] = []
    table, rej = _split(table, READ_STAGE, ledger.stage(READ_STAGE))
    if rej is not None:
        rejected.append(rej)
    for stage in stages:
        counts = ledger.stage(stage.name)
        if table.num_rows:
            table = _run_stage(stage, table, counts, quarantine)
        counts.counters.update(stage.take_counters())
        table, rej = _split(table, stage.name, counts)
        if rej is not None:
            rejected.append(rej)
    return table, rejected


def run_shard(shard: InputShard, reader_options: ReaderOptions, stages: list[Stage], layout: OutputLayout, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Process one shard end to end and write its marker; returns the marker's content.

    ``extra`` goes into the marker as is (the runner records the Ray node there).
    """
    started = time.perf_counter()
    ledger = Ledger.for_stages(stage_names(stages))
    data = TableSink(layout.data(shard.shard_id), layout.fmt, always_write=True)
    rejected = TableSink(layout.rejected(shard.shard_id), "parquet")
    quarantine = QuarantineSink(layout.quarantine(shard.shard_id))
    kept_stats, rejected_stats = SideStats(), SideStats()
    try:
        data.write(conform(pa.table({})).slice(0, 0))
        for batch in read_shard(shard, reader_options):
            ledger.input += batch.num_records
            read_counts = ledger.stage(READ_STAGE)
            read_counts.rows_in += batch.num_records
            read_counts.errored += len(batch.quarantine)
            errors = list(batch.quarantine)
            kept, rejected_tables = process_batch(batch.docs, stages, ledger, errors)
            quarantine.write(errors)
            kept = conform(kept)
            data.write(kept)
            kept_stats.add(table_stats(kept))
            for rej in rejected_tables:
                rejected.write(conform(rej))
                rejected_stats.add(table_stats(rej))
        ledger.kept = data.rows
        ledger.rejected = rejected.rows
        ledger.quarantined = quarantine.rows
        ledger.check()
        outputs = {}
        for name, sink in (("data", data), ("rejected", rejected), ("quarantine", quarantine)):
            path = sink.commit()
            if path is not None:
                outputs[name] = str(path.relative_to(layout.root))
    except BaseException:
        for sink in (data, rejected, quarantine):
            sink.abort()
        raise
    marker = {
        "shard": shard.shard_id,
        "inputs": list(shard.sources),
        "outputs": outputs,
        "ledger": ledger.to_dict(),
        "stats": {"kept": kept_stats.to_dict(), "rejected": rejected_stats.to_dict()},
        "seconds": round(time.perf_counter() - started, 3),
        **(extra or {}),
    }
    atomic_write_bytes(layout.marker(shard.shard_id), orjson.dumps(marker, option=orjson.OPT_INDENT_2))
    return marker
