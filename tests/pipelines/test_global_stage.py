"""Jobs with a global stage run in map / global / finish phases: the answer must equal a
single in-memory pass, the ledger must add up, and a run killed between phases resumes."""

from __future__ import annotations

import glob
from pathlib import Path
from typing import ClassVar

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from global_stages import ExactTextDedup, LongestPerKey
from babelmill.pipelines.runner import Job, run
from babelmill.processors.base import Stage
from babelmill.processors.validate import EmptyTextFilter


class Shout(Stage):
    """A post stage: proves stages after the global one run on the kept rows only."""

    name: ClassVar[str] = "shout"

    def __call__(self, batch: pa.Table) -> pa.Table:
        self.count("rows", batch.num_rows)
        return batch.set_column(batch.column_names.index("text"), "text", pc.utf8_upper(batch.column("text")))


def _write_inputs(d: Path) -> list[str]:
    d.mkdir()
    docs = [f"doc {i % 7}" for i in range(30)] + ["", "   "]
    # three files; duplicates span files
    for f in range(3):
        lines = [orjson.dumps({"text": t}).decode() for t in docs[f::3]]
        (d / f"in{f}.jsonl").write_text("\n".join(lines) + "\n{broken\n")
    return [str(d)]


def _job(inputs: list[str], out: Path) -> Job:
    return Job(
        "corpus",
        inputs,
        out,
        [EmptyTextFilter()],
        global_stage=ExactTextDedup(),
        post_stages=[Shout()],
        partition="lang",
    )


def _kept(out: Path) -> list[dict]:
    files = sorted(glob.glob(str(out / "data" / "*" / "*.parquet")))
    return pa.concat_tables([pq.read_table(f) for f in files]).to_pylist()


def test_phases_dedup_across_shards_and_conserve(ray_session, tmp_path: Path) -> None:
    inputs = _write_inputs(tmp_path / "in")
    result = run(_job(inputs, tmp_path / "out"))
    led = result.ledger
    assert led.input == 35 and led.quarantined == 3
    kept = _kept(tmp_path / "out")
    assert sorted(r["text"] for r in kept) == [f"DOC {i}" for i in range(7)]
    sizes = {r["text"]: r["dup_cluster_size"] for r in kept}
    assert sizes == {f"DOC {i}": len([j for j in range(30) if j % 7 == i]) for i in range(7)}
    stages = {s.name: s for s in led.stages}
    assert stages["dedup"].dropped["exact_duplicate"] == 23
    assert stages["validate"].dropped["empty_text"] == 2
    assert stages["shout"].counters["rows"] == 7
    assert led.kept + led.rejected + led.quarantined == led.input
    rejected = pa.concat_tables(
        [pq.read_table(f) for f in glob.glob(str(tmp_path / "out" / "rejected" / "*.parquet"))],
        promote_options="permissive",
    )
    assert rejected.num_rows == 25
    ledger_file = orjson.loads((tmp_path / "out" / "ledger.json").read_bytes())
    assert [s["stage"] for s in ledger_file["stages"]] == ["read", "validate", "dedup", "shout"]
    assert (tmp_path / "out" / "README.md").read_text().count("config_name") >= 2


def test_resume_after_the_global_phase(ray_session, tmp_path: Path) -> None:
    inputs = _write_inputs(tmp_path / "in")
    out = tmp_path / "out"
    run(_job(inputs, out))
    want = sorted(map(orjson.dumps, _kept(out)))
    # Forget one shard's final output: the rerun redoes only its finish phase.
    marker = sorted((out / "_babelmill" / "done").glob("*.json"))[0]
    marker.unlink()
    again = run(_job(inputs, out))
    assert again.shards_skipped == 2
    assert sorted(map(orjson.dumps, _kept(out))) == want
    # Forget the global decision and every final marker: map outputs are reused.
    for m in (out / "_babelmill" / "done").glob("*.json"):
        m.unlink()
    (out / "_babelmill" / "global" / "done.json").unlink()
    third = run(_job(inputs, out))
    assert sorted(map(orjson.dumps, _kept(out))) == want
    assert third.ledger.to_dict() == again.ledger.to_dict()


def _longest_inputs(d: Path) -> list[str]:
    d.mkdir()
    for f in range(3):
        texts = [f"file {f} " + "x" * ((i * 7 + f) % 11) for i in range(9)]
        (d / f"in{f}.jsonl").write_text("\n".join(orjson.dumps({"text": t}).decode() for t in texts) + "\n")
    return [str(d)]


def test_a_second_global_stage_runs_through_the_same_phases(ray_session, tmp_path: Path) -> None:
    """Keep the longest document per input file: a global stage the runner knows nothing
    about, whose one step reads every row's text, not hashes."""
    inputs = _longest_inputs(tmp_path / "in")
    out = tmp_path / "out"
    job = Job("corpus", inputs, out, [EmptyTextFilter()], global_stage=LongestPerKey(key="source"), partition="lang")
    result = run(job)
    kept = _kept(out)
    # by hand: per file the text with the most x's (first on ties)
    want = sorted(max((f"file {f} " + "x" * ((i * 7 + f) % 11) for i in range(9)), key=len) for f in range(3))
    assert sorted(r["text"] for r in kept) == want
    means = {f"file {f} ": sum((i * 7 + f) % 11 for i in range(9)) / 9 + len(f"file {f} ") for f in range(3)}
    assert [round(r["key_mean_length"], 9) for r in sorted(kept, key=lambda r: r["text"])] == [
        round(means[t[:7]], 9) for t in want
    ]
    stages = {s.name: s for s in result.ledger.stages}
    assert stages["longest"].dropped["shorter_than_best"] == 24
    assert stages["longest"].counters["keys"] == 3
    assert result.ledger.kept + result.ledger.rejected == result.ledger.input == 27
    # the in-memory path of the same stage gives the same answer on the same rows
    table = pa.concat_tables(
        [pq.read_table(f) for f in sorted(glob.glob(str(out / "_babelmill" / "staged" / "*.parquet")))]
    )
    marked = LongestPerKey(key="source").run_global(table)
    assert (
        sorted(
            t for t, r in zip(marked.column("text").to_pylist(), marked.column("drop_reason").to_pylist()) if r is None
        )
        == want
    )
    # resume: forget the global decision and the final markers; the map outputs are reused
    for m in (out / "_babelmill" / "done").glob("*.json"):
        m.unlink()
    (out / "_babelmill" / "global" / "done.json").unlink()
    again = run(job)
    assert sorted(r["text"] for r in _kept(out)) == want
    assert again.ledger.to_dict() == result.ledger.to_dict()
