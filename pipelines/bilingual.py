"""Card section and report plots of the code-switching and interleaving jobs.

Called by the runner once a run's generic card and report exist (``Job.finalize``): it
reads only the metric columns of the kept data, then appends the mode, ratio, seed and
the distributions of the ratio and mixing metrics to ``README.md``, and ratio / CMI
histograms to ``report.html``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow.parquet as pq
import polars as pl

from babelmill.processors.io import storage
from babelmill.processors.io.writers import atomic_write_bytes

if TYPE_CHECKING:
    from babelmill.pipelines.ledger import Ledger
    from babelmill.pipelines.runner import Job

METRICS = ("ratio_target", "ratio", "cmi", "cmi_2016", "m_index", "i_index", "switch_points", "burstiness", "tokens")


def _columns(job: "Job") -> dict[str, np.ndarray]:
    files = storage.glob_under(job.output, job.layout().data_glob())
    if not files:
        return {}
    if job.output_format == "parquet":
        have = set(pq.read_schema(storage.arrow_source(files[0])).names)
        cols = [c for c in METRICS if c in have]
        df = (
            pl.concat([pl.read_parquet(storage.arrow_source(f), columns=cols) for f in files])
            if cols
            else pl.DataFrame()
        )
    else:
        df = pl.concat([pl.read_ndjson(storage.arrow_source(f)) for f in files], how="diagonal_relaxed")
        df = df.select([c for c in METRICS if c in df.columns])
    return {c: df.get_column(c).drop_nulls().cast(pl.Float64).to_numpy() for c in df.columns}


def _summary(values: np.ndarray) -> str:
    if values.size == 0:
        return "| – | – | – | – | – |"
    p10, p50, p90 = np.percentile(values, [10, 50, 90])
    return f"| {values.mean():.3f} | {values.std():.3f} | {p10:.3f} | {p50:.3f} | {p90:.3f} |"


def _plot(values: np.ndarray, title: str, xlabel: str, path: Path, bins: Any) -> bool:
    if values.size == 0:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.2), dpi=100)
    ax.hist(values, bins=bins, color="#4c78a8", edgecolor="white")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("rows")
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    tmp = storage.staging_path(path)
    fig.savefig(tmp, format="png")
    plt.close(fig)
    storage.publish(tmp, path)
    return True


def _languages(info: dict[str, Any]) -> list[str]:
    codes: list[str] = []
    for key in ("source language", "target language", "target language(s)"):
        codes += [c for c in str(info.get(key, "")).split(",") if c and c not in codes]
    return codes


def finalize(job: "Job", ledger: "Ledger", info: dict[str, Any] | None = None) -> None:
    """Append the bilingual section to the card and the ratio / CMI plots to the report."""
    info = dict(info or {})
    languages = _languages(info)
    cols = _columns(job)
    root = storage.location(job.output)
    lines = ["", f"## {info.pop('title', 'Bilingual data')}", ""]
    for key, value in info.items():
        lines.append(f"- **{key}**: `{value}`")
    shown = [c for c in METRICS if c in cols]
    if shown:
        lines += [
            "",
            "Distributions over the kept rows:",
            "",
            "| column | mean | sd | p10 | median | p90 |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        lines += [f"| `{c}` {_summary(cols[c])}" for c in shown]
    lines += [
        "",
        "Metrics (per row, language-independent tokens excluded): CMI = 100·(1 − max_i w_i/(n − u)) (Das & Gambäck 2014); "
        "`cmi_2016` = 100·(½(N − max_i w_i) + ½P)/N (Gambäck & Das 2016); M-index = (1 − Σp²)/((k − 1)Σp²); "
        "I-index = P/(N − 1); burstiness = (σ − m)/(σ + m) of monolingual span lengths. "
        "`spans` lists every switched span: source offsets, output offsets, replacement, language and method.",
        "",
    ]
    card = root / "README.md"
    if card.exists():
        text = card.read_text(encoding="utf-8")
        if languages and "\nlanguage:\n" not in text.split("\n---\n", 1)[0]:
            # the rows carry src_lang / tgt_lang, not the `lang` the generic card reads
            text = text.replace(
                "\nsize_categories:", "\nlanguage:\n" + "".join(f"- {c}\n" for c in languages) + "size_categories:", 1
            )
        atomic_write_bytes(card, (text + "\n".join(lines)).encode("utf-8"))
    plots = []
    report_dir = root / "report"
    storage.make_parent(report_dir / "x.png")
    if "ratio" in cols and _plot(
        cols["ratio"],
        "Achieved switch ratio per row",
        "share of source words switched",
        report_dir / "cs_ratio.png",
        np.linspace(0, 1, 21),
    ):
        plots.append(("cs_ratio", "Achieved switch ratio per row."))
    if "cmi" in cols and _plot(
        cols["cmi"],
        "Code-Mixing Index (Das & Gambäck 2014) per row",
        "CMI",
        report_dir / "cs_cmi.png",
        np.linspace(0, 100, 21),
    ):
        plots.append(("cs_cmi", "CMI per row (0: monolingual, 50: two languages in equal parts)."))
    if "tokens" in cols and _plot(
        cols["tokens"], "Tokens per packed context", "tokens", report_dir / "pack_tokens.png", 20
    ):
        plots.append(("pack_tokens", "Tokens per packed context."))
    html = root / "report.html"
    if plots and html.exists():
        figs = "\n".join(
            f"<figure><img src='report/{name}.png' alt='{name}' loading='lazy'><figcaption>{cap}</figcaption></figure>"
            for name, cap in plots
        )
        text = html.read_text(encoding="utf-8").replace(
            "</body></html>", f"<h2 id='bilingual'>Bilingual data</h2>\n{figs}\n</body></html>"
        )
        atomic_write_bytes(html, text.encode("utf-8"))
