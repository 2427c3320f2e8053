"""Code-mixing metrics of one utterance (a list of language-labelled tokens) and of a corpus.

Notation, per utterance: ``n`` tokens, ``u`` of them language-independent (labels such as
``univ``, ``ne``, ``undef``, ``mixed``: punctuation, names, numbers, ...), ``N = n - u``
language tokens, ``w_i`` tokens of language ``i``, ``P`` switch points: positions where the
language of two consecutive *language* tokens differs (independent tokens are skipped,
so ``en univ hi`` is one switch).

* **CMI** (Das & Gambäck 2014): ``CMI = 100 * (1 - max_i w_i / (n - u))``, and 0 when
  ``n == u``.  0: monolingual; 50: two languages in equal parts.
* **CMI 2016, utterance form** (Gambäck & Das 2016, weights ½ and ½):
  ``C_u = 100 * (½ (N - max_i w_i) + ½ P) / N``, 0 when ``N == 0``: it also counts how
  often the language changes, not only how much of each there is.
* **M-index** (Barnett et al. 2000, as used by Guzmán et al. 2017): with ``p_j`` the share of
  language ``j`` among the language tokens and ``k`` languages,
  ``M = (1 - Σ p_j²) / ((k - 1) Σ p_j²)``; 0 for one language (``k <= 1``), 1 for equal shares.
  Per utterance ``k`` is the number of languages present; a corpus's ``k`` is the number of
  languages in the corpus.
* **I-index** (Guzmán et al. 2017): switch points over possible switch points,
  ``I = P / (N - 1)``; 0 when ``N <= 1``.  For a corpus: ``Σ P / Σ max(N - 1, 0)``.
* **Burstiness** (Goh & Barabási 2008, applied to code-switching by Guzmán et al. 2017): over
  the lengths ``τ`` (in language tokens) of the monolingual spans, with mean ``m`` and
  standard deviation ``σ`` (population), ``B = (σ - m) / (σ + m)``: -1 periodic, 0 random
  (Poisson), towards 1 bursty.  For a corpus the spans of every utterance are pooled.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

#: Labels that mark a token as language-independent by default (ICON / LinCE / EMNLP
#: shared-task conventions); ``codeswitch stats --independent`` replaces the set.
DEFAULT_INDEPENDENT: frozenset[str] = frozenset(
    {"univ", "ne", "undef", "mixed", "other", "ambiguous", "unk", "und", "x", "punct", "sym", "num", "emt", "acro"}
)


@dataclasses.dataclass
class UtteranceMetrics:
    """Every metric of one utterance, plus the counts a corpus total is built from."""

    tokens: int
    independent: int
    counts: dict[str, int]
    switch_points: int
    spans: list[int]
    cmi: float
    cmi_2016: float
    m_index: float
    i_index: float
    burstiness: float | None

    @property
    def language_tokens(self) -> int:
        return self.tokens - self.independent


def language_spans(langs: Sequence[str | None]) -> list[int]:
    """Lengths of the runs of one language (independent tokens removed first)."""
    spans: list[int] = []
    prev = None
    for lang in langs:
        if lang is None:
            continue
        if lang == prev:
            spans[-1] += 1
        else:
            spans.append(1)
            prev = lang
    return spans


def cmi(counts: dict[str, int], n: int, u: int) -> float:
    """Das & Gambäck 2014: ``100 * (1 - max_i w_i / (n - u))``; 0 when ``n == u``."""
    if n <= u or not counts:
        return 0.0
    return 100.0 * (1.0 - max(counts.values()) / (n - u))


def cmi_2016(counts: dict[str, int], language_tokens: int, switch_points: int) -> float:
    """Gambäck & Das 2016 utterance form: ``100 * (½ (N - max w_i) + ½ P) / N``."""
    if language_tokens <= 0 or not counts:
        return 0.0
    return 100.0 * (0.5 * (language_tokens - max(counts.values())) + 0.5 * switch_points) / language_tokens


def m_index(counts: dict[str, int], k: int | None = None) -> float:
    """Barnett et al. 2000: ``(1 - Σ p²) / ((k - 1) Σ p²)``; 0 for ``k <= 1``."""
    total = sum(counts.values())
    k = len([c for c in counts.values() if c > 0]) if k is None else k
    if total == 0 or k <= 1:
        return 0.0
    s = sum((c / total) ** 2 for c in counts.values())
    return (1.0 - s) / ((k - 1) * s)


def i_index(switch_points: int, language_tokens: int) -> float:
    """Guzmán et al. 2017: ``P / (N - 1)``; 0 when ``N <= 1``."""
    return switch_points / (language_tokens - 1) if language_tokens > 1 else 0.0


def burstiness(spans: Sequence[int]) -> float | None:
    """Goh & Barabási 2008: ``(σ - m) / (σ + m)`` of the span lengths; None without spans."""
    if not spans:
        return None
    m = sum(spans) / len(spans)
    sd = math.sqrt(sum((x - m) ** 2 for x in spans) / len(spans))
    return (sd - m) / (sd + m) if sd + m > 0 else None


def utterance_metrics(labels: Sequence[str], independent: Iterable[str] = DEFAULT_INDEPENDENT) -> UtteranceMetrics:
    """All metrics of one utterance from its tokens' language labels."""
    indep = independent if isinstance(independent, frozenset) else frozenset(x.lower() for x in independent)
    counts: Counter = Counter()
    spans: list[int] = []
    prev = None
    u = 0
    for lab in labels:
        lang = lab.lower() if lab else None
        if lang is None or lang in indep:
            u += 1
            continue
        counts[lang] += 1
        if lang == prev:
            spans[-1] += 1
        else:
            spans.append(1)
            prev = lang
    n = len(labels)
    points = max(len(spans) - 1, 0)
    big_n = n - u
    return UtteranceMetrics(
        tokens=n,
        independent=u,
        counts=dict(counts),
        switch_points=points,
        spans=spans,
        cmi=cmi(counts, n, u),
        cmi_2016=cmi_2016(counts, big_n, points),
        m_index=m_index(counts),
        i_index=i_index(points, big_n),
        burstiness=burstiness(spans),
    )


def corpus_metrics(utterances: Iterable[UtteranceMetrics]) -> dict[str, Any]:
    """Corpus summary: means of the per-utterance CMI, corpus M-index / I-index / burstiness.

    ``cmi_mean`` averages over every utterance, ``cmi_mean_mixed`` over those with CMI > 0
    (the two figures Das & Gambäck report); ``m_index`` uses the corpus's language
    counts with ``k`` = languages in the corpus; ``i_index`` is ``Σ P / Σ max(N - 1, 0)``
    (switch points never span two utterances); ``burstiness`` pools the monolingual
    spans of all utterances.  ``*_utterance_mean``: the per-utterance values averaged.
    """
    n_utt = 0
    cmis: list[float] = []
    cmis16: list[float] = []
    points: list[int] = []
    counts: Counter = Counter()
    spans: list[int] = []
    possible = 0
    tokens = independent = 0
    m_per: list[float] = []
    i_per: list[float] = []
    for m in utterances:
        m_per.append(m.m_index)
        i_per.append(m.i_index)
        n_utt += 1
        cmis.append(m.cmi)
        cmis16.append(m.cmi_2016)
        points.append(m.switch_points)
        counts.update(m.counts)
        spans.extend(m.spans)
        possible += max(m.language_tokens - 1, 0)
        tokens += m.tokens
        independent += m.independent
    mixed = [c for c in cmis if c > 0]
    b = burstiness(spans)
    return {
        "utterances": n_utt,
        "tokens": tokens,
        "independent_tokens": independent,
        "languages": dict(counts.most_common()),
        "cmi_mean": sum(cmis) / n_utt if n_utt else 0.0,
        "cmi_mean_mixed": sum(mixed) / len(mixed) if mixed else 0.0,
        "mixed_utterances": len(mixed),
        "cmi_2016_mean": sum(cmis16) / n_utt if n_utt else 0.0,
        "m_index": m_index(dict(counts)),
        "i_index": sum(points) / possible if possible else 0.0,
        "switch_points_mean": sum(points) / n_utt if n_utt else 0.0,
        "switch_points": sum(points),
        "burstiness": 0.0 if b is None else b,
        "span_mean": sum(spans) / len(spans) if spans else 0.0,
        # per-utterance means, for comparison with tools that average instead of pooling
        "m_index_utterance_mean": sum(m_per) / n_utt if n_utt else 0.0,
        "i_index_utterance_mean": sum(i_per) / n_utt if n_utt else 0.0,
    }


def switch_density_histogram(utterances: Iterable[UtteranceMetrics], bins: int = 20) -> list[int]:
    """Histogram over [0, 1] of each utterance's minority-language share (``CMI / 100``
    for two languages): what ``--match-stats`` samples a row's switch ratio from."""
    hist = [0] * bins
    for m in utterances:
        if m.language_tokens == 0:
            continue
        share = 1.0 - max(m.counts.values()) / m.language_tokens
        hist[min(int(share * bins), bins - 1)] += 1
    return hist
