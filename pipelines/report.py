"""The run report: ``report.html`` plus PNG plots in ``report/``, for people to open.

Statistics are histograms each shard computed while it had its rows in memory
(``pipelines.stats``), merged here; outputs without them are scanned instead.  The
counts per stage come from the ledger, which is the source of truth.  Plots are drawn on a plain Agg canvas (no pyplot, no display, no
global backend switch), and every file is written under a temporary name first.
"""

from __future__ import annotations

import functools
import html
import logging
import math
import warnings
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable


from babelmill import __version__
from babelmill.pipelines.ledger import Ledger
from babelmill.pipelines.stats import LEN_BINS_PER_DECADE, SCORE_BINS, UNDETERMINED, SideStats, side_stats
from babelmill.processors.io import storage
from babelmill.processors.io.writers import atomic_write_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

REPORT_DIR = "report"
TOP_LANGS = 30
TOP_REASONS = 20
#: Every plot this module may write; stale ones from an earlier report are removed.
PLOT_NAMES = ("stages", "drop_reasons", "languages", "lid_scores", "lengths", "kept_rejected")

_KEPT_COLOR = "#2a7ab0"
_REJECTED_COLOR = "#d9623b"
_QUARANTINE_COLOR = "#8c6bb1"
_IN_COLOR = "#9bb7cc"


# ---------------------------------------------------------------------------- plots


def _label(text: str, width: int = 48) -> str:
    """Data strings as plain matplotlib text: no mathtext, bounded width."""
    text = " ".join(str(text).split())
    if len(text) > width:
        text = text[: width - 1] + "…"
    return text.replace("$", r"\$")


_DPI = 100
#: Left margin (px) for an axis of counts like "1,000,000" plus its label.
_LEFT_NUM = 90


def _new_figure(
    width: float, height: float, left_px: float = 70, bottom_px: float = 50, top_px: float = 34, right_px: float = 24
) -> "Figure":
    """Margins in pixels, set by hand: a layout engine costs more than the drawing here."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=_DPI)
    FigureCanvasAgg(fig)
    w, h = width * _DPI, height * _DPI
    fig.subplots_adjust(
        left=min(0.6, left_px / w), right=1 - right_px / w, bottom=min(0.5, bottom_px / h), top=1 - top_px / h
    )
    return fig


@functools.lru_cache(maxsize=1)
def _measurer() -> Any:
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    return RendererAgg(1, 1, _DPI), FontProperties(size="medium")


def _label_px(labels: list[str]) -> float:
    """Room for y tick labels, measured with the font they will be drawn in."""
    renderer, prop = _measurer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        widest = max((renderer.get_text_width_height_descent(x, prop, ismath=False)[0] for x in labels), default=30.0)
    return 20 + widest


def _counts(axis: Any) -> None:
    """Whole numbers with thousands separators: no 0.5 documents on a small run."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins="auto", integer=True, min_n_ticks=1))
    axis.set_major_formatter("{x:,.0f}")


def _title(ax: Any, text: str, loc: str = "center") -> None:
    # A fixed position: matplotlib's automatic one measures every tick label again.
    ax.set_title(text, y=1.0, pad=8, fontsize=11, loc=loc)


def _style(ax: Any) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="both", color="#e4e4e4", linewidth=0.7)
    ax.set_axisbelow(True)


def _save(fig: "Figure", path: Path) -> None:
    tmp = storage.staging_path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # missing glyphs for exotic scripts in labels
            fig.savefig(tmp, format="png", pil_kwargs={"compress_level": 2})  # 6 (default) costs 2x, saves ~10%
        storage.publish(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _hbar(ax: Any, labels: list[str], values: list[int], color: str) -> None:
    pos = list(range(len(labels)))
    ax.barh(pos, values, color=color)
    ax.set_yticks(pos, labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    _counts(ax.xaxis)
    _style(ax)
    ax.grid(axis="y", visible=False)


def plot_stages(ledger: Ledger) -> "Figure | None":
    if not ledger.stages or ledger.input == 0:
        return None
    names = [_label(s.name, 24) for s in ledger.stages]
    rotate = len(names) > 5 or max(len(n) for n in names) > 12
    bottom = 50 + (4 * max(len(n) for n in names) if rotate else 0)
    fig = _new_figure(
        min(14.0, max(6.0, 0.9 * len(names) + 2)), 4.0 + bottom / _DPI, left_px=_LEFT_NUM, bottom_px=bottom
    )
    ax = fig.add_subplot()
    xs = list(range(len(names)))
    w = 0.4
    ax.bar([x - w / 2 for x in xs], [s.rows_in for s in ledger.stages], w, label="in", color=_IN_COLOR)
    ax.bar([x + w / 2 for x in xs], [s.kept for s in ledger.stages], w, label="kept", color=_KEPT_COLOR)
    ax.set_xticks(xs, names, rotation=30 if rotate else 0, ha="right" if rotate else "center", rotation_mode="anchor")
    _counts(ax.yaxis)
    ax.set_ylabel("documents")
    _title(ax, "Documents per stage")
    ax.set_ylim(0, max(s.rows_in for s in ledger.stages) * 1.15)  # headroom for the legend
    ax.legend(frameon=False, loc="upper right", ncols=2)
    _style(ax)
    ax.grid(axis="x", visible=False)
    return fig


def drop_reason_rows(ledger: Ledger) -> list[tuple[str, str, int]]:
    rows = [(s.name, reason, n) for s in ledger.stages for reason, n in s.dropped.items() if n]
    return sorted(rows, key=lambda r: (-r[2], r[0], r[1]))


def plot_drop_reasons(ledger: Ledger) -> "Figure | None":
    rows = drop_reason_rows(ledger)
    if not rows:
        return None
    shown = rows[:TOP_REASONS]
    labels = [_label(f"{r} [{s}]") for s, r, _ in shown]
    fig = _new_figure(8.0, max(2.4, 1.0 + 0.28 * len(shown)), left_px=_label_px(labels))
    ax = fig.add_subplot()
    _hbar(ax, labels, [n for _, _, n in shown], _REJECTED_COLOR)
    more = f" (top {TOP_REASONS} of {len(rows)})" if len(rows) > TOP_REASONS else ""
    _title(ax, f"Drop reasons [stage]{more}")
    ax.set_xlabel("documents")
    return fig


def plot_languages(kept: SideStats) -> "Figure | None":
    if not set(kept.langs) - {UNDETERMINED}:
        return None  # no language recorded (no LID stage): one 'und' bar says nothing
    top = kept.langs.most_common(TOP_LANGS)
    labels = [_label(lang) for lang, _ in top]
    fig = _new_figure(7.0, max(2.4, 1.0 + 0.22 * len(top)), left_px=_label_px(labels))
    ax = fig.add_subplot()
    _hbar(ax, labels, [n for _, n in top], _KEPT_COLOR)
    rest = len(kept.langs) - len(top)
    _title(
        ax,
        f"Languages of kept documents (top {TOP_LANGS} of {len(kept.langs)})"
        if rest > 0
        else "Languages of kept documents",
    )
    ax.set_xlabel("documents")
    return fig


def _histograms(ax: Any, edges: list[float] | list[int], kept: list[int], rejected: list[int]) -> None:
    """Kept filled, rejected as an outline, legend in headroom above both."""
    if any(kept):
        ax.stairs(kept, edges, label=f"kept ({sum(kept):,})", color=_KEPT_COLOR, fill=True, alpha=0.55)
    if any(rejected):
        ax.stairs(rejected, edges, label=f"rejected ({sum(rejected):,})", color=_REJECTED_COLOR, linewidth=1.5)
    ax.set_ylim(0, max(kept + rejected + [1]) * 1.22)
    ax.legend(frameon=False, loc="upper left", ncols=2)


def plot_lid_scores(kept: SideStats, rejected: SideStats) -> "Figure | None":
    if kept.scored + rejected.scored == 0:
        return None
    fig = _new_figure(7.0, 3.8, left_px=_LEFT_NUM)
    ax = fig.add_subplot()
    edges = [i / SCORE_BINS for i in range(SCORE_BINS + 1)]
    _histograms(ax, edges, kept.scores, rejected.scores)
    ax.set_xlim(0, 1)
    ax.set_xlabel("language ID score")
    ax.set_ylabel("documents")
    _counts(ax.yaxis)
    nulls = kept.scores_null + rejected.scores_null
    _title(ax, "LID score distribution" + (f" ({nulls:,} documents without a score)" if nulls else ""))
    _style(ax)
    return fig


def _len_bin(n: int) -> int:
    """The bin of a length, as the scan computes it."""
    return -1 if n <= 0 else math.floor(math.log10(n) * LEN_BINS_PER_DECADE + 1e-9)


def _len_edges(lo: int, hi: int) -> list[int]:
    """Bin edges at whole characters, so no bin falls between two integers and shows a gap."""
    edges = []
    for b in range(lo, hi + 2):
        n = max(1, math.floor(10 ** (b / LEN_BINS_PER_DECADE)) - 1)
        while _len_bin(n) < b:
            n += 1
        edges.append(n)
    return edges


def plot_lengths(kept: SideStats, rejected: SideStats) -> "Figure | None":
    bins = [b for b in set(kept.lengths) | set(rejected.lengths) if b >= 0]
    if not bins:
        return None
    lo, hi = min(bins), max(bins)
    edges = _len_edges(lo, hi)
    fig = _new_figure(7.0, 3.8, left_px=_LEFT_NUM)
    ax = fig.add_subplot()
    _histograms(
        ax,
        edges,
        [kept.lengths.get(b, 0) for b in range(lo, hi + 1)],
        [rejected.lengths.get(b, 0) for b in range(lo, hi + 1)],
    )
    from matplotlib.ticker import LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xlim(edges[0], edges[-1])
    ax.xaxis.set_major_locator(LogLocator(base=10))
    ax.xaxis.set_major_formatter("{x:,.0f}")  # plain numbers: mathtext labels are slow to lay out
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("document length (characters, log scale)")
    ax.set_ylabel("documents")
    _counts(ax.yaxis)
    empty = kept.lengths.get(-1, 0) + rejected.lengths.get(-1, 0)
    _title(ax, "Document length" + (f" ({empty:,} empty documents not shown)" if empty else ""))
    _style(ax)
    return fig


def plot_kept_rejected(ledger: Ledger, kept: SideStats, rejected: SideStats) -> "Figure | None":
    if ledger.input == 0:
        return None
    both = kept.langs + rejected.langs
    langs = [lang for lang, _ in both.most_common(15)] if set(both) - {UNDETERMINED} else []
    labels = [_label(x, 24) for x in langs]
    width, height = (10.0 if langs else 4.5), max(3.6, 1.0 + 0.26 * len(langs))
    fig = _new_figure(width, height)
    w, h = width * _DPI, height * _DPI
    bottom, top = 40 / h, 1 - 34 / h
    split = 0.38 if langs else 1.0
    ax = fig.add_axes((_LEFT_NUM / w, bottom, split - (_LEFT_NUM + 30) / w, top - bottom))
    names = ["kept", "rejected", "quarantined"]
    values = [ledger.kept, ledger.rejected, ledger.quarantined]
    ax.bar(names, values, color=[_KEPT_COLOR, _REJECTED_COLOR, _QUARANTINE_COLOR])
    ax.tick_params(axis="x", labelsize=9)
    for i, v in enumerate(values):
        ax.text(i, v, f"{v:,}\n{_pct(v, ledger.input)}", ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, max(values) * 1.3 or 1)
    _counts(ax.yaxis)
    _title(ax, "Where the input went")
    _style(ax)
    ax.grid(axis="x", visible=False)
    if langs:
        left2 = split + _label_px(labels) / w
        ax2 = fig.add_axes((left2, bottom, 1 - 24 / w - left2, top - bottom))
        pos = list(range(len(langs)))
        k = [kept.langs.get(lang, 0) for lang in langs]
        r = [rejected.langs.get(lang, 0) for lang in langs]
        ax2.barh(pos, k, color=_KEPT_COLOR, label="kept")
        ax2.barh(pos, r, left=k, color=_REJECTED_COLOR, label="rejected")
        ax2.set_yticks(pos, labels)
        ax2.set_ylim(len(langs) - 0.5, -0.5)
        _counts(ax2.xaxis)
        _title(ax2, "Kept vs rejected by language" + (" (top 15)" if len(both) > 15 else ""), loc="left")
        ax2.legend(frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, borderaxespad=0.2)
        _style(ax2)
        ax2.grid(axis="y", visible=False)
    return fig


# ---------------------------------------------------------------------------- HTML

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232a;max-width:1100px;margin:2em auto;padding:0 1.2em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #dde3e8;padding-bottom:.2em}
.sub{color:#5b6670;margin-top:0}
table{border-collapse:collapse;margin:.6em 0}th,td{padding:.3em .7em;border-bottom:1px solid #e6eaee;text-align:left;vertical-align:top}
th{background:#f3f6f8;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td ul{margin:0;padding-left:1.1em}.ok{color:#1b7f3b;font-weight:600}.bad{color:#b42318;font-weight:600}
.warn{background:#fff6e5;border-left:4px solid #e8a33d;padding:.4em .8em}
figure{margin:1.2em 0}figure img{max-width:100%;height:auto;border:1px solid #eef1f4}
figcaption{color:#5b6670;font-size:.9em}nav a{margin-right:1em}code{background:#f3f6f8;padding:0 .25em}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _n(value: int) -> str:
    return f"{value:,}"


def _pct(part: int, whole: int) -> str:
    if not whole:
        return "–"
    return "<0.1%" if 0 < part / whole < 0.001 else f"{part / whole:.1%}"


def _items(counter: Counter) -> str:
    if not counter:
        return ""
    rows = "".join(
        f"<li>{_e(k)}: {_n(v)}</li>" for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))
    )
    return f"<ul>{rows}</ul>"


def _totals_html(ledger: Ledger, kept: SideStats, rejected: SideStats) -> list[str]:
    holds = ledger.input == ledger.kept + ledger.rejected + ledger.quarantined
    out = [
        "<h2 id='totals'>Totals</h2>",
        "<table class='totals'><tr><th></th><th class='n'>documents</th><th class='n'>share of input</th><th>where</th></tr>",
        f"<tr><td>input</td><td class='n' id='input'>{_n(ledger.input)}</td><td class='n'>{_e(_pct(ledger.input, ledger.input))}</td><td></td></tr>",
        f"<tr><td>kept</td><td class='n' id='kept'>{_n(ledger.kept)}</td><td class='n'>{_e(_pct(ledger.kept, ledger.input))}</td><td><code>data/</code></td></tr>",
        f"<tr><td>rejected</td><td class='n' id='rejected'>{_n(ledger.rejected)}</td><td class='n'>{_e(_pct(ledger.rejected, ledger.input))}</td><td><code>rejected/</code> (with <code>drop_reason</code>)</td></tr>",
        f"<tr><td>quarantined</td><td class='n' id='quarantined'>{_n(ledger.quarantined)}</td><td class='n'>{_e(_pct(ledger.quarantined, ledger.input))}</td><td><code>quarantine/</code> (malformed, with <code>error</code>)</td></tr>",
        "</table>",
    ]
    equation = f"input {_n(ledger.input)} == kept {_n(ledger.kept)} + rejected {_n(ledger.rejected)} + quarantined {_n(ledger.quarantined)}"
    if holds:
        out.append(f"<p class='conservation'><span class='ok'>Conservation check holds:</span> {equation}.</p>")
    else:
        out.append(
            f"<p class='conservation'><span class='bad'>Conservation check FAILS:</span> {equation} does not hold.</p>"
        )
    if kept.docs:
        out.append(
            f"<p>Kept text: {_n(kept.chars)} characters, {_n(kept.docs)} documents in {_n(kept.files)} file(s), mean {kept.chars / kept.docs:,.0f} characters per document.</p>"
        )
    for side, stats, expected in (("data/", kept, ledger.kept), ("rejected/", rejected, ledger.rejected)):
        if not stats.errors and stats.docs != expected:
            out.append(
                f"<p class='warn'>The files in <code>{side}</code> hold {_n(stats.docs)} rows but the ledger says {_n(expected)}.</p>"
            )
        for err in stats.errors:
            out.append(f"<p class='warn'>Could not read a file in <code>{side}</code>: {_e(err)}</p>")
    return out


def _stages_html(ledger: Ledger) -> list[str]:
    out = [
        "<h2 id='stages'>Stages</h2>",
        "<table class='stages'><tr><th>stage</th><th class='n'>in</th><th class='n'>kept</th><th class='n'>dropped</th><th>dropped per reason</th><th class='n'>errored</th><th>counters</th></tr>",
    ]
    for s in ledger.stages:
        out.append(
            f"<tr><td>{_e(s.name)}</td><td class='n'>{_n(s.rows_in)}</td><td class='n'>{_n(s.kept)}</td>"
            f"<td class='n'>{_n(sum(s.dropped.values()))}</td><td>{_items(s.dropped)}</td>"
            f"<td class='n'>{_n(s.errored)}</td><td>{_items(s.counters)}</td></tr>"
        )
    out.append("</table>")
    out += _timing_html(ledger)
    return out


def _timing_html(ledger: Ledger) -> list[str]:
    """Where the time went: seconds and documents/s per stage (summed over shards)."""
    timing = [t for t in ledger.timing() if t["seconds"]] if any(s.seconds for s in ledger.stages) else []
    if not timing:
        return []
    out = [
        "<h3 id='timing'>Time per stage</h3>",
        "<p class='note'>Worker-seconds summed over all shards (shards run in parallel, so the sum can exceed the run's wall time); documents/s is per worker.</p>",
        "<table class='stages'><tr><th>stage</th><th class='n'>seconds</th><th class='n'>share</th><th class='n'>documents/s</th></tr>",
    ]
    for t in timing:
        rate = f"{t['docs_per_s']:,.1f}" if t["docs_per_s"] is not None else ""
        out.append(
            f"<tr><td>{_e(t['stage'])}</td><td class='n'>{t['seconds']:,.2f}</td><td class='n'>{t['share'] * 100:.1f}%</td><td class='n'>{rate}</td></tr>"
        )
    out.append("</table>")
    return out


def _lid_backends_html(ledger: Ledger) -> list[str]:
    """Which LID backend decided how many documents per language (``decided:<backend>:<lang>``
    counters of the lid stage), so a reader sees where ``--lid auto`` trusted which model."""
    per_lang: dict[str, Counter] = {}
    for s in ledger.stages:
        for key, n in s.counters.items():
            parts = key.split(":", 2)
            if parts[0] == "decided" and len(parts) == 3 and n:
                per_lang.setdefault(parts[2], Counter())[parts[1]] += n
    if not per_lang:
        return []
    backends = sorted({b for c in per_lang.values() for b in c})
    out = [
        "<h2 id='lid'>Language ID: deciding backend per language</h2>",
        "<table class='lid'><tr><th>language</th>" + "".join(f"<th class='n'>{_e(b)}</th>" for b in backends) + "</tr>",
    ]
    for lang, c in sorted(per_lang.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:TOP_LANGS]:
        out.append(f"<tr><td>{_e(lang)}</td>" + "".join(f"<td class='n'>{_n(c[b])}</td>" for b in backends) + "</tr>")
    out.append("</table>")
    return out


def _projection_html(ledger: Ledger) -> list[str]:
    """Label projection runs: entities in / projected / lost and the rate per type."""
    from babelmill.processors.projection.pipeline import projection_summary

    out: list[str] = []
    for s in ledger.stages:
        summary = projection_summary(dict(s.counters))
        if summary is None:
            continue
        if not out:
            out.append("<h2 id='projection'>Label projection</h2>")
        rate = summary["rate"]
        out.append(
            f"<p>{_e(s.name)}: {_n(summary['entities'])} source entities, {_n(summary['projected'])} projected, "
            f"{_n(summary['lost'])} lost ({'-' if rate is None else f'{rate:.1%}'} projected).</p>"
        )
        out.append(
            "<table class='projection'><tr><th>type</th><th class='n'>entities</th><th class='n'>projected</th><th class='n'>rate</th></tr>"
        )
        for name, t in summary["types"].items():
            r = "-" if t["rate"] is None else f"{t['rate']:.1%}"
            out.append(
                f"<tr><td>{_e(name)}</td><td class='n'>{_n(t['entities'])}</td><td class='n'>{_n(t['projected'])}</td><td class='n'>{r}</td></tr>"
            )
        out.append("</table>")
    return out


def _languages_html(kept: SideStats) -> list[str]:
    if not kept.langs:
        return []
    out = [
        "<h2 id='languages'>Languages (kept)</h2>",
        "<table class='languages'><tr><th>language</th><th class='n'>documents</th><th class='n'>share</th></tr>",
    ]
    out += [
        f"<tr><td>{_e(lang)}</td><td class='n'>{_n(n)}</td><td class='n'>{_e(_pct(n, kept.docs))}</td></tr>"
        for lang, n in kept.langs.most_common(TOP_LANGS)
    ]
    rest = kept.langs.most_common()[TOP_LANGS:]
    if rest:
        out.append(
            f"<tr><td>{len(rest)} other languages</td><td class='n'>{_n(sum(n for _, n in rest))}</td><td></td></tr>"
        )
    out.append("</table>")
    return out


_CAPTIONS = {
    "stages": "Rows entering each stage and rows it kept; the gap is what the stage dropped or errored on.",
    "drop_reasons": "Rejected documents by reason and the stage that dropped them (from the ledger).",
    "languages": "Language of the kept documents (<code>und</code>: no language recorded).",
    "lid_scores": "Language-ID confidence of kept and rejected documents.",
    "lengths": "Length of kept and rejected documents in characters (10 bins per decade).",
    "kept_rejected": "Where the input went, overall and for the most frequent languages.",
}


def _render_html(
    title: str,
    output: Path,
    ledger: Ledger,
    kept: SideStats,
    rejected: SideStats,
    plots: list[str],
    fmt: str,
    failed: list[str] | None = None,
) -> str:
    name = title or str(output).rstrip("/").rsplit("/", 1)[-1]
    parts = [
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>{_e(name)} — babelmill report</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(name)}</h1>",
        f"<p class='sub'>babelmill {_e(__version__)} run report · output format {_e(fmt)} · details in <code>ledger.json</code> and <code>README.md</code></p>",
        "<nav><a href='#totals'>Totals</a><a href='#stages'>Stages</a><a href='#plots'>Plots</a>"
        + ("<a href='#languages'>Languages</a>" if kept.langs else "")
        + "</nav>",
    ]
    parts += _totals_html(ledger, kept, rejected)
    parts += _stages_html(ledger)
    parts += _lid_backends_html(ledger)
    parts += _projection_html(ledger)
    parts.append("<h2 id='plots'>Plots</h2>")
    if not plots:
        parts.append("<p>No data to plot.</p>")
    for plot in plots:
        parts.append(
            f"<figure><img src='{REPORT_DIR}/{plot}.png' alt='{_e(plot)}' loading='lazy'><figcaption>{_CAPTIONS[plot]}</figcaption></figure>"
        )
    if kept.scored == 0 and rejected.scored == 0 and (kept.docs or rejected.docs):
        parts.append("<p>No language-ID scores in the output, so no LID score plot.</p>")
    if kept.docs and not set(kept.langs) - {UNDETERMINED}:
        parts.append("<p>No language recorded on the kept documents, so no language plot.</p>")
    parts += [f"<p class='warn'>Could not draw {_e(msg)}</p>" for msg in failed or []]
    parts += _languages_html(kept)
    parts.append("</body></html>\n")
    return "\n".join(parts)


# ---------------------------------------------------------------------------- entry point


def write_report(
    output: Path,
    ledger: Ledger,
    fmt: str = "parquet",
    title: str = "",
    kept: SideStats | None = None,
    rejected: SideStats | None = None,
) -> Path:
    """Write ``report.html`` and its plots for a finished run; returns the HTML's path.

    Meant to be called once the ledger is final; plots without data are skipped rather
    than drawn empty, and a file that cannot be read is named in the report.
    """
    output = storage.location(output)
    if kept is None:
        # data/*.fmt, or data/<lang>/*.fmt for a run with one subset per language
        kept = side_stats(
            sorted(storage.glob_under(output, f"data/*.{fmt}") + storage.glob_under(output, f"data/*/*.{fmt}")), fmt
        )
    if rejected is None:
        rejected = side_stats(storage.glob_under(output, "rejected/*.parquet"), "parquet")
    makers: dict[str, Callable[[], "Figure | None"]] = {
        "stages": lambda: plot_stages(ledger),
        "drop_reasons": lambda: plot_drop_reasons(ledger),
        "languages": lambda: plot_languages(kept),
        "lid_scores": lambda: plot_lid_scores(kept, rejected),
        "lengths": lambda: plot_lengths(kept, rejected),
        "kept_rejected": lambda: plot_kept_rejected(ledger, kept, rejected),
    }
    plot_dir = output / REPORT_DIR
    storage.make_parent(plot_dir / "x.png")
    written: list[str] = []
    failed: list[str] = []
    for name, make in makers.items():
        target = plot_dir / f"{name}.png"
        try:
            fig = make()
            if fig is not None:
                _save(fig, target)
                written.append(name)
                continue
        except Exception as exc:  # noqa: BLE001 - a plot is not worth failing a finished run
            log.warning("report: could not draw %s: %s", name, exc)
            failed.append(f"{name}: {type(exc).__name__}: {exc}".splitlines()[0][:300])
        storage.remove(target)  # no stale plot from an earlier report
    path = output / "report.html"
    atomic_write_bytes(path, _render_html(title, output, ledger, kept, rejected, written, fmt, failed).encode("utf-8"))
    return path
