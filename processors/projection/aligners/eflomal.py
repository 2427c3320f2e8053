"""eflomal word alignment (Östling & Tiedemann 2016): a Bayesian HMM+fertility aligner.

It needs no pretrained weights, only parallel text, and gets better with more of it: it
trains on every pair of the run plus optional extra unlabelled parallel text, in both
directions, then the two directions are symmetrised.  Lexical priors (e.g. name matches
from ``NameMatcher``) steer it towards links a small corpus cannot learn.

eflomal is GPL-3.0, so it is an optional extra (``pip install 'babelmill[eflomal]'``),
imported only when an alignment runs.  ``train_and_align`` is a pure function of the
corpus, so a runner can run it as a global step (keys: token lists per shard; global:
train and align all; finish: apply the links per row).
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from babelmill.processors.errors import BabelmillError
from babelmill.processors.projection.aligners.base import Link, Tokens, check_batch, direction_confidence
from babelmill.processors.projection.symmetrize import parse_pharaoh, symmetrize

#: Stand-in token for an empty side, so that line numbers stay aligned in eflomal's files.
_EMPTY = "<empty>"


class MissingExtraError(BabelmillError):
    """An optional dependency is not installed."""


def _import_eflomal():
    try:
        import eflomal
    except ImportError:
        raise MissingExtraError(
            "eflomal is not installed: pip install 'babelmill[eflomal]' (GPL-3.0, optional)"
        ) from None
    return eflomal


def _line(tokens: Tokens) -> str:
    words = [t.replace(" ", "_").replace("\t", "_") or "_" for t in tokens]
    return " ".join(words) if words else _EMPTY


@dataclass(frozen=True)
class EflomalParams:
    """eflomal's own settings (see its README): model 3 = IBM1 + HMM + fertility."""

    model: int = 3
    n_samplers: int = 3
    rel_iterations: float = 1.0
    null_prior: float = 0.2
    source_prefix_len: int = 0
    target_prefix_len: int = 0


def combine_runs(
    runs: Sequence[Sequence[tuple[Sequence[Link], Sequence[Link]]]],
    symmetrization: str = "grow-diag-final-and",
    agreement: float = 0.75,
) -> list[dict[Link, float]]:
    """Scored, symmetrised links from several independent trainings of the same pairs.

    eflomal is a sampler: two trainings of a small corpus disagree on a share of the links
    (rare words, names).  Each direction keeps, per word, the link most runs chose if at
    least ``agreement`` of them chose it (a vote per word keeps a direction one link per
    word; 0.75: 4 of 5 runs, a link the runs disagree on is left to symmetrisation's
    growing step); the voted directions are then symmetrised and scored as one run's
    would be.  One run is returned as it is.
    """
    if not runs:
        return []
    n_runs = len(runs)
    out = []
    for per_run in zip(*runs):
        voted = []
        for side in (0, 1):  # forward links are keyed by target word, reverse by source word
            votes: Counter[Link] = Counter(link for run in per_run for link in set(run[side]))
            best: dict[int, tuple[int, Link]] = {}
            for link, n in sorted(votes.items()):
                key = link[1] if side == 0 else link[0]
                if n >= agreement * n_runs and (key not in best or n > best[key][0]):
                    best[key] = (n, link)
            voted.append(sorted(link for _, link in best.values()))
        links = symmetrize(voted[0], voted[1], symmetrization)
        out.append(direction_confidence(voted[0], voted[1], links))
    return out


def train_and_align(
    pairs: Sequence[tuple[Tokens, Tokens]],
    extra: Iterable[tuple[Tokens, Tokens]] = (),
    priors: Iterable[tuple[str, str, float]] = (),
    params: EflomalParams = EflomalParams(),
) -> list[tuple[list[Link], list[Link]]]:
    """Train eflomal on ``pairs`` + ``extra`` and return (forward, reverse) links of ``pairs``.

    Both directions are given as (source index, target index).  ``priors`` are lexical
    Dirichlet priors ``(source word, target word, alpha)`` (eflomal lowercases words).
    """
    eflomal = _import_eflomal()
    src_lines = [_line(s) for s, _ in pairs]
    tgt_lines = [_line(t) for _, t in pairs]
    for s, t in extra:
        if s and t:
            src_lines.append(_line(s))
            tgt_lines.append(_line(t))
    if not pairs:
        return []
    prior_lines = [f"LEX\t{s}\t{t}\t{alpha:g}" for s, t, alpha in priors if s and t and "\t" not in s + t]
    aligner = eflomal.Aligner(
        model=params.model,
        n_samplers=params.n_samplers,
        rel_iterations=params.rel_iterations,
        null_prior=params.null_prior,
        source_prefix_len=params.source_prefix_len,
        target_prefix_len=params.target_prefix_len,
    )
    with tempfile.TemporaryDirectory(prefix="babelmill-eflomal-") as tmp:
        fwd_path, rev_path = os.path.join(tmp, "fwd"), os.path.join(tmp, "rev")
        aligner.align(
            [line + "\n" for line in src_lines],
            [line + "\n" for line in tgt_lines],
            links_filename_fwd=fwd_path,
            links_filename_rev=rev_path,
            priors_input=prior_lines or None,
        )
        with open(fwd_path, encoding="utf-8") as f:
            fwd = [parse_pharaoh(line) for _, line in zip(range(len(pairs)), f)]
        with open(rev_path, encoding="utf-8") as f:
            rev = [parse_pharaoh(line) for _, line in zip(range(len(pairs)), f)]
    out = []
    for (s, t), f_links, r_links in zip(pairs, fwd, rev):
        keep = lambda links: [(i, j) for i, j in links if i < len(s) and j < len(t)]  # noqa: E731
        out.append((keep(f_links), keep(r_links)))
    return out


@dataclass
class EflomalAligner:
    """Batched eflomal alignment with symmetrisation and optional extra text/priors."""

    symmetrization: str = "grow-diag-final-and"
    extra: Sequence[tuple[Tokens, Tokens]] = ()
    params: EflomalParams = field(default_factory=EflomalParams)
    #: callable(src_tokens_list, tgt_tokens_list) -> [(src word, tgt word, alpha)], e.g.
    #: ``NameMatcher.priors``
    prior_source: object | None = None
    name: str = "eflomal"
    #: independent trainings whose directional links are voted (``combine_runs``): one
    #: training of a small corpus depends on the sampler's luck; runs train in parallel
    runs: int = 1
    #: share of the runs that must agree on a word's link (``combine_runs``)
    agreement: float = 0.75

    def _priors(self, src: Sequence[Tokens], tgt: Sequence[Tokens]) -> list[tuple[str, str, float]]:
        priors = list(self.prior_source(src, tgt)) if self.prior_source is not None else []
        if self.prior_source is not None and self.extra:
            priors += list(self.prior_source([s for s, _ in self.extra], [t for _, t in self.extra]))
        return priors

    def directional(self, src: Sequence[Tokens], tgt: Sequence[Tokens]) -> list[tuple[list[Link], list[Link]]]:
        check_batch(src, tgt)
        return train_and_align(list(zip(src, tgt)), self.extra, self._priors(src, tgt), self.params)

    def directional_runs(
        self, src: Sequence[Tokens], tgt: Sequence[Tokens]
    ) -> list[list[tuple[list[Link], list[Link]]]]:
        """``runs`` independent trainings (each its own eflomal process, run side by side)."""
        check_batch(src, tgt)
        pairs, priors = list(zip(src, tgt)), self._priors(src, tgt)
        if self.runs <= 1:
            return [train_and_align(pairs, self.extra, priors, self.params)]
        from concurrent.futures import ThreadPoolExecutor

        workers = max(1, min(self.runs, os.cpu_count() or 1))
        with ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(train_and_align, pairs, self.extra, priors, self.params) for _ in range(self.runs)]
            return [f.result() for f in futures]

    def align_scored(self, src: Sequence[Tokens], tgt: Sequence[Tokens]) -> list[dict[Link, float]]:
        if self.runs > 1:
            return combine_runs(self.directional_runs(src, tgt), self.symmetrization, self.agreement)
        out = []
        for fwd, rev in self.directional(src, tgt):
            links = symmetrize(fwd, rev, self.symmetrization)
            out.append(direction_confidence(fwd, rev, links))
        return out

    def align(self, src: Sequence[Tokens], tgt: Sequence[Tokens]) -> list[list[Link]]:
        return [sorted(scored) for scored in self.align_scored(src, tgt)]
