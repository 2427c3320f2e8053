"""The summary printed after a run: readable in an 80-column terminal."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console

from babelmill.pipelines.job import RunResult
from babelmill.pipelines.ledger import Ledger, StageCounts
from babelmill.pipelines.progress import summary_table

REASONS = Counter(
    {
        "gopher_below_alpha_words_ratio": 1234,
        "gopher_enough_stop_words": 456,
        "gopher_short_doc": 78,
        "gopher_long_doc": 9,
        "gopher_above_avg_threshold": 3,
        "gopher_below_avg_threshold": 2,
    }
)


def result() -> RunResult:
    stages = [
        StageCounts("read", 10_000, 9_990, errored=10),
        StageCounts("lid", 9_990, 8_000, Counter({"lang_not_target": 1_500, "lang_low_score": 490})),
        StageCounts("gopher_quality", 8_000, 8_000 - sum(REASONS.values()), REASONS),
        StageCounts("pii", 6_218, 6_218, counters=Counter({"email": 12, "lang:en": 3})),
    ]
    rejected = sum(sum(s.dropped.values()) for s in stages)
    ledger = Ledger(stages, input=10_000, kept=6_218, rejected=rejected, quarantined=10)
    ledger.check()
    return RunResult(ledger, Path("/data/runs/corpus-sw-yo-ha/output"), 16, 3, 42.0, 5.0, [], set())


def render(width: int) -> list[str]:
    console = Console(width=width, record=True, file=open("/dev/null", "w"))
    console.print(summary_table(result()))
    return console.export_text().splitlines()


def test_every_drop_reason_is_whole_on_its_own_line_at_80_columns() -> None:
    lines = render(80)
    assert max(len(line) for line in lines) <= 80
    text = "\n".join(lines)
    assert "…" not in text
    for reason, n in {**REASONS, "lang_not_target": 1_500, "email": 12}.items():
        assert sum(f"{reason} {n:,}" in line for line in lines) == 1, reason
    assert "lang:en" not in text  # per-language counters are the report's
    for name in ("read", "lid", "gopher_quality", "pii", "total"):
        assert any(line.startswith(("│ " + name, "┃ " + name)) for line in lines), name
    assert any("6,218" in line and "total" in line for line in lines)


def test_the_same_at_a_wide_terminal() -> None:
    lines = render(200)
    assert sum("gopher_below_alpha_words_ratio 1,234" in line for line in lines) == 1
    assert any("16 shards (3 already done)" in line for line in lines)
