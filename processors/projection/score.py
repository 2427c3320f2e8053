"""``score`` projection (T-Projection / Codec idea) on babelmill's own MT engine.

For each source entity, every target n-gram up to a length cap is a candidate; the MT
model scores how well it translates the entity, p(candidate | entity), and, given a model
for the reverse direction, p(entity | candidate).  The mean of the two (length-normalised
log-probabilities) ranks (entity, candidate) pairs, and the best non-overlapping
assignment is kept greedily, highest score first.  It works on the clean translation, so
markers never disturb it, and needs no aligner.
"""

from __future__ import annotations

import math

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from babelmill.processors.ner.spans import Span
from babelmill.processors.projection.ct2words import WordPieces
from babelmill.processors.projection.project import FLAGS, Projection, ProjectedEntity

#: scorer(sources, targets) -> mean log-probability of each target given its source
Scorer = Callable[[list[list[str]], list[list[str]]], list[float]]


@dataclass
class CT2Scorer:
    """Mean per-piece log p(target words | source words) from ``score_batch``."""

    translator: Any  # CTranslate2Translator
    src: str
    tgt: str
    max_batch_size: int = 64

    def __post_init__(self) -> None:
        self._words = WordPieces(self.translator, self.src, self.tgt)

    def __call__(self, sources: list[list[str]], targets: list[list[str]]) -> list[float]:
        wp = self._words
        src_in = [wp.source(s)[0] for s in sources]
        tgt_in = [wp.target_prefix() + wp.encode(t, "tgt")[0] for t in targets]
        results = self.translator._ct2.score_batch(src_in, tgt_in, max_batch_size=self.max_batch_size)
        skip = len(wp.target_prefix())
        out = []
        for res in results:
            lp = res.log_probs[skip:]
            out.append(sum(lp) / max(1, len(lp)))
        return out


@dataclass
class ScoreProjector:
    forward: Scorer  # source language -> target language
    backward: Scorer | None = None  # target -> source, for p(entity | candidate)
    #: candidates have up to ``len(entity) + max_extra`` words
    max_extra: int = 2
    #: assignments scoring below this mean log-probability are refused (entity lost)
    min_score: float = float("-inf")

    def candidates(self, entity_len: int, n_tgt: int) -> list[tuple[int, int]]:
        return [
            (start, start + n)
            for n in range(1, min(n_tgt, entity_len + self.max_extra) + 1)
            for start in range(n_tgt - n + 1)
        ]

    def project(self, src_tokens: Sequence[str], tgt_tokens: Sequence[str], src_spans: Sequence[Span]) -> Projection:
        pairs: list[tuple[int, int, int]] = []
        sources, targets = [], []
        for k, span in enumerate(src_spans):
            entity = list(src_tokens[span.start : span.end])
            for start, end in self.candidates(len(span), len(tgt_tokens)):
                pairs.append((k, start, end))
                sources.append(entity)
                targets.append(list(tgt_tokens[start:end]))
        scores = self.forward(sources, targets) if pairs else []
        if self.backward is not None and pairs:
            back = self.backward(targets, sources)
            scores = [(a + b) / 2 for a, b in zip(scores, back)]
        ranked = sorted(zip(scores, pairs), key=lambda x: (-x[0], x[1]))
        chosen: dict[int, tuple[int, int, float]] = {}
        taken: set[int] = set()
        for score, (k, start, end) in ranked:
            if k in chosen or score < self.min_score or any(j in taken for j in range(start, end)):
                continue
            chosen[k] = (start, end, score)
            taken.update(range(start, end))
        entities, spans = [], []
        for k, span in enumerate(src_spans):
            if k in chosen:
                start, end, score = chosen[k]
                target = Span(start, end, span.label)
                spans.append(target)
                entities.append(ProjectedEntity(span, target, "score", math.exp(score)))  # per-piece probability
            else:
                entities.append(ProjectedEntity(span, None, "lost", 0.0))
        flags = set()
        if len(spans) != len(src_spans):
            flags.update({"entity_lost", "entity_count_mismatch", "type_multiset_mismatch"})
        return Projection(sorted(spans), entities, [f for f in FLAGS if f in flags])
