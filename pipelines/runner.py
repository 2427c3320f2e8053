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

from pipelines.card import write_dataset_card
from pipelines.executor import STATE_DIR, OutputLayout, run_shard, stage_names
from pipelines.ledger import Ledger
from pipelines.report import write_report
from pipelines.stats import SideStats, side_stats
from processors.base import Resources, Stage
from processors.errors import BabelmillError
from processors.io import InputShard, ReaderOptions, discover_shards
from processors.io.writers import atomic_write_bytes, remove_stale_tmp

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

    def layout(self) -> OutputLayout:
        return OutputLayout(Path(self.output), self.output_format)


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
        "stages": [{"stage": s.name, "class": type(s).__name__, "config": s.config()} for s in job.stages],
        "shards": [[s.kind, list(s.sources), s.size_bytes(), list(s.row_range) if s.row_range else None] for s in shards],
    }
    digest = hashlib.sha256(orjson.dumps(ident, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()
    return {"fingerprint": digest, "identity": ident}


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


def _shard_task(shard: InputShard, reader: ReaderOptions, stages: list[Stage], layout: OutputLayout) -> dict[str, Any]:
    import ray

    for stage in stages:
        stage.setup()
    return run_shard(shard, reader, stages, layout, extra={"node": ray.get_runtime_context().get_node_id()})


class _ShardWorker:
    """Actor body for stateful chains: ``setup()`` once, then shard after shard."""

    def __init__(self, reader: ReaderOptions, stages: list[Stage], layout: OutputLayout) -> None:
        self.reader, self.stages, self.layout = reader, stages, layout
        for stage in stages:
            stage.setup()

    def run(self, shard: InputShard) -> dict[str, Any]:
        import ray

        return run_shard(shard, self.reader, self.stages, self.layout, extra={"node": ray.get_runtime_context().get_node_id()})


def _one_line(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None) or exc
    text = f"{type(cause).__name__}: {cause}".strip()
    text = text.splitlines()[-1] if "\n" in text else text
    if isinstance(cause, ModuleNotFoundError) or "ModuleNotFoundError" in text:
        text += " (install babelmill and its dependencies on every Ray node)"
    return text


def _dispatch(job: Job, pending: list[InputShard], engine: EngineOptions, hook: ProgressHook) -> tuple[list[dict[str, Any]], list[str]]:
    import ray

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
            hook("shard_done", {"shard": shard, "marker": marker})
        except (ray.exceptions.RayError, BabelmillError) as exc:
            msg = f"shard {shard.shard_id} ({shard.describe()}): {_one_line(exc)}"
            failures.append(msg)
            log.error(msg)
            hook("shard_failed", {"shard": shard, "error": msg})

    if stateful:
        by = (gpus / res.num_gpus) if res.num_gpus else (cpus / max(res.num_cpus, 1e-9))
        n_actors = max(1, min(len(pending), int(by)))
        worker_cls = ray.remote(_ShardWorker).options(**opts)
        actors = [worker_cls.remote(job.reader, job.stages, layout) for _ in range(n_actors)]
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
    limit = engine.max_in_flight or max(4, 2 * cpus)
    queue = list(pending)
    running_tasks: dict[Any, InputShard] = {}
    while queue or running_tasks:
        while queue and len(running_tasks) < limit:
            shard = queue.pop(0)
            running_tasks[task.remote(shard, job.reader, stages_ref, layout)] = shard
        done, _ = ray.wait(list(running_tasks), num_returns=1, timeout=1.0)
        for ref in done:
            finish(ref, running_tasks.pop(ref))
    return markers, failures


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
        kept = side_stats(sorted(glob.glob(os.path.join(root, "data", f"*.{fmt}"))), fmt)
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
    shards = discover_shards(job.inputs, job.input_format, job.reader.text_mode, job.reader.hf_split)
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
        markers, failures = _dispatch(job, pending, engine, hook)
        nodes = {m.get("node", "") for m in markers}
        finished.update((m["shard"], m) for m in markers)
    in_order = [finished[s.shard_id] for s in shards if s.shard_id in finished]
    ledger = Ledger.merge([Ledger.from_dict(m["ledger"]) for m in in_order], stage_names(job.stages))
    hook("finish", {})
    if not failures:
        atomic_write_bytes(layout.ledger, orjson.dumps(ledger.to_dict(), option=orjson.OPT_INDENT_2))
        kept, rejected = _run_stats(in_order, layout, job.output_format)
        write_dataset_card(job, ledger, shards, kept)
        write_report(layout.root, ledger, job.output_format, title=f"{layout.root.name} ({job.name})", kept=kept, rejected=rejected)
    return RunResult(ledger, layout.root, len(shards), len(done), time.perf_counter() - started, ray_seconds, failures, nodes)
