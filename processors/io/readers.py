"""Readers: each turns one shard into :class:`ReadBatch` es of document rows.

Line-oriented files take a fast path (pyarrow's JSON parser over a whole chunk) and
fall back to line-by-line parsing only for a chunk that fails to parse, so a single
bad line costs one slow chunk rather than a slow run, and every bad record ends in
quarantine with its reason.
"""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import logging
import os
from collections.abc import Iterator
from typing import IO, Any

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from babelmill.processors.base import DROP_REASON
from babelmill.processors.io.records import QuarantineRecord, ReadBatch, ReaderOptions
from babelmill.processors.io.sources import InputShard, strip_compression
from babelmill.processors.schema import DOC_SCHEMA, conform

log = logging.getLogger(__name__)

#: Input fields that map onto contract columns when they have the right type.
_PASSTHROUGH = {"lang": pl.String, "lang_score": pl.Float32}
_PARQUET_BATCH_ROWS = 65_536

try:
    from zstandard import ZstdError as _ZstdError
except ImportError:  # pragma: no cover - zstandard is a dependency
    _ZstdError = OSError  # type: ignore[misc,assignment]
#: What a truncated or corrupt (compressed) stream raises part-way through.
_STREAM_ERRORS = (OSError, EOFError, _ZstdError, gzip.BadGzipFile)


def open_binary(path: str) -> IO[bytes]:
    """Open a possibly compressed file for binary reading, by its extension."""
    lower = path.lower()
    if lower.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if lower.endswith((".zst", ".zstd")):
        return io.BufferedReader(_ZstdReader(path))  # type: ignore[return-value]
    if lower.endswith(".bz2"):
        return bz2.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


class _ZstdReader(io.RawIOBase):
    """The frames of a .zst file one after another.  Unlike zstandard's stream_reader,
    a file that ends inside a frame (a truncated download) raises EOFError, as gzip and
    bz2 do, instead of ending quietly; buffered, it also has the readline() that
    _iter_chunks needs."""

    def __init__(self, path: str) -> None:
        import zstandard

        self._fh = open(path, "rb")
        self._dctx = zstandard.ZstdDecompressor()
        self._dobj: Any = None
        self._out = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._out:
            rest = b""
            if self._dobj is not None and self._dobj.eof:
                rest, self._dobj = self._dobj.unused_data, None
            data = rest or self._fh.read(1 << 17)
            if not data:
                if self._dobj is not None:
                    raise EOFError("zstd stream ended inside a frame (truncated file)")
                return 0
            if self._dobj is None:
                self._dobj = self._dctx.decompressobj()
            self._out = memoryview(self._dobj.decompress(data))
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def close(self) -> None:
        if not self.closed:
            self._fh.close()
        super().close()


# --------------------------------------------------------------------------- tables


def _has_binary(t: pa.DataType) -> bool:
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t) or pa.types.is_binary_view(t):
        return True
    return any(_has_binary(t.field(i).type) for i in range(t.num_fields))


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def _json_value(name: str, dtype: Any) -> pl.Expr:
    """A column's values as strings: scalars cast, nested values JSON-encoded."""
    if dtype == pl.Struct:
        return pl.col(name).struct.json_encode()
    if dtype.is_nested() or dtype == pl.Duration:
        # polars cannot cast these to a string; encode {"name": value} and keep the value
        return pl.struct(name).struct.json_encode().str.strip_prefix("{" + orjson.dumps(name).decode() + ":").str.strip_suffix("}")
    return pl.col(name).cast(pl.String)


def _meta_expr(df: pl.DataFrame, names: list[str]) -> pl.Expr:
    """A JSON object of the fields that are set: a record lacking a key that another
    record of the batch has gets no ``null`` for it (as on the line-by-line path)."""
    if not any(df[c].null_count() for c in names):
        return pl.struct(names).struct.json_encode()  # the same, faster
    parts = [pl.when(pl.col(c).is_not_null()).then(pl.struct(c).struct.json_encode().str.strip_prefix("{").str.strip_suffix("}")) for c in names]
    body = pl.concat_str(parts, separator=",", ignore_nulls=True)
    return pl.when(body == "").then(pl.lit(None, dtype=pl.String)).otherwise(pl.concat_str([pl.lit("{"), body, pl.lit("}")]))


def _timestamps_as_strings(t: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(t):
        return pa.string()
    if pa.types.is_struct(t):
        return pa.struct([t.field(i).with_type(_timestamps_as_strings(t.field(i).type)) for i in range(t.num_fields)])
    if pa.types.is_list(t):
        return pa.list_(t.value_field.with_type(_timestamps_as_strings(t.value_type)))
    return t


def _date_fields(schema: pa.Schema) -> dict[str, pa.DataType]:
    """The fields pyarrow typed as timestamps, with the string types to read them as."""
    return {f.name: _timestamps_as_strings(f.type) for f in schema if _timestamps_as_strings(f.type) != f.type}


def map_table(table: pa.Table, opts: ReaderOptions, source: str, start: int) -> ReadBatch:
    """Map an input table with arbitrary columns onto the document contract.

    Rows whose text is missing, not a string or over the size limit are quarantined;
    the fields not mapped to a contract column are kept as a JSON object in ``meta``.
    The text column is passed through zero-copy: only the small columns go through
    polars expressions.
    """
    n = table.num_rows
    if n == 0:
        return ReadBatch()
    tf, idf = opts.text_field, opts.id_field
    if not tf:
        # Record mode (instruction data): no text field; every field goes to ``meta``.
        tf = "\x00text"
        table = table.append_column(tf, pa.array([""] * n, pa.string()))
    names = table.column_names

    def raw_json(t: pa.Table) -> list[str]:
        if any(_has_binary(f.type) for f in t.schema):  # polars cannot JSON-encode binary
            return [orjson.dumps(row, default=_json_default).decode() for row in t.to_pylist()]
        df = pl.from_arrow(t)
        assert isinstance(df, pl.DataFrame)
        return df.select(pl.struct(df.columns).struct.json_encode()).to_series().to_list() if df.width else ["{}"] * t.num_rows

    text = table.column(tf) if tf in names else None
    if text is not None and pa.types.is_dictionary(text.type):
        text = text.cast(pa.string())
    if text is None or not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type) or pa.types.is_string_view(text.type)):
        why = f"missing text field {tf!r}" if text is None or pa.types.is_null(text.type) else f"text field {tf!r} is {text.type}, expected a string"
        return ReadBatch(quarantine=[QuarantineRecord(source, start + i, why, raw=r) for i, r in enumerate(raw_json(table))])
    text = text.cast(pa.string()) if not pa.types.is_string(text.type) else text

    quarantine: list[QuarantineRecord] = []
    nbytes = pc.binary_length(text)
    bad = pc.or_kleene(pc.is_null(text), pc.greater(nbytes, opts.max_record_bytes))
    bad = pc.fill_null(bad, True)
    if pc.any(bad).as_py():
        bad_idx = pc.indices_nonzero(bad).to_pylist()
        bad_rows = table.take(bad_idx)
        for i, r, size in zip(bad_idx, raw_json(bad_rows), nbytes.take(bad_idx).to_pylist()):
            why = f"missing text field {tf!r}" if size is None else f"text of {size} bytes exceeds --max-record-bytes {opts.max_record_bytes}"
            quarantine.append(QuarantineRecord(source, start + i, why, raw=r))
        keep = pc.invert(bad)
        table = table.filter(keep)
        ordinals = pc.add(pc.indices_nonzero(keep), start)
        text = table.column(tf)
    else:
        ordinals = pa.array(np.arange(start, start + n, dtype=np.int64))

    small = [c for c in table.column_names if c != tf]
    if small:
        df = pl.from_arrow(table.select(small))
        assert isinstance(df, pl.DataFrame)
        df = df.with_columns(pl.Series("__ord", ordinals))
    else:
        df = pl.DataFrame({"__ord": pl.Series("__ord", ordinals)})
    generated = pl.format("{}:{}", pl.lit(source), pl.col("__ord"))
    if idf in df.columns and df.schema[idf] != pl.Null:
        id_expr = _json_value(idf, df.schema[idf]).fill_null(generated)
    else:
        id_expr = generated
    mapped = {idf}
    exprs: list[pl.Expr] = [id_expr.alias("id")]
    for name, want in _PASSTHROUGH.items():
        have = df.schema.get(name)
        if have is not None and (have == want or (want == pl.Float32 and have.is_numeric())):
            exprs.append(pl.col(name).cast(want).alias(name))
            mapped.add(name)
        else:
            exprs.append(pl.lit(None, dtype=want).alias(name))
    rest = [c for c in small if c not in mapped]
    binary = [c for c in rest if _has_binary(table.schema.field(c).type)]
    if binary:  # polars cannot JSON-encode binary: these rows' meta is built in Python (rare)
        metas = [{k: v for k, v in row.items() if v is not None} for row in table.select(rest).to_pylist()]
        df = df.with_columns(pl.Series("__meta", [orjson.dumps(m, default=_json_default).decode() if m else None for m in metas], dtype=pl.String))
        exprs.append(pl.col("__meta").alias("meta"))
    else:
        exprs.append((_meta_expr(df, rest) if rest else pl.lit(None, dtype=pl.String)).alias("meta"))
    exprs.append(pl.lit(source, dtype=pl.String).alias("source"))
    cols = df.select(exprs).to_arrow()
    docs = pa.Table.from_arrays(
        [
            cols.column("id"),
            text,
            cols.column("lang"),
            cols.column("lang_score"),
            cols.column("source"),
            cols.column("meta"),
        ],
        names=list(DOC_SCHEMA.names),
    )
    return ReadBatch(docs=conform(docs), quarantine=quarantine)


def _docs_from_records(records: list[dict[str, Any]], ordinals: list[int], opts: ReaderOptions, source: str) -> pa.Table:
    """Build document rows from already-validated Python dicts (slow path)."""
    ids, texts, langs, scores, metas = [], [], [], [], []
    tf, idf = opts.text_field, opts.id_field
    for obj, ordinal in zip(records, ordinals):
        texts.append(obj[tf] if tf else "")
        rid = obj.get(idf)
        ids.append(f"{source}:{ordinal}" if rid is None else (rid if isinstance(rid, str) else orjson.dumps(rid).decode()))
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


# --------------------------------------------------------------------------- JSONL


def _iter_chunks(stream: IO[bytes], chunk_bytes: int) -> Iterator[bytes]:
    """Yield pieces of the stream that end on a line boundary (the last may not).

    Each piece is one read plus the rest of its last line, so a long line makes a
    longer piece rather than a split record.  A stream that breaks part-way (a
    truncated or corrupt compressed file) first yields the complete lines read before
    the break, then raises, so the readable part of the file is not lost with it.
    """
    # read1: at most one raw read per call, so a failing call loses little already decompressed.
    read = getattr(stream, "read1", None) or stream.read
    while True:
        parts: list[bytes] = []
        size = 0
        try:
            while size < chunk_bytes:
                piece = read(chunk_bytes - size)
                if not piece:
                    break
                parts.append(piece)
                size += len(piece)
            if parts and not parts[-1].endswith(b"\n"):
                parts.append(stream.readline())
        except _STREAM_ERRORS:
            data = b"".join(parts)
            cut = data.rfind(b"\n")
            if cut >= 0:
                yield data[: cut + 1]
            raise
        if not parts:
            return
        yield parts[0] if len(parts) == 1 else b"".join(parts)


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
            quarantine.append(QuarantineRecord.from_bytes(source, ordinal, f"record of {len(line)} bytes exceeds --max-record-bytes {opts.max_record_bytes}", line))
            ordinal += 1
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            quarantine.append(QuarantineRecord.from_bytes(source, ordinal, f"invalid UTF-8 at byte {exc.start}: {exc.reason}", line))
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
    if longest > opts.max_record_bytes:
        return None
    read_options = pa_json.ReadOptions(use_threads=True, block_size=max(1 << 20, longest + 2))
    as_strings = {} if as_strings is None else as_strings

    def parse(fields: dict[str, pa.DataType]) -> pa.Table:
        schema = pa.schema(list(fields.items())) if fields else None
        return pa_json.read_json(pa.BufferReader(chunk), read_options=read_options, parse_options=pa_json.ParseOptions(newlines_in_values=False, explicit_schema=schema))

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
    try:
        schema = pa_json.read_json(pa.BufferReader(sample), parse_options=pa_json.ParseOptions(newlines_in_values=False)).schema
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, UnicodeDecodeError):
        return {}
    return _date_fields(schema)


#: A chunk that fails the fast path is re-read in pieces of about this size; only a
#: piece that fails again is parsed line by line.
_RETRY_PIECE_BYTES = 1 << 20


def _try_fast(piece: bytes, start: int, source: str, opts: ReaderOptions, as_strings: dict[str, pa.DataType]) -> tuple[ReadBatch, int] | None:
    table = _fast_parse(piece, opts, as_strings)
    if table is None:
        return None
    batch = map_table(table, opts, source, start)
    # Bad records found after parsing go the slow way too, so quarantine keeps their input bytes.
    return None if batch.quarantine else (batch, table.num_rows)


def _parse_piece(chunk: bytes, start: int, source: str, opts: ReaderOptions, as_strings: dict[str, pa.DataType]) -> tuple[list[ReadBatch], int]:
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
        result = _try_fast(piece, start + consumed, source, opts, as_strings) if len(chunk) > _RETRY_PIECE_BYTES else None
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


def read_jsonl(path: str, source: str, opts: ReaderOptions) -> Iterator[ReadBatch]:
    start = 0
    if strip_compression(path)[0].lower().endswith(".json"):
        try:
            with open_binary(path) as peek:
                data = peek.read(4096)
                if data.lstrip()[:1] == b"[":
                    data += peek.read()
                else:
                    data = b""
        except _STREAM_ERRORS as exc:
            yield ReadBatch(quarantine=[QuarantineRecord(source, 0, f"unreadable JSON file: {type(exc).__name__}: {exc}")])
            return
        if data:
            yield from _read_json_array(data, source, opts)
            return
    as_strings: dict[str, pa.DataType] | None = None
    with open_binary(path) as stream:
        try:
            for chunk in _iter_chunks(stream, opts.chunk_bytes):
                if as_strings is None:
                    as_strings = _date_like_fields(chunk)
                batches, consumed = _parse_piece(chunk, start, source, opts, as_strings)
                start += consumed
                yield _merge(batches)
        except _STREAM_ERRORS as exc:
            # A truncated or corrupt compressed stream: what was read stands, the rest is recorded.
            yield ReadBatch(quarantine=[QuarantineRecord(source, start, f"unreadable from record {start} on: {type(exc).__name__}: {exc}")])


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


# --------------------------------------------------------------------------- columnar


def read_parquet(path: str, source: str, opts: ReaderOptions) -> Iterator[ReadBatch]:
    start = 0
    try:
        pf = pq.ParquetFile(path)
        for rb in pf.iter_batches(batch_size=_PARQUET_BATCH_ROWS):
            table = pa.Table.from_batches([rb])
            yield map_table(table, opts, source, start)
            start += table.num_rows
    except (OSError, pa.ArrowException) as exc:
        yield ReadBatch(quarantine=[QuarantineRecord(source, start, f"unreadable Parquet from row {start} on: {exc}")])


def read_hf_arrow(path: str, source: str, opts: ReaderOptions) -> Iterator[ReadBatch]:
    """One Arrow file of a ``Dataset.save_to_disk`` directory (Arrow IPC stream)."""
    start = 0
    try:
        with pa.memory_map(path) as mm:
            try:
                reader = pa.ipc.open_stream(mm)
            except pa.ArrowInvalid:
                mm.seek(0)
                reader = pa.ipc.open_file(mm)  # type: ignore[assignment]
                batches = (reader.get_batch(i) for i in range(reader.num_record_batches))  # type: ignore[attr-defined]
            else:
                batches = iter(reader)
            for rb in batches:
                table = pa.Table.from_batches([rb])
                yield map_table(table, opts, source, start)
                start += table.num_rows
    except (OSError, pa.ArrowException) as exc:
        yield ReadBatch(quarantine=[QuarantineRecord(source, start, f"unreadable Arrow file from row {start} on: {exc}")])


def load_hf_dataset(path: str, split: str) -> Any:
    """A local ``load_dataset``-able path, loaded offline (never from the hub)."""
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import datasets

    from babelmill.processors.errors import InputError

    try:
        return datasets.load_dataset(path, split=split)
    except (FileNotFoundError, ValueError) as exc:
        raise InputError(f"datasets.load_dataset({path!r}, split={split!r}) failed: {str(exc).splitlines()[0]}") from exc


def read_hf_load(path: str, source: str, opts: ReaderOptions, row_range: tuple[int, int]) -> Iterator[ReadBatch]:
    ds = load_hf_dataset(path, opts.hf_split)
    start, stop = row_range
    table = ds.data.table.slice(start, stop - start) if ds._indices is None else ds.select(range(start, stop)).flatten_indices().data.table
    for offset in range(0, table.num_rows, _PARQUET_BATCH_ROWS):
        part = table.slice(offset, _PARQUET_BATCH_ROWS)
        yield map_table(part, opts, source, start + offset)


# --------------------------------------------------------------------------- text


def read_text_lines(path: str, source: str, opts: ReaderOptions) -> Iterator[ReadBatch]:
    """One document per non-empty line."""
    ordinal = 0
    with open_binary(path) as stream:
        try:
            for chunk in _iter_chunks(stream, opts.chunk_bytes):
                texts, ordinals, quarantine = [], [], []
                for line in chunk.split(b"\n"):
                    line = line.rstrip(b"\r")
                    if not line.strip():
                        continue
                    if len(line) > opts.max_record_bytes:
                        quarantine.append(QuarantineRecord.from_bytes(source, ordinal, f"line of {len(line)} bytes exceeds --max-record-bytes {opts.max_record_bytes}", line))
                    else:
                        try:
                            texts.append(line.decode("utf-8"))
                            ordinals.append(ordinal)
                        except UnicodeDecodeError as exc:
                            quarantine.append(QuarantineRecord.from_bytes(source, ordinal, f"invalid UTF-8 at byte {exc.start}: {exc.reason}", line))
                    ordinal += 1
                yield ReadBatch(docs=_text_docs(texts, [f"{source}:{o}" for o in ordinals], [source] * len(texts)), quarantine=quarantine)
        except _STREAM_ERRORS as exc:
            # A truncated or corrupt compressed stream: what was read stands, the rest is recorded.
            yield ReadBatch(quarantine=[QuarantineRecord(source, ordinal, f"unreadable from line {ordinal} on: {type(exc).__name__}: {exc}")])


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
        try:
            texts.append(data.decode("utf-8"))
            ids.append(source)
            srcs.append(source)
        except UnicodeDecodeError as exc:
            quarantine.append(QuarantineRecord.from_bytes(source, 0, f"invalid UTF-8 at byte {exc.start}: {exc.reason}", data))
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
