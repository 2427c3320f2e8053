"""The only module that talks to Ray.

One Ray task per shard runs the whole chain of per-row stages in-process (measured on
this project's reference machine: as fast as plain pyarrow once Ray is up, where Ray
Data was 7-10x slower).  Chains holding models (``Stage.stateful``) run in a pool of
long-lived actors instead, sized by the GPUs or CPUs the stages declare, so a model is
loaded once per worker.  Finished shards leave a marker; a rerun skips them.
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable

import orjson

from babelmill.pipelines.card import write_dataset_card
from babelmill.pipelines.executor import STATE_DIR, OutputLayout, ShardPlan, finish_shard, run_shard, stage_names
from babelmill.pipelines.ledger import Ledger
from babelmill.pipelines.report import write_report
from babelmill.pipelines.stats import SideStats, side_stats
from babelmill.processors.base import Resources, Stage
from babelmill.processors.errors import BabelmillError
from babelmill.processors.io import InputShard, ReaderOptions, discover_shards
from babelmill.processors.io.writers import atomic_write_bytes, remove_stale_tmp
from babelmill.processors.schema import SCHEMAS

log = logging.getLogger(__name__)

#: What ``--overwrite`` removes: only what a run writes, never other files in the folder.
_RUN_OUTPUTS = ("data", "rejected", "quarantine", STATE_DIR, "ledger.json", "README.md", "report.html", "report")


@dataclasses.dataclass
class Job:
    """A fully configured run: inputs, the stage chain and where the output goes."""

    name: str
    inputs: list[str]
    output: Path
    stages: list[Stage]
    reader: ReaderOptions = dataclasses.field(default_factory=ReaderOptions)
    input_format: str = "auto"
    output_format: str = "parquet"
    #: the command line, recorded in the dataset card.
    command: str = ""
    #: a stage that needs the whole dataset (dedup), run between ``stages`` and ``post_stages``.
    global_stage: Any = None
    post_stages: list[Stage] = dataclasses.field(default_factory=list)
    #: the row contract of the output ("doc" or "instruction") and working columns to leave out.
    schema: str = "doc"
    drop_columns: tuple[str, ...] = ()
    #: split the kept data into one subset per value of this column (``lang``: one per language).
    partition: str | None = None

    def plan(self, mapping: bool = False) -> ShardPlan:
        return ShardPlan(SCHEMAS[self.schema], self.drop_columns, self.global_stage if mapping else None)

    def all_stage_names(self) -> list[str]:
        names = stage_names(self.stages)
        if self.global_stage is not None:
            names += [self.global_stage.name] + [s.name for s in self.post_stages]
        return names

    def layout(self) -> OutputLayout:
        return OutputLayout(Path(self.output), self.output_format, self.partition)


@dataclasses.dataclass
class EngineOptions:
    """Where and how wide to run; not part of the run's identity (resume may change them)."""

    ray_address: str | None = None
    num_cpus: int | None = None
    num_gpus: int | None = None
    max_in_flight: int | None = None


@dataclasses.dataclass
class RunResult:
    ledger: Ledger
    output: Path
    shards_total: int
    shards_skipped: int
    seconds: float
    ray_startup_seconds: float
    failures: list[str]
    nodes: set[str]

    @property
    def rows_per_second(self) -> float:
        return self.ledger.input / self.seconds if self.seconds > 0 else 0.0


ProgressHook = Callable[[str, dict[str, Any]], None]


def fingerprint(job: Job, shards: list[InputShard]) -> dict[str, Any]:
    """The identity of a run: what would change its output if changed."""
    ident = {
        "job": job.name,
        "reader": dataclasses.asdict(job.reader),
        "input_format": job.input_format,
        "output_format": job.output_format,
        "stages": [{"stage": s.name, "class": type(s).__name__, "config": s.config()} for s in _all_stages(job)],
        "schema": job.schema,
        "partition": job.partition,
        "shards": [[s.kind, list(s.sources), s.size_bytes(), list(s.row_range) if s.row_range else None] for s in shards],
    }
    digest = hashlib.sha256(orjson.dumps(ident, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()
    return {"fingerprint": digest, "identity": ident}


def _all_stages(job: Job) -> list[Any]:
    return list(job.stages) + ([job.global_stage] if job.global_stage is not None else []) + list(job.post_stages)


def _prepare_output(job: Job, shards: list[InputShard], overwrite: bool) -> None:
    layout = job.layout()
    root = layout.root
    ident = fingerprint(job, shards)
    if layout.run_file.exists():
        previous = orjson.loads(layout.run_file.read_bytes())
        if previous.get("fingerprint") != ident["fingerprint"]:
            if not overwrite:
                raise BabelmillError(
                    f"{root} holds the output of a different command (parameters or inputs changed); "
                    "rerun the original command to resume it, pass --overwrite to replace it, or choose another --output"
                )
            _clear(root)
    elif root.exists() and any(root.iterdir()):
        if not overwrite:
            raise BabelmillError(f"{root} exists and is not empty; pass --overwrite to write into it, or choose another --output")
        _clear(root)
    root.mkdir(parents=True, exist_ok=True)
    record = {**ident, "command": job.command}
    atomic_write_bytes(layout.run_file, orjson.dumps(record, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS, default=str))
    removed = remove_stale_tmp(root)
    if removed:
        log.info("removed %d temporary files left by an interrupted run", removed)


def _clear(root: Path) -> None:
    for name in _RUN_OUTPUTS:
        target = root / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def _chain_resources(stages: list[Stage]) -> Resources:
    cpus = max([s.resources.num_cpus for s in stages] + [1.0])
    gpus = max([s.resources.num_gpus for s in stages] + [0.0])
    return Resources(cpus, gpus)


def _is_loopback(address: str) -> bool:
    host = address.split("://")[-1].rsplit(":", 1)[0].strip("[]")
    return host in ("localhost", "::1") or host.startswith("127.")


def init_ray(opts: EngineOptions) -> float:
    """Join the cluster at ``ray_address`` or start an embedded one; returns seconds spent."""
    if not opts.ray_address or _is_loopback(opts.ray_address):
        # An embedded Ray serves this process only, and a cluster addressed on loopback
        # listens there: without this Ray swaps 127.0.0.1 for the machine's public address.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        constants = sys.modules.get("ray._private.ray_constants")
        if constants is not None:
            constants.ENABLE_RAY_CLUSTER = os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] not in ("0", "false", "False")
    import ray

    if ray.is_initialized():
        return 0.0
    started = time.perf_counter()
    kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING, "ignore_reinit_error": True}
    if opts.ray_address:
        kwargs["address"] = opts.ray_address
    else:
        kwargs["num_cpus"] = opts.num_cpus
        kwargs["num_gpus"] = opts.num_gpus
    try:
        ray.init(**kwargs)
    except ConnectionError as exc:
        raise BabelmillError(f"cannot reach a Ray cluster at {opts.ray_address!r} ({exc}); start one with `ray start --head` or drop --ray-address") from exc
    return time.perf_counter() - started


def _node() -> dict[str, Any]:
    import ray

    return {"node": ray.get_runtime_context().get_node_id()}


def _shard_task(shard: InputShard, reader: ReaderOptions, stages: list[Stage], layout: OutputLayout, plan: ShardPlan) -> dict[str, Any]:
    for stage in stages:
        stage.setup()
    return run_shard(shard, reader, stages, layout, extra=_node(), plan=plan)


class _ShardWorker:
    """Actor body for stateful chains: ``setup()`` once, then shard after shard."""

    def __init__(self, reader: ReaderOptions, stages: list[Stage], layout: OutputLayout, plan: ShardPlan) -> None:
        self.reader, self.stages, self.layout, self.plan = reader, stages, layout, plan
        for stage in stages:
            stage.setup()

    def run(self, shard: InputShard) -> dict[str, Any]:
        return run_shard(shard, self.reader, self.stages, self.layout, extra=_node(), plan=self.plan)


def _finish_task(shard: InputShard, job: Job, resolved: Any, offset: int) -> dict[str, Any]:
    for stage in job.post_stages:
        stage.setup()
    return finish_shard(shard, job.stages, job.global_stage, resolved, offset, job.post_stages, job.layout(), job.plan(), extra=_node())


def _one_line(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None) or exc
    text = f"{type(cause).__name__}: {cause}".strip()
    text = text.splitlines()[-1] if "\n" in text else text
    if isinstance(cause, ModuleNotFoundError) or "ModuleNotFoundError" in text:
        text += " (install babelmill and its dependencies on every Ray node)"
    return text


def _dispatch(
    job: Job, pending: list[InputShard], engine: EngineOptions, hook: ProgressHook, plan: ShardPlan | None = None, done_event: str = "shard_done"
) -> tuple[list[dict[str, Any]], list[str]]:
    import ray

    plan = plan or job.plan()
    res = _chain_resources(job.stages)
    layout = job.layout()
    cluster = ray.cluster_resources()
    cpus = int(cluster.get("CPU", 1))
    gpus = int(cluster.get("GPU", 0))
    markers: list[dict[str, Any]] = []
    failures: list[str] = []
    stateful = any(s.stateful for s in job.stages)
    opts: dict[str, Any] = {"num_cpus": res.num_cpus, "num_gpus": res.num_gpus}
    if res.num_gpus > gpus:
        raise BabelmillError(f"the stages need {res.num_gpus} GPU per worker but the Ray cluster has {gpus}; run on a GPU machine or pick a CPU device")

    def finish(ref: Any, shard: InputShard) -> None:
        try:
            marker = ray.get(ref)
            markers.append(marker)
            hook(done_event, {"shard": shard, "marker": marker})
        except (ray.exceptions.RayError, BabelmillError) as exc:
            msg = f"shard {shard.shard_id} ({shard.describe()}): {_one_line(exc)}"
            failures.append(msg)
            log.error(msg)
            hook("shard_failed", {"shard": shard, "error": msg})

    if stateful:
        by = (gpus / res.num_gpus) if res.num_gpus else (cpus / max(res.num_cpus, 1e-9))
        n_actors = max(1, min(len(pending), int(by)))
        worker_cls = ray.remote(_ShardWorker).options(**opts)
        actors = [worker_cls.remote(job.reader, job.stages, layout, plan) for _ in range(n_actors)]
        queue = list(pending)
        running: dict[Any, tuple[Any, InputShard]] = {}
        idle = list(actors)
        while queue or running:
            while idle and queue:
                actor = idle.pop()
                shard = queue.pop(0)
                running[actor.run.remote(shard)] = (actor, shard)
            done, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
            for ref in done:
                actor, shard = running.pop(ref)
                finish(ref, shard)
                idle.append(actor)
        for actor in actors:
            ray.kill(actor)
        return markers, failures

    task = ray.remote(_shard_task).options(**opts, scheduling_strategy="SPREAD", max_retries=2)
    stages_ref = ray.put(job.stages)
    submit = lambda shard: task.remote(shard, job.reader, stages_ref, layout, plan)  # noqa: E731
    _run_tasks(submit, pending, engine.max_in_flight or max(4, 2 * cpus), finish)
    return markers, failures


def _run_tasks(submit: Callable[[InputShard], Any], pending: list[InputShard], limit: int, finish: Callable[[Any, InputShard], None]) -> None:
    """Keep at most ``limit`` shard tasks in flight (backpressure), collect each as it ends."""
    import ray

    queue = list(pending)
    running: dict[Any, InputShard] = {}
    while queue or running:
        while queue and len(running) < limit:
            shard = queue.pop(0)
            running[submit(shard)] = shard
        done, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
        for ref in done:
            finish(ref, running.pop(ref))


# ----------------------------------------------------------------- global stage
#
# A global stage (dedup) is run in three phases.  Map: each shard task runs the per-row
# stages and writes its kept rows plus the global stage's per-row keys (``signatures``).
# Global: Ray tasks turn each key column (one per LSH band, plus the exact hash) into
# edges between documents, one more task resolves them into clusters.  Finish: each
# shard task marks its rows with the decision (the stage's own ``mark``), runs
# ``post_stages`` and writes the data.  The stage provides ``signatures``,
# ``exact_edges``, ``band_edges``, ``resolve`` and ``mark``.
# Every phase leaves markers, so a killed run resumes in the phase it was in.


def _key_edges(stage: Any, paths: list[str], column: str, exact: bool) -> Any:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = [pq.read_table(p, columns=[column]).column(column) for p in paths]
    values = pa.chunked_array([c for part in parts for c in part.chunks], type=pa.uint64()).to_numpy() if parts else np.zeros(0, np.uint64)
    doc = np.arange(len(values), dtype=np.int64)
    return stage.exact_edges(doc, values) if exact else stage.band_edges(doc, values)


def _resolve_task(stage: Any, n_docs: int, exact_edges: Any, *near_edges: Any) -> Any:
    result = stage.resolve(n_docs, exact_edges, list(near_edges))
    counters = dict(stage.take_counters()) if hasattr(stage, "take_counters") else {}
    return result, counters


def _global_phase(job: Job, shards: list[InputShard], mapped: dict[str, dict[str, Any]], hook: ProgressHook) -> dict[str, Any]:
    """Run (or load) the global decision; returns its summary (also written to disk)."""
    import numpy as np
    import pyarrow.parquet as pq
    import ray

    layout = job.layout()
    done_file = layout.global_dir / "done.json"
    if done_file.exists():
        return orjson.loads(done_file.read_bytes())
    started = time.perf_counter()
    stage = job.global_stage
    paths = [str(layout.signatures(s.shard_id)) for s in shards]
    n_docs = sum(int(mapped[s.shard_id]["ledger"]["kept"]) for s in shards)
    hook("phase", {"name": f"{stage.name}: finding duplicates among {n_docs:,} documents"})
    edges_task = ray.remote(_key_edges)
    stage_ref = ray.put(stage)
    exact_ref = edges_task.remote(stage_ref, paths, "exact_hash", True) if getattr(stage, "exact", True) else ray.put(np.zeros((0, 2), np.int64))
    near_refs = [edges_task.remote(stage_ref, paths, f"bands_{j}", False) for j in range(stage.num_bands)] if getattr(stage, "near", True) else []
    result, counters = ray.get(ray.remote(_resolve_task).remote(stage_ref, n_docs, exact_ref, *near_refs))
    out = layout.global_dir / "result.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    pq.write_table(result, tmp)
    os.replace(tmp, out)
    summary = {
        "documents": n_docs,
        "in_clusters": result.num_rows,
        "removed": int(result.num_rows - sum(result.column("keep").to_pylist())) if result.num_rows else 0,
        "seconds": round(time.perf_counter() - started, 3),
        "counters": {k: int(v) for k, v in counters.items()},
    }
    atomic_write_bytes(done_file, orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    hook("phase", {"name": f"{stage.name}: {summary['removed']:,} duplicates in {summary['seconds']:.1f} s"})
    return summary


def _shard_slices(job: Job, shards: list[InputShard], mapped: dict[str, dict[str, Any]]) -> dict[str, tuple[Any, int]]:
    """Each shard's part of the global result and the global index of its first row."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    result = pq.read_table(job.layout().global_dir / "result.parquet")
    docs = result.column("doc").to_numpy()
    slices = {}
    offset = 0
    for s in shards:
        n = int(mapped[s.shard_id]["ledger"]["kept"])
        slices[s.shard_id] = (result.filter(pa.array((docs >= offset) & (docs < offset + n))), offset)
        offset += n
    return slices


def _run_phased(job: Job, shards: list[InputShard], done: dict[str, Any], engine: EngineOptions, hook: ProgressHook) -> tuple[list[dict[str, Any]], list[str]]:
    """Map, global, finish for the shards without a final marker."""
    import ray

    layout = job.layout()
    todo = [s for s in shards if s.shard_id not in done]
    mapped = {s.shard_id: orjson.loads(layout.map_marker(s.shard_id).read_bytes()) for s in todo if layout.map_marker(s.shard_id).exists()}
    for s in todo:
        if s.shard_id in mapped:
            hook("shard_skipped", {"shard": s, "marker": mapped[s.shard_id]})
    to_map = [s for s in todo if s.shard_id not in mapped]
    failures: list[str] = []
    if to_map:
        markers, failures = _dispatch(job, to_map, engine, hook, plan=job.plan(mapping=True))
        mapped.update((m["shard"], m) for m in markers)
    if failures:
        return [], failures
    # The global step needs every shard's keys, finished shards included.
    for s in shards:
        if s.shard_id not in mapped:
            mapped[s.shard_id] = orjson.loads(layout.map_marker(s.shard_id).read_bytes())
    _global_phase(job, shards, mapped, hook)
    slices = _shard_slices(job, shards, mapped)
    hook("phase", {"name": f"writing {len(todo)} shard(s)"})
    task = ray.remote(_finish_task).options(num_cpus=_chain_resources(job.post_stages).num_cpus, max_retries=2)
    job_ref = ray.put(job)
    finished: list[dict[str, Any]] = []

    def collect(ref: Any, shard: InputShard) -> None:
        try:
            finished.append(ray.get(ref))
        except (ray.exceptions.RayError, BabelmillError) as exc:
            msg = f"shard {shard.shard_id} ({shard.describe()}): {_one_line(exc)}"
            failures.append(msg)
            log.error(msg)
            hook("shard_failed", {"shard": shard, "error": msg})

    cpus = int(ray.cluster_resources().get("CPU", 1))
    _run_tasks(lambda s: task.remote(s, job_ref, *slices[s.shard_id]), todo, engine.max_in_flight or max(4, 2 * cpus), collect)
    return finished, failures


def _merged_stats(markers: list[dict[str, Any]]) -> tuple[SideStats | None, SideStats | None]:
    """Sum the shards' histograms; None if a marker predates them."""
    if not markers or any("stats" not in m for m in markers):
        return None, None
    kept, rejected = SideStats(), SideStats()
    for m in markers:
        kept.add(SideStats.from_dict(m["stats"]["kept"]))
        rejected.add(SideStats.from_dict(m["stats"]["rejected"]))
    return kept, rejected


def _run_stats(markers: list[dict[str, Any]], layout: OutputLayout, fmt: str) -> tuple[SideStats, SideStats]:
    """The histograms the card and the report share: merged from the markers, or, for
    markers written before they carried them, one scan of the output for both."""
    kept, rejected = _merged_stats(markers)
    if kept is None or rejected is None:
        root = glob.escape(str(layout.root))
        kept = side_stats(sorted(glob.glob(os.path.join(root, layout.data_glob()))), fmt)
        rejected = side_stats(sorted(glob.glob(os.path.join(root, "rejected", "*.parquet"))), "parquet")
    return kept, rejected


def run(job: Job, engine: EngineOptions | None = None, overwrite: bool = False, hook: ProgressHook | None = None) -> RunResult:
    """Run (or resume) a job; returns the merged ledger and what happened.

    Raises :class:`BabelmillError` for anything the user can fix.  Failed shards do not
    stop the others; they are listed in the result and a rerun retries only them.
    """
    engine = engine or EngineOptions()
    hook = hook or (lambda event, data: None)
    started = time.perf_counter()
    layout = job.layout()
    shards = discover_shards(job.inputs, job.input_format, job.reader.text_mode, job.reader.hf_split, job.reader.split_bytes)
    if not shards:
        raise BabelmillError("the inputs hold no shard to process")
    _prepare_output(job, shards, overwrite)
    done = {s.shard_id: orjson.loads(layout.marker(s.shard_id).read_bytes()) for s in shards if layout.marker(s.shard_id).exists()}
    pending = [s for s in shards if s.shard_id not in done]
    hook("start", {"shards": shards, "skipped": len(done)})
    for shard in shards:
        if shard.shard_id in done:
            hook("shard_skipped", {"shard": shard, "marker": done[shard.shard_id]})
    ray_seconds = 0.0
    failures: list[str] = []
    nodes: set[str] = set()
    finished = dict(done)
    if pending:
        ray_seconds = init_ray(engine)
        hook("ray_ready", {"seconds": ray_seconds})
        if job.global_stage is not None:
            markers, failures = _run_phased(job, shards, done, engine, hook)
        else:
            markers, failures = _dispatch(job, pending, engine, hook)
        nodes = {m.get("node", "") for m in markers}
        finished.update((m["shard"], m) for m in markers)
    in_order = [finished[s.shard_id] for s in shards if s.shard_id in finished]
    ledger = Ledger.merge([Ledger.from_dict(m["ledger"], m.get("timing")) for m in in_order], job.all_stage_names())
    global_done = layout.global_dir / "done.json"
    if job.global_stage is not None and global_done.exists():
        # The global step's own counters (clusters, ...) are counted once, not per shard.
        ledger.stage(job.global_stage.name).counters.update(orjson.loads(global_done.read_bytes()).get("counters", {}))
    hook("finish", {})
    if not failures:
        atomic_write_bytes(layout.ledger, orjson.dumps(ledger.to_dict(), option=orjson.OPT_INDENT_2))
        # seconds and documents/s per stage: apart from ledger.json, which reruns reproduce byte for byte
        atomic_write_bytes(layout.root / "timing.json", orjson.dumps({"stages": ledger.timing()}, option=orjson.OPT_INDENT_2))
        kept, rejected = _run_stats(in_order, layout, job.output_format)
        write_dataset_card(job, ledger, shards, kept)
        write_report(layout.root, ledger, job.output_format, title=f"{layout.root.name} ({job.name})", kept=kept, rejected=rejected)
    return RunResult(ledger, layout.root, len(shards), len(done), time.perf_counter() - started, ray_seconds, failures, nodes)
