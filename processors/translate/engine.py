"""The translation engine: CTranslate2 behind a small ``Translator`` protocol.

What makes it fast on a CPU (figures in ``bench/translate_bench.py``):

* one tokenizer call per ``translate`` call, not per text, and one batched decode;
* length-sorted, token-budgeted batches (``batch_type="tokens"``), so a batch of short
  sentences is not padded to the longest one in the call;
* each distinct (source, target, text) is translated once: duplicates inside a call and
  repeats across calls (an LRU cache) are served from the first result;
* a decoding cap relative to the longest input of each chunk, plus repetition guards,
  so a degenerate output loop cannot run to the model's maximum length.

With int8 weights, CTranslate2's kernels may round differently with the batch shape, so
a segment's translation can differ in rare near-tied tokens depending on its neighbours;
the segment cache keeps repeats consistent within a worker.

This module imports neither Ray nor polars, and CTranslate2 / transformers only when a
translator is built, so a ``CTranslate2Spec`` is cheap to create and ship to workers.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from babelmill.processors.resources import Resources
from babelmill.processors.errors import BabelmillError
from babelmill.processors.translate.models import QUANTIZATIONS, LanguagePlan, ResolvedModel, resolve_model

#: Compute types CTranslate2 accepts at load time ("default" picks one per device below).
COMPUTE_TYPES = ("default", "auto", *QUANTIZATIONS)
#: Token batches handed to CTranslate2 per ``translate_batch`` call: enough for its
#: ``inter_threads`` to overlap, few enough that the decoding cap stays tight.
BATCHES_PER_CALL = 8
#: Stats keys every translator reports (the stage sums them into the ledger).
STAT_KEYS = ("segments", "cache_hits", "translated", "empty", "truncated", "source_tokens", "target_tokens")


@dataclass(frozen=True)
class TranslationResult:
    """One translated segment (frozen: the cache hands the same object to every repeat)."""

    text: str
    score: float  # mean log-prob per target token (CTranslate2 return_scores); 0.0 for stand-ins


@runtime_checkable
class Translator(Protocol):
    """What a translation stage needs from an engine."""

    name: str  # model name recorded in outputs
    stats: dict[str, int]  # counters since construction (segments, cache_hits, source_tokens, target_tokens ...)

    def translate(self, texts: list[str], src: str, tgt: str) -> list[TranslationResult]:
        """Translate ``texts`` (babelmill codes like "en", "sw"); results in input order."""
        ...


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda`` when CTranslate2 sees a GPU, else ``cpu``."""
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device {device!r} is not one of auto, cpu, cuda")
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def resolve_compute_type(compute_type: str, device: str) -> str:
    """``default`` → int8 on CPU, float16 on CUDA (when the device supports it)."""
    if compute_type not in COMPUTE_TYPES:
        raise ValueError(f"compute type {compute_type!r} is not one of {', '.join(COMPUTE_TYPES)}")
    if compute_type != "default":
        return compute_type
    import ctranslate2

    wanted = "float16" if device == "cuda" else "int8"
    return wanted if wanted in ctranslate2.get_supported_compute_types(device) else "default"


@dataclass
class CTranslate2Spec:
    """A picklable description of a CTranslate2 translator; ``build()`` runs on the worker."""

    model: str  # CTranslate2 dir, local Hugging Face model dir, or hub id
    device: str = "auto"  # auto|cpu|cuda
    compute_type: str = "default"  # int8|int8_float16|float16|float32|default (CPU int8, CUDA float16)
    quantization: str = "int8"  # weight type written when converting a Hugging Face model
    inter_threads: int = 1  # batches translated in parallel
    intra_threads: int = 0  # threads per batch (0: CTranslate2's default)
    beam_size: int = 1
    max_batch_tokens: int = 2048
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    max_length_ratio: float = 2.0  # max_decoding_length = ratio * longest input tokens + 10
    cache_size: int = 100_000  # segment cache entries (0: off; even duplicates in one call are translated)
    cache_dir: str | None = None  # where converted models go (default ~/.cache/babelmill/ct2)
    allow_download: bool = False
    min_decoding_length: int = 1
    max_decoding_length: int | None = None  # fixed cap instead of the ratio rule (benchmarks)

    def build(self) -> CTranslate2Translator:
        return CTranslate2Translator(self)

    @property
    def resources(self) -> Resources:
        """What one worker holding this translator needs."""
        if resolve_device(self.device) == "cuda":
            return Resources(1.0, 1.0)
        return Resources(float(max(1, self.inter_threads) * max(1, self.intra_threads)), 0.0)


class CTranslate2Translator:
    """A CTranslate2 model with its Hugging Face tokenizer, a segment cache and counters."""

    def __init__(self, spec: CTranslate2Spec) -> None:
        import ctranslate2

        self.spec = spec
        self.model: ResolvedModel = resolve_model(
            spec.model, quantization=spec.quantization, cache_dir=spec.cache_dir, allow_download=spec.allow_download
        )
        self.name = self.model.name
        self.device = resolve_device(spec.device)
        self.compute_type = resolve_compute_type(spec.compute_type, self.device)
        self._ct2 = ctranslate2.Translator(
            str(self.model.path),
            device=self.device,
            compute_type=self.compute_type,
            inter_threads=spec.inter_threads,
            intra_threads=spec.intra_threads,
        )
        self._tokenizer = load_tokenizer(self.model.path)
        self._plans: dict[tuple[str, str], LanguagePlan] = {}
        self._cache: OrderedDict[tuple[str, str, str], TranslationResult] = OrderedDict()
        self.stats: dict[str, int] = dict.fromkeys(STAT_KEYS, 0)

    # ------------------------------------------------------------------ public

    def translate(self, texts: Sequence[str], src: str, tgt: str) -> list[TranslationResult]:
        """Translate ``texts`` from ``src`` to ``tgt``; results in input order.

        Empty or whitespace-only texts come back unchanged with score 0.0.  A text seen
        before (in this call or, within ``cache_size`` entries, an earlier one) is served
        from its first translation.
        """
        plan = self.plan(src, tgt)
        results: list[TranslationResult | None] = [None] * len(texts)
        caching = self.spec.cache_size > 0
        todo: dict[str | int, list[int]] = {}  # text (index when caching is off) -> rows
        stats = self.stats
        for i, text in enumerate(texts):
            if not text or text.isspace():
                results[i] = TranslationResult(text, 0.0)
                stats["empty"] += 1
                continue
            stats["segments"] += 1
            if not caching:
                todo[i] = [i]
                continue
            cached = self._cache.get((plan.src, plan.tgt, text))
            if cached is not None:
                self._cache.move_to_end((plan.src, plan.tgt, text))
                results[i] = cached
                stats["cache_hits"] += 1
            elif text in todo:
                todo[text].append(i)
                stats["cache_hits"] += 1
            else:
                todo[text] = [i]
        if todo:
            rows = list(todo.values())
            unique = [texts[r[0]] for r in rows]
            for text, where, (_, hyp, score) in zip(unique, rows, self._run(unique, plan)):
                result = TranslationResult(hyp, score)
                for i in where:
                    results[i] = result
                self._remember((plan.src, plan.tgt, text), result)
            stats["translated"] += len(unique)
        return results  # type: ignore[return-value]

    def plan(self, src: str, tgt: str) -> LanguagePlan:
        """Language tokens for a pair (checked once per pair)."""
        plan = self._plans.get((src, tgt))
        if plan is None:
            plan = self._plans[(src, tgt)] = self.model.plan(src, tgt)
        return plan

    def debug_tokens(self, texts: Sequence[str], src: str, tgt: str) -> list[tuple[list[str], list[str]]]:
        """(source tokens fed to the model, output tokens including any forced prefix) per
        text, bypassing the cache: for tests and for checking a model's language tokens."""
        sources = self._encode(list(texts), self.plan(src, tgt))
        outputs = self._decode_tokens(sources, self.plan(src, tgt))
        return [(s, o) for s, (o, _) in zip(sources, outputs)]

    def clear_cache(self) -> None:
        self._cache.clear()

    # ------------------------------------------------------------------ steps

    def _remember(self, key: tuple[str, str, str], result: TranslationResult) -> None:
        if self.spec.cache_size <= 0:
            return
        self._cache[key] = result
        if len(self._cache) > self.spec.cache_size:
            self._cache.popitem(last=False)

    def _run(self, texts: list[str], plan: LanguagePlan) -> list[tuple[list[str], str, float]]:
        """Encode, translate and decode distinct texts: (source tokens, text, score) each."""
        sources = self._encode(texts, plan)
        outputs = self._decode_tokens(sources, plan)
        prefix = len(plan.target_prefix)
        hyps = [tokens[prefix:] if tuple(tokens[:prefix]) == plan.target_prefix else tokens for tokens, _ in outputs]
        self.stats["source_tokens"] += sum(map(len, sources))
        self.stats["target_tokens"] += sum(map(len, hyps))
        decoded = self._detokenize(hyps)
        return [(s, d, score) for s, d, (_, score) in zip(sources, decoded, outputs)]

    def _encode(self, texts: list[str], plan: LanguagePlan) -> list[list[str]]:
        """One tokenizer call for all texts; language tokens per the model family."""
        tok = self._tokenizer
        if plan.tokenizer_src_lang is not None and getattr(tok, "src_lang", None) != plan.tokenizer_src_lang:
            tok.src_lang = plan.tokenizer_src_lang
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "sequence longer than model_max_length": truncated below
            encoded = tok(texts, add_special_tokens=True)
        if getattr(encoded, "encodings", None):  # fast tokenizers carry the token strings already
            tokens = [list(e.tokens) for e in encoded.encodings]
        else:
            tokens = [tok.convert_ids_to_tokens(ids) for ids in encoded["input_ids"]]
        prefix = list(plan.source_prefix)
        limit = self.model.max_input_length
        out = []
        for row in tokens:
            row = prefix + row
            if len(row) > limit:
                row = row[: limit - 1] + row[-1:]  # keep the end-of-sentence token
                self.stats["truncated"] += 1
            out.append(row)
        return out

    def _decode_tokens(self, sources: list[list[str]], plan: LanguagePlan) -> list[tuple[list[str], float]]:
        """CTranslate2 on length-sorted chunks; (output tokens with prefix, score) in input order.

        Not ``translate_iterable``: it fixes one ``max_decoding_length`` for the whole
        stream, where each chunk here gets its own cap from its longest input (the ratio
        rule), and it gives no per-chunk point to count truncations and tokens.
        """
        spec = self.spec
        order = sorted(range(len(sources)), key=lambda i: len(sources[i]), reverse=True)
        out: list[tuple[list[str], float]] = [([], 0.0)] * len(sources)
        target_prefix = list(plan.target_prefix)
        for chunk in self._chunks(order, sources):
            batch = [sources[i] for i in chunk]
            results = self._ct2.translate_batch(
                batch,
                target_prefix=[target_prefix] * len(batch) if target_prefix else None,
                max_batch_size=spec.max_batch_tokens,
                batch_type="tokens",
                beam_size=spec.beam_size,
                repetition_penalty=spec.repetition_penalty,
                no_repeat_ngram_size=spec.no_repeat_ngram_size,
                max_input_length=self.model.max_input_length,
                max_decoding_length=self._max_length(len(batch[0])) + len(target_prefix),
                min_decoding_length=spec.min_decoding_length,
                return_scores=True,
            )
            for i, result in zip(chunk, results):
                out[i] = (result.hypotheses[0], float(result.scores[0]) if result.scores else 0.0)
        return self._cap(sources, out, len(target_prefix))

    def _max_length(self, source_tokens: int) -> int:
        """Decoding cap of one source: fixed, or ``ratio * length + 10``."""
        if self.spec.max_decoding_length is not None:
            return self.spec.max_decoding_length
        return int(self.spec.max_length_ratio * source_tokens) + 10

    def _cap(
        self, sources: list[list[str]], outputs: list[tuple[list[str], float]], prefix: int
    ) -> list[tuple[list[str], float]]:
        """Cut outputs to their own source's cap (a chunk is decoded with the cap of its
        longest source) and rescore the cut ones, so a segment's translation does not
        depend on which segments shared its chunk.  Only runaway outputs are cut."""
        over = [i for i, (hyp, _) in enumerate(outputs) if len(hyp) - prefix > self._max_length(len(sources[i]))]
        if not over:
            return outputs
        cut = {i: outputs[i][0][: prefix + self._max_length(len(sources[i]))] for i in over}
        scored = self._ct2.score_batch(
            [sources[i] for i in over],
            [cut[i] for i in over],
            max_batch_size=self.spec.max_batch_tokens,
            batch_type="tokens",
            max_input_length=self.model.max_input_length,
        )
        outputs = list(outputs)
        for i, result in zip(over, scored):
            log_probs = result.log_probs[prefix:-1]  # the generated tokens; not the end token score_batch adds
            outputs[i] = (cut[i], sum(log_probs) / len(log_probs) if log_probs else 0.0)
        return outputs

    def _chunks(self, order: list[int], sources: list[list[str]]) -> Iterator[list[int]]:
        """Consecutive runs of the length-sorted order holding about BATCHES_PER_CALL batches."""
        budget = self.spec.max_batch_tokens * max(BATCHES_PER_CALL, 2 * self.spec.inter_threads)
        chunk: list[int] = []
        used = 0
        for i in order:
            if chunk and used + len(sources[i]) > budget:
                yield chunk
                chunk, used = [], 0
            chunk.append(i)
            used += len(sources[i])
        if chunk:
            yield chunk

    def _detokenize(self, hyps: list[list[str]]) -> list[str]:
        """One batched decode of all hypotheses (special tokens dropped)."""
        tok = self._tokenizer
        ids = [tok.convert_tokens_to_ids(tokens) for tokens in hyps]
        return tok.batch_decode(ids, skip_special_tokens=True)


def load_tokenizer(path: Path) -> Any:
    """The Hugging Face tokenizer stored next to a CTranslate2 model."""
    from transformers import AutoTokenizer

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MarianTokenizer: "Recommended: pip install sacremoses"
            return AutoTokenizer.from_pretrained(str(path))
    except Exception as exc:
        raise BabelmillError(
            f"cannot load the tokenizer of the CTranslate2 model at {str(path)!r} ({type(exc).__name__}: {exc}); "
            "the directory needs the model's tokenizer files (convert with --copy_files, or pass the Hugging Face "
            "model directory and let babelmill convert it)"
        ) from exc
