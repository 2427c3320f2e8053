"""Alignment from the MT model's own cross-attention (CTranslate2 ``return_attention``).

The target sentence is forced as the decoding prefix, so the model attends from each
given target piece to the source pieces; attention is summed over a word's source
pieces and averaged over its target pieces, giving a target-word x source-word matrix.
Each direction's argmax gives directional links, symmetrised like eflomal's.  No extra
model is needed: the one that translated the sentence aligns it, which also makes this
the natural aligner for the ``align`` method's own translations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from babelmill.processors.projection.aligners.base import Link, Tokens, check_batch
from babelmill.processors.projection.ct2words import WordPieces
from babelmill.processors.projection.symmetrize import symmetrize


@dataclass
class AttentionAligner:
    translator: Any  # CTranslate2Translator
    src: str
    tgt: str
    symmetrization: str = "intersection"
    batch_size: int = 16
    name: str = "attention"
    _words: WordPieces | None = field(default=None, init=False, repr=False)

    def matrices(self, src: Sequence[Tokens], tgt: Sequence[Tokens]) -> list[np.ndarray]:
        """Attention mass, one (len(tgt words) x len(src words)) matrix per pair."""
        check_batch(src, tgt)
        if self._words is None:
            self._words = WordPieces(self.translator, self.src, self.tgt)
        wp = self._words
        prefix = wp.target_prefix()
        out: list[np.ndarray] = []
        for k in range(0, len(src), self.batch_size):
            chunk = list(zip(src[k : k + self.batch_size], tgt[k : k + self.batch_size]))
            sources, src_owner, targets, tgt_owner = [], [], [], []
            for s, t in chunk:
                pieces, owner = wp.source(s)
                sources.append(pieces)
                src_owner.append(np.array(owner))
                t_pieces, t_owner = wp.encode(t, "tgt")
                targets.append(prefix + t_pieces)
                tgt_owner.append(t_owner)
            results = self.translator._ct2.translate_batch(
                sources,
                target_prefix=targets,
                return_attention=True,
                beam_size=1,
                max_decoding_length=max(map(len, targets)) + 1,
            )
            for (s, t), res, s_own, t_own in zip(chunk, results, src_owner, tgt_owner):
                att = np.asarray(res.attention[0], dtype=np.float32)[len(prefix) : len(prefix) + len(t_own)]
                mat = np.zeros((len(t), len(s)), dtype=np.float32)
                counts = np.zeros(len(t), dtype=np.float32)
                for row, j in zip(att, t_own):
                    for i in range(len(s)):
                        mat[j, i] += row[: len(s_own)][s_own == i].sum()
                    counts[j] += 1
                out.append(mat / np.maximum(counts, 1)[:, None])
        return out

    def align_scored(self, src: Sequence[Tokens], tgt: Sequence[Tokens]) -> list[dict[Link, float]]:
        out = []
        for s, t, mat in zip(src, tgt, self.matrices(src, tgt)):
            if not s or not t:
                out.append({})
                continue
            # target word j -> its most attended source word; source word i -> the
            # target word attending to it most
            rev = [(int(mat[j].argmax()), j) for j in range(len(t))]
            fwd = [(i, int(mat[:, i].argmax())) for i in range(len(s))]
            links = symmetrize(fwd, rev, self.symmetrization)
            out.append({(i, j): float(mat[j, i]) for i, j in links})
        return out

    def align(self, src: Sequence[Tokens], tgt: Sequence[Tokens]) -> list[list[Link]]:
        return [sorted(d) for d in self.align_scored(src, tgt)]
