"""Live progress (rows/s, shards, ETA) and the summary table printed after a run."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from babelmill.pipelines.job import RunResult


class RunProgress:
    """A runner hook that drives a rich progress bar on stderr."""

    def __init__(self, console: Console, enabled: bool = True) -> None:
        self.console = console
        self.enabled = enabled
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("shards"),
            TextColumn("{task.fields[rows]:>12,} rows  {task.fields[rate]:>10,.0f} rows/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            disable=not enabled,
            transient=False,
        )
        self.task: Any = None
        self.rows = 0
        self.t0 = time.perf_counter()

    def __call__(self, event: str, data: dict[str, Any]) -> None:
        if event == "start":
            self.progress.start()
            self.task = self.progress.add_task("starting Ray", total=len(data["shards"]), rows=0, rate=0.0)
        elif event == "ray_ready":
            self.t0 = time.perf_counter()
            self.progress.update(self.task, description="processing")
        elif event in ("shard_done", "shard_skipped"):
            rows = data["marker"]["ledger"]["input"]
            if event == "shard_done":
                self.rows += rows
            elapsed = max(time.perf_counter() - self.t0, 1e-9)
            self.progress.update(
                self.task, advance=1, rows=self.rows, rate=self.rows / elapsed if event == "shard_done" else 0.0
            )
        elif event == "phase":
            # global stages: the dedup step and the final write are announced as they start
            if self.enabled:
                self.progress.console.print(f"[cyan]{escape(data['name'])}[/cyan]", highlight=False)
        elif event == "shard_failed":
            self.progress.update(self.task, advance=1)
            self.console.print(f"[red]failed[/red] {escape(data['error'])}", highlight=False, soft_wrap=True)
        elif event == "finish":
            if self.task is not None:
                self.progress.update(self.task, description="done")
            self.progress.stop()


def summary_table(result: RunResult) -> Table:
    """Per-stage counts plus the run's totals, as the user sees them at the end."""
    led = result.ledger
    table = Table(title=f"babelmill run → {result.output}", title_justify="left")
    table.add_column("stage")
    table.add_column("in", justify="right")
    table.add_column("kept", justify="right")
    table.add_column("dropped", justify="right")
    table.add_column("errored", justify="right")
    table.add_column("drop reasons / counters")
    for s in led.stages:
        reasons = ", ".join(f"{r} {n:,}" for r, n in s.dropped.most_common(4))
        if len(s.dropped) > 4:
            reasons += f", +{len(s.dropped) - 4} more"
        # Stage counters (PII replacements, cache hits, ...); per-language counts are in the report.
        counters = [(k, n) for k, n in s.counters.items() if not k.startswith("lang:") and not k.startswith("line-")]
        if counters:
            reasons = "; ".join(x for x in (reasons, ", ".join(f"{k} {n:,}" for k, n in counters[:4])) if x)
        if s.added:
            reasons = "; ".join(x for x in (f"+{s.added:,} rows (one per target)", reasons) if x)
        table.add_row(
            s.name, f"{s.rows_in:,}", f"{s.kept:,}", f"{sum(s.dropped.values()):,}", f"{s.errored:,}", reasons
        )
    table.add_section()
    total_in = f"{led.input:,}" + (f" (+{led.added:,})" if led.added else "")
    table.add_row(
        "total", total_in, f"{led.kept:,}", f"{led.rejected:,}", f"{led.quarantined:,}", "rejected / quarantined"
    )
    work = max(result.seconds - result.ray_startup_seconds, 1e-9)
    caption = f"{result.shards_total} shards ({result.shards_skipped} already done), {work:,.1f} s"
    if result.ray_startup_seconds:
        caption += f" + {result.ray_startup_seconds:.1f} s Ray start-up"
    if result.shards_total > result.shards_skipped:
        caption += f", {led.input / work:,.0f} rows/s"
    table.caption = caption
    table.caption_justify = "left"
    return table
