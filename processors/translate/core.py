"""Translate plain texts: protect -> segment -> translate (cached) -> restore.

The one piece every translating stage shares (instruction datasets, label projection,
code-switching, interleaving): each text is cut by ``protect_and_split`` into sentence
units with code, URLs, placeholders and Markdown held back; the units of ALL texts go
to the translator in one call (identical units once; the engine batches and caches);
each text is then rebuilt around its translated units.  Nothing here knows about rows,
records or formats.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from babelmill.processors.translate.protect import DEFAULT_SENTINEL, Plan, protect_and_split, strip_sentinels
from babelmill.processors.translate.segment import spaced

if TYPE_CHECKING:
    from babelmill.processors.translate.engine import Translator


@dataclasses.dataclass
class TextTranslation:
    """One text's translation and what the checks and the ledger need about it."""

    #: the restored translation (literals and protected spans back in place)
    text: str
    #: the model's score of each unit, in order
    unit_scores: list[float]
    #: sentinel problems found while restoring (lost / duplicated / unknown spans)
    problems: list[str]
    #: the units sent and the units received, without sentinels (for the checks)
    source_units: list[str]
    output_units: list[str]

    @property
    def score(self) -> float | None:
        """Mean unit score; None when the text had nothing to translate."""
        return sum(self.unit_scores) / len(self.unit_scores) if self.unit_scores else None

    @property
    def failed(self) -> bool:
        return bool(self.problems)


@dataclasses.dataclass
class TranslateStats:
    """What one ``translate_texts`` call did, for a stage's counters."""

    #: characters of the distinct units sent to the translator
    chars: int = 0
    #: distinct units sent, and units the texts asked for (before merging identical ones)
    sent: int = 0
    units: int = 0
    #: from the translator's own ``stats`` where it keeps them (else ``segments == sent``)
    segments: int = 0
    cache_hits: int = 0

    def as_counters(self) -> dict[str, int]:
        return {"chars": self.chars, "segments": self.segments, "cache_hits": self.cache_hits, "units": self.units}


def plan_texts(
    texts: Sequence[str],
    src: str,
    sentinel: tuple[str, str] = DEFAULT_SENTINEL,
    max_unit_chars: int = 1000,
    plans: dict[tuple[str, str], Plan] | None = None,
) -> list[Plan]:
    """``protect_and_split`` each text (identical texts planned once; ``plans`` caches across calls)."""
    plans = {} if plans is None else plans
    out = []
    for text in texts:
        plan = plans.get((text, src))
        if plan is None:
            plan = plans[(text, src)] = protect_and_split(text, src, sentinel, max_unit_chars)  # type: ignore[arg-type]
        out.append(plan)
    return out


def translate_texts(
    translator: Translator,
    texts: Sequence[str],
    src: str,
    tgt: str,
    sentinel: tuple[str, str] = DEFAULT_SENTINEL,
    max_unit_chars: int = 1000,
    plans: dict[tuple[str, str], Plan] | None = None,
) -> tuple[list[TextTranslation], TranslateStats]:
    """Translate ``texts`` from ``src`` to ``tgt``; one result per text, in order.

    ``plans`` lets a caller share the protect/split work across calls (same text, same
    source language).  The translator is called once, with every distinct unit.
    """
    sentinel = tuple(sentinel)  # type: ignore[assignment]
    text_plans = plan_texts(texts, src, sentinel, max_unit_chars, plans)
    index: dict[str, int] = {}
    ids = [[index.setdefault(u, len(index)) for u in plan.units] for plan in text_plans]
    stats = TranslateStats(units=sum(len(i) for i in ids), sent=len(index))
    results: list = []
    if index:
        units = list(index)
        before = dict(getattr(translator, "stats", None) or {})
        results = translator.translate(units, src, tgt)
        if len(results) != len(units):
            raise RuntimeError(f"translator {translator.name} returned {len(results)} results for {len(units)} texts")
        after = dict(getattr(translator, "stats", None) or {})
        stats.chars = sum(len(u) for u in units)
        stats.segments = after.get("segments", 0) - before.get("segments", 0) if "segments" in after else len(units)
        stats.cache_hits = after.get("cache_hits", 0) - before.get("cache_hits", 0)
    gap = None if spaced(tgt) else ""
    out = []
    for plan, unit_ids in zip(text_plans, ids):
        unit_results = [results[j] for j in unit_ids]
        restored = plan.restore([r.text for r in unit_results], gap)
        out.append(
            TextTranslation(
                text=restored.text,
                unit_scores=[float(r.score) for r in unit_results],
                problems=list(restored.problems),
                source_units=[strip_sentinels(u, sentinel) for u in plan.units],  # type: ignore[arg-type]
                output_units=[strip_sentinels(r.text, sentinel).strip() for r in unit_results],  # type: ignore[arg-type]
            )
        )
    return out, stats
