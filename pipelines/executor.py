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

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from babelmill.pipelines.ledger import Ledger, StageCounts
from babelmill.pipelines.stats import SideStats, table_stats
from babelmill.processors.base import DROP_REASON, GlobalStage, Stage, StageContractError
from babelmill.processors.io import InputShard, QuarantineRecord, ReaderOptions, read_shard, storage
from babelmill.processors.io.writers import QuarantineSink, TableSink, atomic_write_bytes
from babelmill.processors.schema import DOC_SCHEMA, conform

log = logging.getLogger(__name__)

READ_STAGE = "read"
DROP_STAGE = "drop_stage"
STATE_DIR = "_babelmill"


@dataclasses.dataclass(frozen=True)
class OutputLayout:
    """Where a run's files go, relative to ``--output``: a ``Path``, or a ``UPath`` for an
    object store (``storage.location``), joined the same way."""

    root: Path
    fmt: str = "parquet"
    #: a column whose values split the data into subsets (``data/<value>/``), e.g. ``lang``.
    partition: str | None = None

    def data(self, shard_id: str, part: str | None = None) -> Path:
        if part is not None:
            return self.root / "data" / part / f"part-{shard_id}.{self.fmt}"
        return self.root / "data" / f"part-{shard_id}.{self.fmt}"

    def data_glob(self) -> str:
        return f"data/*/*.{self.fmt}" if self.partition else f"data/*.{self.fmt}"

    def rejected(self, shard_id: str, phase: int = 1) -> Path:
        suffix = "" if phase == 1 else f"-{phase}"
        return self.root / "rejected" / f"part-{shard_id}{suffix}.parquet"

    def quarantine(self, shard_id: str, phase: int = 1) -> Path:
        suffix = "" if phase == 1 else f"-{phase}"
        return self.root / "quarantine" / f"part-{shard_id}{suffix}.jsonl"

    def marker(self, shard_id: str) -> Path:
        return self.root / STATE_DIR / "done" / f"{shard_id}.json"

    # Jobs with a global stage (dedup) run in phases; these hold the map phase's output.
    def staged(self, shard_id: str) -> Path:
        return self.root / STATE_DIR / "staged" / f"part-{shard_id}.parquet"

    def signatures(self, shard_id: str) -> Path:
        return self.root / STATE_DIR / "signatures" / f"part-{shard_id}.parquet"

    def map_marker(self, shard_id: str) -> Path:
        return self.root / STATE_DIR / "mapped" / f"{shard_id}.json"

    @property
    def global_dir(self) -> Path:
        return self.root / STATE_DIR / "global"

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
    """Call a stage; if the batch raises, retry row by row and quarantine the rows that fail.

    Only stages that declare ``expands`` may return more rows than they got (one row
    per target language, ...); the extra rows are recorded as ``added`` in the ledger.
    """
    started = time.perf_counter()
    try:
        return _call_stage(stage, table, counts, quarantine)
    finally:
        counts.seconds += time.perf_counter() - started


def _call_stage(stage: Stage, table: pa.Table, counts: StageCounts, quarantine: list[QuarantineRecord]) -> pa.Table:
    n = table.num_rows
    counts.rows_in += n
    expands = stage.expands
    try:
        out = stage(table)
        if expands:
            counts.added += out.num_rows - n
        elif out.num_rows != n:
            raise RuntimeError(
                f"stage {stage.name} returned {out.num_rows} rows for {n}; filters must mark rows, not remove them"
            )
        return out
    except Exception as exc:  # noqa: BLE001 - isolate the bad rows, keep the rest
        log.warning("stage %s failed on a batch of %d rows (%s); retrying row by row", stage.name, n, exc)
    pieces = []
    for i in range(n):
        row = table.slice(i, 1)
        try:
            out = stage(row)
            if out.num_rows != 1 and not expands:
                raise RuntimeError(f"returned {out.num_rows} rows for 1")
            counts.added += out.num_rows - 1
            pieces.append(out)
        except Exception as exc:  # noqa: BLE001
            counts.errored += 1
            source = row.column("source")[0].as_py() if "source" in row.column_names else ""
            rid = row.column("id")[0].as_py() if "id" in row.column_names else i
            quarantine.append(
                QuarantineRecord(
                    source or "",
                    rid,
                    f"{stage.name}: {type(exc).__name__}: {exc}",
                    stage=stage.name,
                    raw=_row_json(row),
                )
            )
    if not pieces:
        return table.slice(0, 0)
    return pa.concat_tables(pieces, promote_options="permissive")


def _check_reasons(stage: Stage, table: pa.Table) -> None:
    """Every reason a stage writes must be one it declared: the ledger, the card and
    ``babelmill stages`` read the declarations, so an undeclared one is a bug."""
    if DROP_REASON not in table.column_names:
        return
    column = table.column(DROP_REASON)
    if column.null_count == len(column):
        return
    for reason in pc.unique(column.drop_null()).to_pylist():
        if not stage.declares(reason):
            raise StageContractError(
                f"stage {stage.name} ({type(stage).__name__}) wrote drop reason {reason!r}, which it does not declare "
                f"(declared: {', '.join(stage.declared_reasons()) or 'none'}); add it to {type(stage).__name__}.reasons"
            )


def process_batch(
    table: pa.Table, stages: list[Stage], ledger: Ledger, quarantine: list[QuarantineRecord], read: bool = True
) -> tuple[pa.Table, list[pa.Table]]:
    """Run the chain on one batch; returns kept rows and the rejected tables.

    ``read=False`` skips the read stage's split (rows read in an earlier phase).
    """
    rejected: list[pa.Table] = []
    if read:
        table, rej = _split(table, READ_STAGE, ledger.stage(READ_STAGE))
        if rej is not None:
            rejected.append(rej)
    for stage in stages:
        counts = ledger.stage(stage.name)
        if table.num_rows:
            table = _run_stage(stage, table, counts, quarantine)
            _check_reasons(stage, table)
        counts.counters.update(stage.take_counters())
        table, rej = _split(table, stage.name, counts)
        if rej is not None:
            rejected.append(rej)
    return table, rejected


@dataclasses.dataclass(frozen=True)
class ShardPlan:
    """How one shard's rows are shaped and, for jobs with a global stage, which phase runs.

    ``global_stage`` set: the map phase.  Kept rows go to an intermediate file and the
    global stage's per-row keys (``GlobalStage.keys``) next to it; the data file is written
    later by :func:`finish_shard` once the global decision is known.
    """

    schema: pa.Schema = DOC_SCHEMA
    drop: tuple[str, ...] = ()
    global_stage: GlobalStage | None = None


class PartitionedSink:
    """Kept rows split by one column's value into one file per subset (``data/<value>/``).

    Used for one subset per language; a row whose value is missing goes to ``und``.
    """

    def __init__(self, layout: OutputLayout, shard_id: str) -> None:
        self.layout, self.shard_id = layout, shard_id
        self.sinks: dict[str, TableSink] = {}
        self._empty: pa.Table | None = None

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.sinks.values())

    def _sink(self, part: str) -> TableSink:
        if part not in self.sinks:
            self.sinks[part] = TableSink(
                self.layout.data(self.shard_id, _safe_part(part)), self.layout.fmt, always_write=True
            )
            if self._empty is not None:
                self.sinks[part].write(self._empty)
        return self.sinks[part]

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            self._empty = table.slice(0, 0)
            return
        col = self.layout.partition
        values = (
            pc.fill_null(table.column(col), "und") if col in table.column_names else pa.array(["und"] * table.num_rows)
        )
        for part in pc.unique(values).to_pylist():
            self._sink(part).write(table.filter(pc.equal(values, part)))

    def commit(self) -> Path | None:
        paths = [s.commit() for s in self.sinks.values()]
        paths = [p for p in paths if p is not None]
        return paths[0].parent.parent if paths else None

    def abort(self) -> None:
        for s in self.sinks.values():
            s.abort()


def _safe_part(value: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(value))
    return cleaned or "und"


def _data_sink(layout: OutputLayout, shard_id: str) -> "TableSink | PartitionedSink":
    if layout.partition:
        return PartitionedSink(layout, shard_id)
    return TableSink(layout.data(shard_id), layout.fmt, always_write=True)


def _marker_bytes(marker: dict[str, Any]) -> bytes:
    return orjson.dumps(marker, option=orjson.OPT_INDENT_2)


class _ShardOutputs:
    """The sinks one phase of a shard writes, with histograms of what went to each.

    Both phases route a batch the same way: quarantine the errors, write kept rows
    (and, in the map phase, the global stage's keys), write rejected rows.
    """

    def __init__(
        self, plan: ShardPlan, data: Any, rejected: TableSink, quarantine: QuarantineSink, keys: TableSink | None = None
    ) -> None:
        self.plan, self.data, self.rejected, self.quarantine, self.keys = plan, data, rejected, quarantine, keys
        self.kept_stats, self.rejected_stats = SideStats(), SideStats()
        data.write(conform(pa.table({}), plan.schema, plan.drop).slice(0, 0))

    def route(
        self, table: pa.Table, chain: list[Stage], ledger: Ledger, errors: list[QuarantineRecord], read: bool = True
    ) -> None:
        kept, rejected_tables = process_batch(table, chain, ledger, errors, read=read)
        self.quarantine.write(errors)
        kept = conform(kept, self.plan.schema, self.plan.drop)
        self.data.write(kept)
        if self.keys is not None and self.plan.global_stage is not None:
            stage = self.plan.global_stage
            self.keys.write(stage.keys(kept) if kept.num_rows else stage.key_schema().empty_table())
        self.kept_stats.add(table_stats(kept))
        for rej in rejected_tables:
            self.rejected.write(conform(rej, self.plan.schema))
            self.rejected_stats.add(table_stats(rej))

    def commit(self, root: Path, names: tuple[str, str, str]) -> dict[str, str]:
        """Commit every sink; returns the written files (relative to ``root``) under ``names``
        for data, rejected and quarantine (signatures keep their own name)."""
        outputs = {}
        sinks = (
            (names[0], self.data),
            ("signatures", self.keys),
            (names[1], self.rejected),
            (names[2], self.quarantine),
        )
        for name, sink in sinks:
            path = sink.commit() if sink is not None else None
            if path is not None:
                outputs[name] = str(path.relative_to(root))
        return outputs

    def abort(self) -> None:
        for sink in (self.data, self.keys, self.rejected, self.quarantine):
            if sink is not None:
                sink.abort()


def _marker(
    shard: InputShard,
    outputs: dict[str, str],
    ledger: Ledger,
    out: _ShardOutputs,
    seconds: float,
    extra: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "shard": shard.shard_id,
        "inputs": list(shard.sources),
        "outputs": outputs,
        "ledger": ledger.to_dict(),
        "timing": ledger.seconds(),
        "stats": {"kept": out.kept_stats.to_dict(), "rejected": out.rejected_stats.to_dict()},
        "seconds": round(seconds, 3),
        **(extra or {}),
    }


def run_shard(
    shard: InputShard,
    reader_options: ReaderOptions,
    stages: list[Stage],
    layout: OutputLayout,
    extra: dict[str, Any] | None = None,
    plan: ShardPlan | None = None,
) -> dict[str, Any]:
    """Process one shard end to end and write its marker; returns the marker's content.

    ``extra`` goes into the marker as is (the runner records the Ray node there).
    """
    plan = plan or ShardPlan()
    started = time.perf_counter()
    mapping = plan.global_stage is not None
    ledger = Ledger.for_stages(stage_names(stages))
    sid = shard.shard_id
    rejected, quarantine = TableSink(layout.rejected(sid), "parquet"), QuarantineSink(layout.quarantine(sid))
    if mapping:
        staged = TableSink(layout.staged(sid), "parquet", always_write=True)
        keys = TableSink(layout.signatures(sid), "parquet", always_write=True)
        out = _ShardOutputs(plan, staged, rejected, quarantine, keys)
    else:
        out = _ShardOutputs(plan, _data_sink(layout, sid), rejected, quarantine)
    try:
        batches = iter(read_shard(shard, reader_options))
        while True:
            read_started = time.perf_counter()
            batch = next(batches, None)
            ledger.stage(READ_STAGE).seconds += time.perf_counter() - read_started
            if batch is None:
                break
            ledger.input += batch.num_records
            read_counts = ledger.stage(READ_STAGE)
            read_counts.rows_in += batch.num_records
            read_counts.errored += len(batch.quarantine)
            out.route(batch.docs, stages, ledger, list(batch.quarantine))
        ledger.kept = out.data.rows
        ledger.rejected = rejected.rows
        ledger.quarantined = quarantine.rows
        ledger.check()
        outputs = out.commit(layout.root, ("data", "rejected", "quarantine"))
    except BaseException:
        out.abort()
        raise
    marker = _marker(shard, outputs, ledger, out, time.perf_counter() - started, extra)
    atomic_write_bytes(layout.map_marker(sid) if mapping else layout.marker(sid), _marker_bytes(marker))
    return marker


class GlobalMarks(Stage):
    """Applies a global stage's decision to one shard's rows in the finish phase.

    The rows of the shard's intermediate file are documents ``offset, offset + 1, ...``
    of the global numbering; the global stage's own ``mark`` turns its ``resolved``
    table into drop reasons and the columns it attaches.
    """

    def __init__(self, stage: GlobalStage, resolved: pa.Table, offset: int) -> None:
        self.stage = stage
        self.resolved = resolved
        self._next = offset

    @property  # type: ignore[override]
    def name(self) -> str:  # the ledger shows the global stage's own name
        return self.stage.name

    def declared_reasons(self) -> tuple[str, ...]:
        return self.stage.declared_reasons()

    def __call__(self, batch: pa.Table) -> pa.Table:
        doc = np.arange(self._next, self._next + batch.num_rows, dtype=np.int64)
        self._next += batch.num_rows
        return self.stage.mark(batch, doc, self.resolved)


def finish_shard(
    shard: InputShard,
    stages: list[Stage],
    global_stage: GlobalStage,
    resolved: pa.Table,
    offset: int,
    post_stages: list[Stage],
    layout: OutputLayout,
    plan: ShardPlan,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The finish phase of a job with a global stage: mark the decision on the shard's
    intermediate rows, run the stages after it and write the data file and final marker.

    The marker's ledger joins the map phase's counts with this phase's, so the run's
    ledger reads like one pass through every stage.
    """
    started = time.perf_counter()
    mapped = orjson.loads(layout.map_marker(shard.shard_id).read_bytes())
    apply = GlobalMarks(global_stage, resolved, offset)
    names = stage_names(stages) + [apply.name] + [s.name for s in post_stages]
    ledger = Ledger.for_stages(names)
    first = Ledger.from_dict(mapped["ledger"], mapped.get("timing"))
    for s in first.stages:
        ledger.stages[names.index(s.name)] = s
    out = _ShardOutputs(
        plan,
        _data_sink(layout, shard.shard_id),
        TableSink(layout.rejected(shard.shard_id, 2), "parquet"),
        QuarantineSink(layout.quarantine(shard.shard_id, 2)),
    )
    out.rejected_stats = SideStats.from_dict(mapped["stats"]["rejected"])
    chain: list[Stage] = [apply, *post_stages]
    try:
        staged = pq.ParquetFile(storage.arrow_source(layout.staged(shard.shard_id)))
        for rb in staged.iter_batches(batch_size=65_536):
            out.route(pa.Table.from_batches([rb]), chain, ledger, [], read=False)
        ledger.input = first.input
        ledger.kept = out.data.rows
        ledger.rejected = first.rejected + out.rejected.rows
        ledger.quarantined = first.quarantined + out.quarantine.rows
        ledger.check()
        outputs = {k: v for k, v in mapped["outputs"].items() if k in ("rejected", "quarantine")}
        outputs.update(out.commit(layout.root, ("data", "rejected_after", "quarantine_after")))
    except BaseException:
        out.abort()
        raise
    marker = _marker(shard, outputs, ledger, out, mapped.get("seconds", 0.0) + time.perf_counter() - started, extra)
    atomic_write_bytes(layout.marker(shard.shard_id), _marker_bytes(marker))
    return marker
