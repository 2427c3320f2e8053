"""Writers for one shard's outputs, atomic by construction.

Every file is written under a temporary name in its final directory and renamed into
place only when the whole shard succeeded, so a crash leaves either a finished file or
a temporary one that the next run removes, never a truncated file under a real name.
On an object store (``storage.is_remote``) the temporary file is local and the commit
is one upload, which is atomic there (see ``storage``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from babelmill.processors.io import storage
from babelmill.processors.io.records import QuarantineRecord
from babelmill.processors.io.storage import TMP_MARK, tmp_path_for  # noqa: F401 - imported from here

OUTPUT_FORMATS = ("parquet", "jsonl")


def atomic_write_bytes(final: Path, data: bytes) -> None:
    """Temp + rename locally, one PUT on an object store."""
    storage.write_bytes_atomic(final, data)


def remove_stale_tmp(directory: Path) -> int:
    """Delete temporary files a killed run left behind; returns how many.  An object store
    holds none: its temporary files were local to the (killed) writer."""
    removed = 0
    if storage.is_remote(directory) or not directory.exists():
        return 0
    for path in directory.rglob(f".*{TMP_MARK}*"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def _unify(tables: list[pa.Table]) -> pa.Table:
    return pa.concat_tables(tables, promote_options="permissive")


class TableSink:
    """Rows of one kind (kept or rejected) for one shard, in Parquet (zstd) or JSONL."""

    def __init__(
        self, final: Path, fmt: str = "parquet", row_group_rows: int = 100_000, always_write: bool = False
    ) -> None:
        if fmt not in OUTPUT_FORMATS:
            raise ValueError(f"unknown output format {fmt!r}")
        self.final = final
        self.fmt = fmt
        self.row_group_rows = row_group_rows
        self.always_write = always_write
        self.rows = 0
        self._tmp: Path | None = None
        self._writer: pq.ParquetWriter | None = None
        self._fh: Any = None
        self._schema: pa.Schema | None = None
        self._pending: list[pa.Table] = []

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            if self._schema is None and not self._pending:
                self._pending.append(table.slice(0, 0))
            return
        self.rows += table.num_rows
        if self.fmt == "jsonl":
            self._open()
            pl.from_arrow(table).write_ndjson(self._fh)  # type: ignore[union-attr]
            return
        if self._schema is None:
            self._schema = table.schema
            self._open()
        if table.schema != self._schema:
            try:
                if set(table.column_names) != set(self._schema.names):
                    # the select below would silently drop the columns the first table lacked
                    raise KeyError("columns differ from the first table's")
                table = table.select(self._schema.names).cast(self._schema)
            except (pa.ArrowInvalid, KeyError, ValueError):
                # A batch whose columns differ (rows rejected at different stages): keep it for a unified write.
                self._pending.append(table)
                return
        self._writer.write_table(table, row_group_size=self.row_group_rows)  # type: ignore[union-attr]

    def _open(self) -> None:
        if self._tmp is not None:
            return
        storage.make_parent(self.final)
        self._tmp = storage.staging_path(self.final)
        if self.fmt == "jsonl":
            self._fh = open(self._tmp, "wb")
        else:
            assert self._schema is not None
            self._writer = pq.ParquetWriter(self._tmp, self._schema, compression="zstd")

    def commit(self) -> Path | None:
        """Close and rename into place; returns the final path (None if nothing written)."""
        pending = [t for t in self._pending if t.num_rows]
        if self.fmt == "parquet" and pending:
            # Rare: tables whose schema differs from the first; rewrite everything unified.
            written = []
            if self._writer is not None:
                self._writer.close()
                self._writer = None
                written = [pq.read_table(self._tmp)]
                os.unlink(self._tmp)  # type: ignore[arg-type]
                self._tmp = None
            merged = _unify(written + pending)
            self._schema = merged.schema
            self._pending = []
            self._open()
            self._writer.write_table(merged, row_group_size=self.row_group_rows)  # type: ignore[union-attr]
        if self._tmp is None:
            if not self.always_write:
                return None
            empty = self._pending[0] if self._pending else None
            if self.fmt == "jsonl":
                self._open()
            else:
                self._schema = empty.schema if empty is not None else pa.schema([])
                self._open()
        if self._writer is not None:
            self._writer.close()
        if self._fh is not None:
            self._fh.close()
        assert self._tmp is not None
        storage.publish(self._tmp, self.final)
        return self.final

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._fh is not None:
            self._fh.close()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)


class QuarantineSink:
    """Malformed records of one shard as JSONL, one object per record with its ``error``."""

    def __init__(self, final: Path) -> None:
        self.final = final
        self.rows = 0
        self._fh: Any = None
        self._tmp: Path | None = None

    def write(self, records: list[QuarantineRecord]) -> None:
        if not records:
            return
        if self._fh is None:
            storage.make_parent(self.final)
            self._tmp = storage.staging_path(self.final)
            self._fh = open(self._tmp, "wb")
        for rec in records:
            self._fh.write(orjson.dumps(rec.to_dict()) + b"\n")
        self.rows += len(records)

    def commit(self) -> Path | None:
        if self._fh is None:
            return None
        self._fh.close()
        assert self._tmp is not None
        storage.publish(self._tmp, self.final)
        return self.final

    def abort(self) -> None:
        if self._fh is not None:
            self._fh.close()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
