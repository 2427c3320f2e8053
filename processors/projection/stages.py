"""Projection stages over Arrow batches of parallel NER rows.

Row contract (parallel NER): ``src_tokens``, ``src_tags`` (IOB2), ``tgt_tokens`` and, once
aligned, ``alignment``: a list of ``{src, tgt, confidence}`` links.

* ``EflomalAlignStage`` is a global stage in three plain phases: ``keys`` (token lists of a
  shard), ``run_global`` (train + align everything once, via the pure
  ``train_and_align``) and ``apply`` (attach a shard's links).  A runner wraps it with its
  global-stage protocol; ``align_table`` runs the three in-process.
* ``ProjectSpansStage`` is a per-row stage: it projects the spans, writes ``tags`` on the
  target tokens, the per-entity details and the quality flags, counts per-type rates,
  and sets a drop reason for the flags the user chose to drop on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import pyarrow as pa

from babelmill.processors.base import DROP_REASON, Resources, Stage
from babelmill.processors.ner.spans import iob2_from_spans, spans_from_iob2
from babelmill.processors.projection.aligners.eflomal import EflomalAligner
from babelmill.processors.projection.project import FLAGS, SpanProjector

LINK = pa.struct([("src", pa.int32()), ("tgt", pa.int32()), ("confidence", pa.float32())])
ALIGNMENT = pa.list_(LINK)
ENTITY = pa.struct(
    [
        ("label", pa.string()),
        ("src_start", pa.int32()),
        ("src_end", pa.int32()),
        ("tgt_start", pa.int32()),
        ("tgt_end", pa.int32()),
        ("method", pa.string()),
        ("confidence", pa.float32()),
    ]
)


def _links_column(scored: Sequence[dict]) -> pa.Array:
    return pa.array(
        [[{"src": i, "tgt": j, "confidence": c} for (i, j), c in sorted(d.items())] for d in scored], ALIGNMENT
    )


@dataclass
class EflomalAlignStage:
    """eflomal over the whole run (a global step: it trains on every pair)."""

    aligner: EflomalAligner = field(default_factory=EflomalAligner)
    name: ClassVar[str] = "align_eflomal"

    def keys(self, batch: pa.Table) -> pa.Table:
        return batch.select(["src_tokens", "tgt_tokens"])

    def run_global(self, keys: pa.Table) -> pa.Table:
        src = keys.column("src_tokens").to_pylist()
        tgt = keys.column("tgt_tokens").to_pylist()
        return pa.table({"alignment": _links_column(self.aligner.align_scored(src, tgt))})

    def apply(self, batch: pa.Table, result: pa.Table) -> pa.Table:
        if result.num_rows != batch.num_rows:
            raise ValueError(f"{result.num_rows} alignments for {batch.num_rows} rows")
        column = result.column("alignment")
        if "alignment" in batch.column_names:
            return batch.set_column(batch.column_names.index("alignment"), "alignment", column)
        return batch.append_column("alignment", column)

    def align_table(self, table: pa.Table) -> pa.Table:
        return self.apply(table, self.run_global(self.keys(table)))


class ProjectSpansStage(Stage):
    """Source spans -> target IOB2 tags through the ``alignment`` column."""

    name: ClassVar[str] = "project_spans"
    resources: ClassVar[Resources] = Resources(num_cpus=1.0)
    reasons: ClassVar[tuple[str, ...]] = FLAGS

    def __init__(self, projector: SpanProjector | None = None, drop_on: Sequence[str] = ("entity_lost",)) -> None:
        unknown = set(drop_on) - set(FLAGS)
        if unknown:
            raise ValueError(f"unknown projection flag(s) {sorted(unknown)}; known: {', '.join(FLAGS)}")
        self.projector = projector or SpanProjector()
        self.drop_on = list(drop_on)

    def __call__(self, batch: pa.Table) -> pa.Table:
        src = batch.column("src_tokens").to_pylist()
        tags = batch.column("src_tags").to_pylist()
        tgt = batch.column("tgt_tokens").to_pylist()
        links = batch.column("alignment").to_pylist()
        out_tags, details, flags, reasons = [], [], [], []
        for s, tg, t, ln in zip(src, tags, tgt, links):
            spans = spans_from_iob2(tg or [])
            conf = {(link["src"], link["tgt"]): link["confidence"] for link in ln or []}
            proj = self.projector.project(s or [], t or [], spans, conf)
            out_tags.append(iob2_from_spans(len(t or []), proj.spans))
            details.append([e.as_dict() for e in proj.entities])
            flags.append(proj.flags)
            reasons.append(next((f for f in proj.flags if f in self.drop_on), None))
            self.count("entities_in", len(spans))
            self.count("entities_projected", len(proj.spans))
            self.count("entities_lost", sum(e.target is None for e in proj.entities))
            for e in proj.entities:
                self.count(f"source:{e.source.label}")
                if e.target is not None:
                    self.count(f"projected:{e.source.label}")
        out = batch
        for name, values, typ in (
            ("tags", out_tags, pa.list_(pa.string())),
            ("projection", details, pa.list_(ENTITY)),
            ("projection_flags", flags, pa.list_(pa.string())),
        ):
            column = pa.array(values, typ)
            if name in out.column_names:
                out = out.set_column(out.column_names.index(name), name, column)
            else:
                out = out.append_column(name, column)
        reason = pa.array(reasons, pa.string())
        if DROP_REASON in out.column_names:
            reason = pa.compute.coalesce(out.column(DROP_REASON), reason)
            return out.set_column(out.column_names.index(DROP_REASON), DROP_REASON, reason)
        return out.append_column(DROP_REASON, reason)


def projection_rates(counters: dict[str, int]) -> dict[str, float]:
    """Per-type projection rate (projected / source entities) from the stage counters."""
    return {
        key.split(":", 1)[1]: counters.get("projected:" + key.split(":", 1)[1], 0) / n
        for key, n in counters.items()
        if key.startswith("source:") and n
    }
