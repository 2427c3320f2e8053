"""Exact + MinHash LSH near-duplicate removal (a global stage; see ``deduplicator``)."""

from babelmill.processors.dedup.deduplicator import (
    CLUSTER_SIZE,
    REHYDRATION_WEIGHT,
    MinHashDeduplicator,
)
from babelmill.processors.dedup.graph import (
    EXACT_DUPLICATE,
    NEAR_DUPLICATE,
    REHYDRATION_WEIGHTS,
    rehydration_weights,
)
from babelmill.processors.dedup.text import normalize_texts

__all__ = [
    "CLUSTER_SIZE",
    "EXACT_DUPLICATE",
    "NEAR_DUPLICATE",
    "REHYDRATION_WEIGHT",
    "REHYDRATION_WEIGHTS",
    "MinHashDeduplicator",
    "normalize_texts",
    "rehydration_weights",
]
