"""Stand-in translation for instruction tests (no model): ``ReverseTranslator`` writes every
word backwards behind a ``tgt:`` tag, so expected outputs can be written by hand; plus
sample records in the three instruction formats and a reader-style ``docs`` table."""

from __future__ import annotations

import dataclasses
import re

import orjson
import pyarrow as pa

from babelmill.processors.translate.engine import TranslationResult

WORD = re.compile(r"[^\W\d_]+")


def reverse_words(text: str) -> str:
    return WORD.sub(lambda m: m.group()[::-1], text)


class ReverseTranslator:
    """Stand-in engine: ``"Hello ⟦0⟧."`` -> ``"de: olleH ⟦0⟧."``; sentinels pass through."""

    name = "stand-in/reverse"

    def __init__(self, drop_sentinel: bool = False) -> None:
        self.drop_sentinel = drop_sentinel
        self.calls: list[tuple[str, str, int]] = []
        self.stats = {"segments": 0, "cache_hits": 0}
        self._cache: dict[tuple[str, str, str], TranslationResult] = {}

    def translate(self, texts: list[str], src: str, tgt: str) -> list[TranslationResult]:
        self.calls.append((src, tgt, len(texts)))
        out = []
        for text in texts:
            key = (src, tgt, text)
            self.stats["segments"] += 1
            if key in self._cache:
                self.stats["cache_hits"] += 1
            else:
                result = f"{tgt}: {reverse_words(text)}"
                if self.drop_sentinel:
                    result = result.replace("⟦0⟧", "")
                self._cache[key] = TranslationResult(result, -0.25 if tgt == "de" else -0.5)
            out.append(self._cache[key])
        return out


@dataclasses.dataclass
class StandInSpec:
    """Picklable description of a stand-in translator (what the stage ships to workers)."""

    drop_sentinel: bool = False

    def build(self) -> ReverseTranslator:
        return ReverseTranslator(self.drop_sentinel)

    @property
    def resources(self) -> tuple[float, float]:
        return (1.0, 0.0)


ALPACA = {
    "id": "a1",
    "instruction": "Explain the `sorted` function. Keep it short.",
    "input": "Use {name} in the example.",
    "output": "Call `sorted(xs)` to get a new list.\n\n```python\nprint(sorted([3, 1]))\n```\n- Works on any iterable.",
    "category": "code",
}
SHAREGPT = {
    "conversations": [
        {"from": "system", "value": "You are terse."},
        {"from": "human", "value": "Where are the docs? Send a link."},
        {"from": "gpt", "value": "See https://docs.python.org/3/ for details."},
    ],
    "source": "chat",
}
MESSAGES = {
    "messages": [
        {"role": "user", "content": "What is %s used for?"},
        {"role": "assistant", "content": "It formats strings.", "weight": 1},
    ]
}


def docs(records: list[object], ids: list[str] | None = None) -> pa.Table:
    """Reader-style document rows: ``text`` null, the whole record in ``meta``."""
    metas = [r if isinstance(r, str) or r is None else orjson.dumps(r).decode() for r in records]
    n = len(records)
    return pa.table(
        {
            "id": ids or [f"in.jsonl:{i}" for i in range(n)],
            "text": pa.nulls(n, pa.string()),
            "lang": pa.nulls(n, pa.string()),
            "source": ["in.jsonl"] * n,
            "meta": pa.array(metas, pa.string()),
        }
    )
