"""Every input reader, on data the tests write themselves (no Ray: shards are read and
run in-process with :func:`pipelines.executor.run_shard`)."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from babelmill.pipelines.executor import OutputLayout, run_shard
from babelmill.processors.errors import InputError
from babelmill.processors.io import ReaderOptions, discover_shards, read_shard
from babelmill.processors.io import parquet, sources
from babelmill.processors.schema import DOC_SCHEMA
from babelmill.processors.validate import EmptyTextFilter

RECORDS = [
    {
        "id": "d0",
        "text": "Erster Text über den Fluss.",
        "url": "https://example.org/0",
        "lang": "de",
        "lang_score": 0.9,
    },
    {"id": "d1", "text": "Second document, plain ASCII.", "url": "https://example.org/1", "tags": ["a", "b"]},
    {"id": "d2", "text": "Troisième: l'eau de la rivière.", "n": 3},
    {"id": "d3", "text": "Nne: 水 — emoji 🌊 and a\ttab", "nested": {"k": "v"}},
]


def jsonl_bytes(records: list[dict]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode("utf-8") + b"\n" for r in records)


def read_all(shard, opts: ReaderOptions | None = None) -> tuple[list[dict], list[dict]]:
    """All document rows and quarantine records of one shard, as Python objects."""
    docs, quarantine = [], []
    for batch in read_shard(shard, opts or ReaderOptions()):
        docs.extend(batch.docs.to_pylist())
        quarantine.extend(q.to_dict() for q in batch.quarantine)
    return docs, quarantine


def only_shard(inputs, **kw):
    shards = discover_shards([str(i) for i in inputs], **kw)
    assert len(shards) == 1, shards
    return shards[0]


def run_all(
    inputs, out: Path, stages=None, opts: ReaderOptions | None = None, fmt: str = "auto", out_fmt: str = "parquet", **kw
):
    layout = OutputLayout(out, out_fmt)
    shards = discover_shards([str(i) for i in inputs], fmt=fmt, **kw)
    markers = [
        run_shard(s, opts or ReaderOptions(), stages if stages is not None else [EmptyTextFilter()], layout)
        for s in shards
    ]
    return layout, shards, markers


def meta(row: dict) -> dict:
    """The meta object without null-valued keys (the fast JSONL path adds a null for every
    field some other record of the chunk has; see test_malformed's fast/slow meta test)."""
    return {k: v for k, v in json.loads(row["meta"]).items() if v is not None} if row["meta"] else {}


# --------------------------------------------------------------------------- JSONL


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst", ".ndjson", ".json"])
def test_jsonl_plain_and_compressed(tmp_path: Path, suffix: str) -> None:
    data = jsonl_bytes(RECORDS)
    path = tmp_path / f"part{suffix}"
    if suffix.endswith(".gz"):
        path.write_bytes(gzip.compress(data))
    elif suffix.endswith(".zst"):
        import zstandard

        path.write_bytes(zstandard.ZstdCompressor().compress(data))
    else:
        path.write_bytes(data)
    shard = only_shard([path])
    assert shard.kind == "jsonl" and shard.sources == (path.name,)
    docs, quarantine = read_all(shard)
    assert quarantine == []
    assert [d["id"] for d in docs] == ["d0", "d1", "d2", "d3"]
    assert [d["text"] for d in docs] == [r["text"] for r in RECORDS]
    assert {d["source"] for d in docs} == {path.name}
    assert docs[0]["lang"] == "de" and docs[0]["lang_score"] == pytest.approx(0.9)
    assert docs[1]["lang"] is None and docs[1]["lang_score"] is None
    # every input field that is not a contract column survives in meta
    assert meta(docs[0]) == {"url": "https://example.org/0"}
    assert meta(docs[1])["tags"] == ["a", "b"]
    assert meta(docs[2])["n"] == 3
    assert meta(docs[3])["nested"] == {"k": "v"}


def test_jsonl_multi_frame_zst_and_chunking(tmp_path: Path) -> None:
    """A .zst of several frames (as `zstd` of concatenated files writes) and tiny chunks read every record once."""
    import zstandard

    records = [{"text": f"record number {i}"} for i in range(300)]
    data = jsonl_bytes(records)
    comp = zstandard.ZstdCompressor()
    path = tmp_path / "multi.jsonl.zst"
    path.write_bytes(comp.compress(data[: len(data) // 2]) + comp.compress(data[len(data) // 2 :]))
    for chunk_bytes in (64, 1000, 32 * 1024 * 1024):
        docs, quarantine = read_all(only_shard([path]), ReaderOptions(chunk_bytes=chunk_bytes))
        assert quarantine == []
        assert [d["text"] for d in docs] == [r["text"] for r in records]
        assert [d["id"] for d in docs] == [f"multi.jsonl.zst:{i}" for i in range(300)]


def test_jsonl_without_trailing_newline_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"text": "one"}\r\n{"text": "two"}\r\n{"text": "three"}')
    docs, quarantine = read_all(only_shard([path]))
    assert quarantine == []
    assert [d["text"] for d in docs] == ["one", "two", "three"]
    assert [d["id"] for d in docs] == ["x.jsonl:0", "x.jsonl:1", "x.jsonl:2"]


def test_json_array_file(tmp_path: Path) -> None:
    path = tmp_path / "arr.json"
    path.write_text(
        json.dumps([{"text": "first"}, {"text": "second", "id": 42, "url": "u"}, {"text": "third"}], indent=2)
    )
    shard = only_shard([path])
    assert shard.kind == "jsonl"
    docs, quarantine = read_all(shard)
    assert quarantine == []
    assert [d["text"] for d in docs] == ["first", "second", "third"]
    assert [d["id"] for d in docs] == ["arr.json:0", "42", "arr.json:2"]
    assert meta(docs[1]) == {"url": "u"}


def test_json_array_gz(tmp_path: Path) -> None:
    path = tmp_path / "arr.json.gz"
    path.write_bytes(
        gzip.compress(b"  \n[" + b",".join(json.dumps({"text": f"t{i}"}).encode() for i in range(5)) + b"]")
    )
    docs, quarantine = read_all(only_shard([path]))
    assert quarantine == [] and [d["text"] for d in docs] == [f"t{i}" for i in range(5)]


def test_field_mapping_jsonl_and_parquet(tmp_path: Path) -> None:
    records = [{"doc_id": f"x{i}", "content": f"body {i}", "text": f"not the text {i}"} for i in range(3)]
    (tmp_path / "m.jsonl").write_bytes(jsonl_bytes(records))
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "m.parquet")
    opts = ReaderOptions(text_field="content", id_field="doc_id")
    for name in ("m.jsonl", "m.parquet"):
        docs, quarantine = read_all(only_shard([tmp_path / name]), opts)
        assert quarantine == []
        assert [d["id"] for d in docs] == ["x0", "x1", "x2"], name
        assert [d["text"] for d in docs] == ["body 0", "body 1", "body 2"], name
        # the unmapped "text" field is an ordinary extra field now
        assert [meta(d) for d in docs] == [{"text": f"not the text {i}"} for i in range(3)], name
    # records lacking the mapped text field are quarantined, not read from "text"
    docs, quarantine = read_all(only_shard([tmp_path / "m.jsonl"]), ReaderOptions(text_field="body"))
    assert docs == [] and len(quarantine) == 3
    assert all("missing text field 'body'" in q["error"] for q in quarantine)


# --------------------------------------------------------------------------- Parquet


def test_parquet_extra_columns_go_to_meta(tmp_path: Path) -> None:
    table = pa.table(
        {
            "text": ["alpha", "beta", "gamma"],
            "url": ["u0", None, "u2"],
            "score": [1.5, 2.5, 3.5],
            "lang": ["en", "en", None],
            "labels": [["x"], [], ["y", "z"]],
        }
    )
    path = tmp_path / "p.parquet"
    pq.write_table(table, path)
    shard = only_shard([path])
    assert shard.kind == "parquet"
    docs, quarantine = read_all(shard)
    assert quarantine == []
    assert [d["text"] for d in docs] == ["alpha", "beta", "gamma"]
    assert [d["lang"] for d in docs] == ["en", "en", None]
    assert meta(docs[0]) == {"url": "u0", "score": 1.5, "labels": ["x"]}
    assert meta(docs[2])["labels"] == ["y", "z"]
    # the rows conform to the document contract
    batch = next(iter(read_shard(shard, ReaderOptions())))
    assert batch.docs.schema.equals(DOC_SCHEMA)


def test_parquet_integer_ids(tmp_path: Path) -> None:
    path = tmp_path / "ints.parquet"
    pq.write_table(pa.table({"id": pa.array([7, 8, None], pa.int64()), "text": ["a", "b", "c"]}), path)
    docs, _ = read_all(only_shard([path]))
    # a null id falls back to the generated one
    assert [d["id"] for d in docs] == ["7", "8", "ints.parquet:2"]
    assert all(d["meta"] is None for d in docs)


def test_parquet_generated_ids_are_stable_across_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parquet, "_PARQUET_BATCH_ROWS", 7)
    path = tmp_path / "noid.parquet"
    pq.write_table(pa.table({"text": [f"t{i}" for i in range(30)]}), path, row_group_size=11)
    first, _ = read_all(only_shard([path]))
    second, _ = read_all(only_shard([path]))
    assert [d["id"] for d in first] == [f"noid.parquet:{i}" for i in range(30)]
    assert first == second


def test_parquet_dictionary_and_large_string_text(tmp_path: Path) -> None:
    path = tmp_path / "dict.parquet"
    text = pa.array(["same", "same", "other"], pa.large_string()).dictionary_encode()
    pq.write_table(pa.table({"text": text}), path)
    docs, quarantine = read_all(only_shard([path]))
    assert quarantine == [] and [d["text"] for d in docs] == ["same", "same", "other"]


# --------------------------------------------------------------------------- text


def test_text_one_doc_per_line(tmp_path: Path) -> None:
    path = tmp_path / "lines.txt"
    path.write_bytes(b"first line\r\n\n   \nsecond line\nthird\n")
    shard = only_shard([path])
    assert shard.kind == "text-lines"
    docs, quarantine = read_all(shard)
    assert quarantine == []
    assert [d["text"] for d in docs] == ["first line", "second line", "third"]
    assert [d["id"] for d in docs] == ["lines.txt:0", "lines.txt:1", "lines.txt:2"]
    gz = tmp_path / "lines.txt.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    docs_gz, _ = read_all(only_shard([gz]))
    assert [d["text"] for d in docs_gz] == ["first line", "second line", "third"]


def test_text_one_doc_per_file_grouped_into_shards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "TEXT_FILES_PER_SHARD", 2)
    root = tmp_path / "docs"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("Doc A\nsecond line of A\n")
    (root / "b.txt").write_text("Doc B")
    (root / "sub" / "c.txt").write_text("Doc C über alles")
    (root / ".hidden.txt").write_text("never read")
    shards = discover_shards([str(root)], text_mode="file")
    assert [s.kind for s in shards] == ["text-files", "text-files"]
    assert [s.sources for s in shards] == [("a.txt", "b.txt"), ("sub/c.txt",)]
    opts = ReaderOptions(text_mode="file")
    docs = [d for s in shards for d in read_all(s, opts)[0]]
    assert [(d["id"], d["text"]) for d in docs] == [
        ("a.txt", "Doc A\nsecond line of A\n"),
        ("b.txt", "Doc B"),
        ("sub/c.txt", "Doc C über alles"),
    ]
    # the same files in line mode: one shard per file, one document per line
    line_shards = discover_shards([str(root)])
    assert [s.kind for s in line_shards] == ["text-lines"] * 3


def test_text_files_run_through_executor(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "a.txt").write_text("Some text")
    (root / "empty.txt").write_text("  \n")
    layout, shards, markers = run_all([root], tmp_path / "out", text_mode="file", opts=ReaderOptions(text_mode="file"))
    ledger = markers[0]["ledger"]
    assert (ledger["input"], ledger["kept"], ledger["rejected"], ledger["quarantined"]) == (2, 1, 1, 0)
    kept = pq.read_table(layout.data(shards[0].shard_id)).to_pylist()
    assert [d["id"] for d in kept] == ["a.txt"]


# --------------------------------------------------------------------------- WARC


HTML = (
    "<html><head><title>Fluss</title><script>var tracking = 1;</script></head><body>"
    "<nav><a href='/'>Home</a> | <a href='/about'>About</a></nav>"
    "<article><h1>The river and the town</h1>"
    "<p>The people of this town have always said that the water from the river is good for the farms, "
    "and the children walk to school along its banks every morning with their friends and teachers.</p>"
    "<p>In the spring the river rises and floods the lower fields, which makes the soil rich and dark; "
    "farmers plant barley and beans there as soon as the water has gone back to its bed.</p>"
    "<p>Older residents still remember the great flood, when the bridge was closed for a whole month "
    "and boats carried bread and letters from one side of the valley to the other.</p>"
    "</article><footer>Copyright 2024</footer></body></html>"
)
PARAGRAPH = "the children walk to school along its banks every morning"


def write_warc(path: Path, gz: bool) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    def response(writer, url: str, ctype: str, body: bytes):
        headers = StatusAndHeaders(
            "200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body)))], protocol="HTTP/1.1"
        )
        return writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers)

    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gz)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "babelmill-tests"}))
        req_headers = StatusAndHeaders("GET /page HTTP/1.1", [("Host", "example.org")], is_http_request=True)
        writer.write_record(
            writer.create_warc_record(
                "https://example.org/page", "request", payload=io.BytesIO(b""), http_headers=req_headers
            )
        )
        writer.write_record(
            response(writer, "https://example.org/page", "text/html; charset=utf-8", HTML.encode("utf-8"))
        )
        writer.write_record(
            response(writer, "https://example.org/notes.txt", "text/plain", b"plain notes, not a web page")
        )
        writer.write_record(
            response(writer, "https://example.org/logo.png", "image/png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
        )
        writer.write_record(
            response(
                writer,
                "https://example.org/latin1",
                "text/html; charset=iso-8859-1",
                "<html><body><p>café crème</p></body></html>".encode("latin-1"),
            )
        )


@pytest.mark.parametrize("name,gz", [("crawl.warc", False), ("crawl.warc.gz", True)])
def test_warc_reader(tmp_path: Path, name: str, gz: bool) -> None:
    path = tmp_path / name
    write_warc(path, gz)
    shard = only_shard([path])
    assert shard.kind == "warc"
    batches = list(read_shard(shard, ReaderOptions()))
    assert all(not b.quarantine for b in batches)
    rows = [r for b in batches for r in b.docs.to_pylist()]
    # responses only: the request and warcinfo records are not documents
    assert len(rows) == 4
    by_url = {json.loads(r["meta"])["url"]: r for r in rows}
    page = by_url["https://example.org/page"]
    assert page["content_type"] == "text/html" and page["drop_reason"] is None
    assert "<p>" in page["text"] and PARAGRAPH in page["text"]
    assert page["id"].startswith("<urn:uuid:") and page["source"] == name
    assert json.loads(page["meta"])["content_type"] == "text/html; charset=utf-8"
    png = by_url["https://example.org/logo.png"]
    assert png["drop_reason"] == "unsupported_content_type:image/png" and png["text"] == ""
    # plain-text responses are not HTML pages: rejected with their type (datatrove drops them too)
    assert by_url["https://example.org/notes.txt"]["drop_reason"] == "unsupported_content_type:text/plain"
    latin = by_url["https://example.org/latin1"]
    assert "café crème" in latin["text"] and latin["drop_reason"] is None


@pytest.mark.parametrize("name,gz", [("crawl.warc", False), ("crawl.warc.gz", True)])
def test_warc_extraction_through_executor(tmp_path: Path, name: str, gz: bool) -> None:
    from babelmill.processors.extract import TrafilaturaExtractor

    path = tmp_path / name
    write_warc(path, gz)
    layout, shards, markers = run_all([path], tmp_path / "out", stages=[TrafilaturaExtractor(), EmptyTextFilter()])
    ledger = markers[0]["ledger"]
    assert ledger["input"] == 4
    assert ledger["input"] == ledger["kept"] + ledger["rejected"] + ledger["quarantined"]
    kept = pq.read_table(layout.data(shards[0].shard_id)).to_pylist()
    page = next(r for r in kept if json.loads(r["meta"])["url"] == "https://example.org/page")
    assert PARAGRAPH in page["text"]
    assert "Older residents still remember the great flood" in page["text"]
    for tag in ("<p>", "<article", "<html", "</", "var tracking"):
        assert tag not in page["text"]
    assert "content_type" not in kept[0]
    rejected = pq.read_table(layout.rejected(shards[0].shard_id)).to_pylist()
    reasons = {json.loads(r["meta"])["url"]: (r["drop_reason"], r["drop_stage"]) for r in rejected}
    assert reasons["https://example.org/logo.png"] == ("unsupported_content_type:image/png", "read")
    assert reasons["https://example.org/notes.txt"] == ("unsupported_content_type:text/plain", "read")
    kept_and_rejected = {json.loads(r["meta"])["url"] for r in kept + rejected}
    assert len(kept_and_rejected) == 4


# --------------------------------------------------------------------------- Hugging Face


@pytest.fixture(autouse=True)
def private_hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``load_dataset`` caches under ~/.cache keyed partly by the folder's name; a private
    cache keeps these tests from reading (or leaving) another run's rows."""
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")


def test_hf_save_to_disk_dataset(tmp_path: Path) -> None:
    import datasets

    ds = datasets.Dataset.from_dict({"id": ["a", "b", "c"], "text": ["one", "two", "three"], "label": [0, 1, 0]})
    ds.save_to_disk(str(tmp_path / "ds"))
    shards = discover_shards([str(tmp_path / "ds")])
    assert shards and all(s.kind == "hf-arrow" for s in shards)
    assert shards[0].sources[0].startswith("ds/")
    docs = [d for s in shards for d in read_all(s)[0]]
    assert [(d["id"], d["text"], meta(d)) for d in docs] == [
        ("a", "one", {"label": 0}),
        ("b", "two", {"label": 1}),
        ("c", "three", {"label": 0}),
    ]
    # --format hf names the same thing
    assert discover_shards([str(tmp_path / "ds")], fmt="hf") == shards


def test_hf_save_to_disk_dataset_dict_split(tmp_path: Path) -> None:
    import datasets

    dd = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({"text": ["tr0", "tr1"]}),
            "validation": datasets.Dataset.from_dict({"text": ["va0", "va1", "va2"]}),
        }
    )
    dd.save_to_disk(str(tmp_path / "dd"))
    train = discover_shards([str(tmp_path / "dd")])
    assert [d["text"] for s in train for d in read_all(s)[0]] == ["tr0", "tr1"]
    val = discover_shards([str(tmp_path / "dd")], hf_split="validation")
    docs = [d for s in val for d in read_all(s)[0]]
    assert [d["text"] for d in docs] == ["va0", "va1", "va2"]
    assert docs[0]["id"].startswith("dd/validation/") and docs[0]["id"].endswith(":0")
    with pytest.raises(InputError) as err:
        discover_shards([str(tmp_path / "dd")], hf_split="test")
    msg = str(err.value)
    assert "\n" not in msg and "train" in msg and "validation" in msg and "--hf-split" in msg


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_hf_load_dataset_local_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    monkeypatch.setattr(sources, "HF_ROWS_PER_SHARD", 2)
    root = tmp_path / f"loadable_{kind}"
    root.mkdir()
    rows = [{"text": f"row {i}", "topic": f"t{i % 2}"} for i in range(5)]
    if kind == "csv":
        (root / "train.csv").write_text("text,topic\n" + "".join(f"{r['text']},{r['topic']}\n" for r in rows))
    else:
        (root / "train.jsonl").write_bytes(jsonl_bytes(rows))
    shards = discover_shards([str(root)], fmt="hf")
    assert [s.kind for s in shards] == ["hf-load"] * 3
    assert [s.row_range for s in shards] == [(0, 2), (2, 4), (4, 5)]
    assert shards[0].sources == (f"{root.name}[train]",)
    docs = [d for s in shards for d in read_all(s)[0]]
    assert [d["text"] for d in docs] == [r["text"] for r in rows]
    assert [d["id"] for d in docs] == [f"{root.name}[train]:{i}" for i in range(5)]
    assert [meta(d) for d in docs] == [{"topic": r["topic"]} for r in rows]


def test_hf_load_missing_split_is_input_error(tmp_path: Path) -> None:
    root = tmp_path / "loadable"
    root.mkdir()
    (root / "train.csv").write_text("text\nhello\n")
    with pytest.raises(InputError) as err:
        discover_shards([str(root)], fmt="hf", hf_split="nope")
    assert "\n" not in str(err.value) and "nope" in str(err.value)


# --------------------------------------------------------------------------- globs, directories


def make_tree(root: Path) -> None:
    for rel in (
        "b.jsonl",
        "a.jsonl",
        "sub/z.jsonl",
        "sub/deeper/c.jsonl.gz",
        "aa/x.jsonl",
        ".hidden.jsonl",
        ".git/ignored.jsonl",
        "sub/.cache/y.jsonl",
    ):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        data = jsonl_bytes([{"text": f"from {rel}"}])
        p.write_bytes(gzip.compress(data) if rel.endswith(".gz") else data)
    (root / "README.md").write_text("not an input")
    (root / "sub" / "notes.csv").write_text("a,b\n")


def test_directory_recursive_deterministic_hidden_ignored(tmp_path: Path) -> None:
    root = tmp_path / "in"
    make_tree(root)
    shards = discover_shards([str(root)])
    expected = ["a.jsonl", "b.jsonl", "aa/x.jsonl", "sub/z.jsonl", "sub/deeper/c.jsonl.gz"]
    assert [s.sources[0] for s in shards] == expected
    assert [s.index for s in shards] == list(range(len(expected)))
    assert [s.shard_id for s in shards] == [f"{i:05d}" for i in range(len(expected))]
    # same order in every call, whatever the file system returns
    assert discover_shards([str(root)]) == shards
    texts = [d["text"] for s in shards for d in read_all(s)[0]]
    assert texts == [f"from {s}" for s in expected]


def test_glob_recursive_and_dedup(tmp_path: Path) -> None:
    root = tmp_path / "in"
    make_tree(root)
    shards = discover_shards([str(root / "**" / "*.jsonl")])
    assert [s.sources[0] for s in shards] == ["a.jsonl", "aa/x.jsonl", "b.jsonl", "sub/z.jsonl"]
    # a file named twice (glob + explicit path) is one shard
    again = discover_shards([str(root / "*.jsonl"), str(root / "a.jsonl")])
    assert [s.paths[0] for s in again] == [str(root / "a.jsonl"), str(root / "b.jsonl")]
    partial = discover_shards([str(root / "sub" / "**" / "*.jsonl*")])
    assert [s.sources[0] for s in partial] == ["deeper/c.jsonl.gz", "z.jsonl"]


def test_mixed_formats_in_one_directory(tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    root.mkdir()
    (root / "a.jsonl").write_bytes(jsonl_bytes([{"text": "json doc"}]))
    pq.write_table(pa.table({"text": ["parquet doc"]}), root / "b.parquet")
    (root / "c.txt").write_text("text doc\n")
    shards = discover_shards([str(root)])
    assert [(s.kind, s.sources[0]) for s in shards] == [
        ("jsonl", "a.jsonl"),
        ("parquet", "b.parquet"),
        ("text-lines", "c.txt"),
    ]
    layout, shards, markers = run_all([root], tmp_path / "out")
    kept = pq.read_table(tmp_path / "out" / "data").to_pylist()
    assert sorted(d["text"] for d in kept) == ["json doc", "parquet doc", "text doc"]
    assert sum(m["ledger"]["kept"] for m in markers) == 3


def test_explicit_format_overrides_extension(tmp_path: Path) -> None:
    path = tmp_path / "dump.data"
    path.write_bytes(jsonl_bytes([{"text": "x"}]))
    shard = only_shard([path], fmt="jsonl")
    assert read_all(shard)[0][0]["text"] == "x"
    shard = only_shard([path], fmt="text")
    assert shard.kind == "text-lines" and read_all(shard)[0][0]["text"] == '{"text": "x"}'


# --------------------------------------------------------------------------- errors


def one_line_input_error(inputs, **kw) -> str:
    with pytest.raises(InputError) as err:
        discover_shards(inputs, **kw)
    msg = str(err.value)
    assert msg and "\n" not in msg and "Traceback" not in msg
    return msg


def test_unknown_extension_is_input_error(tmp_path: Path) -> None:
    path = tmp_path / "data.xyz"
    path.write_text("whatever")
    msg = one_line_input_error([str(path)])
    assert "data.xyz" in msg and "--format" in msg


def test_missing_path_is_input_error(tmp_path: Path) -> None:
    msg = one_line_input_error([str(tmp_path / "nope.jsonl")])
    assert "nope.jsonl" in msg and "does not exist" in msg


def test_other_input_errors(tmp_path: Path) -> None:
    assert "matches no file" in one_line_input_error([str(tmp_path / "*.jsonl")])
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.md").write_text("x")
    assert "holds no file" in one_line_input_error([str(empty)])
    assert "--format" in one_line_input_error([str(empty)], fmt="csv")
    assert "no --input" in one_line_input_error([])
