"""Translation throughput: babelmill's CTranslate2 engine against HF transformers and plain CTranslate2.

One process, one random OPUS-MT-sized Marian model (6+6 layers, d_model 512, FFN 2048,
8 heads, a SentencePiece vocabulary trained here and padded to ``--vocab-size``), the
same English sentences (FLORES-200 devtest via ``--evaldata``), greedy decoding and a
FIXED output length (``--tokens``, 32: CTranslate2 ``min/max_decoding_length``, HF
``min/max_new_tokens``) so a random model's junk output costs the same everywhere.
Target tokens per second for:

  (a) HF transformers ``generate``, fp32 (and fp16 on CUDA), fixed batches;
  (b) plain ``ctranslate2.Translator.translate_batch`` over fixed batches of ``--batch-size``;
  (c) plain CTranslate2, one call, length-sorted token batches (``--max-batch-tokens``);
  (d) babelmill ``CTranslate2Translator`` (tokenization and detokenization included);
  (e) babelmill on the sentences with ``--repeat-frac`` repeated segments, cache off vs on.

(a)-(c) get pre-tokenized input; (d)-(e) start from text.  Ratios printed at the end.

    python bench/translate_bench.py --quick                    # small model, 48 sentences
    python bench/translate_bench.py                            # the full run (CPU, int8)
    python bench/translate_bench.py --device cuda --compute-type float16,int8_float16 --sentences 4000

Needs only ctranslate2, transformers, torch, sentencepiece and numpy (no Ray, no polars).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
import types
import warnings
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "helpers"))  # tiny_models: the model builders the tests use


@dataclass
class Row:
    label: str
    seconds: float  # wall clock
    tokens: int
    segments: int
    cpu: float = float("nan")  # process CPU seconds, all threads: steadier on a shared machine

    @property
    def rate(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else float("nan")

    @property
    def cpu_rate(self) -> float:
        return self.tokens / self.cpu if self.cpu > 0 else float("nan")


class Clock:
    """Wall and process CPU time of a block."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def load_engine():
    """``processors.translate.engine`` without running the package's stage exports, whose
    modules may import polars / Ray (absent on a bare GPU box)."""
    try:
        return importlib.import_module("babelmill.processors.translate.engine")
    except ImportError as exc:
        if exc.name not in ("polars", "ray", "pyarrow"):
            raise
    for name in ("babelmill.processors", "babelmill.processors.translate"):
        sys.modules.pop(name, None)
        stub = types.ModuleType(name)
        stub.__path__ = [str(REPO / name.removeprefix("babelmill.").replace(".", "/"))]
        sys.modules[name] = stub
    return importlib.import_module("babelmill.processors.translate.engine")


def read_sentences(evaldata: Path, n: int) -> tuple[list[str], int]:
    """``n`` English FLORES sentences (cycled when the file has fewer); also the unique count."""
    folder = evaldata / "flores200-devtest" / "devtest"
    for name in ("eng.devtest", "eng_Latn.devtest"):
        if (folder / name).is_file():
            lines = [ln.strip() for ln in (folder / name).read_text(encoding="utf-8").splitlines() if ln.strip()]
            break
    else:
        sys.exit(f"no English FLORES file under {folder}; pass --evaldata DIR (the folder holding flores200-devtest)")
    unique = len(lines[:n])
    return [lines[i % len(lines)] for i in range(n)], unique


def spm_lines(evaldata: Path) -> list[str]:
    """Training text for the SentencePiece vocabulary: a few FLORES languages."""
    folder = evaldata / "flores200-devtest" / "devtest"
    lines: list[str] = []
    for lang in ("eng", "deu", "fra", "spa", "ita", "nld", "por", "swe"):
        path = folder / f"{lang}.devtest"
        if path.is_file():
            lines += path.read_text(encoding="utf-8").splitlines()
    return lines


def build_model(args: argparse.Namespace, work: Path) -> Path:
    """The random Marian model, reused from ``work`` when the same shape was built before."""
    import tiny_models

    shape = dict(layers=args.layers, d_model=args.d_model, ffn=args.ffn, heads=args.heads, vocab=args.vocab_size)
    hf = work / ("marian-" + hashlib.sha1(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:10])
    if (hf / "config.json").is_file():
        return hf
    t0 = time.perf_counter()
    tiny_models.build_marian(
        hf,
        source_lang=None,
        target_lang=None,
        d_model=args.d_model,
        layers=args.layers,
        heads=args.heads,
        ffn=args.ffn,
        vocab_size=args.vocab_size,
        lines=spm_lines(args.evaldata),
        init_std=0.02,
    )
    print(f"built random Marian {shape} in {time.perf_counter() - t0:.1f}s", flush=True)
    return hf


def run_hf(hf_dir: Path, batches: list[list[str]], tokens: int, device: str, dtype: str, threads: int) -> Row:
    import torch
    from transformers import AutoTokenizer, MarianMTModel

    torch.set_num_threads(threads)
    tok = AutoTokenizer.from_pretrained(str(hf_dir))
    model = MarianMTModel.from_pretrained(str(hf_dir), dtype=getattr(torch, dtype)).to(device).eval()
    encoded = [tok(b, return_tensors="pt", padding=True).to(device) for b in batches]
    kwargs = dict(num_beams=1, do_sample=False, min_new_tokens=tokens, max_new_tokens=tokens, forced_eos_token_id=None)
    with torch.inference_mode():
        model.generate(**encoded[0], **kwargs)  # warm-up
        if device == "cuda":
            torch.cuda.synchronize()
        produced = 0
        with Clock() as clock:
            for enc in encoded:
                out = model.generate(**enc, **kwargs)
                produced += int((out[:, 1:] != model.config.pad_token_id).sum())
            if device == "cuda":
                torch.cuda.synchronize()
    return Row(
        f"HF transformers generate {dtype}, batches of {len(batches[0])}",
        clock.wall,
        produced,
        sum(map(len, batches)),
        clock.cpu,
    )


def run_ct2_fixed(translator, sources: list[list[str]], batch_size: int, tokens: int, label: str) -> Row:
    opts = dict(beam_size=1, min_decoding_length=tokens, max_decoding_length=tokens)
    translator.translate_batch(sources[:batch_size], **opts)  # warm-up
    produced = 0
    with Clock() as clock:
        for i in range(0, len(sources), batch_size):
            for result in translator.translate_batch(sources[i : i + batch_size], **opts):
                produced += len(result.hypotheses[0])
    return Row(label, clock.wall, produced, len(sources), clock.cpu)


def run_ct2_sorted(translator, sources: list[list[str]], max_tokens: int, tokens: int, label: str) -> Row:
    opts = dict(
        beam_size=1,
        min_decoding_length=tokens,
        max_decoding_length=tokens,
        max_batch_size=max_tokens,
        batch_type="tokens",
    )
    translator.translate_batch(sources[:32], **opts)  # warm-up
    with Clock() as clock:
        ordered = sorted(sources, key=len, reverse=True)
        produced = sum(len(r.hypotheses[0]) for r in translator.translate_batch(ordered, **opts))
    return Row(label, clock.wall, produced, len(sources), clock.cpu)


def run_ours(engine, spec, texts: list[str], label: str, call_size: int | None = None) -> tuple[Row, list[str]]:
    translator = spec.build()
    translator.translate(texts[:8], "en", "de")  # warm-up
    translator.clear_cache()
    translator.stats = dict.fromkeys(engine.STAT_KEYS, 0)
    step = call_size or len(texts)
    outputs: list[str] = []
    with Clock() as clock:
        for i in range(0, len(texts), step):
            outputs += [r.text for r in translator.translate(texts[i : i + step], "en", "de")]
    stats = translator.stats
    # Every output segment counts its tokens, cached or not: the dataset's throughput.
    per_segment = stats["target_tokens"] / max(1, stats["translated"])
    row = Row(label, clock.wall, round(per_segment * stats["segments"]), len(texts), clock.cpu)
    if stats["cache_hits"]:
        row.label += f" [{stats['cache_hits']} cache hits]"
    return row, outputs


def with_repeats(sentences: list[str], frac: float, seed: int = 0) -> list[str]:
    """Same length as ``sentences``; ``frac`` of it are repeats of its other segments."""
    rng = random.Random(seed)
    keep = sentences[: max(1, round(len(sentences) * (1 - frac)))]
    data = keep + [rng.choice(keep) for _ in range(len(sentences) - len(keep))]
    rng.shuffle(data)
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--evaldata", type=Path, default=REPO.parent / "shared" / "evaldata")
    ap.add_argument("--sentences", type=int, default=500)
    ap.add_argument("--tokens", type=int, default=32, help="fixed target length")
    ap.add_argument("--batch-size", type=int, default=32, help="examples per batch for (a) and (b)")
    ap.add_argument("--max-batch-tokens", type=int, default=2048, help="token budget for (c), (d), (e)")
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--d-model", type=int, default=512)
    ap.add_argument("--ffn", type=int, default=2048)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--vocab-size", type=int, default=16000)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--compute-type", default=None, help="comma list (default: int8 on cpu, float16 on cuda)")
    ap.add_argument("--repeat-frac", type=float, default=0.3)
    ap.add_argument("--call-size", type=int, default=256, help="segments per translate() call in (e)")
    ap.add_argument("--skip-hf", action="store_true")
    ap.add_argument("--work", type=Path, default=None, help="keep the built model here and reuse it")
    ap.add_argument("--quick", action="store_true", help="small model (2+2 layers, d 256) and 48 sentences")
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message=".*sacremoses.*")
    if args.quick:
        args.sentences, args.layers, args.d_model, args.ffn, args.heads, args.vocab_size = 48, 2, 256, 1024, 4, 4000
    compute_types = (args.compute_type or ("float16" if args.device == "cuda" else "int8")).split(",")

    import ctranslate2

    engine = load_engine()
    work = args.work or Path(tempfile.mkdtemp(prefix="babelmill-mtbench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        texts, unique = read_sentences(args.evaldata, args.sentences)
        hf_dir = build_model(args, work)
        quantization = "int8" if args.device == "cpu" else "float16"
        resolved = engine.resolve_model(hf_dir, quantization=quantization, cache_dir=work / "ct2")
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(str(resolved.path))
        sources = [tok.convert_ids_to_tokens(ids) for ids in tok(texts)["input_ids"]]
        mean_len = sum(map(len, sources)) / len(sources)
        print(
            f"{len(texts)} sentences ({unique} distinct), {mean_len:.1f} source tokens on average, "
            f"{args.tokens} target tokens each, greedy; device {args.device}, {args.threads} threads",
            flush=True,
        )
        batches = [texts[i : i + args.batch_size] for i in range(0, len(texts), args.batch_size)]
        rows: list[Row] = []
        hf_rows: list[Row] = []
        if not args.skip_hf:
            for dtype in ("float32", "float16") if args.device == "cuda" else ("float32",):
                hf_rows.append(run_hf(hf_dir, batches, args.tokens, args.device, dtype, args.threads))
                print(f"  {hf_rows[-1].label}: {hf_rows[-1].rate:,.0f} tok/s", flush=True)
        rows += hf_rows
        ours_rows: list[Row] = []
        plain_rows: list[Row] = []
        for ct in compute_types:
            translator = ctranslate2.Translator(
                str(resolved.path), device=args.device, compute_type=ct, inter_threads=1, intra_threads=args.threads
            )
            plain_rows.append(
                run_ct2_fixed(
                    translator, sources, args.batch_size, args.tokens, f"CTranslate2 {ct}, batches of {args.batch_size}"
                )
            )
            print(f"  {plain_rows[-1].label}: {plain_rows[-1].rate:,.0f} tok/s", flush=True)
            plain_rows.append(
                run_ct2_sorted(
                    translator,
                    sources,
                    args.max_batch_tokens,
                    args.tokens,
                    f"CTranslate2 {ct}, length-sorted {args.max_batch_tokens}-token batches",
                )
            )
            print(f"  {plain_rows[-1].label}: {plain_rows[-1].rate:,.0f} tok/s", flush=True)
            del translator
            spec = engine.CTranslate2Spec(
                str(resolved.path),
                device=args.device,
                compute_type=ct,
                intra_threads=args.threads,
                max_batch_tokens=args.max_batch_tokens,
                min_decoding_length=args.tokens,
                max_decoding_length=args.tokens,
                cache_size=0,
            )
            row, _ = run_ours(engine, spec, texts, f"babelmill CTranslate2Translator {ct}")
            ours_rows.append(row)
            print(f"  {row.label}: {row.rate:,.0f} tok/s", flush=True)
        rows += plain_rows + ours_rows

        # (e) repeated segments, with the first compute type.
        repeated = with_repeats(texts[:unique], args.repeat_frac)
        spec = engine.CTranslate2Spec(
            str(resolved.path),
            device=args.device,
            compute_type=compute_types[0],
            intra_threads=args.threads,
            max_batch_tokens=args.max_batch_tokens,
            min_decoding_length=args.tokens,
            max_decoding_length=args.tokens,
        )
        pct = f"{args.repeat_frac:.0%} repeats, calls of {args.call_size}"
        off, out_off = run_ours(
            engine, _replace(spec, cache_size=0), repeated, f"babelmill, {pct}, cache off", args.call_size
        )
        on, out_on = run_ours(engine, spec, repeated, f"babelmill, {pct}, cache on", args.call_size)
        rows += [off, on]

        hf = hf_rows[0] if hf_rows else None
        print()
        print(
            f"{'configuration':<72} {'wall s':>7} {'cpu s':>7} {'tokens':>7} {'tok/s':>7} {'tok/cpu-s':>9} {'vs HF':>6}"
        )
        for r in rows:
            ratio = f"{r.rate / hf.rate:5.2f}x" if hf else "     -"
            print(
                f"{r.label:<72} {r.seconds:7.2f} {r.cpu:7.2f} {r.tokens:7d} {r.rate:7,.0f} {r.cpu_rate:9,.0f} {ratio:>6}"
            )
        print()
        for ct, ours in zip(compute_types, ours_rows):
            best = max((r for r in plain_rows if f" {ct}," in r.label), key=lambda r: r.rate)
            best_cpu = max((r for r in plain_rows if f" {ct}," in r.label), key=lambda r: r.cpu_rate)
            line = (
                f"{ct}: babelmill / best plain CTranslate2 = {ours.rate / best.rate:.2f} wall, "
                f"{ours.cpu_rate / best_cpu.cpu_rate:.2f} per CPU-second (goal >= 0.90)"
            )
            if hf:
                line += f"; babelmill / HF float32 = {ours.rate / hf.rate:.2f}x (goal >= 3)"
            print(line)
        same = sum(a == b for a, b in zip(out_on, out_off)) / len(out_on)
        print(
            f"cache on / off with {pct}: {on.rate / off.rate:.2f}x wall, {on.cpu_rate / off.cpu_rate:.2f}x per "
            f"CPU-second; identical outputs {same:.0%} (a random model's near-tied logits can flip with batch shape)"
        )
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def _replace(spec, **changes):
    import dataclasses

    return dataclasses.replace(spec, **changes)


if __name__ == "__main__":
    main()
