"""NER outputs: integer ``ner_tags`` that ``datasets`` reads as ``Sequence(ClassLabel)``,
and CoNLL files.

Parquet output goes through the runner's ordinary sinks; what makes ``datasets`` see
label names is the Hugging Face features JSON in the Arrow schema metadata (key
``huggingface``), which is exactly where ``datasets`` itself stores it.  The encoder
stage attaches it, ``schema.conform`` keeps it, and the Parquet writer stores it.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

from babelmill.processors.base import Stage, set_drop_reason
from babelmill.processors.io.writers import atomic_write_bytes
from babelmill.processors.ner.features import with_label_metadata


def label_names_for(types: Iterable[str]) -> list[str]:
    """``O`` then ``B-X``, ``I-X`` for each entity type, types sorted (a stable id order)."""
    names = ["O"]
    for kind in sorted(set(types)):
        names += [f"B-{kind}", f"I-{kind}"]
    return names


class NerTagEncoder(Stage):
    """Adds ``ner_tags`` (label ids) next to ``tags`` and declares their names for ``datasets``.

    The label list is fixed up front (every shard must number labels the same way):
    given, or built from entity ``types``.  A row with a tag outside the list is
    dropped with ``unknown_label`` rather than given a wrong id.
    """

    name: ClassVar[str] = "ner_tags"
    reasons: ClassVar[tuple[str, ...]] = ("unknown_label",)

    def __init__(self, label_names: Sequence[str] | None = None, types: Sequence[str] | None = None) -> None:
        if label_names is None and types is None:
            raise ValueError("NerTagEncoder needs label_names or entity types")
        self.label_names = list(label_names) if label_names is not None else label_names_for(types or ())
        if len(set(self.label_names)) != len(self.label_names):
            raise ValueError("label names must be unique")

    def __call__(self, batch: pa.Table) -> pa.Table:
        index = {name: i for i, name in enumerate(self.label_names)}
        ids: list[list[int] | None] = []
        reasons: list[str | None] = []
        for tags in batch.column("tags").to_pylist():
            try:
                ids.append([index[t] for t in tags or []])
                reasons.append(None)
            except KeyError:
                ids.append(None)
                reasons.append("unknown_label")
        col = pa.array(ids, pa.list_(pa.int64()))
        if "ner_tags" in batch.column_names:
            batch = batch.set_column(batch.column_names.index("ner_tags"), "ner_tags", col)
        else:
            batch = batch.append_column("ner_tags", col)
        return with_label_metadata(set_drop_reason(batch, pa.array(reasons, pa.string())), self.label_names)


# --------------------------------------------------------------------------- CoNLL


def conll_text(tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]) -> str:
    """``token<TAB>tag`` lines, one blank line after each sentence."""
    parts = []
    for toks, tgs in zip(tokens, tags):
        if len(toks) != len(tgs):
            raise ValueError(f"{len(toks)} tokens but {len(tgs)} tags")
        parts.append("".join(f"{tok}\t{tag}\n" for tok, tag in zip(toks, tgs)) + "\n")
    return "".join(parts)


def write_conll(table: pa.Table, path: str | Path, tags_column: str = "tags") -> int:
    """Write the sentences of an NER table as a CoNLL file (atomically); returns sentences."""
    tokens = table.column("tokens").to_pylist()
    tags = table.column(tags_column).to_pylist()
    atomic_write_bytes(Path(path), conll_text(tokens, tags).encode("utf-8"))
    return len(tokens)


def export_conll(run_output: str | Path, dest: str | Path) -> dict[str, int]:
    """One CoNLL file per subset of a run's kept Parquet data (``data/<subset>/*.parquet``,
    or ``data/*.parquet`` as ``all``), in shard order; returns sentences per file."""
    import pyarrow.parquet as pq

    root = Path(run_output) / "data"
    groups: dict[str, list[str]] = {}
    for f in sorted(glob.glob(str(root / "**" / "*.parquet"), recursive=True)):
        rel = os.path.relpath(f, root)
        subset = rel.split(os.sep)[0] if os.sep in rel else "all"
        groups.setdefault(subset, []).append(f)
    counts = {}
    for subset, files in groups.items():
        tables = [pq.read_table(f, columns=["tokens", "tags"]) for f in files]
        tables = [t for t in tables if t.num_rows]
        table = (
            pa.concat_tables(tables)
            if tables
            else pa.table({"tokens": pa.array([], pa.list_(pa.string())), "tags": pa.array([], pa.list_(pa.string()))})
        )
        counts[subset] = write_conll(table, Path(dest) / f"{subset}.conll")
    return counts
