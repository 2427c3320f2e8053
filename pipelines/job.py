"""What a run is, where it runs and what it returned: plain data, no Ray.

``Job``, ``EngineOptions`` and ``RunResult`` live here (not in the runner) so the
dataset card, the job builders and the CLI can use them without importing the only
module that talks to Ray, and without an import cycle through it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable

from babelmill.pipelines.executor import OutputLayout, ShardPlan, stage_names
from babelmill.pipelines.ledger import Ledger
from babelmill.processors.base import GlobalStage, Stage
from babelmill.processors.io import ReaderOptions, storage
from babelmill.processors.schema import SCHEMAS


@dataclasses.dataclass
class Job:
    """A fully configured run: inputs, the stage chain and where the output goes."""

    name: str
    inputs: list[str]
    output: Path
    stages: list[Stage]
    reader: ReaderOptions = dataclasses.field(default_factory=ReaderOptions)
    input_format: str = "auto"
    output_format: str = "parquet"
    #: the command line, recorded in the dataset card.
    command: str = ""
    #: a stage that needs the whole dataset (dedup), run between ``stages`` and ``post_stages``.
    global_stage: GlobalStage | None = None
    post_stages: list[Stage] = dataclasses.field(default_factory=list)
    #: the row contract of the output ("doc" or "instruction") and working columns to leave out.
    schema: str = "doc"
    drop_columns: tuple[str, ...] = ()
    #: split the kept data into one subset per value of this column (``lang``: one per language).
    partition: str | None = None
    #: called as ``finalize(job, ledger)`` after the card and report are written (extra
    #: card sections and plots of a job); a module-level function so the job pickles.
    finalize: Any = None

    def plan(self, mapping: bool = False) -> ShardPlan:
        return ShardPlan(SCHEMAS[self.schema], self.drop_columns, self.global_stage if mapping else None)

    def all_stage_names(self) -> list[str]:
        names = stage_names(self.stages)
        if self.global_stage is not None:
            names += [self.global_stage.name] + [s.name for s in self.post_stages]
        return names

    def layout(self) -> OutputLayout:
        return OutputLayout(storage.location(self.output), self.output_format, self.partition)


@dataclasses.dataclass
class EngineOptions:
    """Where and how wide to run; not part of the run's identity (resume may change them)."""

    ray_address: str | None = None
    num_cpus: int | None = None
    num_gpus: int | None = None
    max_in_flight: int | None = None


@dataclasses.dataclass
class RunResult:
    ledger: Ledger
    output: Path
    shards_total: int
    shards_skipped: int
    seconds: float
    ray_startup_seconds: float
    failures: list[str]
    nodes: set[str]

    @property
    def rows_per_second(self) -> float:
        return self.ledger.input / self.seconds if self.seconds > 0 else 0.0


ProgressHook = Callable[[str, dict[str, Any]], None]
