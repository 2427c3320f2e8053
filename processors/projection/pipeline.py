"""The stages the ``project`` job composes around the aligners and projectors.

One NER row per target language (``TargetExpander``) goes through:

* :class:`ProjectionSource` - keeps the source sentence (``src_tokens``/``src_tags``) and
  writes it as running text (``src_text``) for the MT model;
* MT (``TextTranslator`` over ``src_text``) and :class:`TargetTokenizer` (the target
  language's tokenizer from ``langs``), or :class:`GivenTarget` (an existing target side,
  ``parallel``);
* alignment: :class:`EflomalGlobalAlign` (a ``GlobalStage``: eflomal trains on every pair
  of the run) or :class:`WordAlignStage` (SimAlign, the MT model's attention);
* :class:`PairwiseProjectSpans` (``SpanProjector`` per language pair, quality flags as
  drop reasons) or :class:`ScoreProjectStage` (the ``score`` method);
* :class:`ProjectedRows` - target tokens become the row's ``tokens``, ``lang`` the target.

Nothing here imports a job; every stage runs on a plain Arrow table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from babelmill.processors.base import DROP_REASON, GlobalStage, GlobalStep, Resources, Stage, set_drop_reason
from babelmill.processors.ner.spans import Span
from babelmill.processors.projection.markers import join_tokens
from babelmill.processors.projection.project import FLAGS, Projection, SpanProjector
from babelmill.processors.projection.stages import ALIGNMENT, ProjectSpansStage, _links_column
from babelmill.processors.schema import PROJECTION_TYPE

TOKENS = pa.list_(pa.string())
#: a row whose target side is empty (MT gave nothing, or the given target line is blank)
EMPTY_TARGET = "empty_translation"
#: a row of ``parallel`` whose source sentence has no target sentence
NO_TARGET = "no_target"


def _put(batch: pa.Table, name: str, column: Any) -> pa.Table:
    if name in batch.column_names:
        return batch.set_column(batch.column_names.index(name), name, column)
    return batch.append_column(name, column)


def _strings(batch: pa.Table, name: str, default: str | None = None) -> list[str | None]:
    if name not in batch.column_names:
        return [default] * batch.num_rows
    return [v or default for v in batch.column(name).cast(pa.string()).to_pylist()]


def _groups(keys: Sequence[Any]) -> dict[Any, list[int]]:
    out: dict[Any, list[int]] = {}
    for i, key in enumerate(keys):
        out.setdefault(key, []).append(i)
    return out


def _by_groups(batch: pa.Table, keys: Sequence[Any], fn: Callable[[Any, pa.Table], pa.Table]) -> pa.Table:
    """``fn`` on each group of rows sharing a key, the rows put back in their order."""
    groups = _groups(keys)
    if len(groups) <= 1:
        return fn(next(iter(groups), None), batch)
    order = [i for rows in groups.values() for i in rows]
    parts = [fn(key, batch.take(pa.array(rows, pa.int64()))) for key, rows in groups.items()]
    out = pa.concat_tables(parts, promote_options="permissive")
    return out.take(pa.array(np.argsort(np.array(order, dtype=np.int64), kind="stable")))


def _profile(code: str) -> Any:
    import babelmill.langs as langs

    return langs.get(code)


# --------------------------------------------------------------------------- source side


class ProjectionSource(Stage):
    """Keeps the labelled sentence as ``src_tokens``/``src_tags`` and writes it as running
    text in ``src_text`` (no space before a comma, none in unspaced scripts), which is what
    an MT model was trained on."""

    name: ClassVar[str] = "projection_source"

    def __init__(self, src: str = "en") -> None:
        self.src = src

    def __call__(self, batch: pa.Table) -> pa.Table:
        langs = _strings(batch, "src_lang", self.src)
        spaced = {code: _profile(code).spaced for code in set(langs)}
        tokens = batch.column("tokens").to_pylist()
        text = [join_tokens(t or [], spaced=spaced[lang]) for t, lang in zip(tokens, langs)]
        batch = _put(batch, "src_tokens", batch.column("tokens"))
        batch = _put(batch, "src_tags", batch.column("tags"))
        return _put(batch, "src_text", pa.array(text, pa.string()))


# --------------------------------------------------------------------------- target side


class TargetTokenizer(Stage):
    """``tgt_text`` (the translation) -> ``tgt_tokens`` with the target language's own
    tokenizer (jieba for Chinese, the Thai segmenter, ...), so projected tags sit on the
    words a downstream tagger sees.  An empty translation is ``empty_translation``."""

    name: ClassVar[str] = "tokenize_target"
    reasons: ClassVar[tuple[str, ...]] = (EMPTY_TARGET,)

    def __init__(self, column: str = "tgt_text", tgt: str | None = None) -> None:
        self.column = column
        self.tgt = tgt

    def __call__(self, batch: pa.Table) -> pa.Table:
        texts = batch.column(self.column).cast(pa.string()).to_pylist()
        langs = _strings(batch, "tgt_lang", self.tgt)
        out: list[list[str]] = []
        for text, lang in zip(texts, langs):
            if not text or not text.strip() or lang is None:
                out.append([])
                continue
            out.append([t for t in _profile(lang).word_tokenize(text) if t.strip()])
        self.count("target_tokens", sum(map(len, out)))
        batch = _put(batch, "tgt_tokens", pa.array(out, TOKENS))
        return set_drop_reason(batch, pa.array([None if t else EMPTY_TARGET for t in out], pa.string()))


class GivenTarget(Stage):
    """The ``parallel`` method: the target sentence of each source sentence comes from a
    file the user already has.  ``targets`` maps the input row id to its target tokens
    (read and paired on the driver); a source sentence without one is ``no_target``."""

    name: ClassVar[str] = "given_target"
    reasons: ClassVar[tuple[str, ...]] = (NO_TARGET, EMPTY_TARGET)

    def __init__(self, targets: dict[str, list[str]], origin: str = "") -> None:
        self.targets = targets
        self.origin = origin

    def config(self) -> dict[str, Any]:
        # the whole mapping would bloat the run fingerprint: a digest stands for it
        digest = hashlib.sha256()
        for key in sorted(self.targets):
            digest.update(key.encode() + b"\t" + " ".join(self.targets[key]).encode() + b"\n")
        return {"origin": self.origin, "targets": digest.hexdigest()}

    def __call__(self, batch: pa.Table) -> pa.Table:
        column = "source_id" if "source_id" in batch.column_names else "id"
        ids = batch.column(column).cast(pa.string()).to_pylist()
        found = [self.targets.get(i) for i in ids]
        batch = _put(batch, "tgt_tokens", pa.array([t or [] for t in found], TOKENS))
        reasons = [NO_TARGET if t is None else (EMPTY_TARGET if not t else None) for t in found]
        return set_drop_reason(batch, pa.array(reasons, pa.string()))


# --------------------------------------------------------------------------- alignment


class EflomalGlobalAlign(GlobalStage):
    """eflomal as the run's global step: it trains on every sentence pair of the run (plus
    the extra unlabelled parallel text), once per language pair, so it cannot run per shard.

    map: each shard emits its rows' languages and token lists; global: train and align
    everything (``EflomalAligner`` with name and cognate priors from ``NameMatcher``,
    both directions, symmetrised); finish: each shard attaches its rows' links
    (``alignment``) and the projection stages follow.  Each phase is resumable.
    """

    name: ClassVar[str] = "align_eflomal"
    global_counters: ClassVar[tuple[str, ...]] = ("pairs_aligned", "extra_pairs", "links")

    def __init__(
        self,
        symmetrization: str = "grow-diag-final-and",
        extra: dict[str, list[tuple[list[str], list[str]]]] | None = None,
        priors: bool = True,
        stem_length: int = 5,
        runs: int = 5,
    ) -> None:
        self.symmetrization = symmetrization
        #: independent trainings whose directional links are voted (``combine_runs``)
        self.runs = runs
        #: eflomal sees words cut to this many characters (0: whole words): a small corpus
        #: sees each inflected form too rarely (the projection bench's best setting)
        self.stem_length = stem_length
        #: extra parallel sentences per target language ("*": every target)
        self.extra = extra or {}
        self.priors = priors

    def config(self) -> dict[str, Any]:
        digest = hashlib.sha256(repr(sorted((k, v) for k, v in self.extra.items())).encode()).hexdigest()
        return {
            "symmetrization": self.symmetrization,
            "priors": self.priors,
            "stem_length": self.stem_length,
            "runs": self.runs,
            "extra": digest,
        }

    def key_schema(self) -> pa.Schema:
        return pa.schema(
            [("src_lang", pa.string()), ("tgt_lang", pa.string()), ("src_tokens", TOKENS), ("tgt_tokens", TOKENS)]
        )

    def keys(self, batch: pa.Table) -> pa.Table:
        return pa.table(
            {
                "src_lang": pa.array(_strings(batch, "src_lang"), pa.string()),
                "tgt_lang": pa.array(_strings(batch, "tgt_lang"), pa.string()),
                "src_tokens": batch.column("src_tokens").cast(TOKENS),
                "tgt_tokens": batch.column("tgt_tokens").cast(TOKENS),
            },
            schema=self.key_schema(),
        )

    def steps(self) -> list[GlobalStep]:
        return [GlobalStep("align", ("src_lang", "tgt_lang", "src_tokens", "tgt_tokens"))]

    def aligner(self, tgt: str | None) -> Any:
        from babelmill.processors.projection.aligners.eflomal import EflomalAligner, EflomalParams
        from babelmill.processors.projection.names import NameMatcher

        extra = list(self.extra.get("*", [])) + list(self.extra.get(tgt or "", []))
        priors = NameMatcher(cognate_priors=True).priors if self.priors else None
        params = EflomalParams(source_prefix_len=self.stem_length, target_prefix_len=self.stem_length)
        return EflomalAligner(self.symmetrization, extra, params=params, prior_source=priors, runs=self.runs)

    def run_step(self, step: GlobalStep, keys: pa.Table) -> tuple[pa.Array, dict[str, int]]:
        """Train and align once per language pair; returns the links of every document
        and the step's counters (the step runs in its own task, so they travel back)."""
        pairs = list(zip(keys.column("src_lang").to_pylist(), keys.column("tgt_lang").to_pylist()))
        src = keys.column("src_tokens").to_pylist()
        tgt = keys.column("tgt_tokens").to_pylist()
        scored: list[dict] = [{} for _ in pairs]
        extra = 0
        for (_, tgt_lang), rows in _groups(pairs).items():
            aligner = self.aligner(tgt_lang)
            result = aligner.align_scored([src[i] or [] for i in rows], [tgt[i] or [] for i in rows])
            for i, links in zip(rows, result):
                scored[i] = links
            extra += len(aligner.extra)
        counts = {"pairs_aligned": len(pairs), "extra_pairs": extra, "links": sum(map(len, scored))}
        return _links_column(scored), counts

    def combine(self, n_docs: int, results: dict[str, Any]) -> pa.Table:
        links, counts = results["align"]
        for key, n in counts.items():
            self.count(key, n)
        return pa.table({"doc": pa.array(np.arange(n_docs, dtype=np.int64)), "alignment": links})

    def mark(self, batch: pa.Table, doc: Any, resolved: pa.Table) -> pa.Table:
        have = resolved.column("doc").to_numpy()
        at = np.searchsorted(have, np.asarray(doc, dtype=np.int64))
        if len(have) == 0 or (at >= len(have)).any() or (have[np.minimum(at, len(have) - 1)] != doc).any():
            raise ValueError("the eflomal result does not cover every row of this shard")
        return _put(batch, "alignment", resolved.column("alignment").take(pa.array(at, pa.int64())))

    def summary(self, resolved: pa.Table) -> dict[str, int]:
        return {"sentence_pairs": resolved.num_rows}


class WordAlignStage(Stage):
    """Per-batch word alignment (``alignment`` column) with a model-based aligner:
    ``simalign`` (a local encoder directory) or ``attention`` (the MT model's own
    cross-attention, one aligner per language pair).  Stateful: the model loads once
    per worker."""

    name: ClassVar[str] = "align_words"
    stateful: ClassVar[bool] = True

    def __init__(
        self,
        aligner: str,
        symmetrization: str = "intersection",
        encoder: str | None = None,
        spec: Any = None,
        simalign_method: str = "itermax",
        device: str = "cpu",
    ) -> None:
        if aligner not in ("simalign", "attention"):
            raise ValueError(f"unknown aligner {aligner!r} for a per-batch stage (simalign, attention)")
        if aligner == "simalign" and not encoder:
            raise ValueError("the simalign aligner needs an encoder directory")
        if aligner == "attention" and spec is None:
            raise ValueError("the attention aligner needs the MT model")
        self.aligner = aligner
        self.symmetrization = symmetrization
        self.encoder = encoder
        self.spec = spec
        self.simalign_method = simalign_method
        self.device = device
        res = getattr(spec, "resources", None) if aligner == "attention" else None
        if res is not None:
            self.resources = res if isinstance(res, Resources) else Resources(*res)  # type: ignore[misc]

    def config(self) -> dict[str, Any]:
        import dataclasses

        spec = dataclasses.asdict(self.spec) if dataclasses.is_dataclass(self.spec) else repr(self.spec)
        return {**super().config(), "spec": spec}

    def setup(self) -> None:
        if self.aligner == "simalign":
            from babelmill.processors.projection.aligners.simalign import SimAlignAligner

            self._simalign = SimAlignAligner(self.encoder, method=self.simalign_method, device=self.device)  # type: ignore[arg-type]
            self._simalign.setup()
        else:
            self._translator = self.spec.build()
        self._pairs: dict[tuple[str, str], Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("_simalign", "_translator", "_pairs")}

    def _for(self, src: str, tgt: str) -> Any:
        if "_pairs" not in self.__dict__:
            self.setup()
        if self.aligner == "simalign":
            return self._simalign
        if (src, tgt) not in self._pairs:
            from babelmill.processors.projection.aligners.attention import AttentionAligner

            self._pairs[(src, tgt)] = AttentionAligner(self._translator, src, tgt, symmetrization=self.symmetrization)
        return self._pairs[(src, tgt)]

    def __call__(self, batch: pa.Table) -> pa.Table:
        pairs = list(zip(_strings(batch, "src_lang"), _strings(batch, "tgt_lang")))
        src = batch.column("src_tokens").to_pylist()
        tgt = batch.column("tgt_tokens").to_pylist()
        scored: list[dict] = [{} for _ in pairs]
        for (s, t), rows in _groups(pairs).items():
            rows = [i for i in rows if src[i] and tgt[i]]
            if not rows:
                continue
            for i, links in zip(rows, self._for(s, t).align_scored([src[i] for i in rows], [tgt[i] for i in rows])):
                scored[i] = links
        self.count("links", sum(map(len, scored)))
        return _put(batch, "alignment", _links_column(scored))


# --------------------------------------------------------------------------- projection


class PairwiseProjectSpans(ProjectSpansStage):
    """``ProjectSpansStage`` with one ``SpanProjector`` per target language: the target's
    stop words (from ``langs``) are trimmed from span edges ("der Richtlinie" ->
    "Richtlinie").  Quality flags chosen in ``drop_on`` become drop reasons; the others
    stay in ``projection_flags`` for the user to filter on."""

    name: ClassVar[str] = "project_spans"

    def __init__(
        self,
        drop_on: Sequence[str] = ("entity_lost", "type_conflict"),
        min_confidence: float | None = None,
        length_ratio: float = 2.0,
        name_matching: bool = True,
        adjective_label: str | None = "MISC",
    ) -> None:
        super().__init__(None, drop_on)
        self.min_confidence = min_confidence
        self.length_ratio = length_ratio
        self.name_matching = name_matching
        #: the type a name projected onto an adjective takes; None when the label set has none
        self.adjective_label = adjective_label

    def projector_for(self, src: str | None, tgt: str | None, tgt_tokens: Sequence[Sequence[str]] = ()) -> Any:
        """The align method's projector (``project.projector_for``: both sides' stop
        words, the capitalisation rule and the collocations measured on this batch's
        target text) with the job's thresholds."""
        from babelmill.processors.projection.names import NameMatcher
        from babelmill.processors.projection.project import projector_for

        overrides: dict[str, Any] = {
            "length_ratio": self.length_ratio,
            "name_matcher": NameMatcher() if self.name_matching else None,
        }
        if self.min_confidence is not None:
            overrides["min_confidence"] = self.min_confidence
        if self.adjective_label is None:
            overrides["adjective_types"] = frozenset()
        else:
            overrides["adjective_label"] = self.adjective_label
        if tgt is None:
            return SpanProjector(**overrides)
        return projector_for(tgt, tgt_tokens, src_lang=src or "en", **overrides)

    def _project(self, key: Any, batch: pa.Table) -> pa.Table:
        src, tgt = key if key is not None else (None, None)
        self.projector = self.projector_for(
            src, tgt, batch.column("tgt_tokens").to_pylist() if "tgt_tokens" in batch.column_names else []
        )
        return ProjectSpansStage.__call__(self, batch)

    def __call__(self, batch: pa.Table) -> pa.Table:
        if "alignment" not in batch.column_names:
            batch = batch.append_column("alignment", pa.array([[]] * batch.num_rows, ALIGNMENT))
        keys = list(zip(_strings(batch, "src_lang"), _strings(batch, "tgt_lang")))
        return _by_groups(batch, keys, self._project)


class _ScoreAdapter:
    """``ScoreProjector`` behind ``SpanProjector``'s ``project`` signature (links unused)."""

    def __init__(self, projector: Any) -> None:
        self.projector = projector

    def project(self, src: Sequence[str], tgt: Sequence[str], spans: Sequence[Span], _links: Any) -> Projection:
        return self.projector.project(src, tgt, spans)


class ScoreProjectStage(PairwiseProjectSpans):
    """The ``score`` method: target spans chosen by the MT model's own scores
    (``score_batch``, T-Projection style), no aligner.  Same outputs, flags and counters
    as the alignment projection; the model loads once per worker."""

    name: ClassVar[str] = "project_score"
    stateful: ClassVar[bool] = True

    def __init__(
        self,
        spec: Any,
        drop_on: Sequence[str] = ("entity_lost", "type_conflict"),
        max_extra: int = 2,
        reverse: Any = None,
    ) -> None:
        super().__init__(drop_on)
        self.spec = spec
        self.max_extra = max_extra
        #: p(entity | candidate) too: "same" scores with the MT model in the other
        #: direction (multilingual models), a spec with a target -> source model
        self.reverse = reverse
        res = getattr(spec, "resources", None)
        if res is not None:
            self.resources = res if isinstance(res, Resources) else Resources(*res)  # type: ignore[misc]

    def config(self) -> dict[str, Any]:
        import dataclasses

        spec = dataclasses.asdict(self.spec) if dataclasses.is_dataclass(self.spec) else repr(self.spec)
        reverse = self.reverse
        if dataclasses.is_dataclass(reverse):
            reverse = dataclasses.asdict(reverse)  # type: ignore[arg-type]
        return {"drop_on": list(self.drop_on), "max_extra": self.max_extra, "spec": spec, "reverse": reverse}

    def setup(self) -> None:
        self._translator = self.spec.build()
        self._reverse: Any = None
        if self.reverse == "same":
            self._reverse = self._translator
        elif self.reverse is not None:
            self._reverse = self.reverse.build()
        self._scorers: dict[tuple[str, str], Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        skip = ("_translator", "_reverse", "_scorers", "projector")
        return {k: v for k, v in self.__dict__.items() if k not in skip}

    def projector_for(self, src: str | None, tgt: str | None, tgt_tokens: Sequence[Sequence[str]] = ()) -> Any:
        from babelmill.processors.projection.score import CT2Scorer, ScoreProjector

        if "_scorers" not in self.__dict__:
            self.setup()
        if src is None or tgt is None:
            raise ValueError("score projection needs src_lang and tgt_lang on every row")
        if (src, tgt) not in self._scorers:
            backward = CT2Scorer(self._reverse, tgt, src) if self._reverse is not None else None
            self._scorers[(src, tgt)] = _ScoreAdapter(
                ScoreProjector(CT2Scorer(self._translator, src, tgt), backward, max_extra=self.max_extra)
            )
        return self._scorers[(src, tgt)]


def _projection_type(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """The per-entity details in the output contract's field order."""
    fields = [f.name for f in PROJECTION_TYPE.value_type]
    rows = column.to_pylist()
    return pa.array([None if r is None else [{k: e.get(k) for k in fields} for e in r] for r in rows], PROJECTION_TYPE)


class ProjectedRows(Stage):
    """Turns a projected pair into the output row: the target tokens become ``tokens``
    (``tags`` are already theirs), ``lang`` is the target language, and ``projection``
    follows the projected-NER contract."""

    name: ClassVar[str] = "projected_rows"

    #: working columns removed here rather than by the job's ``drop_columns``: a job with
    #: a global stage keeps them through its map phase (the stage's keys read them)
    WORK: ClassVar[tuple[str, ...]] = ("src_tokens", "src_tags", "tgt_tokens", "alignment")

    def __init__(self, drop: Sequence[str] = WORK) -> None:
        self.drop = list(drop)

    def __call__(self, batch: pa.Table) -> pa.Table:
        batch = _put(batch, "tokens", batch.column("tgt_tokens"))
        batch = _put(batch, "lang", batch.column("tgt_lang"))
        if "projection" in batch.column_names:
            batch = _put(batch, "projection", _projection_type(batch.column("projection")))
        batch = batch.drop_columns([c for c in self.drop if c in batch.column_names])
        if DROP_REASON not in batch.column_names:
            batch = batch.append_column(DROP_REASON, pa.nulls(batch.num_rows, pa.string()))
        return batch


__all__ = [
    "FLAGS",
    "ProjectionSource",
    "TargetTokenizer",
    "GivenTarget",
    "EflomalGlobalAlign",
    "WordAlignStage",
    "PairwiseProjectSpans",
    "ScoreProjectStage",
    "ProjectedRows",
    "EMPTY_TARGET",
    "NO_TARGET",
]


def projection_summary(counters: dict[str, int]) -> dict[str, Any] | None:
    """Entities in / projected / lost and the per-type projection rate from a projection
    stage's counters (the alignment stages' ``entities_in`` / ``source:<TYPE>`` and the
    marker stage's ``entities`` / ``entities_<TYPE>`` names alike); None for other stages."""
    if "entities_in" in counters:
        total, done, lost = (
            counters["entities_in"],
            counters.get("entities_projected", 0),
            counters.get("entities_lost", 0),
        )
        per = {
            k.split(":", 1)[1]: (n, counters.get("projected:" + k.split(":", 1)[1], 0))
            for k, n in counters.items()
            if k.startswith("source:")
        }
    elif "projected" in counters and "entities" in counters:
        total, done, lost = counters["entities"], counters["projected"], counters.get("lost", 0)
        per = {
            k[len("entities_") :]: (n, counters.get("projected_" + k[len("entities_") :], 0))
            for k, n in counters.items()
            if k.startswith("entities_")
        }
    else:
        return None
    return {
        "entities": int(total),
        "projected": int(done),
        "lost": int(lost),
        "rate": done / total if total else None,
        "types": {
            t: {"entities": int(n), "projected": int(p), "rate": p / n if n else None}
            for t, (n, p) in sorted(per.items())
        },
    }
