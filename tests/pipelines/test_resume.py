"""Resumable runs, end to end through the CLI: a driver killed mid-run and rerun gives
exactly what an uninterrupted run gives; a rerun of a finished run redoes nothing; a rerun
with other parameters refuses to mix outputs unless told --overwrite.

Every `babelmill` here is a separate process (its own embedded Ray) in its own session,
so a SIGKILL can take it down with all of its Ray processes, and the test can check that
none of them is left running.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ray_cluster import copy_args, kill_sessions, live_processes_named, run_cli, session_processes, start_cli

FILES = 16
DOCS_PER_LANG = 1500  # ~20k records, ~1,200 per shard: a few seconds of work on one CPU
KILL_AFTER = 2  # markers to wait for before killing the driver

#: Embedded Ray on loopback, output as a user piping it would see it (80 columns).
BASE_ENV = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")} | {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"
}
#: ... and wide, so that rich does not wrap the summary table the tests read.
ENV = BASE_ENV | {"COLUMNS": "250"}
OUTPUT_DIRS = ("data", "rejected", "quarantine")

pytestmark = [pytest.mark.timeout(300), pytest.mark.ray, pytest.mark.slow]


def markers_dir(out: Path) -> Path:
    return out / "_babelmill" / "done"


def markers(out: Path) -> list[Path]:
    d = markers_dir(out)
    return sorted(d.glob("*.json")) if d.is_dir() else []


def snapshot(out: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``out``: relative path -> (mtime_ns, content)."""
    return {
        str(p.relative_to(out)): (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(out.rglob("*")) if p.is_file()
    }


def leftover_tmp(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob(".*.tmp-*"))


def assert_same_result(got: Path, want: Path) -> None:
    """Same ledger, same files in data/ rejected/ quarantine/, same rows in the same order."""
    assert json.loads((got / "ledger.json").read_bytes()) == json.loads((want / "ledger.json").read_bytes())
    assert (got / "ledger.json").read_bytes() == (want / "ledger.json").read_bytes()
    for sub in OUTPUT_DIRS:
        names = sorted(p.name for p in (got / sub).glob("*")) if (got / sub).exists() else []
        expected = sorted(p.name for p in (want / sub).glob("*")) if (want / sub).exists() else []
        assert names == expected, f"{sub}/ differs"
        for name in names:
            a, b = got / sub / name, want / sub / name
            if name.endswith(".parquet"):
                ta, tb = pq.read_table(a), pq.read_table(b)
                assert ta.schema == tb.schema, f"{sub}/{name}: schema differs"
                assert ta.num_rows == tb.num_rows, f"{sub}/{name}: {ta.num_rows} rows != {tb.num_rows}"
                assert ta.equals(tb), f"{sub}/{name}: rows differ"
            else:
                la = [json.loads(line) for line in a.read_bytes().splitlines()]
                lb = [json.loads(line) for line in b.read_bytes().splitlines()]
                assert la == lb, f"{sub}/{name}: records differ"
    strip = ("seconds", "node", "timing")
    for ma, mb in zip(markers(got), markers(want), strict=True):
        assert ma.name == mb.name
        da = {k: v for k, v in json.loads(ma.read_bytes()).items() if k not in strip}
        db = {k: v for k, v in json.loads(mb.read_bytes()).items() if k not in strip}
        assert da == db, f"marker {ma.name} differs"
    assert not leftover_tmp(got)


def shards_line(stdout: str) -> tuple[int, int] | None:
    m = re.search(r"(\d+) shards \((\d+) resumed\)", stdout)
    return (int(m.group(1)), int(m.group(2))) if m else None


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    from babelmill.sample import write_sample

    d = tmp_path_factory.mktemp("resume") / "input"
    write_sample(d, docs_per_lang=DOCS_PER_LANG, files=FILES, seed=7, malformed=True)
    return d


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> Path:
    """The uninterrupted run everything else is compared with."""
    out = tmp_path_factory.mktemp("reference") / "out"
    r = run_cli(copy_args(corpus, out), ENV)
    assert r.returncode == 0, f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert len(markers(out)) == FILES
    led = json.loads((out / "ledger.json").read_bytes())
    assert led["input"] == led["kept"] + led["rejected"] + led["quarantined"]
    assert led["kept"] and led["rejected"] and led["quarantined"]
    return out


def test_killed_run_resumes_to_the_uninterrupted_result(corpus, reference, tmp_path):
    out = tmp_path / "out"
    log = tmp_path / "killed.log"
    # One CPU: shards finish one after another, so there is a wide window to kill in.
    proc = start_cli(copy_args(corpus, out, "--num-cpus", "1"), ENV, log)
    try:
        deadline = time.monotonic() + 180
        while len(markers(out)) < KILL_AFTER:
            assert proc.poll() is None, (
                f"the run ended (rc={proc.returncode}) before it could be killed:\n{log.read_text(errors='replace')}"
            )
            assert time.monotonic() < deadline, (
                f"no {KILL_AFTER} finished shards after 180 s:\n{log.read_text(errors='replace')}"
            )
            time.sleep(0.01)
        raylets = set(live_processes_named("raylet")) & set(session_processes(proc.pid))
        assert raylets, "the driver's embedded Ray should be running"
    finally:
        # The driver and its whole embedded Ray (workers have process groups of their own).
        left = kill_sessions(proc.pid)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not left, f"processes survived SIGKILL: {left}"
    assert not (live_processes_named("raylet") & raylets), "the killed run's raylet is still alive"

    done_before = markers(out)
    assert KILL_AFTER <= len(done_before) < FILES, (
        f"{len(done_before)} of {FILES} shards finished: the kill came too late"
    )
    assert not (out / "ledger.json").exists()
    before = snapshot(out)

    # Resume with the default CPU count: engine options are not part of a run's identity.
    r = run_cli(copy_args(corpus, out), ENV)
    assert r.returncode == 0, f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert shards_line(r.stdout) in (None, (FILES, len(done_before)))

    # Finished shards were skipped, not redone: their markers and outputs are untouched.
    after = snapshot(out)
    for rel in (str(p.relative_to(out)) for p in done_before):
        assert after[rel] == before[rel], f"{rel} was rewritten by the resumed run"
        for output in json.loads(before[rel][1])["outputs"].values():
            assert after[output] == before[output], f"{output} was rewritten by the resumed run"

    assert_same_result(out, reference)


def test_rerun_of_a_finished_run_redoes_nothing(corpus, reference):
    before = snapshot(reference)
    r = run_cli(copy_args(corpus, reference), ENV)
    assert r.returncode == 0, f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert shards_line(r.stdout) in (None, (FILES, FILES))
    after = snapshot(reference)
    for rel, (mtime, data) in before.items():
        if rel.startswith(("data/", "rejected/", "quarantine/", "_babelmill/done/")):
            assert after[rel][0] == mtime, f"{rel} was rewritten"
        if rel != "README.md":  # the card records the command line
            assert after[rel][1] == data, f"{rel} changed"
    assert set(after) == set(before)


@pytest.fixture(scope="module")
def changed(corpus, reference, tmp_path_factory):
    """A finished run's folder, rerun with another --text-field and no --overwrite."""
    out = tmp_path_factory.mktemp("changed") / "out"
    shutil.copytree(reference, out)
    (out / "notes.txt").write_text("not written by babelmill\n")
    before = snapshot(out)
    r = run_cli(copy_args(corpus, out, "--text-field", "body"), BASE_ENV)
    return out, before, r


def test_changed_parameters_need_overwrite(corpus, reference, changed):
    out, before, r = changed
    assert r.returncode != 0
    message = " ".join(r.stderr.split())
    assert "--overwrite" in message, r.stderr
    assert "Traceback" not in r.stderr
    assert snapshot(out) == before, "a refused run must not touch the folder"

    r = run_cli(copy_args(corpus, out, "--text-field", "body", "--overwrite"), ENV)
    assert r.returncode == 0, f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    led = json.loads((out / "ledger.json").read_bytes())
    ref = json.loads((reference / "ledger.json").read_bytes())
    assert led["input"] == ref["input"]
    assert led["input"] == led["kept"] + led["rejected"] + led["quarantined"]
    assert led["kept"] < ref["kept"]  # almost no record has a "body" field
    assert (
        json.loads((out / "_babelmill" / "run.json").read_bytes())["fingerprint"]
        != json.loads(before["_babelmill/run.json"][1])["fingerprint"]
    )

    # Nothing of the replaced run is left: the outputs on disk are exactly those the markers name.
    named = {o for m in markers(out) for o in json.loads(m.read_bytes())["outputs"].values()}
    on_disk = {str(p.relative_to(out)) for sub in OUTPUT_DIRS for p in (out / sub).rglob("*") if p.is_file()}
    assert on_disk == named
    assert len(markers(out)) == FILES
    # ... and what babelmill did not write is kept.
    assert (out / "notes.txt").read_text() == "not written by babelmill\n"


def test_refusal_is_one_line(changed):
    """One line even when stderr is not a terminal (rich would wrap it at 80 columns)."""
    _, _, r = changed
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("error:")
