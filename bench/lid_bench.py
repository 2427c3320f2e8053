"""LID benchmark: lid.176, heliport and ``--lid auto`` -- accuracy and speed in one run.

Accuracy, FLORES-200 devtest (500 sentences per variety, all 204 varieties): each backend
labels every sentence (``target_langs=None``, no thresholds: identification only); per
variety the share labelled with the variety's language, and macro averages over all 204,
over the varieties the backend covers, and over those at least one shipped model covers
(the language is one the model can answer, in a script its profile accepts).  Per target
(every profile with a FLORES variety): the share of its sentences kept by a run with
``target_langs=[it]`` -- thresholds, script check and routing included -- for lid.176 and
``auto``, the goal being no target losing more than 0.01.

Speed, the lingua-testdata web sentences joined 5 per document (~15.6k documents), best
of ``--repeats`` interleaved runs in one process: the raw libraries (fastText
``predict(list, k)`` with newlines already replaced; heliport ``par_identify_with_score``
and per-text ``identify_topk_with_score``) against the stages from Arrow tables
(``FastTextLanguageIdentifier``, ``HeliportLanguageIdentifier``, ``AutoLanguageIdentifier``
with top-k 3 and 1), and datatrove's ``LanguageFilter`` (ft176) on the same model.

    python bench/lid_bench.py --evaldata ../shared/evaldata [--limit N] [--per-language]
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import polars as pl  # noqa: E402
import pyarrow as pa  # noqa: E402

from babelmill import langs  # noqa: E402
from babelmill.langs.coverage import WELL_COVERED  # noqa: E402
from babelmill.processors.lid import (  # noqa: E402
    SCRIPT_CLASSES,
    AutoLanguageIdentifier,
    FastTextLanguageIdentifier,
    HeliportLanguageIdentifier,
    profile_scripts,
    resolve_model_path,
)
from babelmill.processors.lid.auto import heliport_codes  # noqa: E402

SENTENCES_PER_DOC = 5
#: the languages the issue names, with the accuracy auto must reach on each
FOCUS = ("yor", "som", "ibo", "zul", "lug", "sna", "lin", "twi", "ewe", "fon", "luo")
FOCUS_MIN = 0.98
MACRO_GOAL = 0.95
MAX_LOSS = 0.01
BACKENDS = ("lid176", "heliport", "auto")


@functools.cache
def _code(label: str) -> str:
    """Babelmill code for a file label (lingua iso1, FLORES/OPUS ``xxx`` or ``xxx_Scrp``).

    Varieties ``langs`` does not know keep their bare ISO code, the way the stages keep
    model labels they cannot map (lid.176's ``arz`` against FLORES ``arz``).
    """
    bare = label.split("_", 1)[0]
    for key in (label, bare):
        try:
            return langs.get(key).code
        except LookupError:
            continue
    return bare


def _stage(backend: str, **kw):
    if backend == "lid176":
        return FastTextLanguageIdentifier(**kw)
    if backend == "heliport":
        return HeliportLanguageIdentifier(**kw)
    return AutoLanguageIdentifier(**kw)


def load_lingua_docs(evaldata: Path, limit: int | None) -> tuple[list[str], list[str]]:
    """Documents of 5 sentences, round-robin over languages so that a limit keeps them all."""
    folder = evaldata / "lingua-testdata" / "language-testdata" / "sentences"
    per_lang: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.txt")):
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        per_lang[path.stem] = [
            "\n".join(lines[i : i + SENTENCES_PER_DOC]) for i in range(0, len(lines), SENTENCES_PER_DOC)
        ]
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


def _script_ok(label: str, code: str) -> bool:
    """A FLORES label's script (``xxx_Scrp``) is one the language's profile accepts."""
    if "_" not in label:
        return True
    script = label.split("_", 1)[1]
    accepted = {SCRIPT_CLASSES.get(s, s) for s in profile_scripts(code)}
    return SCRIPT_CLASSES.get(script, script) in accepted


def speed(texts: list[str], model_file: Path, repeats: int, batch_size: int) -> dict:
    from datatrove.data import Document
    from fasttext.FastText import _FastText

    from babelmill.processors.lid.heliport import load_identifier

    raw_ft = _FastText(model_path=str(model_file))
    raw_he = load_identifier()
    clean = [t.replace("\n", " ") for t in texts]
    table = pa.table({"id": [str(i) for i in range(len(texts))], "text": pa.array(texts, pa.string())})
    batches = [table.slice(i, batch_size) for i in range(0, table.num_rows, batch_size)]
    stages = {
        "stage_fasttext": FastTextLanguageIdentifier(),
        "stage_heliport": HeliportLanguageIdentifier(),
        "stage_auto": AutoLanguageIdentifier(),
        "stage_auto_top1": AutoLanguageIdentifier(top_k=1),
    }
    for st in stages.values():
        st.setup()
    lf = _datatrove_filter(model_file)
    docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]

    def run_stage(stage) -> None:
        for b in batches:
            stage(b)
        stage.take_counters()

    def run_datatrove() -> None:
        for d in docs:
            d.metadata.clear()
        for _ in lf.run(iter(docs)):
            pass

    runs = {
        "raw_fasttext": lambda: raw_ft.predict(clean, k=3),
        "raw_heliport_par": lambda: raw_he.par_identify_with_score(clean),
        "raw_heliport_topk": lambda: [raw_he.identify_topk_with_score(t, 3) for t in clean],
        **{name: (lambda st=st: run_stage(st)) for name, st in stages.items()},
        "datatrove": run_datatrove,
    }
    warm = table.slice(0, 200)  # first-call costs (label lookups, lazy imports) are not throughput
    for st in stages.values():
        st(warm)
    raw_ft.predict(clean[:200], k=3)
    list(lf.run(iter(docs[:200])))
    wall = dict.fromkeys(runs, math.inf)
    cpu = dict.fromkeys(runs, math.inf)
    for _ in range(repeats):  # interleaved, so that load on a shared machine hits all alike
        for name, fn in runs.items():
            w, c = _seconds(fn)
            wall[name], cpu[name] = min(wall[name], w), min(cpu[name], c)
    n = len(texts)
    rates = {name: n / t for name, t in wall.items()}
    cpu_rates = {name: n / max(t, 1e-9) for name, t in cpu.items()}
    he_top = HeliportLanguageIdentifier(top_k=1).predict(pl.Series(texts, dtype=pl.String), k=1).lang
    deferred = stages["stage_auto"]._defer(he_top)
    return {
        "docs": n,
        "avg_chars": round(sum(map(len, texts)) / max(n, 1), 1),
        "batch_size": batch_size,
        "auto_share_sent_to_lid176": round(float(deferred.mean()), 4) if n else 0.0,
        "docs_per_s": {name: round(r) for name, r in rates.items()},
        "ratio_vs_raw_fasttext": {
            name: round(r / rates["raw_fasttext"], 3) for name, r in rates.items() if name != "raw_fasttext"
        },
        "docs_per_cpu_s": {name: round(r) for name, r in cpu_rates.items()},
        "cpu_ratio_vs_raw_fasttext": {
            name: round(r / cpu_rates["raw_fasttext"], 3) for name, r in cpu_rates.items() if name != "raw_fasttext"
        },
    }


def covered_codes() -> dict[str, set[str]]:
    """The codes each shipped backend can answer (lid.176 labels mapped like the stage)."""
    ft = FastTextLanguageIdentifier()
    ft.setup()
    lid176 = {ft._code(lab.removeprefix("__label__")) for lab in ft._model.get_labels()}
    return {"lid176": lid176, "heliport": set(heliport_codes())}


def flores_accuracy(flores: dict[str, list[str]]) -> dict:
    """Per variety accuracy of each backend (top answer, no thresholds) and the macros."""
    labels = [lab for lab, lines in flores.items() for _ in lines]
    texts = pl.Series([t for lines in flores.values() for t in lines], dtype=pl.String)
    golds = [_code(lab) for lab in labels]
    codes = covered_codes()
    per: dict[str, dict[str, float]] = {}
    for backend in BACKENDS:
        pred = _stage(backend, top_k=1).predict(texts, k=1).lang.to_list()
        hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for label, gold, p in zip(labels, golds, pred, strict=True):
            hits[label][0] += gold == p
            hits[label][1] += 1
        per[backend] = {label: round(h / n, 4) for label, (h, n) in hits.items()}
    covers = {
        b: {lab for lab in flores if _code(lab) in codes[b] and _script_ok(lab, _code(lab))}
        for b in ("lid176", "heliport")
    }
    any_cov = covers["lid176"] | covers["heliport"]
    # varieties at least one shipped model identifies to WELL_COVERED (what auto accepts as a target)
    well = {lab for lab in any_cov if max(per["lid176"][lab], per["heliport"][lab]) >= WELL_COVERED}

    def macro(values: dict[str, float], keys) -> float:
        keys = [k for k in keys if k in values]
        return round(sum(values[k] for k in keys) / len(keys), 4) if keys else float("nan")

    out = {
        "varieties": len(flores),
        "covered_by": {b: len(v) for b, v in covers.items()},
        "covered_by_any": len(any_cov),
        "macro_all": {b: macro(per[b], flores) for b in BACKENDS},
        "macro_covered_by_any": {b: macro(per[b], any_cov) for b in BACKENDS},
        "covered_well_by_any": len(well),
        "macro_covered_well_by_any": {b: macro(per[b], well) for b in BACKENDS},
        "macro_own_coverage": {b: macro(per[b], covers.get(b, any_cov)) for b in BACKENDS},
        "focus": {lab: {b: per[b].get(lab) for b in BACKENDS} for lab in FOCUS if lab in flores},
        "worst_auto_covered": dict(sorted(((k, per["auto"][k]) for k in any_cov), key=lambda kv: kv[1])[:15]),
        "per_variety": {lab: {b: per[b][lab] for b in BACKENDS} for lab in flores},
    }
    return out


def per_target(flores: dict[str, list[str]]) -> dict:
    """Kept share of each profile's FLORES variety with it as the only target, lid.176 vs auto."""
    out = {}
    for p in langs.all_profiles():
        label = next((lab for lab in (p.flores, (p.flores or "").split("_")[0]) if lab in flores), None)
        if label is None or "lid176" not in p.lid_labels:
            continue
        batch = pa.table({"text": pa.array(flores[label], pa.string())})
        row = {}
        for backend in ("lid176", "auto"):
            try:
                kept = _stage(backend, target_langs=[p.code], top_k=1)(batch).column("drop_reason").null_count
                row[backend] = round(kept / batch.num_rows, 4)
            except Exception as exc:  # auto refuses uncovered targets
                row[backend] = f"refused: {str(exc)[:60]}"
        out[p.code] = row
    losses = {c: r for c, r in out.items() if isinstance(r["auto"], float) and r["auto"] < r["lid176"] - MAX_LOSS}
    return {"targets": len(out), "losses_over_0.01": losses, "per_target": out}


def run(
    evaldata: Path,
    limit: int | None = None,
    model_path: str | None = None,
    repeats: int = 3,
    batch_size: int = 10_000,
    targets: bool = True,
) -> dict:
    """All LID numbers as a dict (the corpus benchmark prints them in its table)."""
    evaldata = Path(evaldata)
    model_file = resolve_model_path(model_path)
    texts, _ = load_lingua_docs(evaldata, limit)
    flores = load_flores(evaldata, limit)
    res = {
        "model": str(model_file),
        "speed": speed(texts, model_file, repeats, batch_size),
        "flores_accuracy": flores_accuracy(flores),
    }
    if targets:
        res["per_target"] = per_target(flores)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--evaldata", type=Path, default=HERE.parent.parent / "shared" / "evaldata")
    ap.add_argument(
        "--limit", type=int, default=None, help="documents for the speed run and FLORES sentences in all (default: all)"
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=10_000)
    ap.add_argument("--no-targets", action="store_true", help="skip the per-target kept-share comparison")
    ap.add_argument("--per-language", action="store_true", help="print every variety and target in the JSON")
    args = ap.parse_args()
    res = run(args.evaldata, args.limit, None, args.repeats, args.batch_size, not args.no_targets)
    s = res["speed"]
    print(
        f"LID speed on {s['docs']} lingua documents (avg {s['avg_chars']} chars), best of {args.repeats}; auto sends {s['auto_share_sent_to_lid176']:.1%} to lid.176:"
    )
    for name, rate in s["docs_per_s"].items():
        ratio = s["ratio_vs_raw_fasttext"].get(name, 1.0)
        cpu_rate, cpu_ratio = s["docs_per_cpu_s"][name], s["cpu_ratio_vs_raw_fasttext"].get(name, 1.0)
        print(
            f"  {name:18s} {rate:>9,} docs/s  {ratio:5.2f}x raw fastText  | {cpu_rate:>9,} docs/CPU-s  {cpu_ratio:5.2f}x"
        )
    fa = res["flores_accuracy"]
    print(
        f"FLORES-200 devtest, {fa['varieties']} varieties ({fa['covered_by_any']} covered by a shipped model; lid176 {fa['covered_by']['lid176']}, heliport {fa['covered_by']['heliport']}):"
    )
    print(f"  {'macro accuracy':28s} " + "  ".join(f"{b:>8s}" for b in BACKENDS))
    for key in ("macro_all", "macro_covered_by_any", "macro_covered_well_by_any", "macro_own_coverage"):
        print(f"  {key:28s} " + "  ".join(f"{fa[key][b]:8.4f}" for b in BACKENDS))
    for key in ("macro_covered_by_any", "macro_covered_well_by_any"):
        print(f"  goal: auto {key} >= {MACRO_GOAL}: {'MET' if fa[key]['auto'] >= MACRO_GOAL else 'NOT MET'}")
    print(f"  ({fa['covered_well_by_any']} varieties covered well: a shipped model reaches {WELL_COVERED} on them)")
    print(f"  focus varieties (goal auto >= {FOCUS_MIN}):")
    for lab, accs in fa["focus"].items():
        print(
            f"    {lab:10s} "
            + "  ".join(f"{b} {accs[b]:.3f}" for b in BACKENDS)
            + ("" if accs["auto"] >= FOCUS_MIN else "  <- below goal")
        )
    print(
        "  worst covered varieties under auto: "
        + ", ".join(f"{k} {v:.3f}" for k, v in fa["worst_auto_covered"].items())
    )
    if "per_target" in res:
        pt = res["per_target"]
        print(
            f"per target (kept share of its FLORES variety, {pt['targets']} targets with a lid.176 label): {len(pt['losses_over_0.01'])} lose > {MAX_LOSS} vs lid.176"
        )
        for code, r in pt["losses_over_0.01"].items():
            print(f"    {code:6s} lid176 {r['lid176']:.3f}  auto {r['auto']:.3f}")
        refused = {c: r["auto"] for c, r in pt["per_target"].items() if isinstance(r["auto"], str)}
        if refused:
            print(f"  refused by auto (no shipped model covers them): {', '.join(refused)}")
    if not args.per_language:
        fa.pop("per_variety")
        res.get("per_target", {}).pop("per_target", None)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
