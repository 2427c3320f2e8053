"""How the corpus job's cost grows with the work: `babelmill corpus` on generated crawls.

    python bench/scale_bench.py [--sizes 100000,300000,1000000] [--files 16]

For each size the sample generator writes that many documents (with its share of bad
records and duplicates), then one `babelmill corpus` run processes them with dedup on.
While it runs every babelmill / Ray process is sampled twice a second, so the table
gives, besides wall time and documents/s:

- CPU seconds of all the run's processes (driver, Ray workers and Ray's own services);
- peak RSS of the whole run, of the driver, of the largest per-shard worker and of the
  dedup global step (the Ray tasks ``_step_task`` / ``_combine_task``, whose memory
  grows with the number of documents; its figure per million documents is what sizes the
  head node of a cluster).

Run it alone on the machine: the figures are the machine's, not the job's alone.
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
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: process titles Ray gives a worker while it runs one of the runner's tasks
GLOBAL_TASKS = ("ray::_step_task", "ray::_combine_task")
SHARD_TASKS = ("ray::_shard_task", "ray::_finish_task", "ray::_ShardWorker")


@dataclass
class Sample:
    """Peaks seen over the run, and the last CPU time of every process."""

    total: int = 0
    driver: int = 0
    shard: int = 0
    global_step: int = 0
    cpu: dict[int, float] = field(default_factory=dict)

    def observe(self, driver_pid: int) -> None:
        import psutil

        total = 0
        for p in psutil.process_iter(["pid", "cmdline", "memory_info", "cpu_times"]):
            try:
                cmd = " ".join(p.info["cmdline"] or [])
                if not ("ray" in cmd or "babelmill" in cmd) and p.info["pid"] != driver_pid:
                    continue
                rss = p.info["memory_info"].rss
                times = p.info["cpu_times"]
            except (psutil.Error, TypeError, AttributeError):
                continue
            total += rss
            self.cpu[p.info["pid"]] = times.user + times.system
            if p.info["pid"] == driver_pid:
                self.driver = max(self.driver, rss)
            elif cmd.startswith(GLOBAL_TASKS):
                self.global_step = max(self.global_step, rss)
            elif cmd.startswith(SHARD_TASKS):
                self.shard = max(self.shard, rss)
        self.total = max(self.total, total)


def run_size(n_docs: int, workdir: Path, files: int) -> dict:
    from babelmill.sample import LANGS, write_sample

    inputs = workdir / f"input-{n_docs}"
    # the generator adds bad documents and duplicates: ~1.28 records per good document
    per_lang = max(1, round(n_docs / len(LANGS) / 1.282))
    started = time.perf_counter()
    write_sample(inputs, docs_per_lang=per_lang, files=files, seed=7, malformed=True)
    generate_s = time.perf_counter() - started
    out = workdir / f"output-{n_docs}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    cmd = [sys.executable, "-m", "babelmill.pipelines.cli", "corpus", "--input", str(inputs)]
    cmd += ["--output", str(out), "--overwrite", "--no-progress"]
    sample = Sample()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            sample.observe(proc.pid)
            time.sleep(0.5)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    output, _ = proc.communicate()
    stop.set()
    thread.join()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"corpus run on {n_docs} documents failed ({proc.returncode}):\n{output[-3000:]}")
    ledger = json.loads((out / "ledger.json").read_text())
    records = ledger["input"]
    return {
        "records": records,
        "kept": ledger["kept"],
        "generate_s": round(generate_s, 1),
        "wall_s": round(wall, 1),
        "docs_per_s": round(records / wall),
        "cpu_s": round(sum(sample.cpu.values()), 1),
        "peak_total_gb": round(sample.total / 1e9, 2),
        "peak_driver_gb": round(sample.driver / 1e9, 2),
        "peak_shard_worker_gb": round(sample.shard / 1e9, 2),
        "peak_dedup_step_gb": round(sample.global_step / 1e9, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000,300000,1000000", help="comma list of document counts")
    ap.add_argument("--files", type=int, default=16, help="input files per size")
    ap.add_argument("--workdir", type=Path, default=None, help="where inputs and outputs go (default: a temp dir)")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows to this file")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rows = []
    print("| records | wall s | records/s | CPU s | peak RSS all | driver | largest shard worker | dedup step |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="babelmill-scale-", dir=args.workdir) as tmp:
        for n in sizes:
            row = run_size(n, Path(tmp), args.files)
            rows.append(row)
            print(
                f"| {row['records']:,} | {row['wall_s']} | {row['docs_per_s']:,} | {row['cpu_s']} "
                f"| {row['peak_total_gb']} GB | {row['peak_driver_gb']} GB | {row['peak_shard_worker_gb']} GB "
                f"| {row['peak_dedup_step_gb']} GB |",
                flush=True,
            )
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        grow = (b["peak_dedup_step_gb"] - a["peak_dedup_step_gb"]) / max(1, b["records"] - a["records"]) * 1e6
        print(f"\ndedup step memory growth: {grow:.2f} GB per million records (between the smallest and largest)")
        print(f"time growth: {b['wall_s'] / a['wall_s']:.2f}x wall for {b['records'] / a['records']:.2f}x records")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
