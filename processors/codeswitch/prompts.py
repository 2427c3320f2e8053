"""Cross-lingual prompts from parallel instruction data: xICL and xCoT (Chai et al., xCoT).

Both read parallel conversation rows (``roles``, ``src_segments``, ``tgt_segments``: the
output of ``babelmill instruct translate`` through the parallel reader): the *question*
is the first user turn, the *answer* the last assistant turn.  Rows without a
conversation are rejected (``no_conversation``).

* ``xicl``: a k-shot prompt whose demonstrations (question and answer of other rows of
  the same input batch, chosen by the seeded row generator) have fragments switched into
  the target language (aligned sentences replaced by their translation; a turn whose
  sentences do not line up is switched whole), followed by the row's own question in
  the target language; the answer is the target-language answer.
* ``xcot``: the question in one language with a per-language instruction (``langs/
  templates.yaml`` or a user file) asking for step-by-step reasoning and the answer in
  the other; the answer is that side's answer.

Every row records ``ratio_target``, ``ratio`` (xicl: share of the demonstrations' words
in the target language; xcot: share of the conversation's words in the target
language), ``spans`` and the mixing metrics of the prompt and answer together.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

import pyarrow as pa

from babelmill.langs.templates import render
from babelmill.processors.base import Stage, set_drop_reason
from babelmill.processors.codeswitch.core import SPAN_TYPE, UNIVERSAL, file_digest, row_rng
from babelmill.processors.codeswitch.metrics import utterance_metrics
from babelmill.processors.codeswitch.stages import put
from babelmill.processors.io.parallel import sentence_pairs
from babelmill.processors.schema import MESSAGE_TYPE

_TOKEN = re.compile(r"\w+(?:['’\-]\w+)*|[^\w\s]")
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")


def _qa(roles: Sequence[str] | None, segs: Sequence[str] | None) -> tuple[str, str] | None:
    if not roles or not segs:
        return None
    q = next((s for r, s in zip(roles, segs) if r == "user"), None)
    a = next((s for r, s in zip(reversed(roles), reversed(segs)) if r == "assistant"), None)
    return (q, a) if q and a else None


class _Prompt:
    """A prompt assembled from pieces, each with its language; token labels (for the
    metrics) are computed once per piece, as it is added."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self._labels: list[str] = []

    def add(self, text: str, lang: str) -> int:
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        if lang != UNIVERSAL:
            for m in _TOKEN.finditer(text):
                tok = m.group()
                self._labels.append(
                    lang if tok.isalpha() or (_LETTER.search(tok) and not _DIGIT.search(tok)) else UNIVERSAL
                )
        return start

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def labels(self) -> list[str]:
        """Language labels of the language-dependent tokens added so far (separators and
        other independent tokens are left out: no metric counts them)."""
        return [x for x in self._labels if x != UNIVERSAL]


def _metrics(labels: list[str]) -> dict[str, Any]:
    m = utterance_metrics(labels)
    return {
        "cmi": m.cmi,
        "cmi_2016": m.cmi_2016,
        "m_index": m.m_index,
        "i_index": m.i_index,
        "switch_points": m.switch_points,
        "burstiness": m.burstiness,
    }


def _finish(
    batch: pa.Table, mode: str, rows: list[dict[str, Any] | None], reasons: list[str | None], ratio_target: float | None
) -> pa.Table:
    n = batch.num_rows
    get = lambda key, default=None: [default if r is None else r[key] for r in rows]  # noqa: E731
    out = put(batch, "messages", pa.array(get("messages"), MESSAGE_TYPE))
    out = put(out, "text", pa.array(get("text", ""), pa.string()))
    out = put(out, "source_text", pa.array(get("source_text", ""), pa.string()))
    out = put(out, "mode", pa.array([mode] * n, pa.string()))
    out = put(out, "ratio_target", pa.array([ratio_target] * n, pa.float32()))
    out = put(out, "ratio", pa.array(get("ratio", 0.0), pa.float32()))
    out = put(out, "spans", pa.array(get("spans", []), SPAN_TYPE))
    for key, typ in (
        ("cmi", pa.float32()),
        ("cmi_2016", pa.float32()),
        ("m_index", pa.float32()),
        ("i_index", pa.float32()),
        ("switch_points", pa.int32()),
        ("burstiness", pa.float32()),
    ):
        out = put(out, key, pa.array([None if r is None else r["metrics"][key] for r in rows], typ))
    return set_drop_reason(out, pa.array(reasons, pa.string()))


def _ratio(labels: list[str], tgt: str) -> float:
    words = [x for x in labels if x != UNIVERSAL]
    return sum(1 for x in words if x == tgt) / len(words) if words else 0.0


class CrossLingualICL(Stage):
    """k-shot prompts with code-switched demonstrations and a target-language query."""

    name: ClassVar[str] = "xicl"
    reasons: ClassVar[tuple[str, ...]] = ("no_conversation",)

    def __init__(self, shots: int = 3, ratio: float = 0.3, seed: int = 1, templates: str | None = None) -> None:
        self.shots, self.ratio, self.seed, self.templates = int(shots), float(ratio), int(seed), templates

    def config(self) -> dict[str, Any]:
        return {**super().config(), "templates_digest": file_digest(self.templates)}

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_pairs"}

    def _switch(
        self,
        rng: Any,
        src: str,
        tgt: str,
        src_lang: str,
        tgt_lang: str,
        prompt: _Prompt,
        demo: int,
        spans: list[dict[str, Any]],
    ) -> None:
        """Append ``src`` to the prompt with a ``ratio`` share of its sentences in ``tgt``.

        Spans: ``segment`` is ``2 * demo`` for a demonstration's question and
        ``2 * demo + 1`` for its answer; ``start``/``end`` are offsets in that source text,
        ``out_start``/``out_end`` in the prompt."""
        key = (src, tgt, src_lang, tgt_lang)
        if key not in self._pairs:  # a row serves as a demonstration ~k times per batch
            self._pairs[key] = sentence_pairs([src], [tgt], src_lang, tgt_lang)
        pairs = self._pairs[key]
        if pairs is None:
            pieces = [(src, tgt)]
        else:
            pieces = list(zip(*pairs))
        pos = 0
        for i, (s, t) in enumerate(pieces):
            if i:
                prompt.add(" ", UNIVERSAL)
            at = src.find(s, pos)
            start, pos = (at, at + len(s)) if at >= 0 else (pos, pos)
            if rng.random() < self.ratio:
                o = prompt.add(t, tgt_lang)
                spans.append(
                    {
                        "segment": demo,
                        "start": start,
                        "end": start + len(s),
                        "source": s,
                        "out_start": o,
                        "out_end": o + len(t),
                        "replacement": t,
                        "lang": tgt_lang,
                        "method": "xicl-sentence" if pairs else "xicl-turn",
                    }
                )
            else:
                prompt.add(s, src_lang)

    def __call__(self, batch: pa.Table) -> pa.Table:
        self._pairs: dict[tuple[str, str, str, str], Any] = {}
        n = batch.num_rows
        ids = batch.column("id").to_pylist()
        roles = batch.column("roles").to_pylist()
        srcs = batch.column("src_segments").to_pylist()
        tgts = batch.column("tgt_segments").to_pylist()
        sl = batch.column("src_lang").to_pylist()
        tl = batch.column("tgt_lang").to_pylist()
        qa_src = [_qa(r, s) for r, s in zip(roles, srcs)]
        qa_tgt = [_qa(r, t) for r, t in zip(roles, tgts)]
        by_lang: dict[str, list[int]] = {}
        for i in range(n):
            if qa_src[i] and qa_tgt[i]:
                by_lang.setdefault(tl[i], []).append(i)
        where = {i: k for members in by_lang.values() for k, i in enumerate(members)}
        rows: list[dict[str, Any] | None] = []
        reasons: list[str | None] = []
        for i in range(n):
            if not (qa_src[i] and qa_tgt[i]):
                rows.append(None)
                reasons.append("no_conversation")
                continue
            rng = row_rng(self.seed, ids[i])
            # k other rows of the batch with the same target (sampled without building the
            # pool minus this row: O(k) per row, not O(batch))
            pool = by_lang[tl[i]]
            me = where[i]
            picks = rng.sample(range(len(pool) - 1), min(self.shots, len(pool) - 1))
            demos = [pool[k + 1] if k >= me else pool[k] for k in picks]
            prompt = _Prompt()
            spans: list[dict[str, Any]] = []
            for d, j in enumerate(demos):
                (qs, as_), (qt, at) = qa_src[j], qa_tgt[j]
                prompt.add("Q: ", UNIVERSAL)
                self._switch(rng, qs, qt, sl[j], tl[j], prompt, 2 * d, spans)
                prompt.add("\nA: ", UNIVERSAL)
                self._switch(rng, as_, at, sl[j], tl[j], prompt, 2 * d + 1, spans)
                prompt.add("\n\n", UNIVERSAL)
            demo_labels = prompt.labels()
            prompt.add(render("xicl", tl[i], sl[i], tl[i], self.templates), tl[i])
            prompt.add("\nQ: ", UNIVERSAL)
            prompt.add(qa_tgt[i][0], tl[i])
            prompt.add("\nA:", UNIVERSAL)
            answer = qa_tgt[i][1]
            labels = prompt.labels()
            full = _Prompt()
            full.add(answer, tl[i])
            self.count("demonstrations", len(demos))
            rows.append(
                {
                    "messages": [{"role": "user", "content": prompt.text}, {"role": "assistant", "content": answer}],
                    "text": prompt.text,
                    "source_text": qa_src[i][0],
                    "ratio": _ratio(demo_labels, tl[i]),
                    "spans": spans,
                    "metrics": _metrics(labels + full.labels()),
                }
            )
            reasons.append(None)
        return _finish(batch, "xicl", rows, reasons, self.ratio)


class CrossLingualCoT(Stage):
    """Ask in one language, answer (with reasoning) in the other.

    ``ask``: ``src`` poses the source question and answers with the target answer;
    ``tgt`` the reverse.  The instruction is written in the question's language.
    """

    name: ClassVar[str] = "xcot"
    reasons: ClassVar[tuple[str, ...]] = ("no_conversation",)

    def __init__(self, ask: str = "src", templates: str | None = None) -> None:
        if ask not in ("src", "tgt"):
            raise ValueError("ask must be 'src' or 'tgt'")
        self.ask, self.templates = ask, templates

    def config(self) -> dict[str, Any]:
        return {**super().config(), "templates_digest": file_digest(self.templates)}

    def __call__(self, batch: pa.Table) -> pa.Table:
        roles = batch.column("roles").to_pylist()
        srcs = batch.column("src_segments").to_pylist()
        tgts = batch.column("tgt_segments").to_pylist()
        sl = batch.column("src_lang").to_pylist()
        tl = batch.column("tgt_lang").to_pylist()
        rows: list[dict[str, Any] | None] = []
        reasons: list[str | None] = []
        for r, s, t, a, b in zip(roles, srcs, tgts, sl, tl):
            qs, qt = _qa(r, s), _qa(r, t)
            if not (qs and qt):
                rows.append(None)
                reasons.append("no_conversation")
                continue
            (q_lang, q), (ans_lang, ans) = ((a, qs[0]), (b, qt[1])) if self.ask == "src" else ((b, qt[0]), (a, qs[1]))
            prompt = _Prompt()
            prompt.add(render("xcot", q_lang, q_lang, ans_lang, self.templates), q_lang)
            prompt.add("\n\n", UNIVERSAL)
            prompt.add(q, q_lang)
            answer = _Prompt()
            answer.add(ans, ans_lang)
            labels = prompt.labels() + answer.labels()
            rows.append(
                {
                    "messages": [{"role": "user", "content": prompt.text}, {"role": "assistant", "content": ans}],
                    "text": prompt.text,
                    "source_text": qs[0],
                    "ratio": _ratio(labels, b),
                    "spans": [],
                    "metrics": _metrics(labels),
                }
            )
            reasons.append(None)
        return _finish(batch, "xcot", rows, reasons, None)  # no switch ratio is asked for
