"""Readers: each turns one shard into :class:`ReadBatch` es of document rows.

One module per format (``jsonl``, ``parquet``, ``text``, ``hf``; what they share is in
``common``); ``read_shard`` here picks the reader for a shard's kind.  Every bad
record ends in quarantine with its reason.
"""

from __future__ import annotations

from collections.abc import Iterator


from babelmill.processors.io.common import _STREAM_ERRORS, map_table, open_binary  # noqa: F401 - imported from here by NER readers and parallel reading
from babelmill.processors.io.hf import load_hf_dataset, read_hf_arrow, read_hf_load  # noqa: F401 - load_hf_dataset: as above
from babelmill.processors.io.jsonl import read_jsonl
from babelmill.processors.io.parquet import read_parquet
from babelmill.processors.io.records import ReadBatch, ReaderOptions
from babelmill.processors.io.sources import InputShard
from babelmill.processors.io.text import read_text_files, read_text_lines


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
    if kind == "jsonl" and shard.byte_range is not None:
        from babelmill.processors.io.split import read_jsonl_range

        yield from read_jsonl_range(path, source, opts, shard.byte_range)
    elif kind == "jsonl":
        yield from read_jsonl(path, source, opts)
    elif kind == "parquet":
        yield from read_parquet(path, source, opts, shard.row_groups)
    elif kind == "text-lines":
        yield from read_text_lines(path, source, opts)
    elif kind == "warc":
        from babelmill.processors.io.warc import read_warc

        yield from read_warc(path, source, opts, shard.byte_range)
    elif kind == "hf-arrow":
        yield from read_hf_arrow(path, source, opts)
    elif kind == "hf-load":
        assert shard.row_range is not None
        yield from read_hf_load(path, source, opts, shard.row_range)
    elif kind == "conll":
        yield from read_text_lines(path, source, opts)  # a document job reading a CoNLL file: one row per line
    else:
        raise ValueError(f"unknown shard kind {kind!r}")
