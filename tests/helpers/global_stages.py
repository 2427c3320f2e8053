"""Small global stages for runner tests, written against ``GlobalStage`` only, so the
phases can be checked against answers computed by hand.

``ExactTextDedup`` links identical texts (two steps, one of which fans out and finds
nothing); ``LongestPerKey`` keeps the longest document per key and trains its one step
on every row's text, as a word aligner would.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from babelmill.processors.base import GlobalStage, GlobalStep, set_drop_reason


def _lookup(resolved: pa.Table, doc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``doc`` in the sorted ``resolved.doc`` and whether each is there."""
    rdoc = resolved.column("doc").to_numpy()
    doc = np.asarray(doc, dtype=np.int64)
    if not len(rdoc):
        return np.zeros(len(doc), np.int64), np.zeros(len(doc), bool)
    pos = np.minimum(np.searchsorted(rdoc, doc), len(rdoc) - 1)
    return pos, rdoc[pos] == doc


class ExactTextDedup(GlobalStage):
    """Links documents with identical text; keeps the first in input order."""

    name: ClassVar[str] = "dedup"
    reasons: ClassVar[tuple[str, ...]] = ("exact_duplicate",)
    global_counters: ClassVar[tuple[str, ...]] = ("clusters",)

    def config(self) -> dict:
        return {"kind": "exact-text"}

    def key_schema(self) -> pa.Schema:
        return pa.schema([pa.field("text_hash", pa.uint64()), pa.field("length", pa.uint64())])

    def keys(self, batch: pa.Table) -> pa.Table:
        texts = batch.column("text").to_pylist()
        h = [int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little") for t in texts]
        return pa.table(
            {"text_hash": pa.array(h, pa.uint64()), "length": pa.array([len(t) for t in texts], pa.uint64())},
            schema=self.key_schema(),
        )

    def steps(self) -> list[GlobalStep]:
        return [GlobalStep("exact", ("text_hash",)), GlobalStep("length", ("length",))]

    @staticmethod
    def _star(doc: np.ndarray, values: np.ndarray) -> np.ndarray:
        order = np.lexsort((doc, values))
        v, d = values[order], doc[order]
        first = np.r_[True, v[1:] != v[:-1]]
        head = d[np.maximum.accumulate(np.where(first, np.arange(len(d)), 0))]
        pairs = np.stack([head, d], axis=1)[~first]
        return pairs.astype(np.int64).reshape(-1, 2)

    def run_step(self, step: GlobalStep, keys: pa.Table) -> np.ndarray:
        if step.name == "length":  # a second, parallel step that must not merge on its own
            return np.zeros((0, 2), np.int64)
        values = keys.column("text_hash").to_numpy()
        return self._star(np.arange(len(values), dtype=np.int64), values)

    def combine(self, n_docs: int, results: dict[str, Any]) -> pa.Table:
        parent = np.arange(n_docs)

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        edges = np.concatenate([results["exact"], results["length"]])
        for a, b in edges if n_docs else []:
            ra, rb = find(int(a)), find(int(b))
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
        roots = np.array([find(i) for i in range(n_docs)], dtype=np.int64)
        sizes = np.bincount(roots, minlength=n_docs)
        docs = np.nonzero(sizes[roots] > 1)[0] if n_docs else np.zeros(0, np.int64)
        keep = roots[docs] == docs
        self.count("clusters", int(keep.sum()))
        return pa.table(
            {
                "doc": pa.array(docs, pa.int64()),
                "cluster_size": pa.array(sizes[roots[docs]], pa.int32()),
                "reason": pa.array([None if k else "exact_duplicate" for k in keep], pa.string()),
            }
        )

    def summary(self, resolved: pa.Table) -> dict[str, int]:
        return {"removed": resolved.num_rows - resolved.column("reason").null_count}

    def mark(self, batch: pa.Table, doc: Any, resolved: pa.Table) -> pa.Table:
        pos, found = _lookup(resolved, doc)
        take = pa.array(pos)
        reasons = (
            pc.if_else(pa.array(found), resolved.column("reason").take(take), pa.nulls(len(pos), pa.string()))
            if len(found)
            else pa.array([], pa.string())
        )
        sizes = (
            pc.if_else(pa.array(found), resolved.column("cluster_size").take(take), pa.scalar(1, pa.int32()))
            if len(found)
            else pa.array([], pa.int32())
        )
        return set_drop_reason(batch.append_column("dup_cluster_size", sizes), reasons)


class LongestPerKey(GlobalStage):
    """Keeps the longest document per ``key`` column value (ties: the first in input
    order) and tags every kept row with its key's mean length.

    Its single step reads the emitted texts themselves, not hashes: the shape of a
    global step that has to see every row (alignment training).
    """

    name: ClassVar[str] = "longest"
    reasons: ClassVar[tuple[str, ...]] = ("shorter_than_best",)
    global_counters: ClassVar[tuple[str, ...]] = ("keys",)

    def __init__(self, key: str = "lang") -> None:
        self.key = key

    def key_schema(self) -> pa.Schema:
        return pa.schema([pa.field("key", pa.string()), pa.field("text", pa.string())])

    def keys(self, batch: pa.Table) -> pa.Table:
        key = (
            batch.column(self.key).cast(pa.string()).fill_null("")
            if self.key in batch.column_names
            else pa.array([""] * batch.num_rows)
        )
        return pa.table({"key": key, "text": batch.column("text")}, schema=self.key_schema())

    def steps(self) -> list[GlobalStep]:
        return [GlobalStep("best", ("key", "text"))]

    def run_step(self, step: GlobalStep, keys: pa.Table) -> dict[str, Any]:
        best: dict[str, tuple[int, int]] = {}
        total: dict[str, list[int]] = {}
        for doc, (key, text) in enumerate(zip(keys.column("key").to_pylist(), keys.column("text").to_pylist())):
            if key not in best or len(text) > best[key][1]:
                best[key] = (doc, len(text))
            total.setdefault(key, []).append(len(text))
        return {
            "best": {k: v[0] for k, v in best.items()},
            "keys": keys.column("key").to_pylist(),
            "mean": {k: sum(v) / len(v) for k, v in total.items()},
        }

    def combine(self, n_docs: int, results: dict[str, Any]) -> pa.Table:
        r = results["best"]
        winners = set(r["best"].values())
        self.count("keys", len(r["best"]))
        return pa.table(
            {
                "doc": pa.array(np.arange(n_docs), pa.int64()),
                "reason": pa.array([None if d in winners else "shorter_than_best" for d in range(n_docs)], pa.string()),
                "key_mean_length": pa.array([r["mean"][k] for k in r["keys"]], pa.float64()),
            }
        )

    def mark(self, batch: pa.Table, doc: Any, resolved: pa.Table) -> pa.Table:
        pos, _ = _lookup(resolved, doc)
        take = pa.array(pos)
        out = batch.append_column("key_mean_length", resolved.column("key_mean_length").take(take))
        return set_drop_reason(out, resolved.column("reason").take(take))
