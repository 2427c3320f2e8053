"""Live progress (rows/s, shards, ETA) and the summary table printed after a run."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console, Group
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


def summary_table(result: RunResult) -> Group:
    """Per-stage counts plus the run's totals, as the user sees them at the end.

    The counts are one narrow table; drop reasons and counters follow it, one per line
    under their stage, so that none is cut short in an 80-column terminal
    (``gopher_below_alpha_words_ratio`` is 30 characters on its own).
    """
    led = result.ledger
    table = Table(title=f"babelmill run → {result.output}", title_justify="left")
    table.add_column("stage", overflow="fold")
    table.add_column("in", justify="right", no_wrap=True)
    table.add_column("kept", justify="right", no_wrap=True)
    table.add_column("dropped", justify="right", no_wrap=True)
    table.add_column("errored", justify="right", no_wrap=True)
    reasons = Table(
        title="drop reasons / counters", title_justify="left", box=None, show_header=False, padding=(0, 1, 0, 2)
    )
    reasons.add_column("stage", style="bold", no_wrap=True)
    reasons.add_column("reason", overflow="fold")
    for s in led.stages:
        table.add_row(s.name, f"{s.rows_in:,}", f"{s.kept:,}", f"{sum(s.dropped.values()):,}", f"{s.errored:,}")
        lines = [f"{r} {n:,}" for r, n in s.dropped.most_common()]
        # Stage counters (PII replacements, cache hits, ...); per-language counts are in the report.
        lines += [f"{k} {n:,}" for k, n in s.counters.items() if not k.startswith(("lang:", "line-"))]
        if s.added:
            lines.insert(0, f"+{s.added:,} rows (one per target)")
        if lines:
            reasons.add_row(s.name, "\n".join(lines))
    table.add_section()
    total_in = f"{led.input:,}" + (f" (+{led.added:,})" if led.added else "")
    table.add_row("total", total_in, f"{led.kept:,}", f"{led.rejected:,}", f"{led.quarantined:,}")
    table.add_row("", "", "", "rejected", "quarantined", style="dim")
    work = max(result.seconds - result.ray_startup_seconds, 1e-9)
    caption = f"{result.shards_total} shards ({result.shards_skipped} already done), {work:,.1f} s"
    if result.ray_startup_seconds:
        caption += f" + {result.ray_startup_seconds:.1f} s Ray start-up"
    if result.shards_total > result.shards_skipped:
        caption += f", {led.input / work:,.0f} rows/s"
    table.caption = caption
    table.caption_justify = "left"
    return Group(table, reasons) if reasons.row_count else Group(table)
