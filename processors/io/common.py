"""What every reader shares: opening (compressed) files, reading them in line-aligned
chunks, and mapping an input table onto the document contract (``map_table``)."""

from __future__ import annotations

import base64
import bz2
import dataclasses
import gzip
import io
from collections.abc import Iterator
from typing import IO, Any

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from zstandard import ZstdError as _ZstdError

from babelmill.processors.io import storage
from babelmill.processors.io.encoding import SNIFF_BYTES, Encoding, sniff, utf8_stream
from babelmill.processors.io.records import QuarantineRecord, ReadBatch, ReaderOptions
from babelmill.processors.schema import DOC_SCHEMA, conform


#: Input fields that map onto contract columns when they have the right type.
_PASSTHROUGH = {"lang": pl.String, "lang_score": pl.Float32}

#: What a truncated or corrupt (compressed) stream raises part-way through.
_STREAM_ERRORS = (OSError, EOFError, _ZstdError, gzip.BadGzipFile)


def open_binary(path: str) -> IO[bytes]:
    """Open a possibly compressed file for binary reading, by its extension; a remote
    file (``s3://`` ...) is streamed through fsspec."""
    lower = path.lower()
    if storage.is_remote(path):
        if lower.endswith(".gz"):
            return storage.open_compressed(path, "gzip")
        if lower.endswith(".bz2"):
            return storage.open_compressed(path, "bz2")
        if lower.endswith((".zst", ".zstd")):
            return io.BufferedReader(_ZstdReader(path))  # type: ignore[return-value]
        return storage.open_input(path)
    if lower.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if lower.endswith((".zst", ".zstd")):
        return io.BufferedReader(_ZstdReader(path))  # type: ignore[return-value]
    if lower.endswith(".bz2"):
        return bz2.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def open_utf8(path: str) -> tuple[IO[bytes], Encoding]:
    """Open a (possibly compressed) text file as UTF-8 bytes, decoding a file whose
    encoding is declared by a byte order mark or detected (``encoding``)."""
    head: list[bytes] = []
    with open_binary(path) as fh:
        read = getattr(fh, "read1", None) or fh.read
        size = 0
        try:
            while size < SNIFF_BYTES:
                piece = read(SNIFF_BYTES - size)
                if not piece:
                    break
                head.append(piece)
                size += len(piece)
        except (EOFError, _ZstdError, gzip.BadGzipFile):
            pass  # a truncated or corrupt file: the reader meets the error again and records it
    enc = sniff(b"".join(head))
    return utf8_stream(open_binary(path), enc), enc


class _ZstdReader(io.RawIOBase):
    """The frames of a .zst file one after another.  Unlike zstandard's stream_reader,
    a file that ends inside a frame (a truncated download) raises EOFError, as gzip and
    bz2 do, instead of ending quietly; buffered, it also has the readline() that
    _iter_chunks needs."""

    def __init__(self, path: str) -> None:
        import zstandard

        self._fh = storage.open_input(path)
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
    if (
        pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
        or pa.types.is_fixed_size_binary(t)
        or pa.types.is_binary_view(t)
    ):
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
        return (
            pl.struct(name)
            .struct.json_encode()
            .str.strip_prefix("{" + orjson.dumps(name).decode() + ":")
            .str.strip_suffix("}")
        )
    return pl.col(name).cast(pl.String)


def _meta_expr(df: pl.DataFrame, names: list[str]) -> pl.Expr:
    """A JSON object of the fields that are set: a record lacking a key that another
    record of the batch has gets no ``null`` for it (as on the line-by-line path)."""
    if not any(df[c].null_count() for c in names):
        return pl.struct(names).struct.json_encode()  # the same, faster
    parts = [
        pl.when(pl.col(c).is_not_null()).then(
            pl.struct(c).struct.json_encode().str.strip_prefix("{").str.strip_suffix("}")
        )
        for c in names
    ]
    body = pl.concat_str(parts, separator=",", ignore_nulls=True)
    return (
        pl.when(body == "")
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(pl.concat_str([pl.lit("{"), body, pl.lit("}")]))
    )


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
        return (
            df.select(pl.struct(df.columns).struct.json_encode()).to_series().to_list()
            if df.width
            else ["{}"] * t.num_rows
        )

    text = table.column(tf) if tf in names else None
    if text is not None and pa.types.is_dictionary(text.type):
        text = text.cast(pa.string())
    if text is None or not (
        pa.types.is_string(text.type) or pa.types.is_large_string(text.type) or pa.types.is_string_view(text.type)
    ):
        why = (
            f"missing text field {tf!r}"
            if text is None or pa.types.is_null(text.type)
            else f"text field {tf!r} is {text.type}, expected a string"
        )
        return ReadBatch(
            quarantine=[QuarantineRecord(source, start + i, why, raw=r) for i, r in enumerate(raw_json(table))]
        )
    text = text.cast(pa.string()) if not pa.types.is_string(text.type) else text

    quarantine: list[QuarantineRecord] = []
    nbytes = pc.binary_length(text)
    bad = pc.or_kleene(pc.is_null(text), pc.greater(nbytes, opts.max_record_bytes))
    bad = pc.fill_null(bad, True)
    if pc.any(bad).as_py():
        bad_idx = pc.indices_nonzero(bad).to_pylist()
        bad_rows = table.take(bad_idx)
        for i, r, size in zip(bad_idx, raw_json(bad_rows), nbytes.take(bad_idx).to_pylist()):
            why = (
                f"missing text field {tf!r}"
                if size is None
                else f"text of {size} bytes exceeds --max-record-bytes {opts.max_record_bytes}"
            )
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
        df = df.with_columns(
            pl.Series(
                "__meta",
                [orjson.dumps(m, default=_json_default).decode() if m else None for m in metas],
                dtype=pl.String,
            )
        )
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


#: Lines up to this size (or --max-record-bytes, if larger) are held whole, so that one
#: over the record limit is quarantined with its exact bytes; a longer one (a broken dump,
#: not a document) is read past in bounded pieces and only its head is kept.
MAX_HELD_LINE_BYTES = 64 * 1024 * 1024
#: what quarantine keeps of a line too long to hold: its first bytes
OVERSIZE_HEAD_BYTES = 64 * 1024


def held_line_bytes(opts: ReaderOptions) -> int:
    return max(opts.max_record_bytes, MAX_HELD_LINE_BYTES)


@dataclasses.dataclass(frozen=True)
class OversizeLine:
    """A line too long to hold, skipped while it was read (memory stays bounded however
    long it is): its size and first bytes, for the quarantine."""

    size: int
    head: bytes

    def quarantine(self, source: str, ordinal: int, opts: ReaderOptions, what: str = "record") -> QuarantineRecord:
        error = (
            f"{what} of {self.size} bytes exceeds --max-record-bytes {opts.max_record_bytes} "
            f"(raw holds its first {len(self.head)} bytes)"
        )
        for cut in range(4):  # do not end inside a UTF-8 sequence
            try:
                return QuarantineRecord(source, ordinal, error, raw=self.head[: len(self.head) - cut].decode("utf-8"))
            except UnicodeDecodeError:
                continue
        return QuarantineRecord.from_bytes(source, ordinal, error, self.head)


def _skip_line(stream: IO[bytes], line: bytes) -> OversizeLine:
    """Read past the rest of a line already known to be too long to hold; keep its head."""
    size = len(line)
    while not line.endswith(b"\n"):
        line = stream.readline(1 << 20)
        if not line:
            break
        size += len(line)
    return OversizeLine(size - (1 if line.endswith(b"\n") else 0), b"")


def _iter_chunks(stream: IO[bytes], chunk_bytes: int, max_line: int | None = None) -> Iterator[Any]:
    """Yield pieces of the stream that end on a line boundary (the last may not).

    Each piece is one read plus the rest of its last line, so a long line makes a
    longer piece rather than a split record.  With ``max_line``, a line longer than
    that is not held: it is read past and yielded as an :class:`OversizeLine`.  A
    stream that breaks part-way (a truncated or corrupt compressed file) first yields
    the complete lines read before the break, then raises, so the readable part of the
    file is not lost with it.
    """
    # read1: at most one raw read per call, so a failing call loses little already decompressed.
    read = getattr(stream, "read1", None) or stream.read
    while True:
        parts: list[bytes] = []
        size = 0
        oversize: OversizeLine | None = None
        try:
            while size < chunk_bytes:
                piece = read(chunk_bytes - size)
                if not piece:
                    break
                parts.append(piece)
                size += len(piece)
            if parts and not parts[-1].endswith(b"\n"):
                if max_line is None:
                    parts.append(stream.readline())
                else:
                    data = b"".join(parts)
                    cut = data.rfind(b"\n") + 1
                    limit = max_line + 1 - (len(data) - cut)  # the most the last line may still grow
                    rest = stream.readline(limit) if limit > 0 else b""
                    if rest.endswith(b"\n") or (limit > 0 and len(rest) < limit):
                        parts = [data, rest]
                    else:
                        line = data[cut:] + rest
                        skipped = _skip_line(stream, line)
                        oversize = OversizeLine(skipped.size, line[:OVERSIZE_HEAD_BYTES])
                        parts = [data[:cut]]
        except _STREAM_ERRORS:
            data = b"".join(parts)
            cut = data.rfind(b"\n")
            if cut >= 0:
                yield data[: cut + 1]
            raise
        if not parts:
            return
        chunk = parts[0] if len(parts) == 1 else b"".join(parts)
        if chunk:
            yield chunk
        if oversize is not None:
            yield oversize
