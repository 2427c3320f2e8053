"""Parquet reader: row batches mapped onto the document contract."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from babelmill.processors.io import storage
from babelmill.processors.io.common import map_table
from babelmill.processors.io.records import QuarantineRecord, ReadBatch, ReaderOptions

_PARQUET_BATCH_ROWS = 65_536


def read_parquet(
    path: str, source: str, opts: ReaderOptions, row_groups: tuple[int, int] | None = None
) -> Iterator[ReadBatch]:
    start = 0
    try:
        pf = pq.ParquetFile(storage.arrow_source(path))
        groups = None
        if row_groups is not None:
            # a split shard: its row groups, numbered from the file's first row as in one shard
            groups = list(range(*row_groups))
            start = sum(pf.metadata.row_group(i).num_rows for i in range(row_groups[0]))
        for rb in pf.iter_batches(batch_size=_PARQUET_BATCH_ROWS, row_groups=groups):
            table = pa.Table.from_batches([rb])
            yield map_table(table, opts, source, start)
            start += table.num_rows
    except (OSError, pa.ArrowException) as exc:
        yield ReadBatch(quarantine=[QuarantineRecord(source, start, f"unreadable Parquet from row {start} on: {exc}")])
