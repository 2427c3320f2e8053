"""Writers: Parquet and JSONL outputs that `datasets` loads, atomic commits, empty shards."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import ClassVar

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from babelmill.pipelines.executor import OutputLayout, run_shard
from babelmill.pipelines.ledger import Ledger
from babelmill.processors.base import Stage
from babelmill.processors.io import QuarantineRecord, ReaderOptions, discover_shards
from babelmill.processors.io.writers import TMP_MARK, QuarantineSink, TableSink, atomic_write_bytes, remove_stale_tmp
from babelmill.processors.schema import DOC_SCHEMA
from babelmill.processors.validate import EmptyTextFilter

RECORDS = [
    {"id": f"doc-{i}", "text": f"Document number {i} about rivers.", "url": f"https://example.org/{i}"}
    for i in range(20)
]
RECORDS += [{"id": "blank", "text": "   "}]


def write_jsonl(path: Path, records: list[dict], extra: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records) + extra)
    return path


def run_dir(inputs: list[Path], out: Path, fmt: str = "parquet", stages=None) -> tuple[OutputLayout, list, list[dict]]:
    layout = OutputLayout(out, fmt)
    shards = discover_shards([str(p) for p in inputs])
    markers = [
        run_shard(s, ReaderOptions(), stages if stages is not None else [EmptyTextFilter()], layout) for s in shards
    ]
    return layout, shards, markers


def all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def tmp_files(root: Path) -> list[str]:
    return [f for f in all_files(root) if TMP_MARK in f]


# --------------------------------------------------------------------------- Parquet


def test_parquet_output_loads_with_datasets(tmp_path: Path) -> None:
    import datasets

    write_jsonl(tmp_path / "in" / "a.jsonl", RECORDS[:10])
    write_jsonl(tmp_path / "in" / "b.jsonl", RECORDS[10:])
    out = tmp_path / "out"
    layout, shards, markers = run_dir([tmp_path / "in"], out)
    assert sorted(os.listdir(out / "data")) == ["part-00000.parquet", "part-00001.parquet"]
    for shard in shards:
        assert pq.read_schema(layout.data(shard.shard_id)).equals(DOC_SCHEMA)
    ds = datasets.load_dataset(
        "parquet", data_dir=str(out / "data"), split="train", cache_dir=str(tmp_path / "hf-cache")
    )
    assert ds.num_rows == 20
    assert ds.column_names == list(DOC_SCHEMA.names)
    assert sorted(ds["id"]) == sorted(r["id"] for r in RECORDS[:20])
    assert json.loads(ds[0]["meta"])["url"].startswith("https://example.org/")
    # rejected rows keep the document columns plus why and where they were dropped
    rejected = pq.read_table(layout.rejected("00001")).to_pylist()
    assert [(r["id"], r["drop_reason"], r["drop_stage"]) for r in rejected] == [("blank", "empty_text", "validate")]


def test_output_dir_loads_with_dataset_card(tmp_path: Path) -> None:
    """``load_dataset(OUTPUT_DIR)``: the card's YAML header points at data/ only (not
    rejected/ or quarantine/)."""
    import datasets

    from babelmill.pipelines.card import write_dataset_card

    write_jsonl(tmp_path / "in.jsonl", RECORDS, extra=b"not json\n")
    out = tmp_path / "out"
    layout, shards, markers = run_dir([tmp_path / "in.jsonl"], out)
    ledger = Ledger.merge(
        [Ledger.from_dict(m["ledger"]) for m in markers],
        [s.name for s in Ledger.from_dict(markers[0]["ledger"]).stages],
    )
    from babelmill.pipelines.runner import Job

    job = Job(
        "copy", [str(tmp_path / "in.jsonl")], out, [], output_format="parquet", command="babelmill copy in.jsonl out"
    )
    write_dataset_card(job, ledger, shards)
    assert (out / "quarantine").is_dir() and (out / "rejected").is_dir()
    # a private cache: with README `configs`, datasets keys its cache on the directory's
    # name and the card, not on the files, so a shared cache can hand back another run's rows
    ds = datasets.load_dataset(str(out), split="train", cache_dir=str(tmp_path / "hf-cache"))
    assert ds.num_rows == 20 and ds.column_names == list(DOC_SCHEMA.names)


# --------------------------------------------------------------------------- JSONL


def test_jsonl_output(tmp_path: Path) -> None:
    import datasets

    write_jsonl(tmp_path / "in.jsonl", RECORDS)
    out = tmp_path / "out"
    layout, shards, markers = run_dir([tmp_path / "in.jsonl"], out, fmt="jsonl")
    data = layout.data("00000")
    assert data.name == "part-00000.jsonl"
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    assert [r["id"] for r in rows] == [r["id"] for r in RECORDS[:20]]
    assert all(list(r) == list(DOC_SCHEMA.names) for r in rows)
    assert rows[3]["text"] == RECORDS[3]["text"] and rows[3]["source"] == "in.jsonl"
    # rejected rows are Parquet in every output format
    assert pq.read_table(layout.rejected("00000")).num_rows == 1
    ds = datasets.load_dataset(
        "json", data_files=str(out / "data" / "*.jsonl"), split="train", cache_dir=str(tmp_path / "hf-cache")
    )
    assert ds.num_rows == 20
    assert markers[0]["outputs"]["data"] == "data/part-00000.jsonl"


# --------------------------------------------------------------------------- empty shards


@pytest.mark.parametrize("content", [b"", b"\n\n   \n", b'{"text": "   "}\n'])
def test_empty_shard_writes_valid_empty_parquet(tmp_path: Path, content: bytes) -> None:
    import polars as pl

    (tmp_path / "in.jsonl").write_bytes(content)
    out = tmp_path / "out"
    layout, shards, markers = run_dir([tmp_path / "in.jsonl"], out)
    path = layout.data("00000")
    assert path.is_file()
    table = pq.read_table(path)
    assert table.num_rows == 0 and table.schema.equals(DOC_SCHEMA)
    assert markers[0]["outputs"]["data"] == "data/part-00000.parquet"
    # (datasets itself refuses a dataset whose every file is empty: "corresponds to no data")
    assert pl.read_parquet(path).columns == list(DOC_SCHEMA.names)
    ledger = markers[0]["ledger"]
    assert ledger["input"] == ledger["kept"] + ledger["rejected"] + ledger["quarantined"]
    assert ledger["kept"] == 0


def test_empty_shard_jsonl_output(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(b"")
    layout, shards, markers = run_dir([tmp_path / "in.jsonl"], tmp_path / "out", fmt="jsonl")
    assert layout.data("00000").read_bytes() == b""
    assert markers[0]["outputs"] == {"data": "data/part-00000.jsonl"}


def test_empty_shard_among_full_ones_loads(tmp_path: Path) -> None:
    """An empty part next to full ones must not break `load_dataset` (same schema)."""
    import datasets

    write_jsonl(tmp_path / "in" / "a.jsonl", RECORDS[:5])
    (tmp_path / "in" / "b.jsonl").write_bytes(b"")
    out = tmp_path / "out"
    run_dir([tmp_path / "in"], out)
    assert len(os.listdir(out / "data")) == 2
    ds = datasets.load_dataset(
        "parquet", data_dir=str(out / "data"), split="train", cache_dir=str(tmp_path / "hf-cache")
    )
    assert ds.num_rows == 5


# --------------------------------------------------------------------------- atomic writes


def test_table_sink_commit_is_atomic(tmp_path: Path) -> None:
    final = tmp_path / "data" / "part-00000.parquet"
    sink = TableSink(final)
    sink.write(DOC_SCHEMA.empty_table())
    sink.write(pa.Table.from_pylist([{"id": "a", "text": "x"}], schema=DOC_SCHEMA))
    # while writing: only a hidden temporary file, never a partial file under the final name
    assert not final.exists()
    assert len(tmp_files(tmp_path)) == 1 and os.path.basename(tmp_files(tmp_path)[0]).startswith(".")
    assert sink.commit() == final
    assert tmp_files(tmp_path) == []
    assert pq.read_table(final).column("id").to_pylist() == ["a"]


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_table_sink_abort_leaves_nothing(tmp_path: Path, fmt: str) -> None:
    sink = TableSink(tmp_path / "data" / f"part-00000.{fmt}", fmt, always_write=True)
    sink.write(pa.Table.from_pylist([{"id": "a", "text": "x"}], schema=DOC_SCHEMA))
    assert tmp_files(tmp_path)
    sink.abort()
    assert all_files(tmp_path) == []


def test_quarantine_sink_atomic(tmp_path: Path) -> None:
    final = tmp_path / "quarantine" / "part-00000.jsonl"
    sink = QuarantineSink(final)
    assert sink.commit() is None and not final.exists()  # nothing quarantined: no file
    sink = QuarantineSink(final)
    sink.write([QuarantineRecord("s", 0, "bad", raw="x")])
    assert not final.exists() and len(tmp_files(tmp_path)) == 1
    sink.commit()
    assert tmp_files(tmp_path) == [] and json.loads(final.read_text())["error"] == "bad"
    sink = QuarantineSink(tmp_path / "quarantine" / "part-00001.jsonl")
    sink.write([QuarantineRecord("s", 0, "bad", raw="x")])
    sink.abort()
    assert all_files(tmp_path) == ["quarantine/part-00000.jsonl"]


def test_atomic_write_bytes_and_stale_tmp_cleanup(tmp_path: Path) -> None:
    final = tmp_path / "_babelmill" / "done" / "00000.json"
    atomic_write_bytes(final, b"{}")
    assert all_files(tmp_path) == ["_babelmill/done/00000.json"]
    # what a killed run leaves behind is removed by the next one, finished files are not
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / f".part-00003.parquet{TMP_MARK}123-abcd").write_bytes(b"partial")
    (tmp_path / "data" / "part-00002.parquet").write_bytes(b"done")
    assert remove_stale_tmp(tmp_path) == 1
    assert all_files(tmp_path) == ["_babelmill/done/00000.json", "data/part-00002.parquet"]


class Interrupt(Stage):
    """Stands in for a kill part-way through a shard (not an ordinary stage error)."""

    name: ClassVar[str] = "interrupt"

    def __call__(self, batch: pa.Table) -> pa.Table:
        raise KeyboardInterrupt


def test_interrupted_shard_leaves_no_files_and_no_marker(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "in.jsonl", RECORDS, extra=b"{broken\n")
    out = tmp_path / "out"
    layout = OutputLayout(out)
    shard = discover_shards([str(tmp_path / "in.jsonl")])[0]
    with pytest.raises(KeyboardInterrupt):
        run_shard(shard, ReaderOptions(), [EmptyTextFilter(), Interrupt()], layout)
    assert all_files(out) == []
    # the rerun produces the full result
    marker = run_shard(shard, ReaderOptions(), [EmptyTextFilter()], layout)
    assert all_files(out) == [
        "_babelmill/done/00000.json",
        "data/part-00000.parquet",
        "quarantine/part-00000.jsonl",
        "rejected/part-00000.parquet",
    ]
    assert marker["ledger"]["kept"] == 20 and marker["ledger"]["quarantined"] == 1


def test_marker_records_outputs_and_ledger(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "in.jsonl", RECORDS)
    layout, shards, markers = run_dir([tmp_path / "in.jsonl"], tmp_path / "out")
    on_disk = json.loads(layout.marker("00000").read_text())
    assert on_disk["outputs"] == {"data": "data/part-00000.parquet", "rejected": "rejected/part-00000.parquet"}
    assert on_disk["inputs"] == ["in.jsonl"]
    assert (on_disk["ledger"]["input"], on_disk["ledger"]["kept"], on_disk["ledger"]["rejected"]) == (21, 20, 1)
    assert tmp_files(tmp_path / "out") == []


# --------------------------------------------------------------------------- schema changes within a shard


def test_table_sink_unifies_tables_with_different_columns(tmp_path: Path) -> None:
    """Rejected rows from different stages carry different columns; none may be lost,
    whichever order the tables arrive in."""
    base = {"id": ["a"], "text": ["x"], "drop_reason": ["empty_text"]}
    with_type = {
        "id": ["b"],
        "text": [""],
        "content_type": ["image/png"],
        "drop_reason": ["unsupported_content_type:image/png"],
    }
    for order in ((base, with_type), (with_type, base)):
        final = tmp_path / f"rej-{len(order[0])}.parquet"
        sink = TableSink(final)
        for cols in order:
            sink.write(pa.table(cols))
        sink.commit()
        rows = {r["id"]: r for r in pq.read_table(final).to_pylist()}
        assert rows["b"]["content_type"] == "image/png"
        assert rows["a"]["content_type"] is None
        assert {r["drop_reason"] for r in rows.values()} == {"empty_text", "unsupported_content_type:image/png"}
        assert tmp_files(tmp_path) == []
