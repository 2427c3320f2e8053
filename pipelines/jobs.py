"""Job definitions: which stages, in which order, for each babelmill command."""

from __future__ import annotations

from pathlib import Path

from pipelines.runner import Job
from processors.base import Stage
from processors.extract import TrafilaturaExtractor
from processors.io import ReaderOptions, discover_shards
from processors.validate import EmptyTextFilter


def _has_warc(inputs: list[str], input_format: str, reader: ReaderOptions) -> bool:
    if input_format == "warc":
        return True
    if input_format != "auto":
        return False
    return any(s.kind == "warc" for s in discover_shards(inputs, input_format, reader.text_mode, reader.hf_split))


def copy_job(
    inputs: list[str],
    output: Path,
    reader: ReaderOptions | None = None,
    input_format: str = "auto",
    output_format: str = "parquet",
    extract_html: bool | None = None,
    command: str = "",
) -> Job:
    """Read, (extract HTML,) validate, write: the pass-through that proves I/O, ledger and resume."""
    reader = reader or ReaderOptions()
    stages: list[Stage] = []
    if extract_html or (extract_html is None and _has_warc(inputs, input_format, reader)):
        stages.append(TrafilaturaExtractor())
    stages.append(EmptyTextFilter())
    return Job("copy", inputs, Path(output), stages, reader, input_format, output_format, command)
