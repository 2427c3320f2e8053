"""The run report: built from a hand-made output folder, no Ray needed."""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from babelmill.pipelines.ledger import Ledger, StageCounts
from babelmill.pipelines.report import PLOT_NAMES, write_report
from babelmill.processors.schema import conform

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: Everything the report's own markup uses; a tag outside this set came from the data unescaped.
ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "h1",
    "h2",
    "p",
    "nav",
    "a",
    "table",
    "tr",
    "th",
    "td",
    "ul",
    "li",
    "code",
    "span",
    "figure",
    "img",
    "figcaption",
}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)


def _docs(prefix: str, rows: list[tuple[str | None, float | None, int]], **extra: str) -> pa.Table:
    table = pa.table(
        {
            "id": [f"{prefix}{i}" for i in range(len(rows))],
            "text": ["w" * n for _, _, n in rows],
            "lang": [lang for lang, _, _ in rows],
            "lang_score": pa.array([score for _, score, _ in rows], pa.float32()),
            "source": ["in.jsonl"] * len(rows),
            "meta": ["{}"] * len(rows),
            **{k: [v] * len(rows) for k, v in extra.items()},
        }
    )
    return conform(table)


def _ledger(stages: list[StageCounts], quarantined: int = 0) -> Ledger:
    """A ledger whose totals follow from its stages, checked like the runner's."""
    rejected = sum(sum(s.dropped.values()) for s in stages)
    kept = stages[-1].kept
    ledger = Ledger(stages, input=stages[0].rows_in, kept=kept, rejected=rejected, quarantined=quarantined)
    ledger.check()
    return ledger


@pytest.fixture
def output(tmp_path: Path) -> tuple[Path, Ledger]:
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    (out / "rejected").mkdir()
    kept_a = [("en", 0.98, 120), ("en", 0.91, 3400), ("de", 0.87, 45), (None, None, 800)]
    kept_b = [("fr", 0.99, 15000), ("en", 0.95, 260), ("sw", 0.66, 9)]
    pq.write_table(_docs("a", kept_a), out / "data" / "part-00000.parquet")
    pq.write_table(_docs("b", kept_b), out / "data" / "part-00001.parquet")
    # Rejected rows from two stages, in separate files with different extra columns.
    pq.write_table(
        _docs("r", [("xx", 0.31, 50), ("en", 0.42, 70)], drop_reason="lang_filter", drop_stage="lid"),
        out / "rejected" / "part-00000.parquet",
    )
    odd = _docs("s", [("en", 0.97, 3)], drop_reason="short <doc> & $x$", drop_stage="quality")
    odd = odd.append_column("gopher_words", pa.array([1], pa.int64()))
    pq.write_table(odd, out / "rejected" / "part-00001.parquet")
    stages = [
        StageCounts("read", rows_in=11, kept=10, errored=1),
        StageCounts("lid", rows_in=10, kept=8, dropped=Counter({"lang_filter": 2})),
        StageCounts(
            "quality", rows_in=8, kept=7, dropped=Counter({"short <doc> & $x$": 1}), counters=Counter({"pii_emails": 4})
        ),
    ]
    return out, _ledger(stages, quarantined=1)


def _cell(html_text: str, row_id: str) -> int:
    match = re.search(rf"id='{row_id}'>([\d,]+)<", html_text)
    assert match, row_id
    return int(match.group(1).replace(",", ""))


def _check_images(out: Path, html_text: str) -> list[str]:
    """Every PNG on disk is referenced and valid, every reference exists, no stray markup."""
    parser = _Tags()
    parser.feed(html_text)
    assert parser.tags <= ALLOWED_TAGS, parser.tags - ALLOWED_TAGS
    referenced = re.findall(r"<img src='report/([\w-]+\.png)'", html_text)
    on_disk = sorted(p.name for p in (out / "report").glob("*.png"))
    assert sorted(referenced) == on_disk
    for name in on_disk:
        data = (out / "report" / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000, name
    assert not [p for p in (out / "report").iterdir() if p.name.startswith(".")], "temporary files left behind"
    return on_disk


def test_report_matches_ledger(output: tuple[Path, Ledger]) -> None:
    out, ledger = output
    path = write_report(out, ledger, title="Run <1>")
    assert path == out / "report.html"
    text = path.read_text(encoding="utf-8")
    pngs = _check_images(out, text)
    assert pngs == sorted(f"{n}.png" for n in PLOT_NAMES)

    assert (_cell(text, "input"), _cell(text, "kept"), _cell(text, "rejected"), _cell(text, "quarantined")) == (
        11,
        7,
        3,
        1,
    )
    assert "Conservation check holds" in text
    # Per-stage rows: in, kept, dropped, reasons, errored, counters.
    assert (
        "<tr><td>lid</td><td class='n'>10</td><td class='n'>8</td><td class='n'>2</td><td><ul><li>lang_filter: 2</li></ul></td><td class='n'>0</td>"
        in text
    )
    assert (
        "<tr><td>read</td><td class='n'>11</td><td class='n'>10</td><td class='n'>0</td><td></td><td class='n'>1</td>"
        in text
    )
    assert "pii_emails: 4" in text
    # Strings from the data are escaped, never markup.
    assert "short &lt;doc&gt; &amp; $x$: 1" in text and "<doc>" not in text
    assert "<h1>Run &lt;1&gt;</h1>" in text
    # Languages come from the kept files; a null lang counts as 'und'.
    assert "<tr><td>en</td><td class='n'>3</td>" in text
    assert "<tr><td>und</td><td class='n'>1</td>" in text
    assert "Kept text: 19,634 characters, 7 documents in 2 file(s)" in text
    assert "warn" not in text.split("</style>")[1]


def test_rerun_replaces_report_and_drops_stale_plots(output: tuple[Path, Ledger]) -> None:
    out, ledger = output
    write_report(out, ledger)
    # The same folder, now with nothing scored: the LID plot must go, not linger.
    for part in (out / "data").glob("*.parquet"):
        table = pq.read_table(part)
        pq.write_table(table.set_column(3, "lang_score", pa.nulls(table.num_rows, pa.float32())), part)
    for part in (out / "rejected").glob("*.parquet"):
        part.unlink()
    text = write_report(out, ledger).read_text(encoding="utf-8")
    pngs = _check_images(out, text)
    assert "lid_scores.png" not in pngs and "languages.png" in pngs
    assert "hold 0 rows but the ledger says 3" in text  # the missing rejected files are flagged


def test_empty_output(tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    ledger = _ledger([StageCounts("read"), StageCounts("lid")])
    text = write_report(out, ledger).read_text(encoding="utf-8")
    assert _check_images(out, text) == []
    assert "No data to plot" in text
    assert (_cell(text, "input"), _cell(text, "kept")) == (0, 0)
    assert "Conservation check holds" in text


def test_zero_kept_rows_all_null_lang(tmp_path: Path) -> None:
    """Everything rejected; the kept file exists but is empty; no language anywhere."""
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    (out / "rejected").mkdir()
    pq.write_table(_docs("k", []), out / "data" / "part-00000.parquet")
    pq.write_table(pa.schema([]).empty_table(), out / "data" / "part-00001.parquet")
    pq.write_table(
        _docs("r", [(None, None, 0), (None, None, 40)], drop_reason="empty", drop_stage="read"),
        out / "rejected" / "part-00000.parquet",
    )
    ledger = _ledger([StageCounts("read", rows_in=2, kept=0, dropped=Counter({"empty": 2})), StageCounts("lid")])
    text = write_report(out, ledger).read_text(encoding="utf-8")
    pngs = _check_images(out, text)
    assert "lid_scores.png" not in pngs and "languages.png" not in pngs
    assert {"stages.png", "drop_reasons.png", "lengths.png", "kept_rejected.png"} <= set(pngs)
    assert (_cell(text, "kept"), _cell(text, "rejected")) == (0, 2)
    assert "No language-ID scores" in text


def test_jsonl_output_and_unreadable_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    (out / "data" / "part-00000.jsonl").write_text(
        '{"id":"1","text":"hello there","lang":"en","lang_score":0.9,"source":"s","meta":"{}"}\n'
        '{"id":"2","text":"hallo","lang":null,"lang_score":null,"source":"s","meta":"{}"}\n'
    )
    (out / "data" / "part-00001.jsonl").write_text("")
    (out / "rejected").mkdir()
    (out / "rejected" / "part-00000.parquet").write_bytes(b"not a parquet file")
    ledger = _ledger(
        [StageCounts("read", rows_in=3, kept=2, dropped=Counter({"x": 1})), StageCounts("lid", rows_in=2, kept=2)]
    )
    text = write_report(out, ledger, fmt="jsonl").read_text(encoding="utf-8")
    _check_images(out, text)
    assert "<tr><td>en</td><td class='n'>1</td>" in text and "<tr><td>und</td><td class='n'>1</td>" in text
    assert "Could not read a file in <code>rejected/</code>: part-00000.parquet" in text


def test_a_failing_plot_does_not_fail_the_report(output: tuple[Path, Ledger], monkeypatch: pytest.MonkeyPatch) -> None:
    import babelmill.pipelines.report as report

    out, ledger = output
    write_report(out, ledger)

    def boom(*args: object) -> None:
        raise ValueError("no such font")

    monkeypatch.setattr(report, "plot_lengths", boom)
    text = write_report(out, ledger).read_text(encoding="utf-8")
    assert "lengths.png" not in _check_images(out, text)
    assert "Could not draw lengths: ValueError: no such font" in text


def test_files_in_per_language_subfolders_are_counted(tmp_path: Path) -> None:
    """A corpus run writes data/<lang>/part-*.parquet: those are the run's files."""
    out = tmp_path / "out"
    for lang, shard in (("sw", "00000"), ("sw", "00001"), ("yo", "00000")):
        (out / "data" / lang).mkdir(parents=True, exist_ok=True)
        pq.write_table(_docs(f"{lang}{shard}", [(lang, 0.9, 100)] * 2), out / "data" / lang / f"part-{shard}.parquet")
    ledger = _ledger([StageCounts("read", rows_in=6, kept=6)])
    html = write_report(out, ledger).read_text()
    assert "6 documents in 3 file(s)" in html
