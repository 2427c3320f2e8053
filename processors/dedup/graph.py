"""Duplicate graph: bucket edges, connected components, keepers, rehydration weights.

Everything is a sort or a sparse-graph call over numpy arrays: O(n log n) in the
number of documents that share a bucket, no Python loop over documents.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

EXACT_DUPLICATE = "exact_duplicate"
NEAR_DUPLICATE = "near_duplicate"

#: FineWeb-2's rehydration weights (README of huggingface/fineweb-2, "Deduplication"):
#: a kept document whose cluster had N members is repeated weight(N) times.
#: N=1 -> 1, N=2 -> 2, N=3 -> 3, N=4 -> 3, 5 <= N < 100 -> 5, 100 <= N < 1000 -> 8,
#: N >= 1000 -> 1 (very large clusters are mostly boilerplate).  Stored as
#: (lower bound of N, weight) pairs, looked up with the largest bound <= N.
REHYDRATION_WEIGHTS: tuple[tuple[int, float], ...] = ((1, 1.0), (2, 2.0), (3, 3.0), (5, 5.0), (100, 8.0), (1000, 1.0))

EDGE_DTYPE = np.int64


def empty_edges() -> np.ndarray:
    return np.empty((0, 2), dtype=EDGE_DTYPE)


def bucket_edges(doc: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Edges ``[bucket's smallest doc, member]`` for every bucket with >= 2 members.

    A star per bucket (k - 1 edges for k members) carries the same connectivity as all
    pairs.  ``doc`` and ``keys`` are parallel arrays; ``doc`` need not be sorted.
    """
    doc = np.asarray(doc, dtype=np.int64)
    keys = np.asarray(keys)
    if len(doc) != len(keys):
        raise ValueError(f"doc has {len(doc)} entries but keys has {len(keys)}")
    if len(doc) < 2:
        return empty_edges()
    if np.all(doc[1:] >= doc[:-1]):
        order = np.argsort(keys, kind="stable")  # stable: ties stay in doc order
    else:
        order = np.lexsort((doc, keys))
    k = keys[order]
    d = doc[order]
    new_bucket = np.empty(len(k), dtype=bool)
    new_bucket[0] = True
    np.not_equal(k[1:], k[:-1], out=new_bucket[1:])
    bucket_first = np.flatnonzero(new_bucket)
    bucket_id = np.cumsum(new_bucket) - 1
    members = np.flatnonzero(~new_bucket)
    if len(members) == 0:
        return empty_edges()
    heads = d[bucket_first[bucket_id[members]]]
    return np.stack([heads, d[members]], axis=1).astype(EDGE_DTYPE, copy=False)


def _components(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(nodes ascending, component label per node, smallest node per label)."""
    if len(edges) == 0:
        e = np.empty(0, dtype=np.int64)
        return e, e, e
    nodes, flat = np.unique(edges.ravel(), return_inverse=True)
    ij = flat.reshape(-1, 2)
    k = len(nodes)
    graph = coo_matrix((np.ones(len(ij), dtype=np.int8), (ij[:, 0], ij[:, 1])), shape=(k, k)).tocsr()
    _, labels = connected_components(graph, directed=False)
    # nodes ascend, so the first node carrying a label is that component's smallest doc
    _, first = np.unique(labels, return_index=True)
    return nodes, labels, nodes[first]


def _stack(edges: list[np.ndarray]) -> np.ndarray:
    parts = [np.asarray(e, dtype=EDGE_DTYPE).reshape(-1, 2) for e in edges if e is not None and len(e)]
    return np.concatenate(parts) if parts else empty_edges()


def rehydration_weights(
    cluster_size: np.ndarray, table: tuple[tuple[int, float], ...] = REHYDRATION_WEIGHTS
) -> np.ndarray:
    """FineWeb-2 upsampling weight for a keeper of a cluster of ``cluster_size`` docs."""
    bounds = np.array([b for b, _ in table], dtype=np.int64)
    weights = np.array([w for _, w in table], dtype=np.float32)
    idx = np.searchsorted(bounds, np.asarray(cluster_size, dtype=np.int64), side="right") - 1
    return weights[np.clip(idx, 0, len(weights) - 1)]


RESOLVE_SCHEMA = pa.schema(
    [
        pa.field("doc", pa.int64()),
        pa.field("cluster", pa.int64()),
        pa.field("cluster_size", pa.int32()),
        pa.field("keep", pa.bool_()),
        pa.field("reason", pa.string()),
    ]
)


def resolve_clusters(
    n_docs: int, exact_edges: np.ndarray, near_edges: list[np.ndarray], rehydrate: bool = False
) -> pa.Table:
    """Clusters of duplicates over all edges, one keeper (the smallest doc) each.

    Returns one row per document in a cluster of size > 1, sorted by ``doc``; see
    ``MinHashDeduplicator.resolve`` for the columns.
    """
    exact = _stack([exact_edges])
    edges = _stack([exact, *near_edges])
    if len(edges) and (edges.min() < 0 or edges.max() >= n_docs):
        raise ValueError(f"edge endpoints must lie in [0, {n_docs})")
    nodes, labels, keeper_of = _components(edges)
    sizes = np.bincount(labels).astype(np.int32) if len(labels) else np.empty(0, dtype=np.int32)
    cluster = keeper_of[labels] if len(labels) else nodes
    keep = nodes == cluster
    # Exact duplicate of its keeper <=> same exact-hash group, i.e. same component of
    # the exact edges alone (exact edges link equal hashes only).
    is_exact = np.zeros(len(nodes), dtype=bool)
    if len(exact):
        e_nodes, e_labels, _ = _components(exact)
        pos_doc = np.searchsorted(e_nodes, nodes)
        pos_keep = np.searchsorted(e_nodes, cluster)
        pos_doc_c = np.minimum(pos_doc, len(e_nodes) - 1)
        pos_keep_c = np.minimum(pos_keep, len(e_nodes) - 1)
        in_doc = e_nodes[pos_doc_c] == nodes
        in_keep = e_nodes[pos_keep_c] == cluster
        is_exact = in_doc & in_keep & (e_labels[pos_doc_c] == e_labels[pos_keep_c])
    codes = pa.array(np.where(is_exact, 0, 1).astype(np.int8), mask=keep)
    reason = pa.DictionaryArray.from_arrays(codes, pa.array([EXACT_DUPLICATE, NEAR_DUPLICATE])).cast(pa.string())
    columns = {
        "doc": pa.array(nodes, pa.int64()),
        "cluster": pa.array(cluster, pa.int64()),
        "cluster_size": pa.array(sizes[labels] if len(labels) else sizes, pa.int32()),
        "keep": pa.array(keep, pa.bool_()),
        "reason": reason,
    }
    schema = RESOLVE_SCHEMA
    if rehydrate:
        w = rehydration_weights(sizes[labels]) if len(labels) else np.empty(0, np.float32)
        columns["rehydration_weight"] = pa.array(w, pa.float32(), mask=~keep)
        schema = schema.append(pa.field("rehydration_weight", pa.float32()))
    return pa.Table.from_pydict(columns, schema=schema)
