"""Readers and writers: everything that touches files lives here."""

from processors.io.records import QuarantineRecord, ReadBatch, ReaderOptions
from processors.io.sources import InputShard, discover_shards
from processors.io.readers import read_shard

__all__ = ["InputShard", "QuarantineRecord", "ReadBatch", "ReaderOptions", "discover_shards", "read_shard"]
