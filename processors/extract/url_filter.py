"""URL-level filtering before extraction (what FineWeb/datatrove users expect first).

Lists in the UT1 blacklist layout (Université Toulouse 1 Capitole): one entry per
line, ``#`` comments allowed.  A line without ``/`` is a domain (it also blocks every
subdomain); a line with ``/`` is a URL prefix without scheme (``example.org/adult``).
A words file holds words that block a URL when one of its tokens equals them.
Cheap and per row, so it runs before the costly extraction.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

import orjson
import pyarrow as pa

from babelmill.processors.base import DROP_REASON, Stage, set_drop_reason

DROP_REASONS = ("url_blocked_domain", "url_blocked_url", "url_blocked_word")
_TOKEN = re.compile(r"[a-z0-9]+")


def load_list(path: str | Path) -> list[str]:
    """Entries of one list file, lower-cased, comments and blanks skipped."""
    out = []
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.split("#", 1)[0].strip().lower()
        if line:
            out.append(line)
    return out


class UrlBlocklistFilter(Stage):
    """Rejects rows whose ``meta.url`` is on a domain / URL / word blocklist."""

    name: ClassVar[str] = "url_filter"
    reasons: ClassVar[tuple[str, ...]] = DROP_REASONS

    def __init__(
        self, blocklists: list[str] | tuple[str, ...] = (), word_lists: list[str] | tuple[str, ...] = ()
    ) -> None:
        self.blocklists = [str(p) for p in blocklists]
        self.word_lists = [str(p) for p in word_lists]
        self._domains: set[str] | None = None

    def setup(self) -> None:
        domains: set[str] = set()
        prefixes: list[str] = []
        for p in self.blocklists:
            for entry in load_list(p):
                entry = re.sub(r"^[a-z]+://", "", entry)
                (
                    prefixes.append(entry)
                    if "/" in entry.rstrip("/")
                    else domains.add(entry.rstrip("/").removeprefix("www."))
                )
        self._domains = domains
        self._prefixes = tuple(sorted(set(prefixes)))
        self._words = {w for p in self.word_lists for w in load_list(p)}

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")} | {"_domains": None}

    def decide(self, url: str | None) -> str | None:
        """The drop reason for one URL, or None."""
        if self._domains is None:
            self.setup()
        if not url:
            return None
        try:
            parts = urlsplit(url.strip().lower())
        except ValueError:
            return None
        host = (parts.hostname or "").removeprefix("www.")
        labels = host.split(".")
        for i in range(len(labels) - 1):
            if ".".join(labels[i:]) in self._domains:  # type: ignore[operator]
                return "url_blocked_domain"
        if self._prefixes and (host + parts.path).startswith(self._prefixes):
            return "url_blocked_url"
        if self._words and any(
            tok in self._words for tok in _TOKEN.findall(host + " " + parts.path + " " + parts.query)
        ):
            return "url_blocked_word"
        return None

    def __call__(self, batch: pa.Table) -> pa.Table:
        if "meta" not in batch.column_names or batch.num_rows == 0:
            return batch
        prior = batch.column(DROP_REASON).to_pylist() if DROP_REASON in batch.column_names else [None] * batch.num_rows
        reasons: list[str | None] = []
        for meta, before in zip(batch.column("meta").to_pylist(), prior):
            url = None
            if before is None and meta and '"url"' in meta:
                try:
                    m = orjson.loads(meta)
                    url = m.get("url") if isinstance(m, dict) else None
                except orjson.JSONDecodeError:
                    url = None
            reasons.append(None if before is not None else self.decide(url if isinstance(url, str) else None))
        return set_drop_reason(batch, pa.array(reasons, pa.string()))
