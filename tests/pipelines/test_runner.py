"""The Ray runner: ledger conservation, stage errors, actor pools, failed shards, resume."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from babelmill.pipelines.jobs import copy_job
from babelmill.pipelines.runner import EngineOptions, Job, run
from babelmill.processors.base import Resources, Stage
from babelmill.processors.errors import BabelmillError
from babelmill.processors.validate import EmptyTextFilter


class ExplodesOnMarker(Stage):
    """Raises for documents containing a marker word: a stand-in for a buggy stage."""

    name: ClassVar[str] = "explode"

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __call__(self, batch: pa.Table) -> pa.Table:
        if pc.any(pc.match_substring(batch.column("text"), self.marker)).as_py():
            raise ValueError(f"cannot handle {self.marker}")
        return batch


class CountsSetups(Stage):
    """A 'model' stage: records how often setup() ran, via the ledger counters."""

    name: ClassVar[str] = "model"
    stateful: ClassVar[bool] = True

    def __init__(self) -> None:
        self._fresh_setups = 0

    def setup(self) -> None:
        self._fresh_setups += 1

    def __call__(self, batch: pa.Table) -> pa.Table:
        if self._fresh_setups:
            self.count("setups", self._fresh_setups)
            self._fresh_setups = 0
        self.count("batches")
        return batch


class BrokenSetup(Stage):
    name: ClassVar[str] = "broken"

    def setup(self) -> None:
        raise RuntimeError("model weights not found")

    def __call__(self, batch: pa.Table) -> pa.Table:  # pragma: no cover - never reached
        return batch


def _ledger(out: Path) -> dict:
    return orjson.loads((out / "ledger.json").read_bytes())


def test_copy_conserves_every_record(ray_session, sample_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(copy_job([str(sample_dir)], out))
    led = _ledger(out)
    assert led["input"] == led["kept"] + led["rejected"] + led["quarantined"]
    assert led["quarantined"] == 6  # the malformed set in the sample
    assert led["rejected"] == 1 and led["stages"][1]["dropped"] == {"empty_text": 1}
    kept = pq.read_table(sorted((out / "data").glob("*.parquet")))
    assert kept.num_rows == led["kept"] == result.ledger.kept
    assert kept.column_names[:6] == ["id", "text", "lang", "lang_score", "source", "meta"]
    assert len(set(kept.column("id").to_pylist())) == kept.num_rows
    rejected = pq.read_table(out / "rejected")
    assert rejected.column("drop_reason").to_pylist() == ["empty_text"]
    quarantined = [
        orjson.loads(line) for f in (out / "quarantine").glob("*.jsonl") for line in f.read_bytes().splitlines()
    ]
    assert len(quarantined) == 6 and all(q["error"] for q in quarantined)
    assert (out / "README.md").read_text().startswith("---\nconfigs:")


def test_dataset_card_makes_output_loadable(ray_session, sample_dir: Path, tmp_path: Path) -> None:
    import datasets

    out = tmp_path / "out"
    run(copy_job([str(sample_dir)], out))
    ds = datasets.load_dataset(str(out), split="train", cache_dir=str(tmp_path / "hf-cache"))
    assert len(ds) == _ledger(out)["kept"]
    assert set(ds.column_names) >= {"id", "text", "lang", "source", "meta"}


def test_stage_error_quarantines_only_the_failing_rows(ray_session, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        "\n".join(orjson.dumps({"text": t}).decode() for t in ["fine one", "has BOOM inside", "fine two"]) + "\n"
    )
    out = tmp_path / "out"
    job = Job("test", [str(src)], out, [ExplodesOnMarker("BOOM"), EmptyTextFilter()])
    result = run(job)
    assert result.ledger.kept == 2 and result.ledger.quarantined == 1
    assert result.ledger.stage("explode").errored == 1
    q = orjson.loads((out / "quarantine" / "part-00000.jsonl").read_bytes().splitlines()[0])
    assert q["stage"] == "explode" and "cannot handle BOOM" in q["error"] and "BOOM" in q["raw"]


def test_stateful_chain_runs_in_actor_pool_with_one_setup_per_actor(ray_session, tmp_path: Path) -> None:
    from babelmill.sample import write_sample

    inp = tmp_path / "in"
    write_sample(inp, docs_per_lang=5, files=6, malformed=False)
    job = Job("test", [str(inp)], tmp_path / "out", [CountsSetups(), EmptyTextFilter()])
    result = run(job)
    counters = result.ledger.stage("model").counters
    assert counters["batches"] == 6
    assert 1 <= counters["setups"] <= 2  # one per actor (2 CPUs), not one per shard (6)


def test_failed_shard_is_reported_and_others_finish(ray_session, sample_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    job = Job("test", [str(sample_dir)], out, [BrokenSetup()])
    result = run(job, EngineOptions(max_in_flight=2))
    assert len(result.failures) == 3
    assert "model weights not found" in result.failures[0]
    assert not (out / "ledger.json").exists()  # an incomplete run has no final ledger


def test_changed_parameters_refuse_then_overwrite(ray_session, sample_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(copy_job([str(sample_dir)], out))
    first = _ledger(out)
    again = run(copy_job([str(sample_dir)], out))
    assert again.shards_skipped == again.shards_total and _ledger(out) == first
    from babelmill.processors.io import ReaderOptions

    changed = copy_job([str(sample_dir)], out, reader=ReaderOptions(text_field="body"))
    with pytest.raises(BabelmillError, match="--overwrite"):
        run(changed)
    result = run(changed, overwrite=True)
    # only the sample's one record with a "body" field has text now; the rest lack it
    assert result.ledger.kept == 1 and result.ledger.quarantined == result.ledger.input - 1


def test_refuses_foreign_non_empty_directory(ray_session, sample_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(BabelmillError, match="not empty"):
        run(copy_job([str(sample_dir)], out))
    run(copy_job([str(sample_dir)], out), overwrite=True)
    assert (out / "notes.txt").read_text() == "mine"  # --overwrite removes only what runs write


class NeedsGpu(Stage):
    name: ClassVar[str] = "gpu_model"
    stateful: ClassVar[bool] = True
    resources: ClassVar[Resources] = Resources(num_cpus=1, num_gpus=1)

    def __call__(self, batch: pa.Table) -> pa.Table:  # pragma: no cover - never scheduled here
        return batch


def test_gpu_stage_on_cpu_cluster_is_a_clear_error(ray_session, sample_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(BabelmillError, match="GPU"):
        run(Job("test", [str(sample_dir)], tmp_path / "out", [NeedsGpu()]))


def test_shard_histograms_match_a_scan_of_the_output(ray_session, sample_dir: Path, tmp_path: Path) -> None:
    """The card and report use per-shard histograms; they must equal a rescan of the files."""
    from babelmill.pipelines.runner import _merged_stats
    from babelmill.pipelines.stats import side_stats

    out = tmp_path / "out"
    run(copy_job([str(sample_dir)], out))
    markers = [orjson.loads(p.read_bytes()) for p in sorted((out / "_babelmill" / "done").glob("*.json"))]
    kept, rejected = _merged_stats(markers)
    assert kept is not None and rejected is not None
    scanned_kept = side_stats(sorted(str(p) for p in (out / "data").glob("*.parquet")), "parquet")
    scanned_rej = side_stats(sorted(str(p) for p in (out / "rejected").glob("*.parquet")), "parquet")
    for mine, scanned in ((kept, scanned_kept), (rejected, scanned_rej)):
        assert (mine.docs, mine.chars, mine.langs, mine.lengths, mine.scores, mine.scores_null) == (
            scanned.docs,
            scanned.chars,
            scanned.langs,
            scanned.lengths,
            scanned.scores,
            scanned.scores_null,
        )
    assert kept.docs == _ledger(out)["kept"]


class StatefulBrokenSetup(BrokenSetup):
    stateful: ClassVar[bool] = True


def test_actor_pool_reports_each_failed_shard_by_name(ray_session, sample_dir: Path, tmp_path: Path) -> None:
    """Workers return failures as values: every shard of a worker whose setup failed is
    named with the setup error; nothing else stops."""
    result = run(Job("test", [str(sample_dir)], tmp_path / "out", [StatefulBrokenSetup()]))
    assert len(result.failures) == 3
    assert all("model weights not found" in f for f in result.failures)
    assert sorted(f.split(" ")[1] for f in result.failures) == ["00000", "00001", "00002"]
    assert not (tmp_path / "out" / "ledger.json").exists()


def test_report_counts_the_files_of_per_language_subsets(ray_session, sample_dir: Path, tmp_path: Path) -> None:
    """With one subset per language the data is in data/<lang>/; the report counts those files
    (it said "0 file(s)": the shards' histograms carry no file count)."""
    import re

    out = tmp_path / "out"
    job = copy_job([str(sample_dir)], out)
    job.partition = "source"  # copy runs no LID: one subset per input file stands in for languages
    run(job)
    files = sorted((out / "data").glob("*/*.parquet"))
    assert len({f.parent.name for f in files}) > 1
    html = (out / "report.html").read_text()
    m = re.search(r"([\d,]+) documents in ([\d,]+) file\(s\)", html)
    assert m and int(m.group(2)) == len(files), m


def test_embedded_cluster_caps_worker_thread_pools() -> None:
    from babelmill.pipelines.runner import WORKER_THREAD_VARS, cap_worker_threads

    env: dict[str, str] = {"POLARS_MAX_THREADS": "4"}
    cap_worker_threads(EngineOptions(), env)
    assert env == {"POLARS_MAX_THREADS": "4", "RAYON_NUM_THREADS": "1"}  # the user's setting wins
    assert set(WORKER_THREAD_VARS) == set(env)
    joined: dict[str, str] = {}
    cap_worker_threads(EngineOptions(ray_address="ray://head:10001"), joined)
    assert joined == {}  # a cluster's workers keep their own environment
