"""The ledger: where every input record went, per stage and for the whole run.

The invariant ``input == kept + rejected + quarantined`` is checked whenever a ledger
is built or merged, so a stage that loses rows fails the run instead of shrinking it.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any


class LedgerError(AssertionError):
    """The counts do not add up: a stage lost or invented rows."""


@dataclasses.dataclass
class StageCounts:
    name: str
    rows_in: int = 0
    kept: int = 0
    dropped: Counter = dataclasses.field(default_factory=Counter)
    errored: int = 0
    #: rows an expanding stage created (one input row per target language, ...).
    added: int = 0
    #: stage-specific counters (PII replacements, cache hits, ...), summed across shards.
    counters: Counter = dataclasses.field(default_factory=Counter)
    #: wall seconds spent in the stage, summed over shards (worker-seconds, not run time).
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "stage": self.name,
            "in": self.rows_in,
            "kept": self.kept,
            "dropped": dict(sorted(self.dropped.items())),
            "errored": self.errored,
        }
        if self.added:
            out["added"] = self.added
        if self.counters:
            out["counters"] = dict(sorted(self.counters.items()))
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StageCounts":
        return cls(
            d["stage"],
            d["in"],
            d["kept"],
            Counter(d["dropped"]),
            d["errored"],
            d.get("added", 0),
            Counter(d.get("counters", {})),
        )

    def check(self) -> None:
        if self.rows_in + self.added != self.kept + sum(self.dropped.values()) + self.errored:
            raise LedgerError(
                f"stage {self.name}: in={self.rows_in} + added={self.added} != kept={self.kept} + dropped={sum(self.dropped.values())} + errored={self.errored}"
            )


@dataclasses.dataclass
class Ledger:
    stages: list[StageCounts]
    input: int = 0
    kept: int = 0
    rejected: int = 0
    quarantined: int = 0

    @classmethod
    def for_stages(cls, names: list[str]) -> "Ledger":
        return cls([StageCounts(n) for n in names])

    def stage(self, name: str) -> StageCounts:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(name)

    def check(self) -> None:
        for s in self.stages:
            s.check()
        if self.input + self.added != self.kept + self.rejected + self.quarantined:
            raise LedgerError(
                f"input={self.input} + added={self.added} != kept={self.kept} + rejected={self.rejected} + quarantined={self.quarantined}"
            )
        dropped = sum(sum(s.dropped.values()) for s in self.stages)
        errored = sum(s.errored for s in self.stages)
        if dropped != self.rejected or errored != self.quarantined:
            raise LedgerError(
                f"stage drops {dropped} / errors {errored} do not match rejected {self.rejected} / quarantined {self.quarantined}"
            )

    @property
    def added(self) -> int:
        """Rows created by expanding stages (they are accounted like input rows)."""
        return sum(s.added for s in self.stages)

    def to_dict(self) -> dict[str, Any]:
        """The counts only: seconds per stage (:meth:`seconds`, :meth:`timing`) travel
        apart, so a resumed run reproduces ledger.json byte for byte."""
        return {
            "input": self.input,
            "kept": self.kept,
            "rejected": self.rejected,
            "quarantined": self.quarantined,
            "stages": [s.to_dict() for s in self.stages],
        }

    def seconds(self) -> dict[str, float]:
        """Seconds per stage name (what a shard marker records next to its ledger)."""
        return {s.name: round(s.seconds, 4) for s in self.stages}

    def timing(self) -> list[dict[str, Any]]:
        """Seconds and documents/s per stage (worker-seconds summed over shards)."""
        total = sum(s.seconds for s in self.stages) or 1.0
        return [
            {
                "stage": s.name,
                "seconds": round(s.seconds, 3),
                "docs_per_s": round(s.rows_in / s.seconds, 1) if s.seconds > 0 else None,
                "share": round(s.seconds / total, 4),
            }
            for s in self.stages
        ]

    @classmethod
    def from_dict(cls, d: dict[str, Any], seconds: dict[str, float] | None = None) -> "Ledger":
        led = cls(
            [StageCounts.from_dict(s) for s in d["stages"]], d["input"], d["kept"], d["rejected"], d["quarantined"]
        )
        for s in led.stages:
            s.seconds = float((seconds or {}).get(s.name, 0.0))
        return led

    @classmethod
    def merge(cls, ledgers: list["Ledger"], names: list[str]) -> "Ledger":
        total = cls.for_stages(names)
        for led in ledgers:
            total.input += led.input
            total.kept += led.kept
            total.rejected += led.rejected
            total.quarantined += led.quarantined
            for s in led.stages:
                t = total.stage(s.name)
                t.rows_in += s.rows_in
                t.kept += s.kept
                t.dropped.update(s.dropped)
                t.errored += s.errored
                t.added += s.added
                t.counters.update(s.counters)
                t.seconds += s.seconds
        total.check()
        return total

    def drop_reasons(self) -> Counter:
        out: Counter = Counter()
        for s in self.stages:
            out.update(s.dropped)
        return out
