"""The dataset card: a ``README.md`` next to the data, readable by people and by
``datasets.load_dataset(OUTPUT_DIR)`` (its YAML header declares the data files)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from babelmill import __version__
from babelmill.pipelines.ledger import Ledger
from babelmill.pipelines.stats import UNDETERMINED, SideStats, side_stats
from babelmill.processors.io import InputShard
from babelmill.processors.io import storage
from babelmill.processors.io.writers import atomic_write_bytes

if TYPE_CHECKING:
    from babelmill.pipelines.job import Job


def _size_category(n: int) -> str:
    for limit, label in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ):
        if n < limit:
            return label
    return "10M<n<100M" if n < 100_000_000 else "n>1B"


def _basename(root: str) -> str:
    """The output folder's name (the last part of a URL for an object store)."""
    if storage.is_remote(root):
        return root.rstrip("/").rsplit("/", 1)[-1]
    return os.path.basename(os.path.abspath(root))


def write_dataset_card(job: "Job", ledger: Ledger, shards: list[InputShard], kept: SideStats | None = None) -> None:
    """``kept`` are the kept rows' histograms; without them the data is scanned."""
    root = str(job.output)
    fmt = job.output_format
    data_glob = job.layout().data_glob()
    files = storage.glob_under(job.layout().root, data_glob)
    if kept is None:
        kept = side_stats(files, fmt)
    langs = dict(kept.langs.most_common())
    chars = kept.chars
    nbytes = sum(storage.size(f) for f in files)
    lang_codes = [lang for lang in langs if lang != UNDETERMINED]
    header = [
        "---",
        "configs:",
        "- config_name: default",
        "  data_files:",
        "  - split: train",
        f"    path: {data_glob}",
    ]
    if job.partition:
        subsets = sorted(
            p.rstrip("/").rsplit("/", 1)[-1]
            for p in storage.glob_under(job.layout().root, "data/*")
            if storage.is_dir(p)
        )
        for name in subsets:
            header += [f"- config_name: {name}", "  data_files:", "  - split: train", f"    path: data/{name}/*.{fmt}"]
    if lang_codes:
        header.append("language:")
        header.extend(f"- {code}" for code in lang_codes[:200])
    header += [f"size_categories:\n- {_size_category(ledger.kept)}", "tags:", "- babelmill", "---", ""]
    reasons = ledger.drop_reasons()
    lines = [
        f"# {_basename(root)}",
        "",
        f"Made by babelmill {__version__} (`{job.name}` job) from {len(shards)} input shard(s).",
        "",
        "Command:",
        "",
        "```",
        job.command or f"babelmill {job.name}",
        "```",
        "",
        "## Contents",
        "",
        "| | rows |",
        "|---|---:|",
        f"| input records | {ledger.input:,} |",
        f"| kept (`data/`) | {ledger.kept:,} |",
        f"| rejected (`rejected/`, with `drop_reason`) | {ledger.rejected:,} |",
        f"| quarantined (`quarantine/`, malformed, with `error`) | {ledger.quarantined:,} |",
        "",
        f"Kept data: {chars:,} characters of text, {nbytes / 1e6:,.1f} MB on disk as {fmt}.",
        "",
    ]
    if langs:
        lines += ["## Languages", "", "| language | documents |", "|---|---:|"]
        lines += [f"| {lang} | {n:,} |" for lang, n in list(langs.items())[:100]]
        lines.append("")
    lines += _labels_section(files, fmt)
    if reasons:
        lines += ["## Drop reasons", "", "| reason | documents |", "|---|---:|"]
        lines += [f"| {r} | {n:,} |" for r, n in reasons.most_common()]
        lines.append("")
    lines += [
        "## Stages",
        "",
        "| stage | in | kept | dropped | errored |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {s.name} | {s.rows_in:,} | {s.kept:,} | {sum(s.dropped.values()):,} | {s.errored:,} |"
        for s in ledger.stages
    ]
    lines += [
        "",
        "## Loading",
        "",
        "```python",
        "import datasets",
        f'ds = datasets.load_dataset("{fmt if fmt == "parquet" else "json"}", data_files="{root}/{data_glob}", split="train")',
        "```",
        "",
        _columns_line(job),
        "The full per-stage counts are in `ledger.json`.",
        "",
    ]
    atomic_write_bytes(job.output / "README.md", "\n".join(header + lines).encode("utf-8"))


def _labels_section(files: list[str], fmt: str) -> list[str]:
    """Label names of ``Sequence(ClassLabel)`` columns (NER ``ner_tags``), from the data's
    own schema metadata, so the card and the files cannot disagree."""
    if fmt != "parquet" or not files:
        return []
    import pyarrow.parquet as pq

    from babelmill.processors.ner.features import label_names_in

    labels = label_names_in(pq.read_schema(files[0]))
    lines: list[str] = []
    for column, names in labels.items():
        lines += [
            f"## Labels (`{column}`)",
            "",
            f"`{column}` is a `Sequence(ClassLabel)`; `datasets` returns these names:",
            "",
            "| id | label |",
            "|---:|---|",
        ]
        lines += [f"| {i} | {name} |" for i, name in enumerate(names)]
        lines.append("")
    return lines


def _columns_line(job: "Job") -> str:
    if job.schema == "instruction":
        return (
            "Columns: `id` (`<source_id>#<tgt_lang>`), `messages` (list of `role`/`content`, translated), `src_lang`, `tgt_lang`, "
            "`source_id`, plus the record in its input format (`translated_original`), the model and its scores."
        )
    if job.schema in ("ner", "projected_ner"):
        line = "Columns: `id`, `tokens`, `tags` (IOB2 strings), `ner_tags` (the same as label ids), `lang`, `source` (input file), `meta`."
        if job.schema == "projected_ner":
            line += (
                " Projected rows add `source_id` (the source sentence), `src_lang`, `tgt_lang` and `projection`: per entity"
                " the source and target token span (end exclusive), label, method and confidence."
            )
        return line
    if job.schema == "mixed":
        return (
            "Columns: `id`, `text` (the code-switched or interleaved text), `src_lang`, `tgt_lang`, `source_id`, `source` (input file), "
            "plus the job's own columns (ratios, switched `spans`, mixing metrics, `messages`, packing windows): see the section below."
        )
    extra = ""
    if job.global_stage is not None:
        extra = " `dup_cluster_size`: how many near-identical documents this one stands for."
    return (
        "Columns: `id`, `text`, `lang`, `lang_score`, `source` (input file), `meta` (the other input fields, as a JSON object)."
        + extra
    )
