"""JSON Lines (and a single JSON array) reader.

The fast path parses a whole chunk with pyarrow's JSON parser; only a chunk that
fails to parse falls back to line-by-line parsing, so a single bad line costs one slow
chunk rather than a slow run, and every bad record ends in quarantine with its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.json as pa_json

from babelmill.processors.io.common import (
    _STREAM_ERRORS,
    OversizeLine,
    _date_fields,
    _iter_chunks,
    held_line_bytes,
    map_table,
    open_utf8,
)
from babelmill.processors.io.encoding import UNDETECTED_HINT, Encoding
from babelmill.processors.io.records import QuarantineRecord, ReadBatch, ReaderOptions
from babelmill.processors.io.sources import strip_compression
from babelmill.processors.schema import DOC_SCHEMA

log = logging.getLogger(__name__)


def _docs_from_records(
    records: list[dict[str, Any]], ordinals: list[int], opts: ReaderOptions, source: str
) -> pa.Table:
    """Build document rows from already-validated Python dicts (slow path)."""
    ids, texts, langs, scores, metas = [], [], [], [], []
    tf, idf = opts.text_field, opts.id_field
    for obj, ordinal in zip(records, ordinals):
        texts.append(obj[tf] if tf else "")
        rid = obj.get(idf)
        ids.append(
            f"{source}:{ordinal}" if rid is None else (rid if isinstance(rid, str) else orjson.dumps(rid).decode())
        )
        lang = obj.get("lang")
        score = obj.get("lang_score")
        lang_ok = isinstance(lang, str)
        score_ok = isinstance(score, (int, float)) and not isinstance(score, bool)
        langs.append(lang if lang_ok else None)
        scores.append(float(score) if score_ok else None)
        skip = {tf, idf} | ({"lang"} if lang_ok else set()) | ({"lang_score"} if score_ok else set())
        rest = {k: v for k, v in obj.items() if k not in skip and v is not None}
        metas.append(orjson.dumps(rest).decode() if rest else None)
    return pa.Table.from_arrays(
        [
            pa.array(ids, pa.string()),
            pa.array(texts, pa.string()),
            pa.array(langs, pa.string()),
            pa.array(scores, pa.float32()),
            pa.array([source] * len(ids), pa.string()),
            pa.array(metas, pa.string()),
        ],
        schema=DOC_SCHEMA,
    )


def _check_record(obj: Any, opts: ReaderOptions) -> str | None:
    if not isinstance(obj, dict):
        return f"record is a JSON {type(obj).__name__}, expected an object"
    if not opts.text_field:
        return None
    text = obj.get(opts.text_field)
    if text is None:
        return f"missing text field {opts.text_field!r}"
    if not isinstance(text, str):
        return f"text field {opts.text_field!r} is {type(text).__name__}, expected a string"
    if len(text) > opts.max_record_bytes // 4 and len(text.encode("utf-8")) > opts.max_record_bytes:
        return f"text of {len(text.encode('utf-8'))} bytes exceeds --max-record-bytes {opts.max_record_bytes}"
    return None


def _parse_jsonl_lines(chunk: bytes, start: int, source: str, opts: ReaderOptions) -> tuple[ReadBatch, int]:
    """Line-by-line parse of a chunk; every line becomes a document or a quarantine record."""
    records: list[dict[str, Any]] = []
    ordinals: list[int] = []
    quarantine: list[QuarantineRecord] = []
    ordinal = start
    for line in chunk.split(b"\n"):
        if not line.strip():
            continue
        if len(line) > opts.max_record_bytes:
            quarantine.append(
                QuarantineRecord.from_bytes(
                    source,
                    ordinal,
                    f"record of {len(line)} bytes exceeds --max-record-bytes {opts.max_record_bytes}",
                    line,
                )
            )
            ordinal += 1
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            quarantine.append(
                QuarantineRecord.from_bytes(source, ordinal, f"invalid UTF-8 at byte {exc.start}: {exc.reason}", line)
            )
            ordinal += 1
            continue
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            quarantine.append(QuarantineRecord(source, ordinal, f"invalid JSON: {exc}", raw=text))
            ordinal += 1
            continue
        problem = _check_record(obj, opts)
        if problem:
            quarantine.append(QuarantineRecord(source, ordinal, problem, raw=text))
        else:
            records.append(obj)
            ordinals.append(ordinal)
        ordinal += 1
    docs = _docs_from_records(records, ordinals, opts, source) if records else DOC_SCHEMA.empty_table()
    return ReadBatch(docs=docs, quarantine=quarantine), ordinal - start


def _fast_parse(chunk: bytes, opts: ReaderOptions, as_strings: dict[str, pa.DataType] | None = None) -> pa.Table | None:
    """pyarrow's multi-threaded JSON parse of a whole chunk, or None when it cannot be trusted.

    pyarrow turns date-like strings into timestamps; such fields are read again as the
    strings they are, and remembered in ``as_strings`` (one dict per file) so that the
    next chunks of the file are read right the first time.
    """
    arr = np.frombuffer(chunk, dtype=np.uint8)
    newlines = np.flatnonzero(arr == 10)
    longest = int(np.max(np.diff(newlines, prepend=-1))) if len(newlines) else len(chunk)
    if len(chunk) - (int(newlines[-1]) + 1 if len(newlines) else 0) > longest:
        longest = len(chunk)
    if longest > opts.max_record_bytes or too_deep(arr, newlines):
        return None
    read_options = pa_json.ReadOptions(use_threads=True, block_size=max(1 << 20, longest + 2))
    as_strings = {} if as_strings is None else as_strings

    def parse(fields: dict[str, pa.DataType]) -> pa.Table:
        schema = pa.schema(list(fields.items())) if fields else None
        return pa_json.read_json(
            pa.BufferReader(chunk),
            read_options=read_options,
            parse_options=pa_json.ParseOptions(newlines_in_values=False, explicit_schema=schema),
        )

    try:
        try:
            table = parse(as_strings)
        except pa.ArrowInvalid:
            if not as_strings:
                raise
            table = parse({})  # raises again for a syntax error: then nothing is learnt
            as_strings.clear()  # this chunk's fields have other types than the last one's
        fixed = _date_fields(table.schema)
        if fixed:
            order = table.column_names
            as_strings.update(fixed)
            table = parse(as_strings)
            table = table.select(order + [c for c in table.column_names if c not in order])
        elif as_strings:
            # explicit fields come first; put them back in the order of the first record
            first = chunk.lstrip()
            first = first[: first.find(b"\n")] if b"\n" in first else first
            try:
                keys = list(orjson.loads(first))
            except orjson.JSONDecodeError:
                keys = []
            order = [k for k in keys if k in table.column_names]
            table = table.select(order + [c for c in table.column_names if c not in order])
        # The JSON parser does not check UTF-8; Arrow's full validation does, at memory speed.
        table.validate(full=True)
        return table
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, UnicodeDecodeError) as exc:
        # UnicodeDecodeError: invalid UTF-8 in a key, met when pyarrow names the column
        log.debug("fast JSON parse failed (%s); parsing the chunk line by line", exc)
        return None


def _date_like_fields(chunk: bytes, sample_bytes: int = 1 << 18) -> dict[str, pa.DataType]:
    """Fields pyarrow would turn into timestamps, found on the first lines of a file so
    that the whole chunk is parsed once, with those fields as strings, not twice."""
    cut = chunk.find(b"\n", sample_bytes)
    sample = chunk if cut < 0 else chunk[: cut + 1]
    arr = np.frombuffer(sample, dtype=np.uint8)
    if too_deep(arr, np.flatnonzero(arr == 10)):
        return {}
    try:
        schema = pa_json.read_json(
            pa.BufferReader(sample), parse_options=pa_json.ParseOptions(newlines_in_values=False)
        ).schema
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, UnicodeDecodeError):
        return {}
    return _date_fields(schema)


#: JSON nested deeper than this is not given to pyarrow (which overflows its stack and
#: takes the process down at a few thousand levels) nor polars (at ~1,000): the line-by-line
#: parser takes it, and quarantines what is deeper than orjson's 1,024 levels.
MAX_FAST_DEPTH = 128


def too_deep(arr: np.ndarray, newlines: np.ndarray, limit: int = MAX_FAST_DEPTH) -> bool:
    """Whether some line of a chunk nests brackets deeper than ``limit``.

    Brackets inside strings count too: an overestimate only sends a chunk to the slow
    path.  A line needs more than ``limit`` openers to be that deep, so only such lines
    (rare) are scanned for their depth.
    """
    opens = np.flatnonzero((arr | 0x20) == 0x7B)  # '[' or '{' (they differ by 0x20)
    if len(opens) <= limit:
        return False
    ends = np.append(newlines, len(arr))
    per_line = np.diff(np.searchsorted(opens, ends), prepend=0)
    for i in np.flatnonzero(per_line > limit):
        start = int(ends[i - 1]) + 1 if i else 0
        seg = arr[start : int(ends[i])] | 0x20
        if int(np.cumsum((seg == 0x7B).astype(np.int32) - (seg == 0x7D)).max()) > limit:
            return True
    return False


#: A chunk that fails the fast path is re-read in pieces of about this size; only a
#: piece that fails again is parsed line by line.
_RETRY_PIECE_BYTES = 1 << 20


def _try_fast(
    piece: bytes, start: int, source: str, opts: ReaderOptions, as_strings: dict[str, pa.DataType]
) -> tuple[ReadBatch, int] | None:
    table = _fast_parse(piece, opts, as_strings)
    if table is None:
        return None
    batch = map_table(table, opts, source, start)
    # Bad records found after parsing go the slow way too, so quarantine keeps their input bytes.
    return None if batch.quarantine else (batch, table.num_rows)


def _parse_piece(
    chunk: bytes,
    start: int,
    source: str,
    opts: ReaderOptions,
    as_strings: dict[str, pa.DataType],
) -> tuple[list[ReadBatch], int]:
    """Fast-parse a chunk of whole lines; if it holds a bad record, re-read it in ~1 MB
    pieces and parse only the failing pieces line by line, so one broken line costs one
    extra parse of the chunk plus a slow parse of ~1 MB, not a slow parse of 32 MB."""
    fast = _try_fast(chunk, start, source, opts, as_strings)
    if fast is not None:
        return [fast[0]], fast[1]
    batches: list[ReadBatch] = []
    consumed = 0
    pos = 0
    while pos < len(chunk):
        cut = chunk.find(b"\n", pos + _RETRY_PIECE_BYTES)
        end = len(chunk) if cut < 0 else cut + 1
        piece = chunk[pos:end]
        result = (
            _try_fast(piece, start + consumed, source, opts, as_strings) if len(chunk) > _RETRY_PIECE_BYTES else None
        )
        if result is None:
            result = _parse_jsonl_lines(piece, start + consumed, source, opts)
        batches.append(result[0])
        consumed += result[1]
        pos = end
    return batches, consumed


def _merge(batches: list[ReadBatch]) -> ReadBatch:
    if len(batches) == 1:
        return batches[0]
    tables = [b.docs for b in batches if b.docs.num_rows]
    docs = pa.concat_tables(tables, promote_options="permissive") if tables else DOC_SCHEMA.empty_table()
    return ReadBatch(docs=docs, quarantine=[q for b in batches for q in b.quarantine])


def _with_hint(batch: ReadBatch, enc: Encoding) -> ReadBatch:
    """Say why a line that is not UTF-8 was not decoded, in a file whose encoding could not be told."""
    if enc.how == "undetected":
        for q in batch.quarantine:
            if q.error.startswith("invalid UTF-8"):
                q.error += f"; {UNDETECTED_HINT}"
    return batch


def _unreadable(source: str, exc: BaseException) -> ReadBatch:
    """A file that cannot be opened at all (a symlink loop, a vanished file): one quarantine record."""
    return ReadBatch(quarantine=[QuarantineRecord(source, 0, f"unreadable file: {type(exc).__name__}: {exc}")])


def read_jsonl(path: str, source: str, opts: ReaderOptions) -> Iterator[ReadBatch]:
    start = 0
    if strip_compression(path)[0].lower().endswith(".json"):
        try:
            peek, _ = open_utf8(path)
            with peek:
                data = peek.read(4096)
                if data.lstrip()[:1] == b"[":
                    data += peek.read()
                else:
                    data = b""
        except _STREAM_ERRORS as exc:
            yield ReadBatch(
                quarantine=[QuarantineRecord(source, 0, f"unreadable JSON file: {type(exc).__name__}: {exc}")]
            )
            return
        if data:
            yield from _read_json_array(data, source, opts)
            return
    as_strings: dict[str, pa.DataType] | None = None
    try:
        stream, enc = open_utf8(path)
    except _STREAM_ERRORS as exc:
        yield _unreadable(source, exc)
        return
    with stream:
        try:
            for chunk in _iter_chunks(stream, opts.chunk_bytes, held_line_bytes(opts)):
                if isinstance(chunk, OversizeLine):
                    yield ReadBatch(quarantine=[chunk.quarantine(source, start, opts)])
                    start += 1
                    continue
                if as_strings is None:
                    as_strings = _date_like_fields(chunk)
                batches, consumed = _parse_piece(chunk, start, source, opts, as_strings)
                start += consumed
                yield _with_hint(_merge(batches), enc)
        except _STREAM_ERRORS as exc:
            # A truncated or corrupt compressed stream: what was read stands, the rest is recorded.
            yield ReadBatch(
                quarantine=[
                    QuarantineRecord(source, start, f"unreadable from record {start} on: {type(exc).__name__}: {exc}")
                ]
            )


def _read_json_array(data: bytes, source: str, opts: ReaderOptions) -> Iterator[ReadBatch]:
    try:
        items = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        yield ReadBatch(quarantine=[QuarantineRecord.from_bytes(source, 0, f"invalid JSON array: {exc}", data)])
        return
    good, ordinals, quarantine = [], [], []
    for i, obj in enumerate(items):
        problem = _check_record(obj, opts)
        if problem:
            quarantine.append(QuarantineRecord(source, i, problem, raw=orjson.dumps(obj).decode()))
        else:
            good.append(obj)
            ordinals.append(i)
    docs = _docs_from_records(good, ordinals, opts, source) if good else DOC_SCHEMA.empty_table()
    yield ReadBatch(docs=docs, quarantine=quarantine)
