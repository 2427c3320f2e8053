"""Main-text extraction from HTML (the WARC reader hands pages over as raw HTML)."""

from __future__ import annotations

from typing import ClassVar

import pyarrow as pa

from babelmill.processors.base import Stage, set_drop_reason

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


class TrafilaturaExtractor(Stage):
    """Replaces the HTML in ``text`` with its main text, using trafilatura.

    Only rows whose ``content_type`` column says HTML are touched, so the stage can sit
    in any chain.  Pages with no extractable text are rejected as ``no_extracted_text``.
    Settings follow datatrove's extractor defaults (precision over recall, no comments).
    """

    name: ClassVar[str] = "extract"
    reasons: ClassVar[tuple[str, ...]] = ("no_extracted_text",)

    def __init__(self, favour_precision: bool = True, include_comments: bool = False, include_tables: bool = True) -> None:
        self.favour_precision = favour_precision
        self.include_comments = include_comments
        self.include_tables = include_tables

    def __call__(self, batch: pa.Table) -> pa.Table:
        if "content_type" not in batch.column_names:
            return batch
        import trafilatura

        texts = batch.column("text").to_pylist()
        types = batch.column("content_type").to_pylist()
        reasons: list[str | None] = [None] * batch.num_rows
        out: list[str | None] = []
        for i, (html, ctype) in enumerate(zip(texts, types)):
            if ctype not in _HTML_TYPES and not (ctype is None and html and html.lstrip().startswith("<")):
                out.append(html)
                continue
            extracted = trafilatura.extract(
                html,
                favor_precision=self.favour_precision,
                include_comments=self.include_comments,
                include_tables=self.include_tables,
                deduplicate=False,
            )
            if not extracted or not extracted.strip():
                reasons[i] = "no_extracted_text"
                out.append(html)
            else:
                out.append(extracted)
        batch = batch.set_column(batch.column_names.index("text"), "text", pa.array(out, pa.string()))
        batch = batch.drop_columns(["content_type"])
        if any(r is not None for r in reasons):
            batch = set_drop_reason(batch, pa.array(reasons, pa.string()))
        return batch
