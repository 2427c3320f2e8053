"""The whole `babelmill project --method parallel` job on gold parallel NER data.

For each europarl-ner pair (en -> de/es/it) the English gold tags are projected by the
job (Ray, eflomal as the global step, FLORES devtest as extra parallel text) onto the
gold target sentences (their CoNLL file, tags ignored, tokens kept) and scored against
the gold target tags: strict micro F1 with all types and without MISC.  Every sentence
is kept (``--drop-on ''``) so that a dropped sentence counts as missed entities.  Also
printed: wall seconds, sentences/s of the run and the peak RSS of the job's processes
(the driver and every Ray worker it started, sampled), and the ratio to the
in-process projection bench's "ours" figure when given (--ours F1,F1,F1).

    python bench/project_job_bench.py --evaldata ../shared/evaldata [--langs de,es,it]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from babelmill.processors.evaluate.ner import entity_scores  # noqa: E402
from babelmill.processors.ner.readers import read_ner  # noqa: E402
from corpus_bench import _tree_rss  # noqa: E402 - the same process-tree RSS sampler

FLORES = {"en": "eng", "de": "deu", "es": "spa", "it": "ita"}


def run_job(args: list[str]) -> tuple[float, int, int]:
    """(wall seconds, peak tree RSS bytes, return code) of one CLI run."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "babelmill.pipelines.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    output, _ = proc.communicate()
    stop.set()
    thread.join()
    wall = time.perf_counter() - started
    if proc.returncode:
        print(output[-3000:], file=sys.stderr)
    return wall, peak, proc.returncode


def predicted_tags(out: Path, lang: str, n: int, source: str) -> list[list[str] | None]:
    import pyarrow.parquet as pq

    pred: list[list[str] | None] = [None] * n
    for f in sorted((out / "data" / lang).glob("*.parquet")):
        for row in pq.read_table(f, columns=["source_id", "tags"]).to_pylist():
            name, _, k = row["source_id"].rpartition(":")
            if name == source:
                pred[int(k)] = row["tags"]
    return pred


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evaldata", type=Path, required=True, help="path of ../shared/evaldata")
    ap.add_argument("--langs", default="de,es,it", help="europarl target languages")
    ap.add_argument("--num-cpus", type=int, default=None, help="CPUs of the embedded Ray")
    ap.add_argument("--no-flores", action="store_true", help="no extra parallel text")
    ap.add_argument("--ours", default="", help="the projection bench's in-process F1 per language, for a ratio")
    a = ap.parse_args(argv)
    ner = a.evaldata / "europarl-ner"
    en = ner / "en-europarl.test.conll02"
    ours = dict(zip(a.langs.split(","), [float(x) for x in a.ours.split(",") if x])) if a.ours else {}
    rows = []
    with tempfile.TemporaryDirectory(prefix="babelmill-project-bench-") as tmp:
        for lang in a.langs.split(","):
            gold_file = ner / f"{lang}-europarl.test.conll02"
            gold_table, _ = read_ner([str(gold_file)])
            gold = gold_table.column("tags").to_pylist()
            out = Path(tmp) / f"out-{lang}"
            args = [
                "project",
                "--method",
                "parallel",
                "--input",
                str(en),
                "--target",
                str(gold_file),
                "--src",
                "en",
                "--tgt",
                lang,
                "--output",
                str(out),
                "--drop-on",
                "",
                "--no-progress",
                "--overwrite",
            ]
            if not a.no_flores:
                d = a.evaldata / "flores200-devtest" / "devtest"
                args += [
                    "--extra-parallel",
                    f"{lang}={d / (FLORES['en'] + '.devtest')},{d / (FLORES[lang] + '.devtest')}",
                ]
            if a.num_cpus:
                args += ["--num-cpus", str(a.num_cpus)]
            wall, peak, rc = run_job(args)
            if rc:
                print(f"en-{lang}: the job failed (rc={rc})", file=sys.stderr)
                return 1
            pred = predicted_tags(out, lang, len(gold), en.name)
            missing = sum(p is None for p in pred)
            pred_full = [p if p is not None else ["O"] * len(g) for p, g in zip(pred, gold)]
            f_all = entity_scores(pred_full, gold).micro.f1 * 100
            f_nomisc = entity_scores(pred_full, gold, drop_types=["MISC"]).micro.f1 * 100
            ratio = f"{f_all / ours[lang]:.3f}" if lang in ours else "-"
            rows.append(
                (f"en-{lang}", f_all, f_nomisc, ratio, len(gold), missing, wall, len(gold) / wall, peak / 2**20)
            )
    print(
        "| pair | strict F1 all | strict F1 no MISC | F1 / in-process ours | sentences | not in output | wall s | sentences/s | peak RSS MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.1f} | {r[2]:.1f} | {r[3]} | {r[4]} | {r[5]} | {r[6]:.1f} | {r[7]:.1f} | {r[8]:.0f} |")
    if rows:
        print(
            f"| mean | {sum(r[1] for r in rows) / len(rows):.1f} | {sum(r[2] for r in rows) / len(rows):.1f} | | | | | | |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
