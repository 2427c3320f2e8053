"""Main-text extraction from HTML: one module per extractor, chosen by ``--extractor``."""

from __future__ import annotations

from babelmill.processors.extract.auto import AutoExtractor
from babelmill.processors.extract.base import DROP_REASONS, HtmlExtractor, page_hints
from babelmill.processors.extract.charset import decode_html
from babelmill.processors.extract.resiliparse import ResiliparseExtractor
from babelmill.processors.extract.trafilatura import TrafilaturaExtractor
from babelmill.processors.extract.url_filter import UrlBlocklistFilter

EXTRACTORS = {"auto": AutoExtractor, "resiliparse": ResiliparseExtractor, "trafilatura": TrafilaturaExtractor}


def make_extractor(name: str = "auto", **kwargs: object) -> HtmlExtractor:
    """The extraction stage called ``name`` (a key of :data:`EXTRACTORS`)."""
    try:
        cls = EXTRACTORS[name]
    except KeyError:
        raise ValueError(f"unknown extractor {name!r}; choose one of {', '.join(EXTRACTORS)}") from None
    return cls(**kwargs)  # type: ignore[arg-type]


__all__ = [
    "AutoExtractor",
    "DROP_REASONS",
    "EXTRACTORS",
    "HtmlExtractor",
    "ResiliparseExtractor",
    "TrafilaturaExtractor",
    "UrlBlocklistFilter",
    "decode_html",
    "make_extractor",
    "page_hints",
]
