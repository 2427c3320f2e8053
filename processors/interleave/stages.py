"""Interleaved bilingual documents from parallel rows.

All modes work on aligned units of a document pair (``sentence_pairs``: sentences or
paragraphs, never zipped when the counts differ: ``unit_count_mismatch``).

* ``interlinear``: each source unit followed by its translation (``order``: ``src-tgt``,
  ``tgt-src`` or ``alternate``, which flips the order at every unit), joined by ``sep``;
* ``alternate``: one document that alternates languages unit by unit (source unit 0,
  target unit 1, source unit 2, ...), as in bilingual alternating pre-training data;
* ``pack``: source document + ``sep`` + target document in one context of at most
  ``max_tokens`` tokens (counted with the user's tokenizer); a pair that does not fit is
  cut into aligned windows of consecutive units with ``overlap`` units shared between
  neighbours, every unit covered (one output row per window; a single unit pair over
  the budget is rejected: ``unit_over_budget``; a pair whose units do not line up is
  packed whole when it fits, else rejected: ``unit_count_mismatch``);
* ``translation-instructions``: a user turn "Translate ... into {target}:" (per-language
  templates, ``langs/templates.yaml`` or a user file) with the source, and the
  translation as the assistant turn.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pyarrow as pa

from babelmill.langs.templates import render
from babelmill.processors.base import Stage, set_drop_reason
from babelmill.processors.codeswitch.core import file_digest
from babelmill.processors.codeswitch.stages import put
from babelmill.processors.interleave.tokens import TokenCounter
from babelmill.processors.io.parallel import sentence_pairs
from babelmill.processors.schema import MESSAGE_TYPE
from babelmill.processors.translate.segment import spaced

MODES = ("interlinear", "alternate", "pack", "translation-instructions")
MISMATCH = "unit_count_mismatch"


def _joiner(lang: str) -> str:
    try:
        return " " if spaced(lang) else ""
    except Exception:  # noqa: BLE001 - unknown code: assume spaces
        return " "


class _Aligned(Stage):
    def __init__(self, unit: str = "sentence") -> None:
        if unit not in ("sentence", "paragraph"):
            raise ValueError("unit must be 'sentence' or 'paragraph'")
        self.unit = unit

    def _pairs(self, batch: pa.Table) -> list[tuple[list[str], list[str]] | None]:
        srcs = batch.column("src_segments").to_pylist()
        tgts = batch.column("tgt_segments").to_pylist()
        sl = batch.column("src_lang").to_pylist()
        tl = batch.column("tgt_lang").to_pylist()
        out = []
        for s, t, a, b in zip(srcs, tgts, sl, tl):
            out.append(sentence_pairs(s or [], t or [], a, b, self.unit) if s and t else None)
        return out


class Interlinear(_Aligned):
    """Each unit followed by its translation (or the reverse, or alternating)."""

    name: ClassVar[str] = "interlinear"
    reasons: ClassVar[tuple[str, ...]] = (MISMATCH,)

    def __init__(self, unit: str = "sentence", order: str = "src-tgt", sep: str = "\n") -> None:
        super().__init__(unit)
        if order not in ("src-tgt", "tgt-src", "alternate"):
            raise ValueError("order must be src-tgt, tgt-src or alternate")
        self.order, self.sep = order, sep

    def __call__(self, batch: pa.Table) -> pa.Table:
        texts, units, reasons = [], [], []
        for pair in self._pairs(batch):
            if pair is None:
                texts.append(None)
                units.append(0)
                reasons.append(MISMATCH)
                continue
            parts = []
            for i, (s, t) in enumerate(zip(*pair)):
                first_src = self.order == "src-tgt" or (self.order == "alternate" and i % 2 == 0)
                parts += [s, t] if first_src else [t, s]
            texts.append(self.sep.join(parts))
            units.append(len(pair[0]))
            reasons.append(None)
        out = put(batch, "text", pa.array(texts, pa.string()))
        out = put(out, "units", pa.array(units, pa.int32()))
        out = put(out, "mode", pa.array(["interlinear"] * batch.num_rows, pa.string()))
        return set_drop_reason(out, pa.array(reasons, pa.string()))


class Alternate(_Aligned):
    """A document that switches language at every unit."""

    name: ClassVar[str] = "alternate"
    reasons: ClassVar[tuple[str, ...]] = (MISMATCH,)

    def __init__(self, unit: str = "paragraph", start: str = "src") -> None:
        super().__init__(unit)
        self.start = start

    def __call__(self, batch: pa.Table) -> pa.Table:
        sl = batch.column("src_lang").to_pylist()
        tl = batch.column("tgt_lang").to_pylist()
        texts, reasons = [], []
        for pair, a, b in zip(self._pairs(batch), sl, tl):
            if pair is None:
                texts.append(None)
                reasons.append(MISMATCH)
                continue
            off = 0 if self.start == "src" else 1
            chosen = [(s, a) if (i + off) % 2 == 0 else (t, b) for i, (s, t) in enumerate(zip(*pair))]
            if self.unit == "paragraph":
                texts.append("\n\n".join(x for x, _ in chosen))
            else:
                texts.append("".join((x if i == 0 else (_joiner(lang) + x)) for i, (x, lang) in enumerate(chosen)))
            reasons.append(None)
        out = put(batch, "text", pa.array(texts, pa.string()))
        out = put(out, "mode", pa.array(["alternate"] * batch.num_rows, pa.string()))
        return set_drop_reason(out, pa.array(reasons, pa.string()))


class Packer(_Aligned):
    """Pack a document and its translation into contexts of at most ``max_tokens``."""

    name: ClassVar[str] = "pack"
    expands: ClassVar[bool] = True
    reasons: ClassVar[tuple[str, ...]] = (MISMATCH, "unit_over_budget")

    def __init__(
        self, tokenizer: str, max_tokens: int = 2048, overlap: int = 1, unit: str = "sentence", sep: str = "\n\n"
    ) -> None:
        super().__init__(unit)
        if max_tokens < 1 or overlap < 0:
            raise ValueError("max_tokens must be >= 1 and overlap >= 0")
        self.tokenizer, self.max_tokens, self.overlap, self.sep = tokenizer, int(max_tokens), int(overlap), sep

    def config(self) -> dict[str, Any]:
        return {**super().config(), "tokenizer_digest": file_digest(self.tokenizer)}

    def setup(self) -> None:
        if "_counter" not in self.__dict__:
            self._counter = TokenCounter(self.tokenizer).load()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_counter"}

    def _text(self, s: list[str], t: list[str], a: str, b: str) -> str:
        j_s, j_t = ("\n", "\n") if self.unit == "paragraph" else (_joiner(a), _joiner(b))
        return j_s.join(s) + self.sep + j_t.join(t)

    def windows(self, src: list[str], tgt: list[str], a: str, b: str) -> list[tuple[int, int, str, int]] | None:
        """``(first, last, text, tokens)`` windows covering every unit; None if one unit
        pair alone is over the budget.  The whole pair is one window when it fits."""
        count = self._counter.count
        whole = self._text(src, tgt, a, b)
        n_whole = count([whole])[0]
        if n_whole <= self.max_tokens:
            return [(0, len(src) - 1, whole, n_whole)]
        per = count([s + " " + t for s, t in zip(src, tgt)])
        out = []
        i = 0
        while i < len(src):
            j = i
            est = per[i]
            while j + 1 < len(src) and est + per[j + 1] <= self.max_tokens:
                j += 1
                est += per[j]
            while True:  # the estimate is not exact: verify, shrink if over
                text = self._text(src[i : j + 1], tgt[i : j + 1], a, b)
                n = count([text])[0]
                if n <= self.max_tokens:
                    break
                if j == i:
                    return None
                j -= 1
            out.append((i, j, text, n))
            if j == len(src) - 1:
                break
            i = max(i + 1, j + 1 - self.overlap)
        return out

    def __call__(self, batch: pa.Table) -> pa.Table:
        self.setup()
        sl = batch.column("src_lang").to_pylist()
        tl = batch.column("tgt_lang").to_pylist()
        ids = batch.column("id").to_pylist()
        src_docs = batch.column("src_text").to_pylist()
        tgt_docs = batch.column("tgt_text").to_pylist()
        take, texts, new_ids, n_tokens, chunk, chunks, first, last, reasons = [], [], [], [], [], [], [], [], []
        for r, (pair, a, b) in enumerate(zip(self._pairs(batch), sl, tl)):
            if pair is None and src_docs[r] and tgt_docs[r]:
                # unaligned units: still fine as one context when the whole pair fits
                whole = src_docs[r] + self.sep + tgt_docs[r]
                n_whole = self._counter.count([whole])[0]
                wins = [(0, 0, whole, n_whole)] if n_whole <= self.max_tokens else None
            else:
                wins = None if pair is None else self.windows(pair[0], pair[1], a, b)
            if wins is None:
                take.append(r)
                texts.append(None)
                new_ids.append(ids[r])
                n_tokens.append(None)
                chunk.append(None)
                chunks.append(None)
                first.append(None)
                last.append(None)
                reasons.append(MISMATCH if pair is None else "unit_over_budget")
                continue
            for k, (i, j, text, n) in enumerate(wins):
                take.append(r)
                texts.append(text)
                new_ids.append(ids[r] if len(wins) == 1 else f"{ids[r]}#{k}")
                n_tokens.append(n)
                chunk.append(k)
                chunks.append(len(wins))
                first.append(i)
                last.append(j)
                reasons.append(None)
            self.count("windows", len(wins))
        out = batch.take(pa.array(take, pa.int64()))
        out = put(out, "id", pa.array(new_ids, pa.string()))
        out = put(out, "text", pa.array(texts, pa.string()))
        out = put(out, "tokens", pa.array(n_tokens, pa.int32()))
        out = put(out, "chunk", pa.array(chunk, pa.int32()))
        out = put(out, "chunks", pa.array(chunks, pa.int32()))
        out = put(out, "first_unit", pa.array(first, pa.int32()))
        out = put(out, "last_unit", pa.array(last, pa.int32()))
        out = put(out, "mode", pa.array(["pack"] * len(take), pa.string()))
        return set_drop_reason(out, pa.array(reasons, pa.string()))


class TranslationInstructions(Stage):
    """``Translate ... into {target}:`` + source as the user turn, translation as the answer.

    ``template_lang``: the language the instruction is written in (default: the source);
    ``reverse``: also emit the target-to-source row (one more row per pair).
    """

    name: ClassVar[str] = "translation_instructions"
    #: with ``reverse`` each pair gives two rows
    expands: ClassVar[bool] = True

    def __init__(self, template_lang: str | None = None, templates: str | None = None, reverse: bool = False) -> None:
        self.template_lang, self.templates, self.reverse = template_lang, templates, bool(reverse)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "templates_digest": file_digest(self.templates)}

    def __call__(self, batch: pa.Table) -> pa.Table:
        ids = batch.column("id").to_pylist()
        src = batch.column("src_text").to_pylist()
        tgt = batch.column("tgt_text").to_pylist()
        sl = batch.column("src_lang").to_pylist()
        tl = batch.column("tgt_lang").to_pylist()
        take, msgs, texts, new_ids, directions = [], [], [], [], []
        for r in range(batch.num_rows):
            sides = [(src[r], tgt[r], sl[r], tl[r], "")]
            if self.reverse:
                sides.append((tgt[r], src[r], tl[r], sl[r], "#rev"))
            for s, t, a, b, suffix in sides:
                prompt = render("translate", self.template_lang or a, a, b, self.templates) + "\n\n" + (s or "")
                take.append(r)
                msgs.append([{"role": "user", "content": prompt}, {"role": "assistant", "content": t or ""}])
                texts.append(prompt)
                new_ids.append(ids[r] + suffix)
                directions.append(f"{a}-{b}")
        out = batch.take(pa.array(take, pa.int64()))
        out = put(out, "id", pa.array(new_ids, pa.string()))
        out = put(out, "messages", pa.array(msgs, MESSAGE_TYPE))
        out = put(out, "text", pa.array(texts, pa.string()))
        out = put(out, "direction", pa.array(directions, pa.string()))
        return put(out, "mode", pa.array(["translation-instructions"] * len(take), pa.string()))
