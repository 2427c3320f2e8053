"""Plain-text readers: one document per line, or one per file."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from babelmill.processors.io.common import (
    _STREAM_ERRORS,
    OversizeLine,
    held_line_bytes,
    _iter_chunks,
    open_binary,
    open_utf8,
)
from babelmill.processors.io.encoding import UNDETECTED_HINT, decode_document
from babelmill.processors.io.records import QuarantineRecord, ReadBatch, ReaderOptions
from babelmill.processors.schema import DOC_SCHEMA


def read_text_lines(path: str, source: str, opts: ReaderOptions) -> Iterator[ReadBatch]:
    """One document per non-empty line."""
    ordinal = 0
    try:
        stream, enc = open_utf8(path)
    except _STREAM_ERRORS as exc:  # a symlink loop, a file gone since discovery
        yield ReadBatch(quarantine=[QuarantineRecord(source, 0, f"unreadable file: {type(exc).__name__}: {exc}")])
        return
    hint = f"; {UNDETECTED_HINT}" if enc.how == "undetected" else ""
    with stream:
        try:
            for chunk in _iter_chunks(stream, opts.chunk_bytes, held_line_bytes(opts)):
                if isinstance(chunk, OversizeLine):
                    yield ReadBatch(quarantine=[chunk.quarantine(source, ordinal, opts, "line")])
                    ordinal += 1
                    continue
                texts, ordinals, quarantine = [], [], []
                for line in chunk.split(b"\n"):
                    line = line.rstrip(b"\r")
                    if not line.strip():
                        continue
                    if len(line) > opts.max_record_bytes:
                        quarantine.append(
                            QuarantineRecord.from_bytes(
                                source,
                                ordinal,
                                f"line of {len(line)} bytes exceeds --max-record-bytes {opts.max_record_bytes}",
                                line,
                            )
                        )
                    else:
                        try:
                            texts.append(line.decode("utf-8"))
                            ordinals.append(ordinal)
                        except UnicodeDecodeError as exc:
                            quarantine.append(
                                QuarantineRecord.from_bytes(
                                    source, ordinal, f"invalid UTF-8 at byte {exc.start}: {exc.reason}{hint}", line
                                )
                            )
                    ordinal += 1
                yield ReadBatch(
                    docs=_text_docs(texts, [f"{source}:{o}" for o in ordinals], [source] * len(texts)),
                    quarantine=quarantine,
                )
        except _STREAM_ERRORS as exc:
            # A truncated or corrupt compressed stream: what was read stands, the rest is recorded.
            yield ReadBatch(
                quarantine=[
                    QuarantineRecord(source, ordinal, f"unreadable from line {ordinal} on: {type(exc).__name__}: {exc}")
                ]
            )


def read_text_files(paths: tuple[str, ...], sources: tuple[str, ...], opts: ReaderOptions) -> Iterator[ReadBatch]:
    """One document per file; the file's relative path is its id."""
    texts, ids, srcs, quarantine = [], [], [], []
    for path, source in zip(paths, sources):
        try:
            with open_binary(path) as fh:
                data = fh.read(opts.max_record_bytes + 1)
        except _STREAM_ERRORS as exc:  # missing, or a truncated/corrupt compressed file
            quarantine.append(QuarantineRecord(source, 0, f"unreadable file: {exc}"))
            continue
        if len(data) > opts.max_record_bytes:
            quarantine.append(QuarantineRecord(source, 0, f"file exceeds --max-record-bytes {opts.max_record_bytes}"))
            continue
        text, problem = decode_document(data)
        if text is None:
            quarantine.append(QuarantineRecord.from_bytes(source, 0, problem or "undecodable", data))
            continue
        texts.append(text)
        ids.append(source)
        srcs.append(source)
    yield ReadBatch(docs=_text_docs(texts, ids, srcs), quarantine=quarantine)


def _text_docs(texts: list[str], ids: list[str], sources: list[str]) -> pa.Table:
    n = len(texts)
    return pa.Table.from_arrays(
        [
            pa.array(ids, pa.string()),
            pa.array(texts, pa.string()),
            pa.nulls(n, pa.string()),
            pa.nulls(n, pa.float32()),
            pa.array(sources, pa.string()),
            pa.nulls(n, pa.string()),
        ],
        schema=DOC_SCHEMA,
    )
