"""heliport LID backend: HeLI-OTS in Rust, its models inside the wheel (no download).

Strong where lid.176 is weak (Yoruba, Somali, Igbo, Zulu, Luganda, Shona, Lingala, Twi,
Ewe, Fon, Luo), but it names some groups only by their macrolanguage (``hbs`` for
Croatian/Bosnian/Serbian, ``msa`` for Malay/Indonesian): those answers stay the macro
code, and ``LanguageIdentifier`` decides whether one satisfies a member target.

Scores.  HeLI scores a text per language as the mean negative log10 probability of its
features (lower is better); its confidence is the gap between the best and the runner-up.
``lang_score`` turns that gap into the top answer's share of the two, ``1 / (1 +
10**-gap)`` (0.5: a tie, 0.99: two orders of magnitude), and the top-k scores are each
answer's probability relative to the top two on the same scale.  The threshold of a
language is heliport's own per-language confidence floor on that scale (where its CLI
would answer ``und``).

Batching.  The column goes through ``par_identify_with_score`` (all cores, one call).
With ``top_k > 1`` the runner-ups are ranked by ``identify_topk_with_score`` (one Rust
call per text, on one core) only for texts whose top answer leads by less than
``ALT_GAP``; elsewhere every other answer has under 1% of the top one's probability, and
the top-k list holds the top answer alone, as fastText's ``predict(threshold=...)`` leaves
out answers below its floor.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any, ClassVar

import numpy as np
import polars as pl
import pyarrow as pa

from babelmill.langs import coverage
from babelmill.processors.errors import BabelmillError
from babelmill.processors.lid.common import LanguageIdentifier, Prediction, list_arrays


def gap_to_score(gap: np.ndarray | float) -> np.ndarray:
    """HeLI confidence (log10 gap to the runner-up) -> share of the top answer in (0.5, 1]."""
    return 1.0 / (1.0 + np.power(10.0, -np.maximum(np.asarray(gap, dtype=np.float64), 0.0)))


@functools.cache
def load_identifier() -> Any:
    """One heliport model per process (2 s and ~1 GB to load; read-only afterwards)."""
    try:
        import heliport
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise BabelmillError("the heliport LID backend needs the heliport package (pip install heliport)") from exc
    return heliport.Identifier()


@functools.cache
def heliport_labels() -> tuple[str, ...]:
    """Every label the shipped heliport model can answer (its full ranking of one text)."""
    return tuple(label for label, _ in load_identifier().identify_topk_with_score("label list", 10_000))


class HeliportLanguageIdentifier(LanguageIdentifier):
    """heliport backend; the decisions are ``LanguageIdentifier``'s."""

    name: ClassVar[str] = "lid"
    backend: ClassVar[str] = "heliport"
    #: runner-ups are listed only for texts whose top answer leads by less than this
    #: (log10): 2.0 leaves out answers under 1% of the top one's probability
    ALT_GAP: ClassVar[float] = 2.0

    def __init__(
        self,
        target_langs: list[str] | None = None,
        top_k: int = 3,
        threshold: float | None = None,
        script_check: bool = True,
        line_level: bool = False,
        min_script_frac: float = 0.5,
        accept_macro: bool = False,
    ) -> None:
        super().__init__(target_langs, top_k, threshold, script_check, line_level, min_script_frac, accept_macro)
        self._model: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_model"] = None  # reloaded per worker in setup()
        return state

    def config(self) -> dict[str, Any]:
        cfg = super().config()
        import importlib.metadata

        cfg["heliport_version"] = importlib.metadata.version("heliport")
        return cfg

    def setup(self) -> None:
        if self._model is not None:
            return
        model = load_identifier()
        labels = heliport_labels()
        codes = {coverage.heliport_code(label): label for label in labels}
        if self.target_langs is not None:
            missing = [
                c
                for c in self.target_langs
                if c not in codes and not any(c in coverage.MACROLANGUAGES.get(label, ()) for label in labels)
            ]
            if missing:
                raise BabelmillError(
                    f"heliport has no label for {', '.join(missing)}; use --lid-backend fasttext, or --lid-model PATH to a GlotLID or OpenLID model"
                )
        # code -> heliport's confidence floor as a score (0 where it has none)
        self._floors = {
            code: float(gap_to_score(model.get_confidence(label) or 0.0)) for code, label in codes.items() if code
        }
        self._mapping = {label: coverage.heliport_code(label) for label in labels}
        self._model = model

    def threshold_for(self, backend: str, code: str) -> float:
        return self._floors.get(code, 0.5)

    def _codes(self, raw: pl.Series) -> pl.Series:
        uniques = raw.unique().drop_nulls().to_list()
        mapping = self._mapping
        return raw.replace_strict(
            uniques, [mapping.get(u, coverage.heliport_code(u)) for u in uniques], default=None, return_dtype=pl.String
        )

    def predict(self, texts: pl.Series, k: int | None = None) -> Prediction:
        self.setup()
        k = k or self.top_k
        lines = texts.fill_null("").str.replace_all("\n", " ", literal=True).to_list()
        n = len(lines)
        backend = pl.repeat(self.backend, n, dtype=pl.String, eager=True)
        top1, gap = self._predict_top1(lines, backend)
        if k == 1:
            return top1
        # runner-ups are ranked only where one can matter: a gap of ALT_GAP means the
        # second answer has under 1% of the first's probability, so the list is the top one
        close = np.flatnonzero(gap < self.ALT_GAP)
        if not len(close):
            return top1
        ranked = self._predict_ranked([lines[i] for i in close], k, backend.head(len(close)))
        lang = top1.lang.scatter(close, ranked.lang)
        score = top1.score.copy()
        score[close] = ranked.score
        index = np.arange(n)
        index[close] = n + np.arange(len(close))
        labels = pa.concat_arrays([top1.labels, ranked.labels]).take(pa.array(index))
        scores = pa.concat_arrays([top1.scores, ranked.scores]).take(pa.array(index))
        return Prediction(lang, score, labels, scores, backend)

    def _predict_ranked(self, lines: list[str], k: int, backend: pl.Series) -> Prediction:
        """Top-k answers per text: one ``identify_topk_with_score`` call each."""
        n = len(lines)
        ranked = [self._model.identify_topk_with_score(t, max(k, 2)) for t in lines]
        lengths = np.fromiter((min(len(r), k) for r in ranked), dtype=np.int32, count=n)
        flat_raw = pl.Series([label for r in ranked for label, _ in r[:k]], dtype=pl.String)
        raw_scores = np.fromiter(
            itertools.chain.from_iterable((s for _, s in r[:k]) for r in ranked),
            dtype=np.float64,
            count=int(lengths.sum()),
        )
        best = np.fromiter((r[0][1] for r in ranked), dtype=np.float64, count=n)
        gap = np.fromiter(((r[1][1] - r[0][1]) if len(r) > 1 else 7.0 for r in ranked), dtype=np.float64, count=n)
        # each answer relative to the top two: p_i = 10**-(s_i - s_1) * p_1
        top = gap_to_score(gap)
        rows = np.repeat(np.arange(n), lengths)
        flat_scores = (np.power(10.0, -(raw_scores - best[rows])) * top[rows]).astype(np.float32)
        flat_codes = self._codes(flat_raw)
        starts = np.zeros(n, dtype=np.int64)
        if n:
            starts[1:] = np.cumsum(lengths)[:-1]
        lang = flat_codes.gather(starts) if n else pl.Series([], dtype=pl.String)
        score = np.where(lang.is_null().to_numpy(), 0.0, top).astype(np.float32) if n else np.zeros(0, np.float32)
        # no-language answers (zxx: no letters) leave the lists
        keep = flat_codes.is_not_null().to_numpy()
        if not keep.all():
            flat_codes, flat_scores = flat_codes.filter(pl.Series(keep)), flat_scores[keep]
            lengths = np.bincount(rows[keep], minlength=n).astype(np.int32)
        labels, scores = list_arrays(flat_codes, flat_scores, lengths)
        return Prediction(lang.alias("lang"), score, labels, scores, backend)

    def _predict_top1(self, lines: list[str], backend: pl.Series) -> tuple[Prediction, np.ndarray]:
        """One parallel call with confidence; texts below heliport's floor come back as
        ``und`` and get their label from a second parallel call without the floor.  Also
        returns each text's gap to the runner-up (log10)."""
        answers = self._model.par_identify_with_score(lines)
        raw = [a[0] for a in answers]
        gap = np.fromiter((a[1] for a in answers), dtype=np.float64, count=len(answers))
        und = [i for i, label in enumerate(raw) if label == "und"]
        if und:
            for i, (label, _) in zip(
                und, self._model.par_identify_with_score([lines[i] for i in und], ignore_confidence=True), strict=True
            ):
                raw[i] = label
        lang = self._codes(pl.Series("lang", raw, dtype=pl.String))
        score = np.where(lang.is_null().to_numpy(), 0.0, gap_to_score(gap)).astype(np.float32)
        ones = np.where(lang.is_null().to_numpy(), 0, 1).astype(np.int32)
        labels, scores = list_arrays(lang.drop_nulls(), score[ones.astype(bool)], ones)
        return Prediction(lang, score, labels, scores, backend), gap
