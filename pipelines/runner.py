"""The only module that talks to Ray.

One Ray task per shard runs the whole chain of per-row stages in-process (measured on
this project's reference machine: as fast as plain pyarrow once Ray is up, where Ray
Data was 7-10x slower).  Chains holding models (``Stage.stateful``) run in a pool of
long-lived actors instead, sized by the GPUs or CPUs the stages declare, so a model is
loaded once per worker.  Finished shards leave a marker; a rerun skips them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

import orjson

from babelmill.pipelines.card import write_dataset_card
from babelmill.pipelines.executor import STATE_DIR, OutputLayout, ShardPlan, finish_shard, run_shard

# Job, EngineOptions and RunResult live in the Ray-free job module; imported from here too
from babelmill.pipelines.job import EngineOptions, Job, ProgressHook, RunResult
from babelmill.pipelines.ledger import Ledger, LedgerError
from babelmill.pipelines.lock import LOCK_NAME, OutputLock
from babelmill.pipelines.report import write_report
from babelmill.pipelines.stats import SideStats, side_stats
from babelmill.processors.base import GlobalStage, GlobalStep, Resources, Stage
from babelmill.processors.errors import BabelmillError
from babelmill.processors.io import InputShard, ReaderOptions, discover_shards, storage
from babelmill.processors.io.writers import atomic_write_bytes, remove_stale_tmp

__all__ = ["EngineOptions", "Job", "ProgressHook", "RunResult", "fingerprint", "init_ray", "run"]

log = logging.getLogger(__name__)

#: What ``--overwrite`` removes: only what a run writes, never other files in the folder.
_RUN_OUTPUTS = ("data", "rejected", "quarantine", STATE_DIR, "ledger.json", "README.md", "report.html", "report")


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
        "shards": [
            [s.kind, list(s.sources), s.size_bytes(), list(s.row_range) if s.row_range else None] for s in shards
        ],
    }
    digest = hashlib.sha256(orjson.dumps(ident, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()
    return {"fingerprint": digest, "identity": ident}


def _all_stages(job: Job) -> list[Stage]:
    return list(job.stages) + ([job.global_stage] if job.global_stage is not None else []) + list(job.post_stages)


def _prepare_output(job: Job, shards: list[InputShard], overwrite: bool) -> None:
    """Check the output against the run it holds and record this run (before Ray starts:
    on an object store this first write also proves the bucket exists and is writable)."""
    layout = job.layout()
    with storage.storage_errors("--output", str(layout.root)):
        _prepare_output_in(job, layout, shards, overwrite)


def _prepare_output_in(job: Job, layout: OutputLayout, shards: list[InputShard], overwrite: bool) -> None:
    root = layout.root
    ident = fingerprint(job, shards)
    if layout.run_file.exists():
        try:
            previous = orjson.loads(layout.run_file.read_bytes())
        except orjson.JSONDecodeError:
            previous = {}  # a damaged record proves nothing: treated as another command's
        if not isinstance(previous, dict) or previous.get("fingerprint") != ident["fingerprint"]:
            if not overwrite:
                raise BabelmillError(
                    f"{root} holds the output of a different command (parameters or inputs changed); "
                    "rerun the original command to resume it, pass --overwrite to replace it, or choose another --output"
                )
            _clear(root)
    elif root.exists() and any(p.name != LOCK_NAME for p in root.iterdir()):
        if not overwrite:
            raise BabelmillError(
                f"{root} exists and is not empty; pass --overwrite to write into it, or choose another --output"
            )
        _clear(root)
    storage.make_parent(root / "run.json")
    record = {**ident, "command": job.command}
    atomic_write_bytes(
        layout.run_file, orjson.dumps(record, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS, default=str)
    )
    removed = remove_stale_tmp(root)
    if removed:
        log.info("removed %d temporary files left by an interrupted run", removed)


def _clear(root: Path) -> None:
    for name in _RUN_OUTPUTS:
        storage.remove(root / name)


def _read_marker(path: Path, shard_id: str, root: Path) -> dict[str, Any] | None:
    """A shard's completion marker, or None when it is missing or cannot be trusted.

    Markers are written atomically, but a crash on a file system without atomic rename,
    a full disk or a hand edit can leave one truncated or wrong; such a marker is
    removed and its shard redone rather than trusted (or crashing the rerun).
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        marker = orjson.loads(data)
        ok = isinstance(marker, dict) and marker.get("shard") == shard_id and isinstance(marker.get("outputs"), dict)
        if ok:
            Ledger.from_dict(marker["ledger"], marker.get("timing")).check()
            ok = all(isinstance(o, str) and (root / o).exists() for o in marker["outputs"].values())
    except (orjson.JSONDecodeError, LedgerError, KeyError, TypeError, ValueError, AttributeError):
        ok = False
    if not ok:
        log.warning("the marker %s is damaged or names missing files; shard %s is redone", path, shard_id)
        storage.remove(path)
        return None
    return marker


#: thread-pool sizes set to one per worker in an embedded cluster (see ``init_ray``)
WORKER_THREAD_VARS = ("RAYON_NUM_THREADS", "POLARS_MAX_THREADS")


def _chain_resources(stages: list[Stage]) -> Resources:
    return Resources.widest([s.resources for s in stages])


def _is_loopback(address: str) -> bool:
    host = address.split("://")[-1].rsplit(":", 1)[0].strip("[]")
    return host in ("localhost", "::1") or host.startswith("127.")


def cap_worker_threads(opts: EngineOptions, environ: dict[str, str] | None = None) -> None:
    """One thread per pool in the workers of an embedded cluster.

    Each shard task holds one CPU, but rayon (heliport) and polars size their thread
    pools to the machine: on 2 cores, two shards ran four busy pools.  Capping them in
    the embedded cluster's workers (which inherit this environment) took the
    20,000-page WARC run from 98.5 to 113 pages/s and a one-shard run's CPU time from
    579 to 378 s at the same wall time.  A user's own setting wins; a cluster joined at
    ``--ray-address`` keeps its workers' environment.
    """
    if opts.ray_address:
        return
    env = os.environ if environ is None else environ
    for var in WORKER_THREAD_VARS:
        env.setdefault(var, "1")


def init_ray(opts: EngineOptions) -> float:
    """Join the cluster at ``ray_address`` or start an embedded one; returns seconds spent."""
    if not opts.ray_address or _is_loopback(opts.ray_address):
        # An embedded Ray serves this process only, and a cluster addressed on loopback
        # listens there: without this Ray swaps 127.0.0.1 for the machine's public address.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        constants = sys.modules.get("ray._private.ray_constants")
        if constants is not None:
            constants.ENABLE_RAY_CLUSTER = os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] not in (
                "0",
                "false",
                "False",
            )
    import ray

    if ray.is_initialized():
        return 0.0
    cap_worker_threads(opts)
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
        raise BabelmillError(
            f"cannot reach a Ray cluster at {opts.ray_address!r} ({exc}); start one with `ray start --head` or drop --ray-address"
        ) from exc
    return time.perf_counter() - started


def _node() -> dict[str, Any]:
    import ray

    return {"node": ray.get_runtime_context().get_node_id()}


def _shard_task(
    shard: InputShard, reader: ReaderOptions, stages: list[Stage], layout: OutputLayout, plan: ShardPlan
) -> dict[str, Any]:
    for stage in stages:
        stage.setup()
    return run_shard(shard, reader, stages, layout, extra=_node(), plan=plan)


class _ShardWorker:
    """Actor body for stateful chains: ``setup()`` once, then shard after shard.

    Failures come back as values, ``(shard_id, marker, None)`` or ``(shard_id, None,
    error)``, so a pool of these can say which shard failed; a setup that failed fails
    every shard sent to the worker with its message.
    """

    def __init__(self, reader: ReaderOptions, stages: list[Stage], layout: OutputLayout, plan: ShardPlan) -> None:
        self.reader, self.stages, self.layout, self.plan = reader, stages, layout, plan
        self.setup_error: str | None = None
        try:
            for stage in stages:
                stage.setup()
        except Exception as exc:  # noqa: BLE001 - reported per shard by run()
            self.setup_error = _one_line(exc)

    def run(self, shard: InputShard) -> tuple[str, dict[str, Any] | None, str | None]:
        if self.setup_error is not None:
            return shard.shard_id, None, self.setup_error
        try:
            return (
                shard.shard_id,
                run_shard(shard, self.reader, self.stages, self.layout, extra=_node(), plan=self.plan),
                None,
            )
        except Exception as exc:  # noqa: BLE001 - one shard's failure must not stop the others
            return shard.shard_id, None, _one_line(exc)


def _finish_task(shard: InputShard, job: Job, resolved: Any, offset: int) -> dict[str, Any]:
    for stage in job.post_stages:
        stage.setup()
    return finish_shard(
        shard, job.stages, job.global_stage, resolved, offset, job.post_stages, job.layout(), job.plan(), extra=_node()
    )


def _one_line(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None) or exc
    text = f"{type(cause).__name__}: {cause}".strip()
    text = text.splitlines()[-1] if "\n" in text else text
    if isinstance(cause, ModuleNotFoundError) or "ModuleNotFoundError" in text:
        text += " (install babelmill and its dependencies on every Ray node)"
    return text


class _Outcomes:
    """Markers of the shards that finished and one line per shard that failed.

    The one place a shard's result is collected, whichever way it ran (task, actor,
    finish phase); ``done_event`` (None: none) is what the progress hook hears.
    """

    def __init__(self, hook: ProgressHook, done_event: str | None = "shard_done") -> None:
        self.hook, self.done_event = hook, done_event
        self.markers: list[dict[str, Any]] = []
        self.failures: list[str] = []

    def ok(self, shard: InputShard, marker: dict[str, Any]) -> None:
        self.markers.append(marker)
        if self.done_event:
            self.hook(self.done_event, {"shard": shard, "marker": marker})

    def failed(self, shard: InputShard, error: str) -> None:
        msg = f"shard {shard.shard_id} ({shard.describe()}): {error}"
        self.failures.append(msg)
        log.error(msg)
        self.hook("shard_failed", {"shard": shard, "error": msg})

    def collect(self, ref: Any, shard: InputShard) -> None:
        """Wait for one task's result and record it."""
        import ray

        try:
            marker = ray.get(ref)
        except (ray.exceptions.RayError, BabelmillError) as exc:
            self.failed(shard, _one_line(exc))
            return
        self.ok(shard, marker)


def _dispatch(
    job: Job,
    pending: list[InputShard],
    engine: EngineOptions,
    hook: ProgressHook,
    plan: ShardPlan | None = None,
    done_event: str = "shard_done",
) -> tuple[list[dict[str, Any]], list[str]]:
    import ray

    plan = plan or job.plan()
    res = _chain_resources(job.stages)
    layout = job.layout()
    cluster = ray.cluster_resources()
    cpus = int(cluster.get("CPU", 1))
    gpus = int(cluster.get("GPU", 0))
    outcomes = _Outcomes(hook, done_event)
    opts: dict[str, Any] = dict(res.ray_options())
    if res.num_gpus > gpus:
        raise BabelmillError(
            f"the stages need {res.num_gpus} GPU per worker but the Ray cluster has {gpus}; run on a GPU machine or pick a CPU device"
        )

    if any(s.stateful for s in job.stages):
        by = (gpus / res.num_gpus) if res.num_gpus else (cpus / max(res.num_cpus, 1e-9))
        n_actors = max(1, min(len(pending), int(by)))
        worker_cls = ray.remote(_ShardWorker).options(**opts)
        actors = [worker_cls.remote(job.reader, job.stages, layout, plan) for _ in range(n_actors)]
        _run_on_actors(actors, pending, outcomes)
        for actor in actors:
            ray.kill(actor)
        return outcomes.markers, outcomes.failures

    task = ray.remote(_shard_task).options(**opts, scheduling_strategy="SPREAD", max_retries=2)
    stages_ref = ray.put(job.stages)
    submit = lambda shard: task.remote(shard, job.reader, stages_ref, layout, plan)  # noqa: E731
    _run_tasks(submit, pending, engine.max_in_flight or max(4, 2 * cpus), outcomes.collect)
    return outcomes.markers, outcomes.failures


def _run_on_actors(actors: list[Any], pending: list[InputShard], outcomes: _Outcomes) -> None:
    """Shard after shard on a pool of long-lived workers (``ray.util.ActorPool``).

    Workers return failures as values; only a worker that died outright raises, and
    the shards it held are then reported failed with that error once the pool drains.
    """
    import ray
    from ray.util import ActorPool

    pool = ActorPool(actors)
    left = {s.shard_id: s for s in pending}
    for shard in pending:
        pool.submit(lambda actor, s: actor.run.remote(s), shard)
    lost: list[str] = []
    while pool.has_next():
        try:
            shard_id, marker, error = pool.get_next_unordered()
        except ray.exceptions.RayError as exc:
            lost.append(_one_line(exc))
            continue
        shard = left.pop(shard_id)
        if error is None:
            outcomes.ok(shard, marker)
        else:
            outcomes.failed(shard, error)
    for shard in left.values():
        outcomes.failed(shard, lost[0] if lost else "the worker holding it stopped")


def _run_tasks(
    submit: Callable[[InputShard], Any],
    pending: list[InputShard],
    limit: int,
    finish: Callable[[Any, InputShard], None],
) -> None:
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
# A global stage (``GlobalStage``: dedup, ...) is run in three phases.  Map: each shard
# task runs the per-row stages and writes its kept rows plus the stage's per-row
# ``keys``.  Global: one Ray task per step the stage declares reads that step's key
# columns from every shard; one more task ``combine``-s the steps' results into the
# resolved table.  Finish: each shard task applies the decision (the stage's ``mark``),
# runs ``post_stages`` and writes the data.  Every phase leaves markers, so a killed
# run resumes in the phase it was in.


def _step_task(stage: GlobalStage, step: GlobalStep, paths: list[str]) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = list(step.columns)
    parts = [pq.read_table(storage.arrow_source(p), columns=columns) for p in paths]
    keys = pa.concat_tables(parts) if parts else stage.key_schema().empty_table().select(columns)
    return stage.run_step(step, keys)


def _combine_task(stage: GlobalStage, n_docs: int, names: list[str], *results: Any) -> tuple[Any, dict[str, int]]:
    resolved = stage.combine(n_docs, dict(zip(names, results)))
    counters = {name: 0 for name in stage.global_counters}
    counters.update(stage.take_counters())
    return resolved, counters


def _global_phase(
    job: Job, shards: list[InputShard], mapped: dict[str, dict[str, Any]], hook: ProgressHook
) -> dict[str, Any]:
    """Run (or load) the global decision; returns its summary (also written to disk)."""
    import pyarrow.parquet as pq
    import ray

    layout = job.layout()
    done_file = layout.global_dir / "done.json"
    if done_file.exists() and (layout.global_dir / "result.parquet").exists():
        try:
            return orjson.loads(done_file.read_bytes())
        except orjson.JSONDecodeError:
            log.warning("%s is damaged; the global step is redone", done_file)
    started = time.perf_counter()
    stage = job.global_stage
    assert stage is not None
    paths = [str(layout.signatures(s.shard_id)) for s in shards]
    n_docs = sum(int(mapped[s.shard_id]["ledger"]["kept"]) for s in shards)
    hook("phase", {"name": f"{stage.name}: global step over {n_docs:,} documents"})
    stage_ref = ray.put(stage)
    steps = stage.steps()
    step_task = ray.remote(_step_task)
    refs = [step_task.remote(stage_ref, step, paths) for step in steps]
    result, counters = ray.get(ray.remote(_combine_task).remote(stage_ref, n_docs, [st.name for st in steps], *refs))
    out = layout.global_dir / "result.parquet"
    storage.make_parent(out)
    tmp = storage.staging_path(out)
    pq.write_table(result, tmp)
    storage.publish(tmp, out)
    figures = stage.summary(result)
    summary = {
        "documents": n_docs,
        **figures,
        "seconds": round(time.perf_counter() - started, 3),
        "counters": {k: int(v) for k, v in counters.items()},
    }
    atomic_write_bytes(done_file, orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    said = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in figures.items())
    hook("phase", {"name": f"{stage.name}: {said + ' ' if said else ''}in {summary['seconds']:.1f} s"})
    return summary


def _shard_slices(job: Job, shards: list[InputShard], mapped: dict[str, dict[str, Any]]) -> dict[str, tuple[Any, int]]:
    """Each shard's part of the global result and the global index of its first row."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    result = pq.read_table(storage.arrow_source(job.layout().global_dir / "result.parquet"))
    docs = result.column("doc").to_numpy()
    slices = {}
    offset = 0
    for s in shards:
        n = int(mapped[s.shard_id]["ledger"]["kept"])
        slices[s.shard_id] = (result.filter(pa.array((docs >= offset) & (docs < offset + n))), offset)
        offset += n
    return slices


def _run_phased(
    job: Job, shards: list[InputShard], done: dict[str, Any], engine: EngineOptions, hook: ProgressHook
) -> tuple[list[dict[str, Any]], list[str]]:
    """Map, global, finish for the shards without a final marker."""
    import ray

    layout = job.layout()
    todo = [s for s in shards if s.shard_id not in done]
    mapped = {
        s.shard_id: m for s in todo if (m := _read_marker(layout.map_marker(s.shard_id), s.shard_id, layout.root))
    }
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
        if s.shard_id not in mapped:  # run() checked these markers before counting the shard done
            mapped[s.shard_id] = orjson.loads(layout.map_marker(s.shard_id).read_bytes())
    _global_phase(job, shards, mapped, hook)
    slices = _shard_slices(job, shards, mapped)
    hook("phase", {"name": f"writing {len(todo)} shard(s)"})
    task = ray.remote(_finish_task).options(**_chain_resources(job.post_stages).ray_options(), max_retries=2)
    job_ref = ray.put(job)
    outcomes = _Outcomes(hook, done_event=None)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    _run_tasks(
        lambda s: task.remote(s, job_ref, *slices[s.shard_id]),
        todo,
        engine.max_in_flight or max(4, 2 * cpus),
        outcomes.collect,
    )
    return outcomes.markers, outcomes.failures


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
    kept_files = storage.glob_under(layout.root, layout.data_glob())
    rejected_files = storage.glob_under(layout.root, "rejected/*.parquet")
    kept, rejected = _merged_stats(markers)
    if kept is None or rejected is None:
        return side_stats(kept_files, fmt), side_stats(rejected_files, "parquet")
    # Markers carry histograms, not file counts (one shard writes one file per language).
    kept.files, rejected.files = len(kept_files), len(rejected_files)
    return kept, rejected


def run(
    job: Job, engine: EngineOptions | None = None, overwrite: bool = False, hook: ProgressHook | None = None
) -> RunResult:
    """Run (or resume) a job; returns the merged ledger and what happened.

    Raises :class:`BabelmillError` for anything the user can fix.  Failed shards do not
    stop the others; they are listed in the result and a rerun retries only them.
    """
    engine = engine or EngineOptions()
    hook = hook or (lambda event, data: None)
    started = time.perf_counter()
    layout = job.layout()
    shards = discover_shards(
        job.inputs, job.input_format, job.reader.text_mode, job.reader.hf_split, job.reader.split_bytes
    )
    if not shards:
        raise BabelmillError("the inputs hold no shard to process")
    if not storage.is_remote(layout.root) and layout.root.exists() and not layout.root.is_dir():
        raise BabelmillError(f"--output {layout.root} is a file; pass a folder (it is created if missing)")
    lock = OutputLock(layout.root)
    try:
        lock.acquire()
        _prepare_output(job, shards, overwrite)
    except OSError as exc:
        lock.release()
        raise BabelmillError(f"cannot write to --output {layout.root}: {exc.strerror or exc}") from exc
    except BaseException:
        lock.release()
        raise
    try:
        return _run_locked(job, shards, engine, hook, started)
    finally:
        lock.release()


def _done_markers(job: Job, shards: list[InputShard]) -> dict[str, dict[str, Any]]:
    """The shards a rerun skips: a trusted final marker (and, with a global stage, a
    trusted map marker too, since the global step reads every shard's)."""
    layout = job.layout()
    done = {}
    for s in shards:
        marker = _read_marker(layout.marker(s.shard_id), s.shard_id, layout.root)
        if marker is None:
            continue
        if (
            job.global_stage is not None
            and _read_marker(layout.map_marker(s.shard_id), s.shard_id, layout.root) is None
        ):
            storage.remove(layout.marker(s.shard_id))
            continue
        done[s.shard_id] = marker
    return done


def _run_locked(
    job: Job, shards: list[InputShard], engine: EngineOptions, hook: ProgressHook, started: float
) -> RunResult:
    layout = job.layout()
    done = _done_markers(job, shards)
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
        atomic_write_bytes(
            layout.root / "timing.json", orjson.dumps({"stages": ledger.timing()}, option=orjson.OPT_INDENT_2)
        )
        kept, rejected = _run_stats(in_order, layout, job.output_format)
        write_dataset_card(job, ledger, shards, kept)
        write_report(
            layout.root,
            ledger,
            job.output_format,
            title=f"{layout.root.name} ({job.name})",
            kept=kept,
            rejected=rejected,
        )
        if job.finalize is not None:
            job.finalize(job, ledger)
    # Every task has ended: what is left under a temporary name is a killed attempt's
    # (a worker that died mid-shard, whose retry wrote the real file).
    remove_stale_tmp(layout.root)
    return RunResult(
        ledger, layout.root, len(shards), len(done), time.perf_counter() - started, ray_seconds, failures, nodes
    )
