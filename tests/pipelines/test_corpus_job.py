"""`babelmill corpus` end to end on the generated crawl: the target languages are kept
and the rest rejected with reasons, duplicates are removed across files, PII is
replaced, every record is accounted for, and a run resumes across the dedup phase."""

from __future__ import annotations

import glob
import json
import re
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from babelmill.pipelines.cli import app
from babelmill.sample import write_sample

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


@pytest.fixture(scope="module")
def crawl(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("crawl")
    write_sample(d, docs_per_lang=24, files=3, seed=3, malformed=True, langs=("en", "sw", "de", "fr"))
    return d


@pytest.fixture(scope="module")
def corpus_out(ray_session, crawl, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "out"
    res = CliRunner().invoke(
        app, ["corpus", "--input", str(crawl), "--lang", "en,sw", "--output", str(out), "--no-progress"]
    )
    assert res.exit_code == 0, res.output
    return out


def _table(pattern: str) -> pa.Table:
    files = sorted(glob.glob(pattern))
    return pa.concat_tables([pq.read_table(f) for f in files], promote_options="permissive")


def _records(crawl: Path) -> dict[str, dict]:
    out = {}
    for f in sorted(crawl.glob("*.jsonl")):
        for line in f.read_bytes().splitlines():
            try:
                rec = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(rec, dict) and isinstance(rec.get("text"), str):
                out[str(rec.get("id"))] = rec
    return out


def test_ledger_accounts_for_every_record(corpus_out: Path) -> None:
    led = json.loads((corpus_out / "ledger.json").read_text())
    assert led["input"] == led["kept"] + led["rejected"] + led["quarantined"]
    assert led["quarantined"] == 6  # the six malformed lines of the sample
    names = [s["stage"] for s in led["stages"]]
    assert names == [
        "read",
        "validate",
        "normalize",
        "lid",
        "gopher_repetition",
        "gopher_quality",
        "fineweb_quality",
        "c4_quality",
        "dedup",
        "pii",
    ]
    rejected = _table(str(corpus_out / "rejected" / "*.parquet"))
    assert rejected.num_rows == led["rejected"]
    assert set(rejected.column("drop_stage").to_pylist()) <= set(names)


def test_only_target_languages_are_kept_one_subset_each(corpus_out: Path, crawl: Path) -> None:
    assert sorted(p.name for p in (corpus_out / "data").iterdir()) == ["en", "sw"]
    kept = _table(str(corpus_out / "data" / "*" / "*.parquet"))
    assert set(kept.column("lang").to_pylist()) == {"en", "sw"}
    records = _records(crawl)
    rejected = _table(str(corpus_out / "rejected" / "*.parquet")).to_pylist()
    for row in rejected:
        rec = records[row["id"]]
        if rec.get("kind") == "good" and rec.get("lang_hint") in ("de", "fr"):
            assert row["drop_reason"] == "lang_not_target"
    good_targets = [r for r in records.values() if r.get("kind") == "good" and r.get("lang_hint") in ("en", "sw")]
    kept_ids = set(kept.column("id").to_pylist())
    # Generated good documents in a target language pass LID and the filters.
    assert sum(r["id"] in kept_ids for r in good_targets) >= 0.9 * len(good_targets)


def test_duplicates_are_removed_and_keepers_carry_cluster_size(corpus_out: Path, crawl: Path) -> None:
    records = _records(crawl)
    kept = _table(str(corpus_out / "data" / "*" / "*.parquet")).to_pylist()
    kept_ids = {r["id"] for r in kept}
    dups = [
        r
        for r in records.values()
        if r.get("kind") in ("exact_dup", "near_dup") and records.get(r.get("dup_of"), {}).get("id") in kept_ids
    ]
    assert dups, "the sample must contain duplicates of kept documents"
    assert not any(r["id"] in kept_ids for r in dups)
    sizes = {r["id"]: r["dup_cluster_size"] for r in kept}
    for r in dups:
        assert sizes[r["dup_of"]] >= 2
    rejected = _table(str(corpus_out / "rejected" / "*.parquet"))
    reasons = set(rejected.column("drop_reason").to_pylist())
    assert {"exact_duplicate", "near_duplicate"} <= reasons


def test_pii_is_replaced_in_the_kept_text(corpus_out: Path) -> None:
    kept = _table(str(corpus_out / "data" / "*" / "*.parquet"))
    texts = kept.column("text").to_pylist()
    assert any("<EMAIL>" in t for t in texts)
    assert not any(EMAIL.search(t) for t in texts)
    led = json.loads((corpus_out / "ledger.json").read_text())
    pii = {s["stage"]: s for s in led["stages"]}["pii"]
    assert pii["counters"]["email"] >= sum(t.count("<EMAIL>") for t in texts) > 0


def test_report_and_card_exist(corpus_out: Path) -> None:
    html = (corpus_out / "report.html").read_text()
    assert "dedup" in html and "lid" in html
    card = (corpus_out / "README.md").read_text()
    assert "config_name: sw" in card and "dup_cluster_size" in card


def test_resume_across_the_dedup_phase(ray_session, crawl: Path, corpus_out: Path, tmp_path: Path) -> None:
    import shutil

    out = tmp_path / "out"
    shutil.copytree(corpus_out, out)
    run_file = json.loads((out / "_babelmill" / "run.json").read_text())
    assert run_file["identity"]["stages"][-2]["stage"] == "dedup"
    want = {str(p.relative_to(out)): p.read_bytes() for p in (out / "data").rglob("*.parquet")}
    # As if killed after the global step: one shard's final output and marker gone,
    # and the global decision gone too (killed during it).
    shutil.rmtree(out / "data")
    for m in (out / "_babelmill" / "done").glob("*.json"):
        m.unlink()
    shutil.rmtree(out / "_babelmill" / "global")
    res = CliRunner().invoke(
        app, ["corpus", "--input", str(crawl), "--lang", "en,sw", "--output", str(out), "--no-progress"]
    )
    assert res.exit_code == 0, res.output
    got = {str(p.relative_to(out)): p.read_bytes() for p in (out / "data").rglob("*.parquet")}
    assert got.keys() == want.keys()
    for k in want:
        assert pq.read_table(out / k).equals(pq.read_table(corpus_out / k)), k
    assert json.loads((out / "ledger.json").read_text()) == json.loads((corpus_out / "ledger.json").read_text())
