"""Hugging Face ``features`` in Arrow schema metadata: how ``ner_tags`` label names travel.

``datasets`` stores its features as JSON under the schema metadata key ``huggingface``
(``{"info": {"features": {...}}}``) in the Arrow and Parquet files it writes, and reads
them back per column when loading Parquet.  Writing the same key makes our Parquet
output load with ``ner_tags`` as ``Sequence(ClassLabel)``; reading it lets us take label
names from any such file.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

HF_METADATA_KEY = b"huggingface"


@functools.lru_cache(maxsize=32)
def _features_json(label_names: tuple[str, ...], column: str) -> bytes:
    import datasets

    features = datasets.Features({column: datasets.Sequence(datasets.ClassLabel(names=list(label_names)))})
    return features.arrow_schema.metadata[HF_METADATA_KEY]


def with_label_metadata(table: pa.Table, label_names: Sequence[str], column: str = "ner_tags") -> pa.Table:
    """``table`` whose schema metadata declares ``column`` a ``Sequence(ClassLabel)``."""
    meta = dict(table.schema.metadata or {})
    meta[HF_METADATA_KEY] = _features_json(tuple(label_names), column)
    return table.replace_schema_metadata(meta)


def hf_features_of(schema: pa.Schema, path: str | None = None) -> dict[str, Any] | None:
    """Serialised HF features: the schema's ``huggingface`` metadata, else a
    ``dataset_info.json`` beside the file (a ``save_to_disk`` directory)."""
    raw = (schema.metadata or {}).get(HF_METADATA_KEY)
    if raw:
        try:
            feats = json.loads(raw).get("info", {}).get("features")
            if feats:
                return feats
        except (ValueError, AttributeError):
            pass
    if path:
        info_path = Path(path).parent / "dataset_info.json"
        if info_path.is_file():
            try:
                return json.loads(info_path.read_text()).get("features")
            except ValueError:
                return None
    return None


def label_names_from_features(features: dict[str, Any] | None, column: str = "ner_tags") -> list[str] | None:
    """ClassLabel names of a sequence-of-ClassLabel column in serialised HF features."""
    if not features or column not in features:
        return None
    feat = features[column]
    inner = feat.get("feature") if isinstance(feat, dict) else None
    if isinstance(inner, dict) and inner.get("_type") == "ClassLabel":
        return list(inner.get("names") or [])
    return None


def label_names_in(schema: pa.Schema) -> dict[str, list[str]]:
    """ClassLabel names per column declared in a schema's HF metadata (empty if none)."""
    feats = hf_features_of(schema) or {}
    out = {}
    for name in feats:
        names = label_names_from_features(feats, name)
        if names is not None:
            out[name] = names
    return out
