"""Entity-level precision, recall and F1 with seqeval's strict IOB2 semantics.

Strict mode counts an entity only where the gold (or predicted) sequence spells one
correctly: ``B-X`` followed by ``I-X`` tokens.  An ``I-X`` that does not continue a
``B-X``/``I-X`` of its own type belongs to no entity (it is not silently repaired into
one, as seqeval's default mode would).  A predicted entity is correct when its type,
start and end all match a gold one.  Types can be renamed (``type_map``) and dropped
(``drop_types``, e.g. MISC, whose definition varies between datasets) on both sides
before matching.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any


def strict_entities(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """``(start, end, type)`` (end exclusive) of the well-formed IOB2 entities of ``tags``."""
    out: list[tuple[int, int, str]] = []
    start, kind = -1, ""
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, _, label = tag.partition("-")
        if kind and prefix == "I" and label == kind:
            continue
        if kind:
            out.append((start, i, kind))
            kind = ""
        if prefix == "B" and label:
            start, kind = i, label
    return out


@dataclasses.dataclass
class TypeScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    def to_dict(self) -> dict[str, Any]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "support": self.support,
            "predicted": self.tp + self.fp,
            "correct": self.tp,
        }


@dataclasses.dataclass
class EntityScores:
    """Per-type and micro-averaged scores over a corpus."""

    per_type: dict[str, TypeScore]
    micro: TypeScore
    sentences: int

    @property
    def macro_f1(self) -> float:
        return sum(s.f1 for s in self.per_type.values()) / len(self.per_type) if self.per_type else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "sentences": self.sentences,
            "micro": self.micro.to_dict(),
            "macro_f1": self.macro_f1,
            "per_type": {k: v.to_dict() for k, v in sorted(self.per_type.items())},
        }


def _mapped(entities: list[tuple[int, int, str]], type_map: Mapping[str, str], drop: set[str]) -> Counter:
    out: Counter = Counter()
    for start, end, kind in entities:
        kind = type_map.get(kind, kind)
        if kind not in drop:
            out[(start, end, kind)] += 1
    return out


def entity_scores(
    pred: Sequence[Sequence[str]],
    gold: Sequence[Sequence[str]],
    type_map: Mapping[str, str] | None = None,
    drop_types: Sequence[str] = (),
) -> EntityScores:
    """Strict entity P/R/F1 of ``pred`` against ``gold`` (lists of IOB2 tag lists).

    Raises ValueError when the corpora do not line up (sentence or token counts differ):
    scores over misaligned sentences would be meaningless.
    """
    if len(pred) != len(gold):
        raise ValueError(f"{len(pred)} predicted sentences but {len(gold)} gold sentences")
    type_map = dict(type_map or {})
    drop = set(drop_types)
    per_type: dict[str, TypeScore] = {}
    for i, (p, g) in enumerate(zip(pred, gold)):
        if len(p) != len(g):
            raise ValueError(f"sentence {i}: {len(p)} predicted tags but {len(g)} gold tags")
        pe = _mapped(strict_entities(p), type_map, drop)
        ge = _mapped(strict_entities(g), type_map, drop)
        for ent, n in pe.items():
            score = per_type.setdefault(ent[2], TypeScore())
            hit = min(n, ge.get(ent, 0))
            score.tp += hit
            score.fp += n - hit
        for ent, n in ge.items():
            score = per_type.setdefault(ent[2], TypeScore())
            score.fn += n - min(n, pe.get(ent, 0))
    micro = TypeScore(
        sum(s.tp for s in per_type.values()), sum(s.fp for s in per_type.values()), sum(s.fn for s in per_type.values())
    )
    return EntityScores(per_type, micro, len(gold))


def format_table(scores: EntityScores) -> str:
    """A plain-text table like seqeval's classification report."""
    lines = [f"{'type':<12}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
    for kind, s in sorted(scores.per_type.items()):
        lines.append(f"{kind:<12}{s.precision * 100:>10.2f}{s.recall * 100:>10.2f}{s.f1 * 100:>10.2f}{s.support:>10}")
    m = scores.micro
    lines.append(f"{'micro':<12}{m.precision * 100:>10.2f}{m.recall * 100:>10.2f}{m.f1 * 100:>10.2f}{m.support:>10}")
    lines.append(f"{'macro f1':<12}{'':>20}{scores.macro_f1 * 100:>10.2f}")
    return "\n".join(lines)
