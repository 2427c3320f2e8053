"""Readers and writers: everything that touches files lives here."""

from babelmill.processors.io.records import QuarantineRecord, ReadBatch, ReaderOptions
from babelmill.processors.io.sources import InputShard, discover_shards
from babelmill.processors.io.readers import read_shard

__all__ = ["InputShard", "QuarantineRecord", "ReadBatch", "ReaderOptions", "discover_shards", "read_shard"]
