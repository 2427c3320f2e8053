"""Exact + MinHash LSH near-duplicate removal, as pure functions the runner composes.

Dedup needs the whole dataset, so it is a :class:`GlobalStage` run in three phases
(the Ray runner drives them; nothing here imports Ray):

1. per shard: ``keys(batch)`` -> ``exact_hash`` and ``bands_0 .. bands_{B-1}`` per kept
   row (``signatures`` gives the same with the bands as one list column);
2. global: the runner numbers all rows (``doc``: shard order, then row order) and runs
   one step per key column (``exact_edges`` once, ``band_edges`` once per band: fan-out
   friendly), then ``combine`` -> ``resolve`` -> one row per document in a duplicate
   cluster;
3. per shard: ``mark(batch, doc, resolved)`` sets ``drop_reason`` and
   ``dup_cluster_size`` (and ``rehydration_weight``).

``dedup_table`` runs the three phases in memory on one table (tests, notebooks, bench).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from babelmill.processors.base import DROP_REASON, GlobalStage, GlobalStep, Resources, set_drop_reason
from babelmill.processors.dedup.graph import (
    EXACT_DUPLICATE,
    NEAR_DUPLICATE,
    bucket_edges,
    empty_edges,
    resolve_clusters,
)
from babelmill.processors.dedup.minhash import (
    DEFAULT_CHUNK,
    band_keys,
    minhash_signatures,
    permutation_params,
    shingle_hashes,
)
from babelmill.processors.dedup.text import (
    TOKENIZERS,
    WHITESPACE,
    WordSplitter,
    normalize_texts,
    splitter_for,
)

#: Bumped whenever normalisation or hashing changes what collides (run fingerprint).
SCHEME_VERSION = "nfkc-lower-num0-punct/polyngram-splitmix/v1"
_WORD_SEED = 0x5EED_0001
_EXACT_SEED = 0x5EED_0002

CLUSTER_SIZE = "dup_cluster_size"
REHYDRATION_WEIGHT = "rehydration_weight"


def _concat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype)


class MinHashDeduplicator(GlobalStage):
    """Exact (normalised-text hash) and MinHash-LSH near-duplicate removal.

    Exact duplicates: equal hashes of the normalised text (``processors.dedup.text``)
    with its spaces removed, so that copies differing in case, spacing, punctuation,
    numbers or Unicode width collide, in spaced and unspaced scripts alike.

    Near duplicates: MinHash over word n-grams of the normalised text.  Defaults are FineWeb-2's: word 5-grams, 14 bands x 8 rows (112 permutations),
    64-bit hashes; a pair at Jaccard s shares a bucket with probability
    ``1 - (1 - s**8)**14``: 0.92 at 0.8, 0.99 at 0.85, 0.05 at 0.5.  Duplicates are
    clustered by connected components and the first document in input order of each
    cluster is kept, with the cluster's size in ``dup_cluster_size``.
    """

    name: ClassVar[str] = "dedup"
    resources: ClassVar[Resources] = Resources(num_cpus=1.0)
    global_counters: ClassVar[tuple[str, ...]] = ("clusters",)
    reasons: ClassVar[tuple[str, ...]] = (EXACT_DUPLICATE, NEAR_DUPLICATE)

    def __init__(
        self,
        ngram: int = 5,
        num_bands: int = 14,
        rows_per_band: int = 8,
        seed: int = 1,
        exact: bool = True,
        near: bool = True,
        lowercase: bool = True,
        rehydrate: bool = False,
        tokenizer: str = "lang",
    ) -> None:
        if ngram < 1 or num_bands < 1 or rows_per_band < 1:
            raise ValueError("ngram, num_bands and rows_per_band must be >= 1")
        if tokenizer not in TOKENIZERS:
            raise ValueError(f"tokenizer must be one of {TOKENIZERS}, got {tokenizer!r}")
        self.ngram = ngram
        self.num_bands = num_bands
        self.rows_per_band = rows_per_band
        self.seed = seed
        self.exact = exact
        self.near = near
        self.lowercase = lowercase
        self.rehydrate = rehydrate
        self.tokenizer = tokenizer
        #: shingles hashed at once / rows tokenised at once; change memory, never the result
        self._chunk = DEFAULT_CHUNK
        self._rows = 10_000
        self._params: tuple[np.ndarray, np.ndarray] | None = None
        self._splitters: dict[str | None, WordSplitter] = {}

    # -- plumbing -------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        return {
            "ngram": self.ngram,
            "num_bands": self.num_bands,
            "rows_per_band": self.rows_per_band,
            "seed": self.seed,
            "exact": self.exact,
            "near": self.near,
            "lowercase": self.lowercase,
            "rehydrate": self.rehydrate,
            "tokenizer": self.tokenizer,
            "scheme": SCHEME_VERSION,
            # polars' string hash is stable within a version only
            "hash": f"polars-{pl.__version__}",
        }

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_splitters"] = {}  # language profiles / segmenters are reloaded per worker
        state.pop("_counters", None)
        return state

    @property
    def num_perm(self) -> int:
        return self.num_bands * self.rows_per_band

    @property
    def params(self) -> tuple[np.ndarray, np.ndarray]:
        if self._params is None:
            self._params = permutation_params(self.num_perm, self.seed)
        return self._params

    def _splitter(self, lang: str | None) -> WordSplitter | None:
        if lang not in self._splitters:
            self._splitters[lang] = splitter_for(lang, self.tokenizer)
        return self._splitters[lang]

    def signature_schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field("exact_hash", pa.uint64()), pa.field("bands", pa.list_(pa.uint64(), self.num_bands))]
        )

    # -- phase 1 --------------------------------------------------------------------

    def words(self, batch: pa.Table) -> tuple[pl.Series, np.ndarray, np.ndarray, np.ndarray]:
        """Normalised text, and the word hashes grouped by language.

        Returns (normalised text in row order, row order of the groups, words per row
        in that order, flat 64-bit word hashes in that order).
        """
        norm = normalize_texts(batch.column("text"), self.lowercase)
        n = len(norm)
        if "lang" in batch.column_names and self.tokenizer != "whitespace":
            lang = batch.column("lang").cast(pa.string()).fill_null("").to_numpy(zero_copy_only=False)
            codes, inverse = np.unique(lang, return_inverse=True)
            order = np.argsort(inverse, kind="stable")
            bounds = np.searchsorted(inverse[order], np.arange(len(codes) + 1))
            parts = [(codes[i] or None, order[bounds[i] : bounds[i + 1]]) for i in range(len(codes))]
        else:
            parts = [(None, np.arange(n, dtype=np.int64))]
        order, lengths, hashes = [], [], []
        for code, rows in parts:
            splitter = self._splitter(code)
            if splitter is None:  # no or unknown language: spaces
                self.count("unknown_lang_docs", len(rows))
                splitter = WHITESPACE
            group_norm = norm if len(parts) == 1 else norm.gather(rows)
            toks = splitter.split(group_norm)
            lengths.append(toks.list.len().fill_null(0).to_numpy().astype(np.int64))
            hashes.append(toks.explode().drop_nulls().hash(_WORD_SEED).to_numpy().astype(np.uint64, copy=False))
            order.append(rows)
        return norm, _concat(order, np.int64), _concat(lengths, np.int64), _concat(hashes, np.uint64)

    def signatures(self, batch: pa.Table) -> pa.Table:
        """``exact_hash: uint64`` and ``bands: fixed_size_list<uint64>[num_bands]`` per row.

        Same row count and order as ``batch``.  ``bands`` is null for every row when
        ``near`` is off.
        """
        n = batch.num_rows
        if n > self._rows:  # bound the per-call temporaries whatever batch size comes in
            return pa.concat_tables([self.signatures(batch.slice(i, self._rows)) for i in range(0, n, self._rows)])
        if self.near:
            norm, order, lengths, words = self.words(batch)
            counts, shingles = shingle_hashes(lengths, words, self.ngram)
            a, b = self.params
            keys = band_keys(
                minhash_signatures(counts, shingles, a, b, self._chunk), self.num_bands, self.rows_per_band
            )
            bands_np = np.empty((n, self.num_bands), dtype=np.uint64)
            bands_np[order] = keys
            bands = pa.FixedSizeListArray.from_arrays(pa.array(bands_np.ravel(), pa.uint64()), self.num_bands)
        else:
            norm = normalize_texts(batch.column("text"), self.lowercase)
            bands = pa.nulls(n, pa.list_(pa.uint64(), self.num_bands))
        # Spaces are dropped from the exact key: punctuation removal puts spaces into
        # unspaced scripts (zh "A，B" -> "a b"), and texts differing only in where
        # spaces fall are copies anyway.
        exact_hash = norm.str.replace_all(" ", "", literal=True).hash(_EXACT_SEED).to_arrow().cast(pa.uint64())
        return pa.Table.from_arrays([exact_hash, bands], schema=self.signature_schema())

    @staticmethod
    def band_matrix(signatures: pa.Table) -> np.ndarray:
        """``uint64[n, num_bands]`` view of a signature table's ``bands`` column."""
        col = signatures.column("bands").combine_chunks()
        width = col.type.list_size
        if col.null_count:
            raise ValueError("bands are null: signatures were computed with near=False")
        return col.flatten().to_numpy().reshape(-1, width)

    def key_schema(self) -> pa.Schema:
        bands = [pa.field(f"bands_{j}", pa.uint64()) for j in range(self.num_bands)] if self.near else []
        return pa.schema([pa.field("exact_hash", pa.uint64()), *bands])

    def keys(self, batch: pa.Table) -> pa.Table:
        """``signatures`` with one column per band, so a step reads one band of every shard."""
        sig = self.signatures(batch)
        columns = [sig.column("exact_hash")]
        if self.near:
            bands = self.band_matrix(sig)
            columns += [pa.array(bands[:, j], pa.uint64()) for j in range(self.num_bands)]
        return pa.Table.from_arrays(columns, schema=self.key_schema())

    # -- phase 2 --------------------------------------------------------------------

    def band_edges(self, doc: np.ndarray, band_values: np.ndarray) -> np.ndarray:
        """Edges ``int64[m, 2]`` = (bucket's smallest doc, member) for ONE band."""
        if not self.near:
            return empty_edges()
        return bucket_edges(doc, band_values)

    def exact_edges(self, doc: np.ndarray, exact_hash: np.ndarray) -> np.ndarray:
        """Edges linking documents with the same normalised-text hash (stars, as above)."""
        if not self.exact:
            return empty_edges()
        return bucket_edges(doc, exact_hash)

    def near_edges(self, doc: np.ndarray, bands: np.ndarray) -> list[np.ndarray]:
        """``band_edges`` for every band of a ``uint64[n, num_bands]`` matrix."""
        return [self.band_edges(doc, bands[:, i]) for i in range(bands.shape[1])]

    def resolve(self, n_docs: int, exact_edges: np.ndarray, near_edges: list[np.ndarray]) -> pa.Table:
        """Connected components over all edges; one row per doc in a cluster of size > 1.

        Columns: ``doc`` int64, ``cluster`` int64 (the keeper's doc = the smallest doc
        of the cluster), ``cluster_size`` int32, ``keep`` bool, ``reason`` string (null
        for keepers, ``exact_duplicate`` when the doc's normalised text equals its
        keeper's, else ``near_duplicate``) and, with ``rehydrate``,
        ``rehydration_weight`` float32 (keepers only; see ``REHYDRATION_WEIGHTS``).
        Sorted by ``doc``.
        """
        out = resolve_clusters(n_docs, exact_edges, near_edges, rehydrate=self.rehydrate)
        self.count("clusters", int(pc.sum(out.column("keep")).as_py() or 0))
        return out

    def steps(self) -> list[GlobalStep]:
        """One step for the exact hash, one per band: each becomes its own Ray task."""
        exact = [GlobalStep("exact", ("exact_hash",))] if self.exact else []
        near = [GlobalStep(f"band_{j}", (f"bands_{j}",)) for j in range(self.num_bands)] if self.near else []
        return exact + near

    def run_step(self, step: GlobalStep, keys: pa.Table) -> np.ndarray:
        values = keys.column(step.columns[0]).to_numpy()
        doc = np.arange(len(values), dtype=np.int64)
        return self.exact_edges(doc, values) if step.name == "exact" else self.band_edges(doc, values)

    def combine(self, n_docs: int, results: dict[str, Any]) -> pa.Table:
        exact = results.get("exact", empty_edges())
        near = [results[f"band_{j}"] for j in range(self.num_bands) if f"band_{j}" in results]
        return self.resolve(n_docs, exact, near)

    def summary(self, resolved: pa.Table) -> dict[str, int]:
        kept = int(pc.sum(resolved.column("keep")).as_py() or 0) if resolved.num_rows else 0
        return {"in_clusters": resolved.num_rows, "removed": resolved.num_rows - kept}

    # -- phase 3 --------------------------------------------------------------------

    def mark(self, batch: pa.Table, doc: np.ndarray, resolved: pa.Table) -> pa.Table:
        """Add ``drop_reason``, ``dup_cluster_size`` (and ``rehydration_weight``) to a batch.

        ``doc`` holds the batch rows' global indices as given to phase 2; ``resolved``
        is ``resolve``'s output (or any subset of it containing these docs).  An
        existing ``drop_reason`` wins over ours.
        """
        doc = np.asarray(doc, dtype=np.int64)
        n = batch.num_rows
        if len(doc) != n:
            raise ValueError(f"{len(doc)} doc indices for {n} rows")
        rdoc = resolved.column("doc").to_numpy()
        pos = np.minimum(np.searchsorted(rdoc, doc), max(len(rdoc) - 1, 0))
        found = (rdoc[pos] == doc) if len(rdoc) else np.zeros(n, dtype=bool)
        take = pa.array(np.where(found, pos, 0), pa.int64())
        mask = pa.array(~found)
        if len(rdoc):
            reason = pc.if_else(mask, pa.nulls(n, pa.string()), resolved.column("reason").take(take))
            size = pc.if_else(mask, pa.scalar(1, pa.int32()), resolved.column("cluster_size").take(take))
        else:
            reason = pa.nulls(n, pa.string())
            size = pa.array(np.ones(n, dtype=np.int32))
        columns = {DROP_REASON: reason, CLUSTER_SIZE: size}
        if self.rehydrate:
            if len(rdoc) and REHYDRATION_WEIGHT in resolved.column_names:
                weight = pc.if_else(mask, pa.scalar(1.0, pa.float32()), resolved.column(REHYDRATION_WEIGHT).take(take))
            else:
                weight = pa.array(np.ones(n, dtype=np.float32))
            columns[REHYDRATION_WEIGHT] = weight
        out = set_drop_reason(batch, reason)
        for name, col in columns.items():
            if name == DROP_REASON:
                continue
            if name in out.column_names:
                out = out.set_column(out.column_names.index(name), name, col)
            else:
                out = out.append_column(name, col)
        return out

    # -- all in memory ----------------------------------------------------------------

    def dedup_table(self, table: pa.Table) -> pa.Table:
        """All three phases on one in-memory table (rows numbered in table order)."""
        sig = self.signatures(table)
        n = table.num_rows
        doc = np.arange(n, dtype=np.int64)
        exact = self.exact_edges(doc, sig.column("exact_hash").to_numpy())
        near = self.near_edges(doc, self.band_matrix(sig)) if self.near else []
        return self.mark(table, doc, self.resolve(n, exact, near))

    def __call__(self, batch: pa.Table) -> pa.Table:
        """Dedup within this one batch only; the runner's global step covers a whole run."""
        return self.dedup_table(batch)
