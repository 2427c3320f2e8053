"""Hugging Face datasets: ``save_to_disk`` Arrow files and ``load_dataset``-able local
paths (loaded offline, never from the hub).  Shard discovery (``sources``) and the
readers both use this module, so neither imports the other."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from babelmill.processors.io.common import map_table
from babelmill.processors.io.parquet import _PARQUET_BATCH_ROWS
from babelmill.processors.io.records import QuarantineRecord, ReadBatch, ReaderOptions


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
        yield ReadBatch(
            quarantine=[QuarantineRecord(source, start, f"unreadable Arrow file from row {start} on: {exc}")]
        )


def load_hf_dataset(path: str, split: str) -> Any:
    """A local ``load_dataset``-able path, loaded offline (never from the hub)."""
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import datasets

    from babelmill.processors.errors import InputError

    try:
        return datasets.load_dataset(path, split=split)
    except (FileNotFoundError, ValueError) as exc:
        raise InputError(
            f"datasets.load_dataset({path!r}, split={split!r}) failed: {str(exc).splitlines()[0]}"
        ) from exc


def read_hf_load(path: str, source: str, opts: ReaderOptions, row_range: tuple[int, int]) -> Iterator[ReadBatch]:
    ds = load_hf_dataset(path, opts.hf_split)
    start, stop = row_range
    table = (
        ds.data.table.slice(start, stop - start)
        if ds._indices is None
        else ds.select(range(start, stop)).flatten_indices().data.table
    )
    for offset in range(0, table.num_rows, _PARQUET_BATCH_ROWS):
        part = table.slice(offset, _PARQUET_BATCH_ROWS)
        yield map_table(part, opts, source, start + offset)
