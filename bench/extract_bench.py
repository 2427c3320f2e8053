"""HTML extraction benchmark: accuracy and speed of every extractor on real pages with
gold snippets, then `babelmill corpus` end to end on WARC files, printed as tables.

    python bench/extract_bench.py --evaldata ../shared/evaldata [--repeat-pages 20000]
        [--skip-e2e] [--skip-large-trafilatura] [--workdir DIR]

Part 1 (one process, one core): babelmill's extraction stages (auto, resiliparse,
trafilatura) and trafilatura / resiliparse called directly, on the same decoded pages.
Precision / recall / F1 follow trafilatura's own evaluation (a ``with`` snippet present
is a true positive, absent a false negative; a ``without`` snippet present is a false
positive), on all pages and on the two fixed halves (``tune``: the half auto's
thresholds were chosen on; ``check``: held out).  pages/s is wall time, CPU s is
process CPU time, ``x traf`` the speed ratio to trafilatura's ``extract()`` defaults.

Part 2: `babelmill corpus` on the pages' WARC and on a WARC of the pages repeated to
``--repeat-pages`` (record ids made unique), with ``--extractor auto`` and
``--extractor trafilatura``, and auto with ``--split-bytes 0`` (one shard: one core) to
show what splitting one big file buys.  CPU use is the CPU seconds of the whole process
tree (driver, Ray, workers) per wall second.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


# ------------------------------------------------------------------ data


def load_pages(warc: Path) -> list[tuple[str, str]]:
    """(url, decoded html) for every response record, decoded as babelmill's reader does."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    from babelmill.processors.extract import decode_html

    out = []
    with open(warc, "rb") as fh:
        for rec in ArchiveIterator(fh, record_types=WarcRecordType.response, parse_http=True):
            url = (rec.headers.get("WARC-Target-URI") or "").strip()
            ctype = rec.http_headers.get("Content-Type") if rec.http_headers is not None else None
            out.append((url, decode_html(rec.reader.read(), ctype)[0]))
    return out


def half(url: str) -> str:
    """The fixed split auto was tuned on: md5 of the URL, even = tune, odd = check."""
    return "tune" if int(hashlib.md5(url.encode()).hexdigest(), 16) % 2 == 0 else "check"


def prf(results: list[str | None], urls: list[str], gold: dict, which: str | None = None) -> tuple[float, float, float]:
    tp = fp = fn = 0
    for text, url in zip(results, urls):
        if which and half(url) != which:
            continue
        text = text or ""
        g = gold[url]
        for s in g["with"]:
            if s in text:
                tp += 1
            else:
                fn += 1
        fp += sum(1 for s in g["without"] if s in text)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


# ------------------------------------------------------------------ part 1


def extractors() -> list[tuple[str, object, object]]:
    """(label, callable html -> text, babelmill stage or None) for every row of the table."""
    import trafilatura
    from resiliparse.extract.html2text import extract_plain_text

    from babelmill.processors.extract import make_extractor

    rows: list[tuple[str, object, object]] = []
    for name in ("auto", "resiliparse", "trafilatura"):
        stage = make_extractor(name, time_budget=0)

        def call(page: str, stage=stage) -> str | None:
            text, _ = stage.extract_page(page)
            return text

        rows.append((f"babelmill {name}", call, stage))
    budgeted = make_extractor("auto", time_budget=10.0)

    def call_budgeted(page: str) -> str | None:
        return budgeted.extract_page(page)[0]

    rows.append(("babelmill auto (worker process, 10 s budget)", call_budgeted, budgeted))
    rows.append(("trafilatura extract() defaults", lambda p: trafilatura.extract(p), None))
    rows.append(("trafilatura extract(fast=True)", lambda p: trafilatura.extract(p, fast=True), None))
    rows.append(("resiliparse main_content", lambda p: extract_plain_text(p, main_content=True), None))
    return rows


def part1(evaldata: Path) -> list[dict]:
    import logging

    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    root = evaldata / "web-extraction"
    gold = {k.strip(): v for k, v in json.loads((root / "gold.json").read_text()).items()}
    pages = [(u, h) for u, h in load_pages(root / "pages.warc.gz") if u in gold]
    urls = [u for u, _ in pages]
    table = []
    for label, fn, stage in extractors():
        fn(pages[0][1])  # warm-up: imports, worker start
        if stage is not None:
            stage.take_counters()
        wall, cpu = time.perf_counter(), time.process_time()
        out = [fn(h) for _, h in pages]
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        row = {"extractor": label, "pages": len(pages), "wall_s": wall, "cpu_s": cpu}
        for which in (None, "tune", "check"):
            p, r, f = prf(out, urls, gold, which)
            row[which or "all"] = (p, r, f)
        if stage is not None and getattr(stage, "extractor", "") == "auto":
            row["fallback"] = stage.take_counters().get("fallback_trafilatura", 0) / len(pages)
        table.append(row)
        print(f"  done: {label} ({wall:.1f} s)", file=sys.stderr, flush=True)
    return table


def print_part1(table: list[dict]) -> None:
    base = next(r for r in table if r["extractor"] == "trafilatura extract() defaults")
    print("\n## Extraction on trafilatura's gold pages (one core)\n")
    print(
        "| extractor | P | R | F1 | F1 tune half | F1 check half | pages/s | CPU s | x traf (wall) | x traf (CPU) | fallback |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in table:
        p, rec, f = r["all"]
        fb = r.get("fallback")
        print(
            f"| {r['extractor']} | {p:.3f} | {rec:.3f} | {f:.3f} | {r['tune'][2]:.3f} | {r['check'][2]:.3f} | "
            f"{r['pages'] / r['wall_s']:.1f} | {r['cpu_s']:.1f} | {base['wall_s'] / r['wall_s']:.2f} | {base['cpu_s'] / max(r['cpu_s'], 1e-9):.2f} | "
            f"{'' if fb is None else f'{fb:.1%}'} |"
        )
    print("\n(the worker row's CPU s is the driver's only: the extraction runs in the worker process)")


# ------------------------------------------------------------------ part 2


def repeated_warc(src: Path, pages: int, dest: Path) -> Path:
    """The WARC's gzip members repeated until ``pages`` responses, each copy with fresh record ids."""
    if dest.exists():
        return dest
    from fastwarc.warc import ArchiveIterator

    data = src.read_bytes()
    starts = [r.stream_pos for r in ArchiveIterator(str(src))] + [len(data)]
    members = [data[a:b] for a, b in zip(starts, starts[1:])]
    tmp = dest.with_suffix(".tmp")
    n = 0
    with open(tmp, "wb") as out:
        copy = 0
        while n < pages:
            for m in members:
                if n >= pages:
                    break
                raw = zlib.decompress(m, 31)
                head, sep, body = raw.partition(b"\r\n\r\n")
                lines = []
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"warc-record-id:"):
                        line = (
                            line + b""
                            if copy == 0
                            else line.replace(b"<urn:uuid:", f"<urn:uuid:{copy:04d}-".encode(), 1)
                        )
                    lines.append(line)
                if b"WARC-Type: response" in head:
                    n += 1
                out.write(gzip.compress(b"\r\n".join(lines) + sep + body, compresslevel=6))
            copy += 1
    tmp.rename(dest)
    return dest


def run_corpus(warc: Path, out: Path, extractor: str, extra: list[str]) -> dict:
    import psutil

    exe = Path(sys.executable).with_name("babelmill")
    cmd = [
        str(exe),
        "corpus",
        "--input",
        str(warc),
        "--output",
        str(out),
        "--no-progress",
        "--overwrite",
        "--extractor",
        extractor,
        *extra,
    ]
    env = dict(os.environ, PYTHONPATH=str(HERE.parent))
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    cpu: dict[int, float] = {}
    stop = threading.Event()

    def poll() -> None:
        root = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                for p in [root, *root.children(recursive=True)]:
                    try:
                        t = p.cpu_times()
                        cpu[p.pid] = max(cpu.get(p.pid, 0.0), t.user + t.system + t.children_user + t.children_system)
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            stop.wait(0.5)

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    output, _ = proc.communicate()
    wall = time.perf_counter() - started
    stop.set()
    th.join()
    if proc.returncode != 0:
        raise SystemExit(f"babelmill corpus failed ({proc.returncode}):\n{output[-3000:]}")
    ledger = json.loads((out / "ledger.json").read_text())
    timing_file = out / "timing.json"
    timing = {t["stage"]: t for t in json.loads(timing_file.read_text())["stages"]} if timing_file.exists() else {}
    extract = next((s for s in ledger["stages"] if s["stage"] == "extract"), {})
    fb = extract.get("counters", {}).get("fallback_trafilatura", 0)
    return {
        "pages": ledger["input"],
        "wall_s": wall,
        "cpu_s": sum(cpu.values()),
        "shards": len(list((out / "_babelmill" / "done").glob("*.json"))),
        "extract_share": timing.get("extract", {}).get("share"),
        "fallback": fb / extract["in"] if extract.get("in") else None,
        "kept": ledger["kept"],
    }


def part2(
    evaldata: Path, workdir: Path, repeat_pages: int, skip_large_traf: bool, num_cpus: int
) -> list[tuple[str, dict]]:
    src = evaldata / "web-extraction" / "pages.warc.gz"
    big = repeated_warc(src, repeat_pages, workdir / f"pages_x{repeat_pages}.warc.gz")
    cpus = ["--num-cpus", str(num_cpus)]
    runs = [
        (f"{src.name}, auto", src, "auto", cpus),
        (f"{src.name}, trafilatura", src, "trafilatura", cpus),
        (f"{big.name}, auto", big, "auto", cpus),
        (f"{big.name}, auto, one shard (--split-bytes 0)", big, "auto", [*cpus, "--split-bytes", "0"]),
    ]
    if not skip_large_traf:
        runs.append((f"{big.name}, trafilatura", big, "trafilatura", cpus))
    results = []
    for label, warc, extractor, extra in runs:
        res = run_corpus(warc, workdir / f"out-{len(results)}", extractor, extra)
        results.append((label, res))
        print(f"  done: {label} ({res['wall_s']:.1f} s)", file=sys.stderr, flush=True)
    return results


def print_part2(results: list[tuple[str, dict]], num_cpus: int) -> None:
    print(f"\n## `babelmill corpus` end to end (--num-cpus {num_cpus}; wall includes Ray start-up)\n")
    print("| run | pages | shards | wall s | pages/s | CPU s | cores busy | extract share | fallback | kept |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, r in results:
        share = f"{r['extract_share']:.0%}" if r["extract_share"] is not None else ""
        fb = f"{r['fallback']:.1%}" if r["fallback"] is not None else ""
        print(
            f"| {label} | {r['pages']} | {r['shards']} | {r['wall_s']:.1f} | {r['pages'] / r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
            f"{r['cpu_s'] / r['wall_s']:.2f} | {share} | {fb} | {r['kept']} |"
        )
    by = dict(results)
    ratios = []
    small = [k for k in by if k.endswith(", auto") and "_x" not in k]
    small_t = [k for k in by if k.endswith(", trafilatura") and "_x" not in k]
    if small and small_t:
        ratios.append(f"auto vs trafilatura, pages' WARC: {by[small_t[0]]['wall_s'] / by[small[0]]['wall_s']:.2f}x")
    big_auto = [k for k in by if "_x" in k and k.endswith(", auto")]
    big_one = [k for k in by if "one shard" in k]
    big_t = [k for k in by if "_x" in k and k.endswith(", trafilatura")]
    if big_auto and big_one:
        ratios.append(f"split vs one shard, repeated WARC: {by[big_one[0]]['wall_s'] / by[big_auto[0]]['wall_s']:.2f}x")
    if big_auto and big_t:
        ratios.append(f"auto vs trafilatura, repeated WARC: {by[big_t[0]]['wall_s'] / by[big_auto[0]]['wall_s']:.2f}x")
    for r in ratios:
        print(f"- {r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--evaldata", type=Path, required=True, help="the shared evaldata folder (holds web-extraction/)")
    ap.add_argument("--repeat-pages", type=int, default=20_000, help="pages of the repeated WARC (end-to-end runs)")
    ap.add_argument("--num-cpus", type=int, default=2, help="--num-cpus of the end-to-end runs")
    ap.add_argument("--skip-e2e", action="store_true", help="only the extraction table")
    ap.add_argument(
        "--skip-large-trafilatura", action="store_true", help="no trafilatura run on the repeated WARC (slowest run)"
    )
    ap.add_argument(
        "--workdir", type=Path, default=None, help="where the repeated WARC and the outputs go (default: a temp dir)"
    )
    args = ap.parse_args()
    if not (args.evaldata / "web-extraction" / "gold.json").is_file():
        print(
            f"error: {args.evaldata}/web-extraction/gold.json not found; pass --evaldata ../shared/evaldata",
            file=sys.stderr,
        )
        raise SystemExit(2)
    table = part1(args.evaldata)
    print_part1(table)
    if args.skip_e2e:
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="extract-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = part2(args.evaldata, workdir, args.repeat_pages, args.skip_large_trafilatura, args.num_cpus)
    print_part1(table)
    print_part2(results, args.num_cpus)


if __name__ == "__main__":
    main()
