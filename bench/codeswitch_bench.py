"""Code-switching and interleaving throughput: rows/s per mode, peak memory, and the
ratio accuracy against a CoSDA-ML-style baseline.

Every mode runs in its own child process (so each peak RSS is its own) over generated
parallel data (``processors/codeswitch/synthetic.py``: made-up words, a full lexicon,
non-monotone Pharaoh alignments, 20% of sentences with a URL / inline code / number):

  * dictionary (word, phrase, two targets), align (phrase), xicl, xcot: ``--pairs``
    sentence pairs (default 100k), in batches of ``--batch`` rows as the runner sends them;
  * interlinear, alternate, pack (a word-level tokenizer built here, 256-token budget),
    translation-instructions: the same number of sentence pairs grouped into documents
    of 1-20 sentences;
  * translate: ``--mt-pairs`` pairs (default 2000) on a tiny random M2M100 model
    (CTranslate2, int8, CPU): its figure is the engine's plumbing, not a real model's speed;
  * peer: CoSDA-ML's replacement loop (Qin et al. 2020: each whitespace token replaced with
    probability ``ratio`` by a random dictionary translation), in plain Python, on the
    same pairs: its achieved ratio and its damage to protected spans are reported too.

The parallel reader (JSON records to parallel rows) is timed as part of every mode.

    python bench/codeswitch_bench.py                 # the full run (100k pairs)
    python bench/codeswitch_bench.py --pairs 5000 --mt-pairs 200 --quick
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "helpers"))

SENTENCE_MODES = ("dictionary", "dictionary-phrase", "dictionary-2tgt", "align", "xicl", "xcot", "peer-cosda")
DOC_MODES = ("interlinear", "alternate", "pack", "translation-instructions")
RATIO = 0.3


def _docs_table(records: list[dict]):
    import orjson
    import pyarrow as pa

    return pa.table(
        {
            "id": [r["id"] for r in records],
            "text": [""] * len(records),
            "meta": [orjson.dumps(r).decode() for r in records],
            "source": ["bench"] * len(records),
        }
    )


def _conversations(records: list[dict]) -> list[dict]:
    import orjson

    out = []
    for k in range(0, len(records) - 1, 2):
        a, b = records[k], records[k + 1]
        src = {"messages": [{"role": "user", "content": a["src"]}, {"role": "assistant", "content": b["src"]}]}
        tgt = [{"role": "user", "content": a["tgt"]}, {"role": "assistant", "content": b["tgt"]}]
        out.append({"id": a["id"], "messages": tgt, "original": orjson.dumps(src).decode(), "format": "messages"})
    return out


def _cosda(records: list[dict], lex: dict[str, list[str]], seed: int) -> tuple[list[str], float, float]:
    """The peer: per-token Bernoulli replacement from a dictionary (CoSDA-ML)."""
    from babelmill.processors.translate.protect import protected_spans

    rng = random.Random(seed)
    outs, ratios, broken = [], [], 0
    with_protected = 0
    for r in records:
        toks = r["src"].split()
        switched = 0
        words = 0
        for i, t in enumerate(toks):
            key = t.lower().strip(".,!?")
            if any(ch.isalpha() for ch in t):
                words += 1
            if rng.random() < RATIO and key in lex:
                toks[i] = rng.choice(lex[key])
                switched += 1
        out = " ".join(toks)
        outs.append(out)
        ratios.append(switched / words if words else 0.0)
        spans = protected_spans(r["src"])
        if spans:
            with_protected += 1
            broken += any(r["src"][s:e] not in out for s, e in spans)
    return outs, sum(ratios) / len(ratios), broken / max(with_protected, 1)


def child(mode: str, n_pairs: int, batch: int, mt_pairs: int, workdir: str) -> dict:
    from babelmill.processors.codeswitch.synthetic import documents, lexicon_lines, pairs, vocab
    from babelmill.processors.io.parallel import ParallelParser
    from babelmill.processors.translate.protect import protected_spans

    _, lex = vocab(seed=0)
    lex_path = Path(workdir) / "lex.txt"
    if not lex_path.exists():
        lex_path.write_text("\n".join(lexicon_lines(lex)) + "\n")
    yo_path = Path(workdir) / "lex-yo.txt"
    if not yo_path.exists():
        yo_path.write_text("\n".join(f"{w} {c[::-1]}" for w, cands in lex.items() for c in cands) + "\n")
    if mode in DOC_MODES:
        per_doc = 10
        records = list(documents(max(1, n_pairs // per_doc), seed=1, max_sents=2 * per_doc - 1))
        units = sum(r["src"].count("\n") + 1 for r in records)
    elif mode == "translate":
        records = list(pairs(mt_pairs, seed=1))
        units = len(records)
    else:
        records = list(pairs(n_pairs, seed=1))
        units = len(records)
    if mode in ("xicl", "xcot"):
        records = _conversations(records)
    if mode == "peer-cosda":
        started, cpu0 = time.perf_counter(), time.process_time()
        _, achieved, broken = _cosda(records, lex, seed=1)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
        return {
            "mode": mode,
            "rows": len(records),
            "units": units,
            "wall": wall,
            "cpu": cpu,
            "ratio": achieved,
            "protected_broken": broken,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }

    tables = [_docs_table(records[i : i + batch]) for i in range(0, len(records), batch)]
    need_target = mode not in ("dictionary", "dictionary-phrase", "dictionary-2tgt", "translate")
    tgt = "sw,yo" if mode == "dictionary-2tgt" else "sw"
    parser = ParallelParser("en", tgt, need_target=need_target)
    if mode.startswith("dictionary"):
        from babelmill.processors.codeswitch.stages import CodeSwitcher

        targets = ["sw", "yo"] if mode == "dictionary-2tgt" else ["sw"]
        lexicons = {"sw": str(lex_path), "yo": str(yo_path)} if mode == "dictionary-2tgt" else {"sw": str(lex_path)}
        stage = CodeSwitcher(
            "dictionary",
            targets,
            ratio=RATIO,
            unit="phrase" if mode == "dictionary-phrase" else "word",
            seed=1,
            lexicons=lexicons,
        )
    elif mode == "align":
        from babelmill.processors.codeswitch.stages import CodeSwitcher

        stage = CodeSwitcher("align", ["sw"], ratio=RATIO, unit="phrase", seed=1)
    elif mode == "translate":
        from tiny_models import build_m2m100

        from babelmill.processors.codeswitch.stages import CodeSwitcher
        from babelmill.processors.translate.engine import CTranslate2Spec

        model = build_m2m100(Path(workdir) / "m2m100")
        spec = CTranslate2Spec(
            model=str(model), device="cpu", intra_threads=os.cpu_count() or 1, cache_dir=str(Path(workdir) / "ct2")
        )
        stage = CodeSwitcher("translate", ["sw"], ratio=RATIO, seed=1, spec=spec)
    elif mode == "xicl":
        from babelmill.processors.codeswitch.prompts import CrossLingualICL

        stage = CrossLingualICL(shots=3, ratio=RATIO, seed=1)
    elif mode == "xcot":
        from babelmill.processors.codeswitch.prompts import CrossLingualCoT

        stage = CrossLingualCoT()
    elif mode == "pack":
        from tiny_tokenizer import build_tokenizer

        from babelmill.processors.interleave.stages import Packer

        tok = Path(workdir) / "tok"
        if not (tok / "tokenizer.json").exists():
            build_tokenizer(tok)
        stage = Packer(str(tok), max_tokens=256, overlap=1)
    else:
        from babelmill.processors.interleave import stages as il

        stage = {
            "interlinear": il.Interlinear(),
            "alternate": il.Alternate(unit="sentence"),
            "translation-instructions": il.TranslationInstructions(),
        }[mode]
    stage.setup()
    started, cpu0 = time.perf_counter(), time.process_time()
    out_rows = kept = 0
    ratios: list[float] = []
    broken = with_protected = 0
    for t in tables:
        p = parser(t)
        import pyarrow.compute as pc

        p = p.filter(pc.is_null(p.column("drop_reason"))).drop_columns(["drop_reason"])
        o = stage(p)
        out_rows += o.num_rows
        if "drop_reason" in o.column_names:
            kept += o.column("drop_reason").null_count
        else:
            kept += o.num_rows
        if "ratio" in o.column_names and mode not in ("xcot",):
            ratios += o.column("ratio").to_pylist()
        if mode in ("dictionary", "dictionary-phrase", "dictionary-2tgt", "align", "translate"):
            for src, text in zip(o.column("source_text").to_pylist(), o.column("text").to_pylist()):
                spans = protected_spans(src)
                if spans:
                    with_protected += 1
                    broken += any(src[s:e] not in text for s, e in spans)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
    return {
        "mode": mode,
        "rows": len(records),
        "units": units,
        "out_rows": out_rows,
        "kept": kept,
        "wall": wall,
        "cpu": cpu,
        "ratio": sum(ratios) / len(ratios) if ratios else None,
        "protected_broken": broken / with_protected if with_protected else None,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=100_000, help="generated sentence pairs per mode")
    ap.add_argument("--mt-pairs", type=int, default=2000, help="pairs for the translate mode (tiny model)")
    ap.add_argument("--batch", type=int, default=10_000, help="rows per batch (as the runner sends them)")
    ap.add_argument("--modes", default=",".join(SENTENCE_MODES + DOC_MODES + ("translate",)))
    ap.add_argument("--quick", action="store_true", help="skip the translate mode")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.pairs, args.batch, args.mt_pairs, args.workdir)))
        return
    modes = [m for m in args.modes.split(",") if m and not (args.quick and m == "translate")]
    results = []
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with tempfile.TemporaryDirectory() as work:
        for mode in modes:
            cmd = [
                sys.executable,
                __file__,
                "--child",
                mode,
                "--pairs",
                str(args.pairs),
                "--mt-pairs",
                str(args.mt_pairs),
                "--batch",
                str(args.batch),
                "--workdir",
                work,
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if proc.returncode != 0:
                print(f"{mode}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
                continue
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            results.append(res)
            print(f"  {mode}: {res['rows'] / res['wall']:,.0f} rows/s", file=sys.stderr, flush=True)
    peer = next((r for r in results if r["mode"] == "peer-cosda"), None)
    print(
        f"\nTarget ratio {RATIO}; {args.pairs:,} generated pairs per mode ({args.mt_pairs:,} for translate); batches of {args.batch:,}.\n"
    )
    print(
        "| mode | input rows | pairs | output rows | wall s | CPU s | rows/s | rows/CPU-s | pairs/s | peak RSS MB | mean ratio | protected spans broken | wall vs peer | CPU vs peer |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        vs_w = f"{r['wall'] / peer['wall']:.1f}x" if peer and r is not peer and r["mode"] in SENTENCE_MODES else ""
        vs_c = f"{r['cpu'] / peer['cpu']:.1f}x" if peer and r is not peer and r["mode"] in SENTENCE_MODES else ""
        ratio = "" if r.get("ratio") is None else f"{r['ratio']:.3f}"
        broken = "" if r.get("protected_broken") is None else f"{100 * r['protected_broken']:.1f}%"
        print(
            f"| {r['mode']} | {r['rows']:,} | {r['units']:,} | {r.get('out_rows', r['rows']):,} | {r['wall']:.2f} | {r['cpu']:.2f} | "
            f"{r['rows'] / r['wall']:,.0f} | {r['rows'] / r['cpu']:,.0f} | {r['units'] / r['wall']:,.0f} | {r['peak_mb']:,.0f} | {ratio} | {broken} | {vs_w} | {vs_c} |"
        )
    print("\nwall/CPU vs peer: seconds of the mode / seconds of the CoSDA-ML loop on the same pairs (>1: slower);")
    print(
        "the peer neither protects spans nor hits the ratio when the dictionary misses words, and records no spans or metrics."
    )


if __name__ == "__main__":
    main()
