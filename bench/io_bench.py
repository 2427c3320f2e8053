"""I/O benchmark: ``babelmill copy`` against plain pyarrow on the same JSONL files.

Plain pyarrow is the limit: ``pyarrow.json.read_json`` + ``pyarrow.parquet.write_table``
(zstd) per file, no validation, no ledger.  babelmill runs the full copy job through the
Ray runner (one task per file, malformed-line handling on, ledger, atomic outputs); Ray
start-up is timed apart.  Prints rows/s and the ratio.

    python bench/io_bench.py                       # generates 1M rows / 8 files first
    python bench/io_bench.py --input DIR --rows-hint 1000000
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow.json as pa_json  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402


def plain_pyarrow(files: list[str], out: Path) -> tuple[int, float]:
    out.mkdir(parents=True, exist_ok=True)
    rows = 0
    t0 = time.perf_counter()
    for i, f in enumerate(files):
        table = pa_json.read_json(f)
        pq.write_table(table, out / f"part-{i:05d}.parquet", compression="zstd")
        rows += table.num_rows
    return rows, time.perf_counter() - t0


def babelmill_copy(input_dir: str, out: Path, num_cpus: int | None) -> tuple[int, float, float]:
    from babelmill.pipelines.jobs import copy_job
    from babelmill.pipelines.runner import EngineOptions, init_ray, run

    engine = EngineOptions(num_cpus=num_cpus)
    ray_s = init_ray(engine)
    job = copy_job([input_dir], out)
    t0 = time.perf_counter()
    result = run(job, engine, overwrite=True)
    return result.ledger.input, time.perf_counter() - t0, ray_s


def ray_data_copy(files: list[str], out: Path) -> tuple[int, float]:
    """The same read + Parquet write with Ray Data, for the record of why it is not our path."""
    import ray.data

    t0 = time.perf_counter()
    ds = ray.data.read_json(files)
    ds.write_parquet(str(out))
    secs = time.perf_counter() - t0
    return len(pq.read_table(out)), secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", help="directory of .jsonl files (default: generate --rows rows into a temp dir)")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--num-cpus", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=2, help="runs of each side; the best is reported")
    ap.add_argument("--ray-data", action="store_true", help="also time Ray Data read_json + write_parquet")
    a = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="babelmill-iobench-"))
    try:
        input_dir = a.input
        if input_dir is None:
            from make_jsonl import make_files  # type: ignore[import-not-found]

            input_dir = str(work / "input")
            print(f"generating {a.rows:,} rows in {a.files} files ...", flush=True)
            make_files(Path(input_dir), a.rows, a.files)
        files = sorted(glob.glob(os.path.join(input_dir, "*.jsonl")))
        size = sum(os.path.getsize(f) for f in files)
        print(f"input: {len(files)} files, {size / 1e6:,.0f} MB")

        best_pa = min((plain_pyarrow(files, work / f"pa{i}") for i in range(a.repeat)), key=lambda r: r[1])
        runs = []
        for i in range(a.repeat):
            runs.append(babelmill_copy(input_dir, work / f"bm{i}", a.num_cpus))
        rows_bm, secs_bm, _ = min(runs, key=lambda r: r[1])
        ray_s = runs[0][2]

        # The same files with one broken line in the middle of each: plain pyarrow fails
        # on them; babelmill re-parses only the affected chunk line by line.
        bad_dir = work / "with-bad-lines"
        bad_dir.mkdir()
        for f in files:
            data = Path(f).read_bytes()
            mid = data.index(b"\n", len(data) // 2) + 1
            (bad_dir / Path(f).name).write_bytes(data[:mid] + b'{"id": "broken", "text": "unterminated\n' + data[mid:])
        rows_bad, secs_bad, _ = min(
            (babelmill_copy(str(bad_dir), work / f"bad{i}", a.num_cpus) for i in range(a.repeat)), key=lambda r: r[1]
        )
        pa_rate = best_pa[0] / best_pa[1]
        bm_rate = rows_bm / secs_bm
        print()
        print(f"{'':28}{'rows':>12}{'seconds':>10}{'rows/s':>12}")
        print(f"{'plain pyarrow read+write':28}{best_pa[0]:>12,}{best_pa[1]:>10.2f}{pa_rate:>12,.0f}")
        print(f"{'babelmill copy (Ray)':28}{rows_bm:>12,}{secs_bm:>10.2f}{bm_rate:>12,.0f}")
        print(f"{'babelmill, 1 bad line/file':28}{rows_bad:>12,}{secs_bad:>10.2f}{rows_bad / secs_bad:>12,.0f}")
        if a.ray_data:
            rows_rd, secs_rd = ray_data_copy(files, work / "ray-data")
            print(f"{'Ray Data read+write':28}{rows_rd:>12,}{secs_rd:>10.2f}{rows_rd / secs_rd:>12,.0f}")
        print(f"Ray start-up (apart): {ray_s:.2f} s")
        print(
            f"ratio babelmill / pyarrow: {bm_rate / pa_rate:.2f}x (clean), {rows_bad / secs_bad / pa_rate:.2f}x (1 bad line per file)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
