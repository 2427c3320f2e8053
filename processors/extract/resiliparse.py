"""resiliparse: lexbor's C DOM plus simple main-content rules, ~10x trafilatura's speed."""

from __future__ import annotations

from typing import ClassVar

from babelmill.processors.extract.base import HtmlExtractor


class ResiliparseExtractor(HtmlExtractor):
    """``extract_plain_text(main_content=True)`` with paragraph breaks kept for later
    line-based filters; post metadata and comment sections are left out."""

    name: ClassVar[str] = "extract"
    extractor: ClassVar[str] = "resiliparse"

    def __init__(self, max_page_chars: int = 4_000_000, time_budget: float = 10.0) -> None:
        super().__init__(max_page_chars, time_budget)

    def setup_local(self) -> None:
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.html import HTMLTree

        self._parse, self._extract = HTMLTree.parse, extract_plain_text

    def extract(self, page: str) -> tuple[str | None, str | None]:
        if not hasattr(self, "_extract"):
            self.setup_local()
        tree = self._parse(page)
        return self._extract(tree, main_content=True, preserve_formatting=True, post_meta=False, comments=False), None
