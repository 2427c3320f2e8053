"""Malformed input: every bad record ends in quarantine with its reason and its exact
bytes, the clean records around it survive, and ``input == kept + rejected + quarantined``.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import random
import tracemalloc
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from babelmill.pipelines.executor import OutputLayout, run_shard
from babelmill.processors.io import ReaderOptions, discover_shards, read_shard
from babelmill.processors.io import jsonl
from babelmill.processors.validate import EmptyTextFilter

MAX = ReaderOptions().max_record_bytes


def junk_line(seed: int = 7, n: int = 300) -> bytes:
    """Random bytes with NUL, 0xff and friends, but no newline (it is one line)."""
    rng = random.Random(seed)
    data = bytes(rng.choice([b for b in range(256) if b != 0x0A]) for _ in range(n))
    return b"\x00\xff" + data + b"\x00"


#: kind -> (the bad line, a piece of the error it must be quarantined with)
MALFORMED: dict[str, tuple[bytes, str]] = {
    "bad_json": (b'{"id": "broken-json", "text": "unterminated', "invalid JSON"),
    "invalid_utf8": (b'{"id": "bad-utf8", "text": "caf\xe9 au lait"}', "invalid UTF-8"),
    "missing_text": (b'{"id": "no-text", "body": "the text is under another key"}', "missing text field 'text'"),
    "null_text": (b'{"id": "null-text", "text": null}', "missing text field 'text'"),
    "text_not_string": (b'{"id": "number-text", "text": 12345}', "expected a string"),
    "text_is_object": (b'{"id": "object-text", "text": {"de": "Hallo"}}', "expected a string"),
    "json_list": (b'["a", "list", "not", "an", "object"]', "expected an object"),
    "json_scalar": (b"42", "expected an object"),
    "binary_junk": (junk_line(), "invalid UTF-8"),
    "nul_bytes_valid_utf8": (b"\x00\x00 NUL \x01\x02 junk", "invalid JSON"),
}
#: fast-path quarantine keeps re-encoded JSON instead of the input line (lead patch D)


def clean_lines(n: int, tag: str = "doc") -> list[bytes]:
    return [json.dumps({"text": f"{tag} {i}: the river is good for the farms", "n": i}).encode() for i in range(n)]


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def run(path: Path, out: Path, opts: ReaderOptions | None = None, **kw):
    layout = OutputLayout(out)
    shards = discover_shards([str(path)], **kw)
    markers = [run_shard(s, opts or ReaderOptions(), [EmptyTextFilter()], layout) for s in shards]
    return layout, shards, markers


def quarantine_lines(layout: OutputLayout, shard_id: str = "00000") -> list[dict]:
    path = layout.quarantine(shard_id)
    return [json.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


def raw_bytes(q: dict) -> bytes:
    assert ("raw" in q) != ("raw_base64" in q), q
    return q["raw"].encode("utf-8") if "raw" in q else base64.b64decode(q["raw_base64"])


def assert_conserved(ledger: dict) -> None:
    assert ledger["input"] == ledger["kept"] + ledger["rejected"] + ledger["quarantined"], ledger
    for stage in ledger["stages"]:
        assert stage["in"] == stage["kept"] + sum(stage["dropped"].values()) + stage["errored"], stage


def read_docs(path: Path, opts: ReaderOptions | None = None) -> tuple[list[dict], list[dict]]:
    docs, quarantine = [], []
    for shard in discover_shards([str(path)]):
        for batch in read_shard(shard, opts or ReaderOptions()):
            docs.extend(batch.docs.to_pylist())
            quarantine.extend(q.to_dict() for q in batch.quarantine)
    return docs, quarantine


# --------------------------------------------------------------------------- one bad line at a time


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_each_malformed_line_is_quarantined(tmp_path: Path, kind: str) -> None:
    bad, why = MALFORMED[kind]
    lines = clean_lines(40)
    lines.insert(17, bad)
    path = write_lines(tmp_path / "in.jsonl", lines)
    layout, _, markers = run(path, tmp_path / "out")
    ledger = markers[0]["ledger"]
    assert (ledger["input"], ledger["kept"], ledger["rejected"], ledger["quarantined"]) == (41, 40, 0, 1)
    assert_conserved(ledger)
    (q,) = quarantine_lines(layout)
    assert why in q["error"], q["error"]
    assert q["source"] == "in.jsonl" and q["record"] == 17 and q["stage"] == "read"
    kept = pq.read_table(layout.data("00000")).to_pylist()
    # the clean records around the bad one all survive, with ordinals that count the bad line
    assert [d["text"] for d in kept] == [json.loads(x)["text"] for x in lines if x != bad]
    assert [d["id"] for d in kept] == [f"in.jsonl:{i}" for i in range(41) if i != 17]


@pytest.mark.parametrize(
    "kind",
    sorted(MALFORMED),
)
def test_quarantine_keeps_exact_bytes(tmp_path: Path, kind: str) -> None:
    bad, _ = MALFORMED[kind]
    path = write_lines(tmp_path / "in.jsonl", clean_lines(10) + [bad] + clean_lines(10, "more"))
    layout, _, _ = run(path, tmp_path / "out")
    (q,) = quarantine_lines(layout)
    assert raw_bytes(q) == bad
    if kind in ("binary_junk", "invalid_utf8"):
        assert "raw_base64" in q  # not valid UTF-8: kept as base64, recoverable


# --------------------------------------------------------------------------- everything in one file


def test_all_malformed_kinds_in_one_file(tmp_path: Path) -> None:
    bad_lines = [bad for bad, _ in MALFORMED.values()]
    lines = clean_lines(30)
    for j, bad in enumerate(bad_lines):
        lines.insert(2 + 3 * j, bad)
    lines.insert(5, json.dumps({"id": "ws", "text": " \t\n  "}).encode())  # whitespace-only text
    lines.insert(9, b"")  # blank lines are not records
    lines.insert(9, b"   \t")
    lines.append(b"")
    path = write_lines(tmp_path / "in.jsonl", lines)
    layout, _, markers = run(path, tmp_path / "out")
    ledger = markers[0]["ledger"]
    assert_conserved(ledger)
    assert ledger["input"] == 30 + len(bad_lines) + 1
    assert (ledger["kept"], ledger["rejected"], ledger["quarantined"]) == (30, 1, len(bad_lines))
    # whitespace-only text is an ordinary document rejected as empty, not a malformed record
    rejected = pq.read_table(layout.rejected("00000")).to_pylist()
    assert [(r["id"], r["drop_reason"], r["drop_stage"]) for r in rejected] == [("ws", "empty_text", "validate")]
    quarantine = quarantine_lines(layout)
    assert len(quarantine) == len(bad_lines)
    for q in quarantine:
        assert {"error", "source", "record", "stage"} <= set(q) and q["error"]
    assert sorted(raw_bytes(q) for q in quarantine) == sorted(bad_lines)
    # record numbers count non-blank lines, malformed ones included
    non_blank = [x for x in lines if x.strip()]
    assert sorted(q["record"] for q in quarantine) == sorted(non_blank.index(b) for b in bad_lines)


def test_sample_generator_malformed_lines(tmp_path: Path) -> None:
    """The demo sample's malformed records (babelmill.sample) behave the same."""
    from babelmill.sample import MALFORMED_LINES, write_sample

    paths = write_sample(tmp_path / "in", docs_per_lang=3, files=1, seed=3)
    layout, _, markers = run(paths[0], tmp_path / "out")
    ledger = markers[0]["ledger"]
    assert_conserved(ledger)
    assert ledger["quarantined"] == len(MALFORMED_LINES)
    assert sorted(raw_bytes(q) for q in quarantine_lines(layout)) == sorted(MALFORMED_LINES)
    assert ledger["stages"][1]["dropped"] == {"empty_text": 1}


def test_whitespace_text_and_blank_lines(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "in.jsonl",
        [b"", b'{"text": "a"}', b"  ", b'{"text": "   "}', b"\t", b'{"text": "\\n\\t"}', b'{"text": "b"}', b""],
    )
    layout, _, markers = run(path, tmp_path / "out")
    ledger = markers[0]["ledger"]
    assert (ledger["input"], ledger["kept"], ledger["rejected"], ledger["quarantined"]) == (4, 2, 2, 0)
    assert not layout.quarantine("00000").exists()
    kept = pq.read_table(layout.data("00000")).to_pylist()
    assert [(d["id"], d["text"]) for d in kept] == [("in.jsonl:0", "a"), ("in.jsonl:3", "b")]
    assert pq.read_table(layout.rejected("00000")).column("drop_reason").to_pylist() == ["empty_text"] * 2


# --------------------------------------------------------------------------- size limit


def test_50mb_document_is_quarantined_memory_bounded(tmp_path: Path) -> None:
    big_text = b"x" * (50 * 1024 * 1024)
    big = b'{"id": "huge", "text": "' + big_text + b'"}'
    path = tmp_path / "in.jsonl"
    with open(path, "wb") as fh:
        fh.write(b'{"text": "before"}\n' + big + b'\n{"text": "after"}\n')
    del big_text
    tracemalloc.start()
    try:
        docs, quarantine = read_docs(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the line is held a few times over (buffer, decoded raw), never copied quadratically
    assert peak < 5 * len(big), peak
    assert [d["text"] for d in docs] == ["before", "after"]
    assert [d["id"] for d in docs] == ["in.jsonl:0", "in.jsonl:2"]
    (q,) = quarantine
    assert q["record"] == 1 and f"exceeds --max-record-bytes {MAX}" in q["error"]
    digest = hashlib.sha256(big).hexdigest()
    del docs, quarantine
    # end to end: counted, quarantined with the exact bytes (one shard: not split by size)
    layout, _, markers = run(path, tmp_path / "out", split_bytes=0)
    ledger = markers[0]["ledger"]
    assert (ledger["input"], ledger["kept"], ledger["quarantined"]) == (3, 2, 1)
    (q,) = quarantine_lines(layout)
    assert hashlib.sha256(raw_bytes(q)).hexdigest() == digest


def test_long_line_over_a_custom_limit(tmp_path: Path) -> None:
    opts = ReaderOptions(max_record_bytes=1000)
    lines = clean_lines(5) + [json.dumps({"text": "é" * 600}).encode()] + clean_lines(5, "more")
    path = write_lines(tmp_path / "in.jsonl", lines)
    docs, quarantine = read_docs(path, opts)
    assert len(docs) == 10 and len(quarantine) == 1
    assert quarantine[0]["record"] == 5 and "exceeds --max-record-bytes 1000" in quarantine[0]["error"]


# --------------------------------------------------------------------------- broken files


def big_jsonl(n: int = 4000) -> bytes:
    return b"".join(json.dumps({"text": f"record {i} " + "lorem ipsum " * 8}).encode() + b"\n" for i in range(n))


def check_truncated(docs: list[dict], quarantine: list[dict], source: str, total: int) -> None:
    # what could be read stands, in order; the rest is one quarantine record from there on
    assert 0 < len(docs) < total
    assert [d["id"] for d in docs] == [f"{source}:{i}" for i in range(len(docs))]
    (q,) = quarantine
    assert q["record"] == len(docs) and "unreadable from" in q["error"] and q["source"] == source


def test_truncated_gz(tmp_path: Path) -> None:
    full = gzip.compress(big_jsonl())
    path = tmp_path / "in.jsonl.gz"
    path.write_bytes(full[: int(len(full) * 0.6)])
    docs, quarantine = read_docs(path)
    check_truncated(docs, quarantine, "in.jsonl.gz", 4000)
    assert "EOFError" in quarantine[0]["error"]
    layout, _, markers = run(path, tmp_path / "out")
    assert_conserved(markers[0]["ledger"])
    assert markers[0]["ledger"]["quarantined"] == 1


def test_truncated_zst(tmp_path: Path) -> None:
    import zstandard

    full = zstandard.ZstdCompressor().compress(big_jsonl())
    path = tmp_path / "in.jsonl.zst"
    path.write_bytes(full[: int(len(full) * 0.6)])
    docs, quarantine = read_docs(path, ReaderOptions(chunk_bytes=64 * 1024))
    check_truncated(docs, quarantine, "in.jsonl.zst", 4000)


def test_gz_that_is_not_gzip(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl.gz"
    path.write_bytes(b'{"text": "plain, not gzip"}\n')
    layout, _, markers = run(path, tmp_path / "out")
    ledger = markers[0]["ledger"]
    assert (ledger["input"], ledger["quarantined"]) == (1, 1)
    assert "BadGzipFile" in quarantine_lines(layout)[0]["error"]


def test_truncated_gz_text_lines(tmp_path: Path) -> None:
    full = gzip.compress(b"".join(f"line {i} of plain text\n".encode() for i in range(20000)))
    path = tmp_path / "in.txt.gz"
    path.write_bytes(full[: len(full) // 2])
    docs, quarantine = read_docs(path)
    check_truncated(docs, quarantine, "in.txt.gz", 20000)
    layout, _, markers = run(path, tmp_path / "out")
    assert_conserved(markers[0]["ledger"])


def test_truncated_gz_text_file_mode(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "good.txt").write_text("a whole document")
    full = gzip.compress(b"another document " * 5000)
    (root / "cut.txt.gz").write_bytes(full[: len(full) // 2])
    layout, shards, markers = run(root, tmp_path / "out", ReaderOptions(text_mode="file"), text_mode="file")
    ledger = markers[0]["ledger"]
    assert (ledger["input"], ledger["kept"], ledger["quarantined"]) == (2, 1, 1)
    (q,) = quarantine_lines(layout)
    assert q["source"] == "cut.txt.gz" and "unreadable file" in q["error"]


@pytest.mark.parametrize("how", ["junk", "truncated"])
def test_corrupt_parquet(tmp_path: Path, how: str) -> None:
    path = tmp_path / "in.parquet"
    if how == "junk":
        path.write_bytes(b"PAR1" + bytes(random.Random(1).randrange(256) for _ in range(500)))
    else:
        pq.write_table(pa.table({"text": [f"t{i}" for i in range(100)]}), path)
        path.write_bytes(path.read_bytes()[:-20])
    layout, _, markers = run(path, tmp_path / "out")
    ledger = markers[0]["ledger"]
    assert (ledger["input"], ledger["kept"], ledger["quarantined"]) == (1, 0, 1)
    assert_conserved(ledger)
    (q,) = quarantine_lines(layout)
    assert "unreadable Parquet" in q["error"] and q["source"] == "in.parquet"
    # an empty but valid data file is still written for the shard
    assert pq.read_table(layout.data("00000")).num_rows == 0


def test_warc_record_without_target_uri(tmp_path: Path) -> None:
    path = tmp_path / "in.warc.gz"
    path.write_bytes(gzip.compress(b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 999999\r\n\r\n<html>cut")[:-8])
    layout, _, markers = run(path, tmp_path / "out")
    ledger = markers[0]["ledger"]
    assert_conserved(ledger)
    assert ledger["quarantined"] == 1
    assert "unreadable WARC from record 0 on" in quarantine_lines(layout)[0]["error"]


def test_truncated_warc_gz(tmp_path: Path) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path = tmp_path / "in.warc.gz"
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for i in range(40):
            body = f"<html><body><p>page {i} {'words ' * 200}</p></body></html>".encode()
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(
                    f"https://example.org/{i}", "response", payload=io.BytesIO(body), http_headers=headers
                )
            )
    data = path.read_bytes()
    # cut in the middle of a record: the 40 gzip members are almost the same size, so half
    # the file alone can fall exactly on a member boundary and leave 20 whole records
    path.write_bytes(data[: len(data) // 2 + len(data) // 80])
    layout, _, markers = run(path, tmp_path / "out")
    ledger = markers[0]["ledger"]
    assert_conserved(ledger)
    assert 0 < ledger["kept"] < 40 and ledger["quarantined"] == 1
    assert f"unreadable WARC from record {ledger['kept']} on" in quarantine_lines(layout)[0]["error"]


# --------------------------------------------------------------------------- fast path vs slow path


def _count_slow_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    slow = jsonl._parse_jsonl_lines

    def spy(chunk, start, source, opts):
        calls.append(start)
        return slow(chunk, start, source, opts)

    monkeypatch.setattr(jsonl, "_parse_jsonl_lines", spy)
    return calls


def test_bad_line_falls_back_for_its_chunk_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    n, k = 3000, 1700
    lines = clean_lines(n)
    opts = ReaderOptions(chunk_bytes=16 * 1024)
    clean = write_lines(tmp_path / "clean" / "in.jsonl", lines)
    dirty = write_lines(tmp_path / "dirty" / "in.jsonl", lines[:k] + [MALFORMED["bad_json"][0]] + lines[k:])

    calls = _count_slow_calls(monkeypatch)
    clean_docs, clean_q = read_docs(clean, opts)
    assert calls == [] and clean_q == []
    dirty_docs, dirty_q = read_docs(dirty, opts)
    assert len(calls) == 1, "only the chunk holding the bad line is parsed line by line"
    chunks = -(-dirty.stat().st_size // opts.chunk_bytes)
    assert chunks > 5

    assert len(dirty_q) == 1 and dirty_q[0]["record"] == k
    assert [d["text"] for d in dirty_docs] == [d["text"] for d in clean_docs]
    assert [d["meta"] for d in dirty_docs] == [d["meta"] for d in clean_docs]
    # ids are <source>:<ordinal>; the ordinal counts the malformed line, on either path
    assert [d["id"] for d in clean_docs] == [f"in.jsonl:{i}" for i in range(n)]
    assert [d["id"] for d in dirty_docs] == [f"in.jsonl:{i if i < k else i + 1}" for i in range(n)]


def test_ids_identical_on_fast_and_slow_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole file on the fast path vs whole file line by line: same rows."""
    lines = clean_lines(500)
    lines[10] = json.dumps({"id": "given", "text": "has an id", "n": 10}).encode()
    lines[11] = json.dumps({"id": 12345, "text": "has an int id", "n": 11}).encode()
    path = write_lines(tmp_path / "in.jsonl", lines[:200] + [b"", b"  "] + lines[200:])
    opts = ReaderOptions(chunk_bytes=4096)
    fast, _ = read_docs(path, opts)
    monkeypatch.setattr(jsonl, "_fast_parse", lambda *args: None)
    slow, _ = read_docs(path, opts)
    assert [d["id"] for d in fast] == [d["id"] for d in slow]
    assert fast[10]["id"] == "given" and fast[11]["id"] == "12345" and fast[12]["id"] == "in.jsonl:12"
    assert fast == slow


def test_meta_identical_on_fast_and_slow_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_lines(tmp_path / "in.jsonl", [b'{"text": "a", "url": "u"}', b'{"text": "b", "lang_hint": "de"}'])
    fast, _ = read_docs(path)
    monkeypatch.setattr(jsonl, "_fast_parse", lambda *args: None)
    slow, _ = read_docs(path)
    assert [json.loads(d["meta"]) for d in slow] == [{"url": "u"}, {"lang_hint": "de"}]
    assert fast == slow


def test_date_like_strings_are_kept_verbatim(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "in.jsonl", [b'{"id": "2024-05-01", "text": "2020-01-01", "date": "2021-02-03T04:05:06Z"}'] * 3
    )
    docs, quarantine = read_docs(path)
    assert quarantine == []
    assert [(d["id"], d["text"], json.loads(d["meta"])) for d in docs] == [
        ("2024-05-01", "2020-01-01", {"date": "2021-02-03T04:05:06Z"})
    ] * 3


def test_invalid_utf8_in_key_is_quarantined(tmp_path: Path) -> None:
    bad = b'{"te\xffxt": "a", "text": "b"}'
    path = write_lines(tmp_path / "in.jsonl", clean_lines(3) + [bad] + clean_lines(3, "more"))
    docs, quarantine = read_docs(path)
    assert len(docs) == 6 and len(quarantine) == 1 and raw_bytes(quarantine[0]) == bad


def test_list_id_like_slow_path(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "in.jsonl", [b'{"id": [1, 2], "text": "a"}', b'{"id": [3], "text": "b"}'])
    docs, quarantine = read_docs(path)
    assert quarantine == [] and [d["id"] for d in docs] == ["[1,2]", "[3]"]


def test_truncated_json_array_gz(tmp_path: Path) -> None:
    data = gzip.compress(json.dumps([{"text": f"t{i} " * 50} for i in range(3000)]).encode())
    path = tmp_path / "arr.json.gz"
    path.write_bytes(data[: len(data) // 2])
    layout, _, markers = run(path, tmp_path / "out")
    assert markers[0]["ledger"]["quarantined"] == 1


def test_parquet_binary_column_goes_to_meta(tmp_path: Path) -> None:
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"text": ["a", "b"], "blob": pa.array([b"\x00\xff", None], pa.binary())}), path)
    layout, _, markers = run(path, tmp_path / "out")
    assert markers[0]["ledger"]["kept"] == 2
    kept = pq.read_table(layout.data("00000")).to_pylist()
    assert kept[0]["meta"] is not None and "blob" in json.loads(kept[0]["meta"])


def test_bad_line_costs_a_small_slow_parse_not_the_whole_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the ~1 MB piece around a broken line is parsed line by line."""
    from babelmill.processors.io import jsonl

    lines = [json.dumps({"id": f"d{i}", "text": f"document number {i} " * 5}) for i in range(40_000)]
    lines.insert(20_000, '{"id": "broken", "text": "unterminated')
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(lines) + "\n")
    slow_sizes: list[int] = []
    real = jsonl._parse_jsonl_lines

    def spy(chunk: bytes, *args, **kwargs):  # type: ignore[no-untyped-def]
        slow_sizes.append(len(chunk))
        return real(chunk, *args, **kwargs)

    monkeypatch.setattr(jsonl, "_parse_jsonl_lines", spy)
    batches = list(jsonl.read_jsonl(str(path), "big.jsonl", ReaderOptions()))
    docs = pa.concat_tables([b.docs for b in batches])
    quarantined = [q for b in batches for q in b.quarantine]
    assert docs.num_rows == 40_000 and len(quarantined) == 1 and quarantined[0].record == 20_000
    assert docs.column("id").to_pylist() == [f"d{i}" for i in range(40_000)]
    assert len(slow_sizes) == 1 and slow_sizes[0] <= 2 * jsonl._RETRY_PIECE_BYTES
