"""Faults a cluster has, injected and survived: a worker killed mid-shard, a shard that
crashes its worker on every attempt, SIGINT of the driver, two runs into one folder,
an output folder that cannot be written, damaged completion markers.

Each one ends in the same place: ``input == kept + rejected + quarantined`` in the
ledger and, after the rerun, the same bytes as an uninterrupted run.  Worker faults run
on the suite's shared Ray session (a stage that SIGKILLs the worker it runs in, as the
OOM killer would); driver faults run ``babelmill`` as a subprocess with its own Ray.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

import orjson
import pyarrow as pa
import pytest

from ray_cluster import babelmill_cmd, copy_args, run_cli, session_processes, start_cli

from babelmill.pipelines.jobs import copy_job
from babelmill.pipelines.lock import LOCK_NAME, OutputLock
from babelmill.pipelines.runner import Job, run
from babelmill.processors.base import Stage
from babelmill.processors.errors import BabelmillError
from babelmill.processors.io import ReaderOptions
from babelmill.processors.validate import EmptyTextFilter

FILES = 10
DOCS_PER_LANG = 500  # ~7.5k records, ~750 per shard
#: Embedded Ray on loopback only, wide output (rich would wrap the lines read here).
ENV = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")} | {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "COLUMNS": "250",
}
OUTPUT_DIRS = ("data", "rejected", "quarantine")
#: several batches per shard, so that a kill lands in the middle of one
SMALL_CHUNKS = ReaderOptions(chunk_bytes=256 * 1024)

pytestmark = [pytest.mark.timeout(300), pytest.mark.ray]


# --------------------------------------------------------------------------- helpers


class KillsItsWorker(Stage):
    """SIGKILLs the process it runs in on the second batch of ``source``: only on the
    first attempt (``always=False``: a marker file in ``state`` says it happened), or on
    every attempt while ``state/poison`` exists.  Each attempt at the shard appends its
    PID to ``state/attempts``."""

    name: ClassVar[str] = "killer"

    def __init__(self, source: str, state: str, always: bool = False) -> None:
        self.source, self.state, self.always = source, state, always
        self._batches = 0

    def __call__(self, batch: pa.Table) -> pa.Table:
        if self.source not in batch.column("source").to_pylist():
            return batch
        self._batches += 1
        state = Path(self.state)
        if self._batches == 1:
            with open(state / "attempts", "a") as fh:
                fh.write(f"{os.getpid()}\n")
        if self._batches == 2:
            armed = (state / "poison").exists() if self.always else not (state / "killed").exists()
            if armed:
                (state / "killed").touch()
                os.kill(os.getpid(), signal.SIGKILL)
        return batch


def ledger_of(out: Path) -> dict:
    led = orjson.loads((out / "ledger.json").read_bytes())
    assert led["input"] + led.get("added", 0) == led["kept"] + led["rejected"] + led["quarantined"]
    return led


def markers(out: Path) -> list[Path]:
    d = out / "_babelmill" / "done"
    return sorted(d.glob("*.json")) if d.is_dir() else []


def outputs(out: Path) -> dict[str, bytes]:
    """Every file of data/, rejected/ and quarantine/ (relative path -> bytes)."""
    return {
        str(p.relative_to(out)): p.read_bytes()
        for sub in OUTPUT_DIRS
        for p in sorted((out / sub).rglob("*"))
        if p.is_file()
    }


def assert_same_bytes(got: Path, want: Path) -> None:
    """The same ledger and byte-identical outputs, nothing left under a temporary name."""
    assert (got / "ledger.json").read_bytes() == (want / "ledger.json").read_bytes()
    a, b = outputs(got), outputs(want)
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name] == b[name], f"{name} differs"
    assert not [p for p in got.rglob(".*.tmp-*")], "temporary files left behind"
    assert not (got / LOCK_NAME).exists(), "the lock outlived the run"


def mtimes(paths: list[Path]) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in paths}


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip() and "authentication_token" not in line]
    assert len(lines) == 1, lines
    assert lines[0].startswith("error:"), lines[0]
    assert "unexpected" not in lines[0] and "Traceback" not in stderr
    return lines[0]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    from babelmill.sample import write_sample

    d = tmp_path_factory.mktemp("faults") / "input"
    write_sample(d, docs_per_lang=DOCS_PER_LANG, files=FILES, seed=11, malformed=True)
    return d


@pytest.fixture(scope="module")
def reference(ray_session, corpus, tmp_path_factory) -> Path:
    """The uninterrupted copy run the faulted ones are compared with."""
    out = tmp_path_factory.mktemp("reference") / "out"
    run(copy_job([str(corpus)], out))
    led = ledger_of(out)
    assert led["kept"] and led["rejected"] and led["quarantined"]
    assert len(markers(out)) == FILES
    return out


def killer_job(corpus: Path, out: Path, state: Path, always: bool = False) -> Job:
    stages = [KillsItsWorker("sample-03.jsonl", str(state), always), EmptyTextFilter()]
    return Job("copy", [str(corpus)], out, stages, SMALL_CHUNKS)


@pytest.fixture(scope="module")
def killer_reference(ray_session, corpus, tmp_path_factory) -> Path:
    """The killer chain run without a fault (it never fires: no poison, already "killed")."""
    base = tmp_path_factory.mktemp("killer-reference")
    (base / "state").mkdir()
    (base / "state" / "killed").touch()
    run(killer_job(corpus, base / "out", base / "state"))
    return base / "out"


# --------------------------------------------------------------------------- worker faults


def test_worker_killed_mid_shard_is_retried_and_the_shard_written_once(corpus, killer_reference, tmp_path) -> None:
    got_state = tmp_path / "got-state"
    got_state.mkdir()
    result = run(killer_job(corpus, tmp_path / "got", got_state))
    assert not result.failures
    attempts = (got_state / "attempts").read_text().split()
    assert (got_state / "killed").exists() and len(attempts) == 2 and attempts[0] != attempts[1], attempts
    assert len(markers(tmp_path / "got")) == FILES
    ledger_of(tmp_path / "got")
    assert_same_bytes(tmp_path / "got", killer_reference)


def test_shard_failing_every_attempt_is_reported_and_rerun_alone(corpus, killer_reference, tmp_path) -> None:
    got_state = tmp_path / "got-state"
    got_state.mkdir()

    out = tmp_path / "got"
    (got_state / "poison").touch()
    first = run(killer_job(corpus, out, got_state, always=True))
    # Ray retried it (max_retries=2) and gave up; every other shard finished.
    assert len((got_state / "attempts").read_text().split()) == 3
    assert len(first.failures) == 1 and first.failures[0].startswith("shard 00003 (sample-03.jsonl)"), first.failures
    assert len(markers(out)) == FILES - 1
    assert not (out / "ledger.json").exists()  # an incomplete run has no final ledger
    before = mtimes(markers(out))

    (got_state / "poison").unlink()
    second = run(killer_job(corpus, out, got_state, always=True))
    assert not second.failures and second.shards_skipped == FILES - 1
    assert len((got_state / "attempts").read_text().split()) == 4  # only the failed shard ran again
    after = mtimes(markers(out))
    assert {k: v for k, v in after.items() if k in before} == before
    ledger_of(out)
    assert_same_bytes(out, killer_reference)


def test_damaged_markers_are_not_trusted(ray_session, corpus, reference, tmp_path) -> None:
    out = tmp_path / "out"
    shutil.copytree(reference, out)
    done = out / "_babelmill" / "done"
    half = (done / "00001.json").read_bytes()
    (done / "00001.json").write_bytes(half[: len(half) // 2])  # truncated by a crash
    (done / "00004.json").write_bytes(b"")  # created, never written
    wrong = orjson.loads((done / "00007.json").read_bytes())
    wrong["ledger"]["kept"] += 1  # counts that do not add up
    (done / "00007.json").write_bytes(orjson.dumps(wrong))
    (out / "data" / "part-00009.parquet").unlink()  # the marker names a file that is gone
    (out / "ledger.json").unlink()
    redone = {"00001.json", "00004.json", "00007.json", "00009.json"}
    before = {k: v for k, v in mtimes(markers(out)).items() if k not in redone}

    result = run(copy_job([str(corpus)], out))
    assert not result.failures and result.shards_skipped == FILES - len(redone)
    assert {k: v for k, v in mtimes(markers(out)).items() if k not in redone} == before
    ledger_of(out)
    assert_same_bytes(out, reference)


def test_stale_lock_of_a_dead_run_is_taken_over(ray_session, corpus, reference, tmp_path) -> None:
    out = tmp_path / "out"
    shutil.copytree(reference, out)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / LOCK_NAME).write_bytes(orjson.dumps({"pid": dead.pid, "host": os.uname().nodename, "started": 0}))
    result = run(copy_job([str(corpus)], out))
    assert result.shards_skipped == FILES
    assert not (out / LOCK_NAME).exists()
    assert_same_bytes(out, reference)


def test_a_held_lock_refuses_a_second_run(tmp_path) -> None:
    held = OutputLock(tmp_path / "out")
    held.acquire()
    try:
        with pytest.raises(BabelmillError, match=rf"in use by another babelmill run \(pid {os.getpid()} "):
            OutputLock(tmp_path / "out").acquire()
    finally:
        held.release()
    again = OutputLock(tmp_path / "out")
    again.acquire()  # released: free again
    again.release()
    assert not (tmp_path / "out" / LOCK_NAME).exists()


# --------------------------------------------------------------------------- driver faults


def wait_for(condition, what: str, proc: subprocess.Popen, log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the run ended (rc={proc.returncode}) before {what}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no {what} after {timeout} s:\n{log.read_text()}"
        time.sleep(0.01)


def test_sigint_stops_cleanly_refuses_a_second_run_and_resumes(ray_session, corpus, reference, tmp_path) -> None:
    out = tmp_path / "out"
    log = tmp_path / "run.log"
    proc = start_cli(copy_args(corpus, out, "--num-cpus", "1"), ENV, log)
    try:
        # A second run into the same folder while the first holds it (it is starting Ray).
        wait_for(lambda: (out / LOCK_NAME).exists(), "lock file", proc, log)
        second = run_cli(copy_args(corpus, out), ENV)
        assert proc.poll() is None, "the first run ended before the second one was refused"
        assert second.returncode == 2, second.stderr
        line = one_line_error(second.stderr)
        assert "in use by another babelmill run" in line and f"pid {proc.pid} " in line, line

        wait_for(lambda: len(markers(out)) >= 1, "finished shard", proc, log)
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text(errors="replace")
    assert rc == 130, text
    assert "interrupted; rerun the same command to resume" in text and "Traceback" not in text
    deadline = time.monotonic() + 20
    while session_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not session_processes(proc.pid), "the interrupted run left processes behind"
    done = markers(out)
    assert 1 <= len(done) < FILES, f"{len(done)} of {FILES} shards finished: SIGINT came too late"
    assert not (out / "ledger.json").exists() and not (out / LOCK_NAME).exists()

    # The rerun: in this process, on the suite's Ray (a CLI rerun is test_resume's).
    result = run(copy_job([str(corpus)], out))
    assert result.shards_skipped == len(done) and not result.failures
    assert_same_bytes(out, reference)


def _without_dac_override() -> None:  # pragma: no cover - runs in the child before exec
    """Root writes anywhere (CAP_DAC_OVERRIDE); drop that capability from the bounding set,
    so the exec'd CLI is root without it and folder permissions apply to it as to a user."""
    import ctypes

    pr_capbset_drop, cap_dac_override = 24, 1
    if ctypes.CDLL(None, use_errno=True).prctl(pr_capbset_drop, cap_dac_override, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def test_unwritable_output_is_a_one_line_user_error(tmp_path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text('{"text": "hello"}\n')
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    preexec = _without_dac_override if os.getuid() == 0 else None
    try:
        for out in (locked / "out", locked):
            try:
                proc = subprocess.run(
                    babelmill_cmd(*copy_args(tmp_path / "in", out)),
                    env=ENV,
                    capture_output=True,
                    text=True,
                    timeout=120,
                    preexec_fn=preexec,
                )
            except subprocess.SubprocessError as exc:  # pragma: no cover - a root without CAP_SETPCAP
                pytest.skip(f"cannot run the CLI without CAP_DAC_OVERRIDE here: {exc}")
            assert proc.returncode == 2, proc.stderr
            line = one_line_error(proc.stderr)
            assert f"cannot write to --output {out}: Permission denied" in line, line
    finally:
        locked.chmod(0o755)

    # --output naming an existing file
    proc = subprocess.run(
        babelmill_cmd(*copy_args(tmp_path / "in", tmp_path / "in" / "a.jsonl")),
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "is a file" in one_line_error(proc.stderr)
