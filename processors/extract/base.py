"""What every HTML extractor shares: which rows it touches, page hints kept in ``meta``,
and bounded work per page.

Bounded work: a page larger than ``max_page_chars`` is rejected as ``page_too_large``
before parsing.  With ``time_budget`` > 0 the extraction runs in a worker process
that the stage kills when a page overruns its budget (a signal cannot interrupt the C
parsers of lxml or lexbor); that page is rejected as ``extract_timeout``, the worker
is restarted and the rest of the batch goes on.
"""

from __future__ import annotations

import html as html_lib
import multiprocessing
import re
from typing import Any, ClassVar

import orjson
import pyarrow as pa

from babelmill.processors.base import DROP_REASON, Stage, set_drop_reason

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
#: the reasons these stages can emit.
DROP_REASONS = ("no_extracted_text", "page_too_large", "extract_timeout", "extract_error")

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_HTML_LANG = re.compile(r"""<html[^>]*?\blang\s*=\s*["']?\s*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)""", re.I)
_META_LANG = re.compile(
    r"""<meta[^>]+http-equiv\s*=\s*["']?content-language["']?[^>]*content\s*=\s*["']?\s*([A-Za-z0-9_, -]+)""", re.I
)
_SPACE = re.compile(r"\s+")
_HEAD_CHARS = 65_536


def page_hints(page: str) -> dict[str, str]:
    """Title and declared language(s) from the head of the page (regex: no second parse)."""
    head = page[:_HEAD_CHARS]
    out: dict[str, str] = {}
    if m := _TITLE.search(head):
        title = _SPACE.sub(" ", html_lib.unescape(m.group(1))).strip()
        if title:
            out["title"] = title[:1000]
    if m := _HTML_LANG.search(head):
        out["html_lang"] = m.group(1)
    if m := _META_LANG.search(head):
        out["meta_content_language"] = m.group(1).strip()
    return out


def _is_html(page: str | None, ctype: str | None) -> bool:
    if ctype in HTML_TYPES:
        return True
    return ctype is None and bool(page) and page.lstrip()[:1] == "<"  # type: ignore[union-attr]


# ------------------------------------------------------------------ worker process

_WORKERS: dict[bytes, "_Worker"] = {}


def _serve(conn: Any, extractor: "HtmlExtractor") -> None:
    """Worker loop: one page in, ``(text, tag)`` or ``("!error", message)`` out."""
    extractor.setup_local()
    conn.send("ready")
    while True:
        page = conn.recv()
        if page is None:
            return
        try:
            conn.send(extractor.extract(page))
        except Exception as exc:  # noqa: BLE001 - one bad page must not end the worker
            conn.send(("!error", f"{type(exc).__name__}: {exc}"[:500]))


class _Worker:
    """A spawned process running one extractor; replaced when a page overruns."""

    def __init__(self, extractor: "HtmlExtractor") -> None:
        self.extractor = extractor
        self.proc: Any = None
        self.conn: Any = None

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, self.extractor), daemon=True)
        self.proc.start()
        child.close()
        # start-up (imports) is not a page's time; a worker that cannot start is an error
        if not self.conn.poll(120.0) or self.conn.recv() != "ready":
            self.kill()
            raise RuntimeError("the HTML extraction worker process did not start")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.join()
            self.conn.close()
        self.proc = self.conn = None

    def run(self, page: str, budget: float) -> tuple[str | None, str | None] | None:
        """The extractor's answer, or None when the page ran past ``budget`` seconds."""
        if self.proc is None or not self.proc.is_alive():
            self._start()
        try:
            self.conn.send(page)
        except (BrokenPipeError, OSError):
            self.kill()
            return self.run(page, budget)
        if self.conn.poll(budget):
            try:
                return self.conn.recv()
            except EOFError:  # the worker died on this page (out of memory, crash)
                self.kill()
                return ("!error", "extraction worker died")
        self.kill()
        return None


# ------------------------------------------------------------------ the stage


class HtmlExtractor(Stage):
    """Replaces the HTML in ``text`` with its main text.

    Only rows whose ``content_type`` says HTML are touched, so the stage can sit in any
    chain.  Subclasses implement :meth:`extract` (one page, plain Python, no budget).
    The title, ``<html lang>`` and ``content-language`` hints go into ``meta`` next to
    the URL the reader put there, for later stages.
    """

    # no ``name`` of its own: each extractor below is a stage (``babelmill stages``)
    reasons: ClassVar[tuple[str, ...]] = DROP_REASONS
    extractor: ClassVar[str] = "base"

    def __init__(self, max_page_chars: int = 4_000_000, time_budget: float = 10.0) -> None:
        self.max_page_chars = max_page_chars
        self.time_budget = time_budget

    # subclasses ------------------------------------------------------
    def setup_local(self) -> None:
        """Imports and state for :meth:`extract` (run in whichever process extracts)."""

    def extract(self, page: str) -> tuple[str | None, str | None]:  # pragma: no cover - abstract
        """``(main text or None, counter tag or None)`` for one decoded page."""
        raise NotImplementedError

    def __getstate__(self) -> dict[str, Any]:
        # loaded parsers and counters stay behind when the stage goes to a worker process
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    # runner ----------------------------------------------------------
    def setup(self) -> None:
        if self.time_budget and self.time_budget > 0:
            worker = self._worker()
            if worker.proc is None:
                worker._start()

    def config(self) -> dict[str, Any]:
        return {"extractor": self.extractor, **super().config()}

    def _worker(self) -> _Worker:
        key = orjson.dumps([type(self).__module__, type(self).__qualname__, self.config()], option=orjson.OPT_SORT_KEYS)
        worker = _WORKERS.get(key)
        if worker is None:
            worker = _WORKERS[key] = _Worker(self)
        return worker

    def extract_page(self, page: str) -> tuple[str | None, str | None]:
        """One page under the size cap and time budget; a reason replaces the text on failure."""
        if len(page) > self.max_page_chars:
            return None, "page_too_large"
        if self.time_budget and self.time_budget > 0:
            answer = self._worker().run(page, self.time_budget)
            if answer is None:
                return None, "extract_timeout"
        else:
            if not getattr(self, "_local_ready", False):
                self.setup_local()
                self._local_ready = True
            try:
                answer = self.extract(page)
            except Exception as exc:  # noqa: BLE001
                answer = ("!error", f"{type(exc).__name__}: {exc}")
        text, tag = answer
        if text == "!error":
            self.count("extract_errors")
            return None, "extract_error"
        if tag:
            self.count(tag)
        if not text or not text.strip():
            return None, "no_extracted_text"
        return text, None

    def __call__(self, batch: pa.Table) -> pa.Table:
        if "content_type" not in batch.column_names:
            return batch
        texts = batch.column("text").to_pylist()
        types = batch.column("content_type").to_pylist()
        metas = batch.column("meta").to_pylist() if "meta" in batch.column_names else [None] * batch.num_rows
        prior = batch.column(DROP_REASON).to_pylist() if DROP_REASON in batch.column_names else [None] * batch.num_rows
        reasons: list[str | None] = [None] * batch.num_rows
        out: list[str | None] = []
        new_meta: list[str | None] = []
        for i, (page, ctype, meta) in enumerate(zip(texts, types, metas)):
            if prior[i] is not None or not _is_html(page, ctype):
                out.append(page)
                new_meta.append(meta)
                continue
            hints = page_hints(page)
            if hints:
                try:
                    m = orjson.loads(meta) if meta else {}
                except orjson.JSONDecodeError:
                    m = {"meta": meta}
                if isinstance(m, dict):
                    m.update(hints)
                    meta = orjson.dumps(m).decode()
            new_meta.append(meta)
            text, reason = self.extract_page(page)
            if reason is not None:
                reasons[i] = reason
                out.append(page if reason != "page_too_large" else "")
            else:
                out.append(text)
        batch = batch.set_column(batch.column_names.index("text"), "text", pa.array(out, pa.string()))
        if "meta" in batch.column_names:
            batch = batch.set_column(batch.column_names.index("meta"), "meta", pa.array(new_meta, pa.string()))
        batch = batch.drop_columns(["content_type"])
        if any(r is not None for r in reasons):
            batch = set_drop_reason(batch, pa.array(reasons, pa.string()))
        return batch
