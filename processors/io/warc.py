"""WARC reading with fastwarc, and the record-aligned byte ranges that split one large
WARC file into several shards.

A shard ``[start, end)`` of a WARC file owns the records that *begin* in that byte
range (the rule Hadoop's input splits use): the reader seeks to the first record
boundary at or after ``start`` and stops at the first record that begins at or after
``end``.  Only uncompressed files and files gzipped per record (the WARC norm, Common
Crawl's layout) can be cut; one gzip stream over the whole file, or zstd, stays one shard.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from typing import Any

import orjson
import pyarrow as pa

from babelmill.processors.base import DROP_REASON
from babelmill.processors.extract.charset import decode_html
from babelmill.processors.io import storage
from babelmill.processors.io.records import QuarantineRecord, ReadBatch, ReaderOptions

HTML_TYPES = ("text/html", "application/xhtml+xml")
WARC_BATCH = 1000
_GZIP_MAGIC = b"\x1f\x8b\x08"
_SCAN = 1 << 20
_CONTENT_LENGTH = re.compile(rb"\r?\nContent-Length:\s*(\d+)", re.I)


# ------------------------------------------------------------------ splitting


def _compression(path: str) -> str | None:
    lower = path.lower()
    if lower.endswith(".gz"):
        return "gzip"
    if lower.endswith((".zst", ".zstd", ".lz4", ".bz2")):
        return "other"
    return None


def splittable(path: str) -> bool:
    """True for uncompressed WARC and for WARC gzipped record by record."""
    comp = _compression(path)
    if comp is None:
        return True
    if comp != "gzip":
        return False
    with storage.open_input(path) as fh:
        head = fh.read(_SCAN)
    dobj = zlib.decompressobj(31)
    try:
        dobj.decompress(head)
    except zlib.error:
        return False
    # the first member ended inside the first MiB and another member follows
    return dobj.eof and dobj.unused_data[:3] == _GZIP_MAGIC


def byte_ranges(path: str, split_bytes: int) -> list[tuple[int, int]]:
    """Raw ``[start, end)`` ranges of about ``split_bytes``; aligned to records on read."""
    size = storage.size(path)
    if split_bytes <= 0 or size <= split_bytes or not splittable(path):
        return [(0, size)]
    n = -(-size // split_bytes)
    step = -(-size // n)
    return [(s, min(s + step, size)) for s in range(0, size, step)]


def _is_record_start(fh: Any, pos: int, gz: bool) -> bool:
    fh.seek(pos)
    data = fh.read(4096)
    if gz:
        try:
            return zlib.decompressobj(31).decompress(data, 16)[:5] == b"WARC/"
        except zlib.error:
            return False
    return data[:6] == b"WARC/1" or data[:6] == b"WARC/0"


def align(fh: Any, pos: int, gz: bool, limit: int) -> int:
    """The first record boundary at or after ``pos`` (``limit`` when there is none before it)."""
    if pos == 0:
        return 0
    needle = _GZIP_MAGIC if gz else b"WARC/"
    while pos < limit:
        fh.seek(pos)
        window = fh.read(_SCAN + len(needle))
        if not window:
            return limit
        at = 0
        while (hit := window.find(needle, at)) != -1:
            cand = pos + hit
            if cand >= limit:
                return limit
            # an uncompressed record starts a line; a gzip member must inflate to "WARC/"
            if (gz or hit > 0 and window[hit - 1 : hit] == b"\n" or hit == 0) and _is_record_start(fh, cand, gz):
                return cand
            at = hit + 1
        pos += _SCAN
    return limit


# ------------------------------------------------------------------ reading


def _tail_error(fh: Any, last: int, size: int, gz: bool) -> str | None:
    """Why the data from the last record on is not one whole record, or None."""
    fh.seek(last)
    if gz:
        dobj = zlib.decompressobj(31)
        while chunk := fh.read(1 << 20):
            try:
                dobj.decompress(chunk)
            except zlib.error as exc:
                return f"corrupt gzip member ({exc})"
            if dobj.eof:
                rest = dobj.unused_data + fh.read(4096)
                return (
                    f"{len(rest)}{'+' if len(rest) >= 4096 else ''} bytes after the last complete record (truncated file?)"
                    if rest.strip()
                    else None
                )
        return "the last gzip member ends early (truncated file?)"
    head = fh.read(65536)
    end = head.find(b"\r\n\r\n")
    m = _CONTENT_LENGTH.search(head[: end + 2]) if end != -1 else None
    if m is None:
        return "the last record has no complete header (truncated file?)"
    expected = last + end + 4 + int(m.group(1))
    if size < expected:
        return f"the last record ends {expected - size} bytes past the end of the file (truncated file?)"
    return None


def read_warc(
    path: str, source: str, opts: ReaderOptions, byte_range: tuple[int, int] | None = None
) -> Iterator[ReadBatch]:
    """HTTP responses of a WARC file (or of one byte range of it).

    HTML goes on as ``text`` (decoded: HTTP charset, then ``<meta charset>``, then
    detection) with ``content_type`` set, for the extraction stage; other payloads are
    rejected with their type.  A truncated or unreadable rest of the file is one
    quarantine record, the whole records before it are kept.
    """
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    size = storage.size(path)
    start, end = byte_range or (0, size)
    gz = _compression(path) == "gzip"
    rows: dict[str, list[Any]] = {k: [] for k in ("id", "text", "source", "meta", "content_type", DROP_REASON)}
    quarantine: list[QuarantineRecord] = []
    ordinal = 0

    def flush() -> ReadBatch:
        n = len(rows["id"])
        table = pa.table(
            {
                "id": pa.array(rows["id"], pa.string()),
                "text": pa.array(rows["text"], pa.string()),
                "lang": pa.nulls(n, pa.string()),
                "lang_score": pa.nulls(n, pa.float32()),
                "source": pa.array(rows["source"], pa.string()),
                "meta": pa.array(rows["meta"], pa.string()),
                "content_type": pa.array(rows["content_type"], pa.string()),
                DROP_REASON: pa.array(rows[DROP_REASON], pa.string()),
            }
        )
        batch = ReadBatch(docs=table, quarantine=list(quarantine))
        for v in rows.values():
            v.clear()
        quarantine.clear()
        return batch

    last, last_added = -1, None
    with storage.open_input(path) as fh:
        begin = align(fh, start, gz, end) if _compression(path) != "other" else start
        if begin >= end and start > 0:
            yield flush()
            return
        fh.seek(begin)
        try:
            archive = ArchiveIterator(fh, record_types=WarcRecordType.any_type, parse_http=True)
            for record in archive:
                pos = record.stream_pos
                if pos >= end and byte_range is not None and _compression(path) != "other":
                    break
                # flush before the next record, so a cut last record can still be taken back
                if len(rows["id"]) >= WARC_BATCH:
                    yield flush()
                last, last_added = pos, None
                if record.record_type != WarcRecordType.response:
                    continue
                headers = record.headers
                url = headers.get("WARC-Target-URI")
                rid = headers.get("WARC-Record-ID") or f"{source}@{pos}"
                http = record.http_headers
                ctype = (http.get("Content-Type") if http is not None else None) or ""
                mime = ctype.split(";")[0].strip().lower()
                try:
                    payload = record.reader.read(opts.max_record_bytes + 1)
                except Exception as exc:  # noqa: BLE001 - a broken payload must not end the file
                    quarantine.append(QuarantineRecord(source, ordinal, f"unreadable WARC payload: {exc}"))
                    ordinal += 1
                    last_added = "quarantine"
                    continue
                meta: dict[str, Any] = {
                    "url": url,
                    "date": headers.get("WARC-Date"),
                    "content_type": ctype,
                    "warc_record_id": rid,
                }
                if http is not None and (lang := http.get("Content-Language")):
                    meta["content_language"] = lang
                if len(payload) > opts.max_record_bytes:
                    quarantine.append(
                        QuarantineRecord(
                            source,
                            ordinal,
                            f"payload exceeds --max-record-bytes {opts.max_record_bytes}",
                            raw=orjson.dumps(meta).decode(),
                        )
                    )
                    ordinal += 1
                    last_added = "quarantine"
                    continue
                reason = None
                if mime in HTML_TYPES or (not mime and payload.lstrip()[:1] == b"<"):
                    text, codec, how = decode_html(payload, ctype)
                    meta["charset"] = f"{codec} ({how})"
                else:
                    text, reason = "", f"unsupported_content_type:{mime or 'unknown'}"
                rows["id"].append(rid)
                rows["source"].append(source)
                rows["meta"].append(orjson.dumps(meta).decode())
                rows["content_type"].append(mime or None)
                rows["text"].append(text)
                rows[DROP_REASON].append(reason)
                ordinal += 1
                last_added = "row"
            # fastwarc ends quietly at a cut file: check that the last record is whole.
            if end >= size:
                if last == -1:
                    fh.seek(begin)
                    if fh.read(4096).strip():
                        raise EOFError("no complete WARC record")
                else:
                    err = _tail_error(fh, last, size, gz)
                    if err:
                        # fastwarc hands over a cut last record as if whole: it is part of the rest
                        if last_added == "row":
                            for v in rows.values():
                                v.pop()
                            ordinal -= 1
                        elif last_added == "quarantine":
                            quarantine.pop()
                            ordinal -= 1
                        raise EOFError(err)
        except (OSError, EOFError, ValueError) as exc:
            quarantine.append(
                QuarantineRecord(
                    source, ordinal, f"unreadable WARC from record {ordinal} on: {type(exc).__name__}: {exc}"
                )
            )
    yield flush()
