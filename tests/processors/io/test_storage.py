"""Object storage through fsspec, against a real S3 server on loopback (moto): remote
inputs are found by prefix and glob and streamed, outputs are published whole, and
local paths go the old way (no fsspec in between)."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from babelmill.processors.errors import InputError
from babelmill.processors.io import ReaderOptions, discover_shards, read_shard, storage
from babelmill.processors.io.records import QuarantineRecord
from babelmill.processors.io.writers import QuarantineSink, TableSink, atomic_write_bytes


@pytest.fixture
def bucket(s3) -> str:
    """A fresh bucket per test: ``s3://<name>``."""
    name = f"bm-{uuid.uuid4().hex[:10]}"
    s3.filesystem().mkdir(name)
    return f"s3://{name}"


def test_local_paths_stay_plain_paths(tmp_path: Path) -> None:
    assert not storage.is_remote(tmp_path) and not storage.is_remote(str(tmp_path))
    assert not storage.is_remote(f"file://{tmp_path}")
    assert storage.location(f"file://{tmp_path}") == tmp_path
    assert type(storage.location(str(tmp_path))) is type(tmp_path)
    assert storage.is_remote("s3://b/k") and storage.is_remote("gs://b/k") and storage.is_remote("hf://datasets/x")
    # local staging is a hidden sibling renamed into place, as before
    final = tmp_path / "d" / "part.parquet"
    tmp = storage.staging_path(final)
    assert tmp.parent == final.parent and tmp.name.startswith(".part.parquet.tmp-")
    atomic_write_bytes(final, b"x")
    assert final.read_bytes() == b"x" and not list(final.parent.glob(".*"))


def test_file_url_input_reads_like_the_path(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": "1", "text": "hello"}\n')
    [shard] = discover_shards([f"file://{tmp_path}"])
    assert shard.paths == (str(tmp_path / "a.jsonl"),) and shard.sources == ("a.jsonl",)


def test_glob_and_prefix_over_s3(s3, bucket: str) -> None:
    fs = s3.filesystem()
    for name in ("crawl/a.jsonl", "crawl/sub/b.jsonl", "crawl/c.txt", "crawl/.hidden.jsonl", "crawl/notes.md"):
        fs.pipe_file(f"{bucket[5:]}/{name}", b'{"id": "x", "text": "hello"}\n')
    shards = discover_shards([f"{bucket}/crawl/*.jsonl"])
    assert [(s.paths[0], s.sources[0]) for s in shards] == [(f"{bucket}/crawl/a.jsonl", "a.jsonl")]
    shards = discover_shards([f"{bucket}/crawl/**/*.jsonl"])
    assert f"{bucket}/crawl/sub/b.jsonl" in [s.paths[0] for s in shards]
    shards = discover_shards([f"{bucket}/crawl"])  # a prefix: what babelmill reads, hidden names skipped
    assert [(s.kind, s.sources[0]) for s in shards] == [
        ("jsonl", "a.jsonl"),
        ("text-lines", "c.txt"),
        ("jsonl", "sub/b.jsonl"),
    ]
    rows = [r for s in shards for b in read_shard(s, ReaderOptions()) for r in b.docs.to_pylist()]
    assert [r["text"] for r in rows] == ["hello", '{"id": "x", "text": "hello"}', "hello"]
    assert shards[0].size_bytes() == len(b'{"id": "x", "text": "hello"}\n')


def test_missing_remote_input_is_one_line(s3, bucket: str) -> None:
    with pytest.raises(InputError) as err:
        discover_shards([f"{bucket}/nothing-here.jsonl"])
    assert "not found" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(InputError, match="matches no file"):
        discover_shards([f"{bucket}/crawl/*.warc.gz"])
    with pytest.raises(InputError, match="not found"):
        discover_shards(["s3://no-such-bucket-here/x.jsonl"])


def _big_warc(records: int) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=False)
    for i in range(records):
        body = f"<html><body><p>page {i} {'lorem ipsum ' * 150}</p></body></html>".encode()
        headers = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))], protocol="HTTP/1.1"
        )
        writer.write_record(
            writer.create_warc_record(
                f"https://example.org/{i}", "response", payload=io.BytesIO(body), http_headers=headers
            )
        )
    return buf.getvalue()


def test_remote_warc_is_streamed_not_downloaded_first(s3, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import s3fs.core

    data = _big_warc(4000)
    s3.filesystem().pipe_file(f"{bucket[5:]}/crawl/big.warc", data)
    fetched: list[int] = []
    original = s3fs.core.S3File._fetch_range

    def counting(self, start: int, end: int) -> bytes:
        fetched.append(end - start)
        return original(self, start, end)

    monkeypatch.setattr(s3fs.core.S3File, "_fetch_range", counting)
    monkeypatch.setattr(storage, "REMOTE_BLOCK_SIZE", 256 << 10)
    [shard] = discover_shards([f"{bucket}/crawl/*.warc"], split_bytes=0)
    batches = iter(read_shard(shard, ReaderOptions()))
    first = next(batches)
    assert first.docs.num_rows == 1000
    # the first thousand records came after a fraction of the file was fetched
    assert sum(fetched) < len(data) / 2, (sum(fetched), len(data))
    rest = sum(b.docs.num_rows for b in batches)
    assert first.docs.num_rows + rest == 4000


def test_remote_sinks_publish_whole_objects(s3, bucket: str) -> None:
    fs = s3.filesystem()
    root = storage.location(f"{bucket}/out")
    sink = TableSink(root / "data" / "part-00000.parquet")
    sink.write(pa.table({"id": ["a", "b"], "text": ["x", "y"]}))
    assert not fs.exists(f"{bucket[5:]}/out/data/part-00000.parquet")  # nothing under the final key yet
    sink.commit()
    table = pq.read_table(fs.open(f"{bucket[5:]}/out/data/part-00000.parquet"))
    assert table.column("id").to_pylist() == ["a", "b"]

    aborted = TableSink(root / "data" / "part-00001.parquet", "jsonl")
    aborted.write(pa.table({"id": ["c"]}))
    aborted.abort()
    assert not fs.exists(f"{bucket[5:]}/out/data/part-00001.parquet")
    assert not Path(aborted._tmp).exists()  # the local staging file is gone too

    q = QuarantineSink(root / "quarantine" / "part-00000.jsonl")
    q.write([QuarantineRecord("f.jsonl", 3, "bad json")])
    q.commit()
    rec = json.loads(fs.cat_file(f"{bucket[5:]}/out/quarantine/part-00000.jsonl"))
    assert rec["error"] == "bad json"
    atomic_write_bytes(root / "_babelmill" / "done" / "00000.json", b"{}")
    assert (root / "_babelmill" / "done" / "00000.json").read_bytes() == b"{}"
    storage.remove(root)
    assert not fs.exists(f"{bucket[5:]}/out/data/part-00000.parquet")
