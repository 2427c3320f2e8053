"""Corpus job benchmark: LID, quality filters and dedup against their peers, plus a
full `babelmill corpus` run at scale, printed as one table.

    python bench/corpus_bench.py --evaldata ../shared/evaldata [--limit N] [--dedup-docs 50000] [--full-run 1000000]

Each section lives in its own script (bench/lid_bench.py, bench/filters_bench.py,
bench/dedup_bench.py) and can be run alone; this one runs them in one process on the
same machine so the ratios are comparable.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def _ray_rss() -> int:
    """Ray's workers are not children of the driver: sum every ray/babelmill process."""
    import psutil

    total = 0
    for p in psutil.process_iter(["name", "cmdline", "memory_info"]):
        try:
            cmd = " ".join(p.info["cmdline"] or [])
            if "ray" in cmd or "babelmill" in cmd:
                total += p.info["memory_info"].rss
        except (psutil.Error, TypeError):
            pass
    return total


def full_run(n_docs: int, workdir: Path, files: int = 16) -> dict:
    """Generate ``n_docs`` sample documents and time `babelmill corpus` on them."""
    from babelmill.sample import LANGS, write_sample

    inputs = workdir / "input"
    # sample_records adds bad documents and duplicates: ~1.28 records per good document
    per_lang = max(1, round(n_docs / len(LANGS) / 1.282))
    started = time.perf_counter()
    write_sample(inputs, docs_per_lang=per_lang, files=files, seed=7, malformed=True)
    gen_s = time.perf_counter() - started
    out = workdir / "output"
    cmd = [
        sys.executable,
        "-m",
        "babelmill.pipelines.cli",
        "corpus",
        "--input",
        str(inputs),
        "--output",
        str(out),
        "--overwrite",
        "--no-progress",
    ]
    peak = 0
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stop = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _ray_rss())
            time.sleep(0.5)

    t = threading.Thread(target=poll, daemon=True)
    t.start()
    output, _ = proc.communicate()
    stop.set()
    t.join()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"corpus run failed ({proc.returncode}):\n{output[-3000:]}")
    ledger = json.loads((out / "ledger.json").read_text())
    return {
        "docs": ledger["input"],
        "kept": ledger["kept"],
        "rejected": ledger["rejected"],
        "quarantined": ledger["quarantined"],
        "generate_s": round(gen_s, 1),
        "wall_s": round(wall, 1),
        "docs_per_s": round(ledger["input"] / wall),
        "peak_rss_gb": round(peak / 1e9, 2),
        "drop_reasons": {s["stage"]: s["dropped"] for s in ledger["stages"] if s["dropped"]},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--evaldata", type=Path, default=HERE.parent.parent / "shared" / "evaldata")
    ap.add_argument("--limit", type=int, default=None, help="documents per section for LID and filters (default: all)")
    ap.add_argument("--dedup-docs", type=int, default=50_000)
    ap.add_argument(
        "--full-run", type=int, default=0, help="also run `babelmill corpus` on this many generated documents"
    )
    ap.add_argument("--sections", default="lid,filters,dedup", help="comma-separated subset of lid,filters,dedup")
    ap.add_argument("--json", type=Path, default=None, help="write all numbers to this file")
    args = ap.parse_args()
    results: dict = {}
    sections = {s.strip() for s in args.sections.split(",") if s.strip()}
    if "lid" in sections:
        import lid_bench

        results["lid"] = lid_bench.run(args.evaldata, args.limit)
    if "filters" in sections:
        import filters_bench

        results["filters"] = filters_bench.run(args.evaldata, args.limit)
    if "dedup" in sections:
        import dedup_bench

        results["dedup"] = dedup_bench.run(args.evaldata, args.dedup_docs)
    if args.full_run:
        with tempfile.TemporaryDirectory(prefix="babelmill-bench-") as tmp:
            results["full_run"] = full_run(args.full_run, Path(tmp))
    print(json.dumps(results, indent=2, default=str))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    main()
