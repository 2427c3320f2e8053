"""Readers: each turns one shard into :class:`ReadBatch` es of document rows.

One module per format (``jsonl``, ``parquet``, ``text``, ``hf``; what they share is in
``common``); ``read_shard`` here picks the reader for a shard's kind.  Every bad
record ends in quarantine with its reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pyarrow as pa

from babelmill.processors.base import DROP_REASON
from babelmill.processors.io.common import _STREAM_ERRORS, map_table, open_binary  # noqa: F401 - imported from here by NER readers and parallel reading
from babelmill.processors.io.hf import load_hf_dataset, read_hf_arrow, read_hf_load  # noqa: F401 - load_hf_dataset: as above
from babelmill.processors.io.jsonl import read_jsonl
from babelmill.processors.io.parquet import read_parquet
from babelmill.processors.io.records import QuarantineRecord, ReadBatch, ReaderOptions
from babelmill.processors.io.sources import InputShard
from babelmill.processors.io.text import read_text_files, read_text_lines


# --------------------------------------------------------------------------- WARC


_HTML_TYPES = ("text/html", "application/xhtml+xml")
_WARC_BATCH = 1000


def read_warc(path: str, source: str, opts: ReaderOptions) -> Iterator[ReadBatch]:
    """HTTP responses of a WARC file.  HTML goes on as ``text`` with ``content_type``
    set, for the extraction stage; other payloads are rejected with their type."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

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

    try:
        with open(path, "rb") as fh:
            archive = ArchiveIterator(fh, arc2warc=True)
            any_record = False
            for record in archive:
                any_record = True
                if record.rec_type != "response":
                    continue
                rid = record.rec_headers.get_header("WARC-Record-ID") or f"{source}:{ordinal}"
                url = record.rec_headers.get_header("WARC-Target-URI")
                date = record.rec_headers.get_header("WARC-Date")
                ctype = (record.http_headers.get_header("Content-Type") if record.http_headers else None) or ""
                mime = ctype.split(";")[0].strip().lower()
                try:
                    payload = record.content_stream().read(opts.max_record_bytes + 1)
                except Exception as exc:  # noqa: BLE001 - a broken payload must not end the file
                    quarantine.append(QuarantineRecord(source, ordinal, f"unreadable WARC payload: {exc}"))
                    ordinal += 1
                    continue
                meta = orjson.dumps({"url": url, "date": date, "content_type": ctype, "warc_record_id": rid}).decode()
                if len(payload) > opts.max_record_bytes:
                    quarantine.append(QuarantineRecord(source, ordinal, f"payload exceeds --max-record-bytes {opts.max_record_bytes}", raw=meta))
                    ordinal += 1
                    continue
                rows["id"].append(rid)
                rows["source"].append(source)
                rows["meta"].append(meta)
                rows["content_type"].append(mime or None)
                if mime in _HTML_TYPES or (not mime and payload.lstrip()[:1] == b"<"):
                    rows["text"].append(_decode_html(payload, ctype))
                    rows[DROP_REASON].append(None)
                else:
                    rows["text"].append("")
                    rows[DROP_REASON].append(f"unsupported_content_type:{mime or 'unknown'}")
                ordinal += 1
                if len(rows["id"]) >= _WARC_BATCH:
                    yield flush()
            # warcio ends quietly at a truncated gzip member: data after the last whole record means a cut file.
            if any_record:
                fh.seek(archive.get_record_offset() + archive.get_record_length())
                left = fh.read(4096)
                if left.strip():
                    raise EOFError(f"{len(left)}{'+' if len(left) == 4096 else ''} bytes after the last complete record (truncated file?)")
    except (ArchiveLoadFailed, OSError, EOFError, ValueError, AttributeError, IndexError, KeyError, TypeError) as exc:
        # warcio raises all of these on malformed records (AttributeError: a response without WARC-Target-URI)
        quarantine.append(QuarantineRecord(source, ordinal, f"unreadable WARC from record {ordinal} on: {type(exc).__name__}: {exc}"))
    yield flush()


def _decode_html(payload: bytes, content_type: str) -> str:
    charset = None
    if "charset=" in content_type.lower():
        charset = content_type.lower().split("charset=")[1].split(";")[0].strip().strip('"')
    for enc in filter(None, (charset, "utf-8")):
        try:
            return payload.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        import cchardet

        guess = cchardet.detect(payload[:65536]).get("encoding")
        if guess:
            return payload.decode(guess, errors="replace")
    except (ImportError, LookupError):
        pass
    return payload.decode("utf-8", errors="replace")


# --------------------------------------------------------------------------- dispatch


def read_shard(shard: InputShard, opts: ReaderOptions) -> Iterator[ReadBatch]:
    """Every batch of one shard, in a deterministic order."""
    if opts.ner is not None:
        from babelmill.processors.ner.readers import read_ner_shard

        yield from read_ner_shard(shard, opts)
        return
    kind = shard.kind
    if kind == "text-files":
        yield from read_text_files(shard.paths, shard.sources, opts)
        return
    path, source = shard.paths[0], shard.sources[0]
    if kind == "jsonl":
        yield from read_jsonl(path, source, opts)
    elif kind == "parquet":
        yield from read_parquet(path, source, opts)
    elif kind == "text-lines":
        yield from read_text_lines(path, source, opts)
    elif kind == "warc":
        yield from read_warc(path, source, opts)
    elif kind == "hf-arrow":
        yield from read_hf_arrow(path, source, opts)
    elif kind == "hf-load":
        assert shard.row_range is not None
        yield from read_hf_load(path, source, opts, shard.row_range)
    elif kind == "conll":
        yield from read_text_lines(path, source, opts)  # a document job reading a CoNLL file: one row per line
    else:
        raise ValueError(f"unknown shard kind {kind!r}")
