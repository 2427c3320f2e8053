"""SimAlign (Jalili Sabet et al. 2020): word alignment from multilingual embeddings.

Any local encoder directory works (mBERT, XLM-R, LaBSE, saved with ``save_pretrained``):
sub-word vectors of one hidden layer are compared by cosine similarity, averaged per word
pair, and turned into links by ``argmax`` (mutual best), ``itermax`` (argmax repeated on
words still unaligned) or ``match`` (maximum-weight bipartite matching).  The matching
algorithms are the ``simalign`` package's own; the encoding here is batched and reads the
word-to-sub-word map from the fast tokenizer, so nothing is fetched from a hub.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from babelmill.processors.errors import ModelNotFoundError
from babelmill.processors.projection.aligners.base import Link, Tokens, check_batch

METHODS = ("argmax", "itermax", "match")


@dataclass
class SimAlignAligner:
    model_dir: str | Path
    method: str = "itermax"
    #: hidden layer whose vectors are compared (8 is SimAlign's choice for 12-layer models;
    #: clipped to the model's depth)
    layer: int = 8
    batch_size: int = 32
    #: SimAlign's distortion: penalise links far from the diagonal (0 = off)
    distortion: float = 0.0
    device: str = "cpu"
    name: str = "simalign"
    _model: Any = field(default=None, init=False, repr=False)
    _tokenizer: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"SimAlign method {self.method!r} is not one of {', '.join(METHODS)}")

    def setup(self) -> None:
        if self._model is not None:
            return
        path = Path(self.model_dir)
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(f"no encoder at {path}: pass a local mBERT/XLM-R/LaBSE directory")
        from transformers import AutoModel, AutoTokenizer

        self._tokenizer = AutoTokenizer.from_pretrained(path, use_fast=True)
        self._model = AutoModel.from_pretrained(path, output_hidden_states=True).eval().to(self.device)

    def _embed(self, sents: Sequence[Tokens]) -> list[np.ndarray]:
        """Word vectors (mean of sub-word vectors) per sentence."""
        import torch

        out: list[np.ndarray] = []
        for k in range(0, len(sents), self.batch_size):
            batch = [list(s) if s else ["."] for s in sents[k : k + self.batch_size]]
            enc = self._tokenizer(batch, is_split_into_words=True, padding=True, truncation=True, return_tensors="pt")
            with torch.no_grad():
                hidden = self._model(**{key: v.to(self.device) for key, v in enc.items()}).hidden_states
            layer = hidden[min(self.layer, len(hidden) - 1)].float().cpu().numpy()
            for b, words in enumerate(batch):
                ids = enc.word_ids(b)
                vecs = np.zeros((len(words), layer.shape[-1]), dtype=np.float32)
                counts = np.zeros(len(words), dtype=np.float32)
                for pos, w in enumerate(ids):
                    if w is not None:
                        vecs[w] += layer[b, pos]
                        counts[w] += 1
                # words lost to truncation (or with no sub-word) keep a zero vector
                out.append(vecs / np.maximum(counts, 1)[:, None])
        return out

    def similarity(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        na = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-9)
        nb = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-9)
        sim = (na @ nb.T + 1.0) / 2.0
        if self.distortion and min(sim.shape) > 1:
            from simalign import SentenceAligner

            sim = SentenceAligner.apply_distortion(sim, self.distortion)
        return sim

    def links(self, sim: np.ndarray) -> np.ndarray:
        from simalign import SentenceAligner

        if self.method == "argmax":
            fwd, rev = SentenceAligner.get_alignment_matrix(sim)
            return fwd * rev
        if self.method == "itermax":
            return SentenceAligner.iter_max(sim)
        return SentenceAligner.get_max_weight_match(sim)

    def align_scored(self, src: Sequence[Tokens], tgt: Sequence[Tokens]) -> list[dict[Link, float]]:
        check_batch(src, tgt)
        self.setup()
        src_vecs, tgt_vecs = self._embed(src), self._embed(tgt)
        out = []
        for s, t, a, b in zip(src, tgt, src_vecs, tgt_vecs):
            if not s or not t:
                out.append({})
                continue
            sim = self.similarity(a, b)
            mat = self.links(sim)
            out.append({(int(i), int(j)): float(sim[i, j]) for i, j in zip(*np.nonzero(mat > 0))})
        return out

    def align(self, src: Sequence[Tokens], tgt: Sequence[Tokens]) -> list[list[Link]]:
        return [sorted(d) for d in self.align_scored(src, tgt)]
