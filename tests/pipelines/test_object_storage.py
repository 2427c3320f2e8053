"""`copy` and `corpus` from S3 to S3 (a moto server on loopback) give the same data and
ledger as the same run on local disk; a run whose driver is SIGKILLed resumes against S3;
a bucket that is missing is one line and exit code 2 before Ray starts."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from babelmill.pipelines.cli import app
from babelmill.sample import write_sample
from ray_cluster import kill_sessions, run_cli, start_cli
from s3_server import s3_env

OUTPUT_DIRS = ("data", "rejected", "quarantine")


@pytest.fixture
def bucket(s3) -> str:
    name = f"bm-{uuid.uuid4().hex[:10]}"
    s3.filesystem().mkdir(name)
    return name


def _upload(s3, local: Path, url: str) -> None:
    s3.filesystem().put(str(local), url[len("s3://") :], recursive=True)


def _download(s3, url: str, local: Path) -> Path:
    fs = s3.filesystem()
    for key in fs.find(url[len("s3://") :]):
        rel = key[len(url) - len("s3://") + 1 :]
        (local / rel).parent.mkdir(parents=True, exist_ok=True)
        (local / rel).write_bytes(fs.cat_file(key))
    return local


def _files(root: Path, sub: str) -> list[Path]:
    return sorted(p for p in (root / sub).rglob("*") if p.is_file()) if (root / sub).exists() else []


def assert_same_run(got: Path, want: Path) -> None:
    """Same ledger byte for byte, same output files with the same rows, same markers."""
    assert (got / "ledger.json").read_bytes() == (want / "ledger.json").read_bytes()
    for sub in OUTPUT_DIRS:
        a, b = _files(got, sub), _files(want, sub)
        assert [p.relative_to(got) for p in a] == [p.relative_to(want) for p in b], f"{sub}/ differs"
        for fa, fb in zip(a, b):
            if fa.suffix == ".parquet":
                assert pq.read_table(fa).equals(pq.read_table(fb)), f"{fa.relative_to(got)}: rows differ"
            else:
                assert fa.read_bytes() == fb.read_bytes(), f"{fa.relative_to(got)} differs"
    strip = ("seconds", "node", "timing")
    ma, mb = _files(got, "_babelmill/done"), _files(want, "_babelmill/done")
    assert [p.name for p in ma] == [p.name for p in mb]
    for fa, fb in zip(ma, mb):
        da = {k: v for k, v in json.loads(fa.read_bytes()).items() if k not in strip}
        db = {k: v for k, v in json.loads(fb.read_bytes()).items() if k not in strip}
        assert da == db, f"marker {fa.name} differs"
    for name in ("README.md", "report.html"):
        assert (got / name).is_file(), name


def _invoke(*args: str) -> None:
    res = CliRunner().invoke(app, [*args, "--no-progress"])
    assert res.exit_code == 0, res.output


def test_copy_s3_to_s3_matches_the_local_run(ray_session, s3, bucket: str, sample_dir: Path, tmp_path: Path) -> None:
    _upload(s3, sample_dir, f"s3://{bucket}/input")
    _invoke("copy", "--input", str(sample_dir), "--output", str(tmp_path / "local"))
    _invoke("copy", "--input", f"s3://{bucket}/input", "--output", f"s3://{bucket}/out")
    got = _download(s3, f"s3://{bucket}/out", tmp_path / "got")
    assert_same_run(got, tmp_path / "local")
    assert not [k for k in s3.filesystem().find(bucket) if ".tmp-" in k]


@pytest.mark.slow
def test_corpus_s3_to_s3_matches_the_local_run(ray_session, s3, bucket: str, tmp_path: Path) -> None:
    crawl = tmp_path / "crawl"
    write_sample(crawl, docs_per_lang=12, files=2, seed=3, malformed=True, langs=("en", "sw", "de"))
    _upload(s3, crawl, f"s3://{bucket}/crawl")
    _invoke("corpus", "--input", str(crawl), "--lang", "en,sw", "--output", str(tmp_path / "local"))
    _invoke("corpus", "--input", f"s3://{bucket}/crawl", "--lang", "en,sw", "--output", f"s3://{bucket}/corpus")
    got = _download(s3, f"s3://{bucket}/corpus", tmp_path / "got")
    assert_same_run(got, tmp_path / "local")
    led = json.loads((got / "ledger.json").read_bytes())
    assert led["input"] == led["kept"] + led["rejected"] + led["quarantined"]
    assert {p.name for p in (got / "data").iterdir()} == {"en", "sw"}


def test_missing_bucket_is_one_line_before_ray(s3, sample_dir: Path) -> None:
    # no ray marker: the autouse guard fails the test if Ray were started
    res = CliRunner().invoke(
        app, ["copy", "--input", str(sample_dir), "--output", "s3://no-such-bucket-xyz/out", "--no-progress"]
    )
    assert res.exit_code == 2, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "--output s3://no-such-bucket-xyz/out" in lines[0], res.output
    res = CliRunner().invoke(
        app, ["copy", "--input", "s3://no-such-bucket-xyz/in", "--output", "unused-out", "--no-progress"]
    )
    assert res.exit_code == 2 and "not found" in res.output, res.output


@pytest.mark.slow
@pytest.mark.ray
@pytest.mark.timeout(300)
def test_killed_run_resumes_against_s3(s3, bucket: str, tmp_path: Path) -> None:
    """``corpus`` S3 -> S3, the driver SIGKILLed after two shards finished their map phase
    (the dedup global step needs them all); the rerun skips those two (their objects are
    not rewritten), runs the global step and the rest, and accounts for every record once."""
    inputs = tmp_path / "input"
    write_sample(inputs, docs_per_lang=300, files=8, seed=7, malformed=True)
    _upload(s3, inputs, f"s3://{bucket}/input")
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env |= s3_env() | {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "COLUMNS": "250"}
    args = ["corpus", "--input", f"s3://{bucket}/input", "--output", f"s3://{bucket}/out", "--no-progress"]
    fs = s3.filesystem()
    done = f"{bucket}/out/_babelmill/mapped"

    def finished() -> list[str]:
        return sorted(fs.find(done)) if fs.exists(done) else []

    log = tmp_path / "killed.log"
    proc = start_cli([*args, "--num-cpus", "1"], env, log)
    try:
        deadline = time.monotonic() + 180
        while len(finished()) < 2:
            assert proc.poll() is None, f"the run ended before it was killed:\n{log.read_text(errors='replace')}"
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.05)
    finally:
        left = kill_sessions(proc.pid)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL and not left
    before = {k: fs.info(k)["ETag"] for k in finished()}
    assert 2 <= len(before) < 8, "the kill came too late"
    assert not fs.exists(f"{bucket}/out/ledger.json")

    r = run_cli(args, env)
    assert r.returncode == 0, f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    for key, etag in before.items():  # finished shards were skipped, not redone
        assert fs.info(key)["ETag"] == etag, f"{key} was rewritten"
    # every record accounted for once (the same-as-local checks are the copy and corpus tests')
    got = _download(s3, f"s3://{bucket}/out", tmp_path / "got")
    led = json.loads((got / "ledger.json").read_bytes())
    assert led["input"] == led["kept"] + led["rejected"] + led["quarantined"]
    assert led["input"] > 0 and led["kept"] > 0
    assert sum(pq.read_metadata(f).num_rows for f in _files(got, "data")) == led["kept"]
    assert len(_files(got, "_babelmill/done")) == 8
