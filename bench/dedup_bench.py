"""Near-dedup benchmark: babelmill's MinHash against datatrove and datasketch.

    python bench/dedup_bench.py --evaldata ../shared/evaldata --docs 50000
    python bench/dedup_bench.py --synthetic 1000000          # our wall time + peak RSS only

Documents are real sentences (lingua-testdata + flores200-devtest, 20 spaced-script
languages) grouped into 20-200-word documents.  A share of them (``--dup-frac``) are
variants of another document made by random word edits (substitute / delete / insert /
swap-adjacent) at a rate drawn so that the true Jaccard spans 0.3-1.0, plus some exact
copies that differ only in case and spacing.  The ground truth keeps, for every
variant, its original and the true Jaccard of their word-5-gram sets (our normalisation
and tokenisation: the shingles all three systems are fed, except that datatrove
tokenises with its own English tokenizer, as it does in FineWeb).

Every system runs in its own subprocess on the same documents with 5-grams and
14 bands x 8 rows; peak RSS is that subprocess's (``os.wait4``: the largest process
of its tree).  End-to-end time covers everything from the documents on disk to the
decision per document:

- babelmill: ``signatures`` per 10k-doc batch -> ``exact_edges``/``band_edges`` ->
  ``resolve`` -> ``mark`` per batch, one process;
- datatrove: MinhashDedupSignature -> MinhashDedupBuckets -> MinhashDedupCluster ->
  MinhashDedupFilter with ``LocalPipelineExecutor`` (2 tasks / 2 workers; 14 bucket tasks);
- datasketch: ``MinHash(num_perm=112)`` + ``MinHashLSH(params=(14, 8))`` in one process,
  then connected components over the query results.

Quality, against the truth (threshold ``--threshold``, default 0.8):

- truth clusters = connected components of the pairs whose true Jaccard >= threshold
  (the generated variant/original pairs, plus any pair some system put together whose
  Jaccard we measured >= threshold: accidental real duplicates count as true);
- pair precision = share of the same-cluster pairs a system predicts that are in the
  same truth cluster; pair recall = share of truth same-cluster pairs it predicts;
- recall curve = per true-Jaccard bin, the share of variant/original pairs that end up
  in the same predicted cluster, next to the LSH theory ``1 - (1 - s**8)**14``.

The table is printed; the curve is saved as bench/out/dedup_recall.png.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

NGRAM, BANDS, ROWS = 5, 14, 8
BATCH = 10_000
BINS = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001]
#: lingua-testdata code -> flores200-devtest file stem
LANGS = {
    "en": "eng", "de": "deu", "fr": "fra", "es": "spa", "it": "ita", "pt": "por", "nl": "nld", "sv": "swe",
    "pl": "pol", "cs": "ces", "ro": "ron", "hu": "hun", "fi": "fin", "tr": "tur", "id": "ind", "sw": "swh",
    "yo": "yor", "ru": "rus", "uk": "ukr", "el": "ell",
}  # fmt: skip
SYSTEMS = ("babelmill", "datatrove", "datasketch")


# -- corpus --------------------------------------------------------------------------


def load_sentences(evaldata: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for code, flores in LANGS.items():
        lines: list[str] = []
        lingua = evaldata / "lingua-testdata" / "language-testdata" / "sentences" / f"{code}.txt"
        fl = evaldata / "flores200-devtest" / "devtest" / f"{flores}.devtest"
        for path in (lingua, fl):
            if path.exists():
                lines += [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        if lines:
            out[code] = lines
    if not out:
        raise SystemExit(f"no sentences found under {evaldata} (lingua-testdata / flores200-devtest)")
    return out


def edit_words(rng: random.Random, words: list[str], rate: float, pool: list[str]) -> list[str]:
    """Random word edits, each word touched with probability ``rate``."""
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if rng.random() >= rate:
            out.append(w)
        else:
            op = rng.randrange(4)
            if op == 0:  # substitute
                out.append(rng.choice(pool))
            elif op == 1:  # delete
                pass
            elif op == 2:  # insert
                out += [rng.choice(pool), w]
            elif i + 1 < len(words):  # swap with the next word
                out += [words[i + 1], w]
                i += 1
            else:
                out.append(w)
        i += 1
    return out or words[:1]


def build_corpus(evaldata: Path, n_docs: int, dup_frac: float, seed: int) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """Documents plus (variant doc, original doc) pairs of the generated near-duplicates."""
    rng = random.Random(seed)
    sentences = load_sentences(evaldata)
    codes = sorted(sentences)
    pools = {c: " ".join(sentences[c]).split() for c in codes}
    n_var = int(n_docs * dup_frac)
    n_orig = n_docs - n_var
    texts: list[str] = []
    langs: list[str] = []
    for _ in range(n_orig):
        code = rng.choice(codes)
        target = rng.randint(20, 200)
        words: list[str] = []
        while len(words) < target:
            words += rng.choice(sentences[code]).split()
        texts.append(" ".join(words[: target + 10]))
        langs.append(code)
    variant, original = [], []
    for _ in range(n_var):
        src = rng.randrange(len(texts))  # may be an earlier variant: chains happen
        words = texts[src].split()
        if rng.random() < 0.1:  # exact copy up to case / spacing
            text = "  ".join(words).upper() if rng.random() < 0.5 else "\n".join(words)
        else:
            j = rng.uniform(0.3, 1.0)
            rate = 1 - (2 * j / (1 + j)) ** (1 / NGRAM)  # ~ word-edit rate giving Jaccard j
            text = " ".join(edit_words(rng, words, rate, pools[langs[src]]))
        variant.append(len(texts))
        original.append(src)
        texts.append(text)
        langs.append(langs[src])
    order = list(range(len(texts)))
    rng.shuffle(order)  # variants do not all come after their originals
    position = np.empty(len(order), dtype=np.int64)
    position[np.array(order)] = np.arange(len(order))
    table = pa.table(
        {
            "id": [str(i) for i in range(len(order))],
            "text": [texts[k] for k in order],
            "lang": [langs[k] for k in order],
        }
    )
    return table, position[np.array(variant, dtype=np.int64)], position[np.array(original, dtype=np.int64)]


class ShingleSets:
    """Our word 5-gram sets per document, built on demand, for true Jaccard."""

    def __init__(self, table: pa.Table) -> None:
        from babelmill.processors.dedup.text import WHITESPACE, normalize_texts, splitter_for

        norm = normalize_texts(table.column("text"))
        langs = table.column("lang").to_pylist()
        self.words: list[list[str]] = [[] for _ in langs]
        for code in sorted(set(langs)):
            rows = [i for i, c in enumerate(langs) if c == code]
            toks = (splitter_for(code) or WHITESPACE).split(norm.gather(rows)).to_list()
            for r, t in zip(rows, toks):
                self.words[r] = t or []
        self._sets: dict[int, set] = {}

    def get(self, i: int) -> set:
        s = self._sets.get(i)
        if s is None:
            w = self.words[i]
            s = {tuple(w[k : k + NGRAM]) for k in range(len(w) - NGRAM + 1)} if len(w) >= NGRAM else {tuple(w)}
            self._sets[i] = s
        return s

    def jaccard(self, i: int, j: int) -> float:
        a, b = self.get(i), self.get(j)
        return len(a & b) / len(a | b) if (a or b) else 1.0


# -- systems (each runs in a subprocess) ----------------------------------------------


def run_babelmill(work: Path) -> np.ndarray:
    from babelmill.processors.dedup import MinHashDeduplicator

    table = pq.read_table(work / "docs.parquet")
    n = table.num_rows
    d = MinHashDeduplicator(ngram=NGRAM, num_bands=BANDS, rows_per_band=ROWS)
    sig = pa.concat_tables([d.signatures(table.slice(i, BATCH)) for i in range(0, n, BATCH)])
    doc = np.arange(n, dtype=np.int64)
    exact = d.exact_edges(doc, sig.column("exact_hash").to_numpy())
    near = d.near_edges(doc, d.band_matrix(sig))
    res = d.resolve(n, exact, near)
    for i in range(0, n, BATCH):
        d.mark(table.slice(i, BATCH), doc[i : i + BATCH], res)
    cluster = np.arange(n, dtype=np.int64)
    cluster[res.column("doc").to_numpy()] = res.column("cluster").to_numpy()
    return cluster


def run_datatrove(work: Path) -> np.ndarray:
    import orjson
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    table = pq.read_table(work / "docs.parquet")
    n = table.num_rows
    ids, texts = table.column("id").to_pylist(), table.column("text").to_pylist()
    src = work / "dt" / "input"
    src.mkdir(parents=True)
    half = (n + 1) // 2
    for part, (lo, hi) in enumerate(((0, half), (half, n))):
        with open(src / f"part{part}.jsonl", "wb") as f:
            f.writelines(orjson.dumps({"id": ids[i], "text": texts[i]}) + b"\n" for i in range(lo, hi))
    started = time.perf_counter()  # the JSONL files are datatrove's input format, not timed
    base = work / "dt"
    cfg = MinhashConfig(n_grams=NGRAM, num_buckets=BANDS, hashes_per_bucket=ROWS, seed=1)
    logs = str(base / "logs")

    def reader() -> JsonlReader:
        return JsonlReader(str(src))

    LocalPipelineExecutor(
        pipeline=[reader(), MinhashDedupSignature(output_folder=str(base / "sigs"), config=cfg)],
        tasks=2, workers=2, logging_dir=f"{logs}/1",
    ).run()  # fmt: skip
    LocalPipelineExecutor(
        pipeline=[MinhashDedupBuckets(input_folder=str(base / "sigs"), output_folder=str(base / "buckets"), config=cfg)],
        tasks=BANDS, workers=2, logging_dir=f"{logs}/2",
    ).run()  # fmt: skip
    LocalPipelineExecutor(
        pipeline=[MinhashDedupCluster(input_folder=str(base / "buckets"), output_folder=str(base / "remove"), config=cfg, save_cluster_id=True)],
        tasks=1, logging_dir=f"{logs}/3",
    ).run()  # fmt: skip
    LocalPipelineExecutor(
        pipeline=[
            reader(),
            MinhashDedupFilter(input_folder=str(base / "remove"), exclusion_writer=JsonlWriter(str(base / "removed")), load_cluster_ids=True),
            JsonlWriter(str(base / "kept")),
        ],
        tasks=2, workers=2, logging_dir=f"{logs}/4",
    ).run()  # fmt: skip
    elapsed = time.perf_counter() - started
    (work / "datatrove_seconds").write_text(str(elapsed))
    import gzip

    cluster = np.arange(n, dtype=np.int64)
    members: dict[int, list[int]] = {}
    for sub in ("kept", "removed"):
        for path in sorted((base / sub).glob("*")):
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rb") as f:
                for line in f:
                    rec = orjson.loads(line)
                    cid = rec.get("metadata", {}).get("minhash_cluster_id", -1)
                    if cid is not None and cid >= 0:
                        members.setdefault(cid, []).append(int(rec["id"]))
    for docs in members.values():
        cluster[docs] = min(docs)
    return cluster


def run_datasketch(work: Path) -> np.ndarray:
    from datasketch import MinHash, MinHashLSH
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from babelmill.processors.dedup.text import WHITESPACE, normalize_texts, splitter_for

    table = pq.read_table(work / "docs.parquet")
    n = table.num_rows
    lsh = MinHashLSH(num_perm=BANDS * ROWS, params=(BANDS, ROWS))
    sketches: list = [None] * n
    for lo in range(0, n, BATCH):
        part = table.slice(lo, BATCH)
        norm = normalize_texts(part.column("text"))
        langs = part.column("lang").to_pylist()
        for code in sorted(set(langs)):
            rows = [i for i, c in enumerate(langs) if c == code]
            for r, words in zip(rows, (splitter_for(code) or WHITESPACE).split(norm.gather(rows)).to_list()):
                words = words or []
                grams = [" ".join(words[k : k + NGRAM]) for k in range(len(words) - NGRAM + 1)] or [" ".join(words)]
                m = MinHash(num_perm=BANDS * ROWS, seed=1)
                m.update_batch([g.encode("utf-8") for g in grams])
                sketches[lo + r] = m
    with lsh.insertion_session() as session:
        for i, m in enumerate(sketches):
            session.insert(i, m)
    src, dst = [], []
    for i, m in enumerate(sketches):
        for j in lsh.query(m):
            if j != i:
                src.append(i)
                dst.append(j)
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    first = np.full(labels.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n))
    return first[labels]


def worker(system: str, work: Path) -> None:
    # imports are not timed (datatrove's are not either)
    if system == "babelmill":
        import babelmill.processors.dedup  # noqa: F401
    elif system == "datasketch":
        import datasketch  # noqa: F401
        import scipy.sparse.csgraph  # noqa: F401

        import babelmill.processors.dedup.text  # noqa: F401
    started = time.perf_counter()
    cluster = {"babelmill": run_babelmill, "datatrove": run_datatrove, "datasketch": run_datasketch}[system](work)
    elapsed = time.perf_counter() - started
    if system == "datatrove":
        elapsed = float((work / "datatrove_seconds").read_text())
    np.save(work / f"{system}.npy", cluster)
    (work / f"{system}.json").write_text(json.dumps({"seconds": elapsed}))


def run_in_subprocess(args: list[str], log: Path) -> tuple[int, float]:
    """(exit status, peak RSS in MB of the child's whole process tree, sampled).

    Sampled with psutil every 0.1 s: ``ru_maxrss`` of a forked child starts at the
    parent's size on Linux (kept across exec), so it cannot tell the systems apart.
    The child's output goes to ``log`` (datatrove logs every task); its tail is
    printed if the child fails.
    """
    import psutil

    peak = 0
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), *args], cwd=str(ROOT), stdout=out, stderr=subprocess.STDOUT
        )
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            total = 0
            try:
                for p in [root, *root.children(recursive=True)]:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            peak = max(peak, total)
            time.sleep(0.1)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-20:]
        print(f"{args[1]} failed (exit {proc.returncode}):", *tail, sep="\n  ", file=sys.stderr)
    return proc.returncode, peak / 2**20


# -- metrics ----------------------------------------------------------------------------


def cluster_pairs(cluster: np.ndarray, rng: random.Random, cap: int = 200) -> set[tuple[int, int]]:
    """Same-cluster pairs (i < j); clusters over ``cap`` docs contribute a sample."""
    order = np.argsort(cluster, kind="stable")
    c = cluster[order]
    bounds = np.flatnonzero(np.diff(c)) + 1
    pairs: set[tuple[int, int]] = set()
    for group in np.split(order, bounds):
        if len(group) < 2:
            continue
        g = sorted(int(x) for x in group)
        if len(g) <= cap:
            pairs.update((g[a], g[b]) for a in range(len(g)) for b in range(a + 1, len(g)))
        else:
            for _ in range(cap * cap // 2):
                a, b = sorted(rng.sample(g, 2))
                pairs.add((a, b))
    return pairs


def components(n: int, pairs: list[tuple[int, int]]) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not pairs:
        return np.arange(n)
    a = np.array(pairs, dtype=np.int64)
    g = coo_matrix((np.ones(len(a), dtype=np.int8), (a[:, 0], a[:, 1])), shape=(n, n)).tocsr()
    return connected_components(g, directed=False)[1]


def evaluate(
    table: pa.Table, variant: np.ndarray, original: np.ndarray, clusters: dict[str, np.ndarray], threshold: float
) -> dict:
    rng = random.Random(0)
    sets = ShingleSets(table)
    n = table.num_rows
    sims = np.array([sets.jaccard(int(v), int(o)) for v, o in zip(variant, original)])
    true_pairs = [(int(v), int(o)) for v, o, s in zip(variant, original, sims) if s >= threshold]
    predicted = {name: cluster_pairs(c, rng) for name, c in clusters.items()}
    for pairs in predicted.values():  # accidental real duplicates found by any system count as true
        for i, j in pairs:
            if sets.jaccard(i, j) >= threshold:
                true_pairs.append((i, j))
    truth = components(n, true_pairs)
    truth_pairs = cluster_pairs(truth, rng)
    out: dict = {"truth": {"docs": n, "variants": len(variant), "true_pairs": len(truth_pairs), "threshold": threshold}}
    for name, c in clusters.items():
        pred = predicted[name]
        tp = sum(1 for i, j in pred if truth[i] == truth[j])
        found = sum(1 for i, j in truth_pairs if c[i] == c[j])
        same = c[variant] == c[original]
        curve = []
        for lo, hi in pairwise(BINS):
            m = (sims >= lo) & (sims < hi)
            curve.append(
                {
                    "bin": f"{lo:.1f}-{min(hi, 1.0):.1f}",
                    "pairs": int(m.sum()),
                    "recall": float(same[m].mean()) if m.any() else None,
                }
            )
        out[name] = {
            "precision": tp / len(pred) if pred else 1.0,
            "recall": found / len(truth_pairs) if truth_pairs else 1.0,
            "removed": int((c != np.arange(n)).sum()),
            "curve": curve,
        }
    return out


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    s = np.linspace(0.3, 1.0, 200)
    ax.plot(s, 1 - (1 - s**ROWS) ** BANDS, "k--", lw=1, label=f"LSH theory {BANDS}x{ROWS}")
    centers = [(lo + min(hi, 1.0)) / 2 for lo, hi in pairwise(BINS)]
    for name in SYSTEMS:
        if name in results and "curve" in results[name]:
            ys = [p["recall"] if p["recall"] is not None else np.nan for p in results[name]["curve"]]
            ax.plot(centers, ys, "o-", label=name)
    ax.set_xlabel("true Jaccard of word 5-grams (variant vs original)")
    ax.set_ylabel("share found in the same cluster")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title("Near-duplicate recall vs similarity")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# -- real graded set ----------------------------------------------------------------------


def plagiarism_check(evaldata: Path) -> dict | None:
    """Clough & Stevenson short answers: share of each category clustered with its source."""
    folder = evaldata / "dedup-plagiarism-short-answers"
    info = folder / "file_information.csv"
    if not info.exists():
        return None
    from babelmill.processors.dedup import MinHashDeduplicator

    rows = [line.split(",") for line in info.read_text().splitlines()[1:] if line.strip()]
    names, tasks, cats = zip(*[(r[0], r[1], r[2].strip()) for r in rows])
    texts = [(folder / f).read_bytes().decode("utf-8", errors="replace") for f in names]
    table = pa.table({"id": list(names), "text": texts, "lang": ["en"] * len(texts)})
    out = MinHashDeduplicator().dedup_table(table)
    d = MinHashDeduplicator()
    doc = np.arange(len(texts))
    sig = d.signatures(table)
    res = d.resolve(
        len(texts), d.exact_edges(doc, sig.column("exact_hash").to_numpy()), d.near_edges(doc, d.band_matrix(sig))
    )
    cluster = np.arange(len(texts))
    cluster[res.column("doc").to_numpy()] = res.column("cluster").to_numpy()
    orig = {t: i for i, (t, c) in enumerate(zip(tasks, cats)) if c == "orig"}
    sets = ShingleSets(table)
    summary: dict = {}
    for cat in ("cut", "light", "heavy", "non"):
        idx = [i for i, c in enumerate(cats) if c == cat]
        with_src = [cluster[i] == cluster[orig[tasks[i]]] for i in idx]
        sims = [sets.jaccard(i, orig[tasks[i]]) for i in idx]
        summary[cat] = {
            "answers": len(idx),
            "clustered_with_source": float(np.mean(with_src)),
            "mean_jaccard": float(np.mean(sims)),
        }
    summary["dropped"] = int(sum(r is not None for r in out.column("drop_reason").to_pylist()))
    return summary


# -- synthetic scale run --------------------------------------------------------------------


def synthetic_worker(n_docs: int, work: Path, seed: int = 0) -> None:
    """Generate ``n_docs`` docs batch by batch (10% near-dups), run our three phases."""
    import polars as pl

    from babelmill.processors.dedup import MinHashDeduplicator

    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab_size = 60_000
    lens = rng.integers(3, 11, size=vocab_size)
    chars = letters[rng.integers(0, 26, size=int(lens.sum()))]
    cuts = np.cumsum(lens)[:-1]
    vocab = pa.array(["".join(w) for w in np.split(chars, cuts)])
    d = MinHashDeduplicator(ngram=NGRAM, num_bands=BANDS, rows_per_band=ROWS)
    timings = {"phase1": 0.0, "phase2": 0.0, "phase3": 0.0, "generate": 0.0}
    sigs: list[pa.Table] = []
    prev: list[np.ndarray] = []
    n_batches = (n_docs + BATCH - 1) // BATCH
    for b in range(n_batches):
        t0 = time.perf_counter()
        size = min(BATCH, n_docs - b * BATCH)
        n_dup = size // 10
        doc_lens = rng.integers(50, 150, size=size - n_dup)
        words = (vocab_size * rng.random(int(doc_lens.sum())) ** 2.5).astype(np.int64)  # Zipf-like
        fresh = np.split(words, np.cumsum(doc_lens)[:-1])
        pool = fresh + prev
        docs = list(fresh)
        for _ in range(n_dup):
            src = pool[rng.integers(len(pool))].copy()
            edits = rng.random(len(src)) < 0.02
            src[edits] = rng.integers(0, vocab_size, size=int(edits.sum()))
            docs.append(src)
        prev = fresh
        flat = np.concatenate(docs)
        offsets = np.zeros(len(docs) + 1, dtype=np.int32)
        np.cumsum([len(x) for x in docs], out=offsets[1:])
        lists = pa.ListArray.from_arrays(pa.array(offsets), vocab.take(pa.array(flat)))
        text = pl.Series("text", lists).list.join(" ").to_arrow()
        batch = pa.table(
            {
                "id": pa.array(np.arange(b * BATCH, b * BATCH + size).astype(str)),
                "text": text,
                "lang": pa.array(["en"] * size),
            }
        )
        t1 = time.perf_counter()
        sigs.append(d.signatures(batch))
        t2 = time.perf_counter()
        timings["generate"] += t1 - t0
        timings["phase1"] += t2 - t1
    t0 = time.perf_counter()
    sig = pa.concat_tables(sigs)
    del sigs
    n = sig.num_rows
    doc = np.arange(n, dtype=np.int64)
    exact = d.exact_edges(doc, sig.column("exact_hash").to_numpy())
    bands = d.band_matrix(sig)
    near = d.near_edges(doc, bands)
    res = d.resolve(n, exact, near)
    t1 = time.perf_counter()
    timings["phase2"] = t1 - t0
    removed = 0
    for i in range(0, n, BATCH):
        ids = pa.table({"id": pa.array(np.arange(i, min(i + BATCH, n)).astype(str))})
        marked = d.mark(ids, doc[i : i + BATCH], res)
        removed += marked.num_rows - marked.column("drop_reason").null_count
    timings["phase3"] = time.perf_counter() - t1
    timings.update(docs=n, removed=removed, clusters=int(res.column("keep").to_numpy(zero_copy_only=False).sum()))
    (work / "synthetic.json").write_text(json.dumps(timings))


def synthetic(n_docs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as tmp:
        status, rss = run_in_subprocess(
            ["--_worker", "synthetic", "--_dir", tmp, "--synthetic", str(n_docs)], Path(tmp) / "worker.log"
        )
        if status != 0:
            raise SystemExit(f"synthetic worker failed ({status})")
        t = json.loads((Path(tmp) / "synthetic.json").read_text())
    ours = t["phase1"] + t["phase2"] + t["phase3"]
    result = {
        "docs": t["docs"],
        "seconds": round(ours, 2),
        "docs_per_s": round(t["docs"] / ours),
        "phase1_s": round(t["phase1"], 2),
        "phase2_s": round(t["phase2"], 2),
        "phase3_s": round(t["phase3"], 2),
        "generate_s": round(t["generate"], 2),
        "peak_rss_mb": round(rss),
        "removed": t["removed"],
        "clusters": t["clusters"],
    }
    print(
        f"synthetic {result['docs']:,} docs: {result['seconds']} s ours ({result['docs_per_s']:,} docs/s; "
        f"signatures {result['phase1_s']} s, edges+resolve {result['phase2_s']} s, mark {result['phase3_s']} s), "
        f"peak RSS {result['peak_rss_mb']:,} MB (generation {result['generate_s']} s, not counted), "
        f"{result['removed']:,} removed in {result['clusters']:,} clusters"
    )
    return result


# -- driver -----------------------------------------------------------------------------------


def run(evaldata: Path, docs: int, systems: tuple[str, ...] = SYSTEMS, threshold: float = 0.8, dup_frac: float = 0.3,
        seed: int = 0, out_dir: Path = HERE / "out") -> dict:  # fmt: skip
    """Build the corpus, run every system in its own subprocess, score them; returns the numbers."""
    evaldata = Path(evaldata)
    table, variant, original = build_corpus(evaldata, docs, dup_frac, seed)
    results: dict = {"docs": table.num_rows, "config": f"{NGRAM}-grams, {BANDS}x{ROWS}"}
    clusters: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as tmp:
        work = Path(tmp)
        pq.write_table(table, work / "docs.parquet")
        for system in systems:
            sub = work / system
            sub.mkdir()
            (sub / "docs.parquet").symlink_to(work / "docs.parquet")
            print(f"running {system} on {table.num_rows:,} docs ...", flush=True)
            status, rss = run_in_subprocess(["--_worker", system, "--_dir", str(sub)], sub / "worker.log")
            if status != 0:
                results[system] = {"error": f"exit {status}"}
                continue
            seconds = json.loads((sub / f"{system}.json").read_text())["seconds"]
            clusters[system] = np.load(sub / f"{system}.npy")
            results[system] = {
                "seconds": round(seconds, 2),
                "docs_per_s": round(table.num_rows / seconds),
                "peak_rss_mb": round(rss),
            }
    quality = evaluate(table, variant, original, clusters, threshold)
    results["truth"] = quality.pop("truth")
    for name, q in quality.items():
        results[name].update(q)
    base = results.get("datatrove", {}).get("docs_per_s")
    for name in clusters:
        if base:
            results[name]["x_datatrove"] = round(results[name]["docs_per_s"] / base, 2)
    results["plagiarism"] = plagiarism_check(evaldata)
    png = out_dir / "dedup_recall.png"
    plot(results, png)
    results["plot"] = str(png)
    return results


def print_table(r: dict) -> None:
    print(f"\n{r['docs']:,} docs ({r['config']}), truth: {r['truth']['variants']:,} generated variants, "
          f"{r['truth']['true_pairs']:,} true same-cluster pairs at Jaccard >= {r['truth']['threshold']}")  # fmt: skip
    print(f"{'system':<11} {'docs/s':>8} {'x dt':>6} {'peak MB':>8} {'precision':>9} {'recall':>7} {'removed':>8}")
    for name in SYSTEMS:
        s = r.get(name)
        if not s:
            continue
        if "error" in s:
            print(f"{name:<11} {s['error']}")
            continue
        print(f"{name:<11} {s['docs_per_s']:>8,} {s.get('x_datatrove', ''):>6} {s['peak_rss_mb']:>8,} "
              f"{s['precision']:>9.3f} {s['recall']:>7.3f} {s['removed']:>8,}")  # fmt: skip
    names = [n for n in SYSTEMS if n in r and "curve" in r[n]]
    print("\nrecall by true Jaccard (variant in its original's cluster)")
    print(f"{'bin':<9} {'pairs':>6} {'theory':>7} " + " ".join(f"{n:>10}" for n in names))
    for k, lo in enumerate(BINS[:-1]):
        mid = (lo + min(BINS[k + 1], 1.0)) / 2
        row = r[names[0]]["curve"][k] if names else {"bin": "", "pairs": 0}
        vals = " ".join(
            f"{(r[n]['curve'][k]['recall'] if r[n]['curve'][k]['recall'] is not None else float('nan')):>10.3f}"
            for n in names
        )
        print(f"{row['bin']:<9} {row['pairs']:>6} {1 - (1 - mid**ROWS) ** BANDS:>7.3f} {vals}")
    if r.get("plagiarism"):
        print("\nClough & Stevenson short answers (real, en): share clustered with their source")
        for cat, v in r["plagiarism"].items():
            if isinstance(v, dict):
                print(
                    f"  {cat:<6} {v['answers']:>3} answers, mean Jaccard {v['mean_jaccard']:.2f}, clustered {v['clustered_with_source']:.2f}"
                )
    print(f"\nplot: {r['plot']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--evaldata", type=Path, default=ROOT.parent / "shared" / "evaldata")
    ap.add_argument("--docs", type=int, default=50_000)
    ap.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated subset of " + ",".join(SYSTEMS))
    ap.add_argument("--threshold", type=float, default=0.8, help="true Jaccard at which a pair counts as a duplicate")
    ap.add_argument("--dup-frac", type=float, default=0.3, help="share of documents that are generated variants")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument(
        "--synthetic", type=int, default=0, help="only: N generated docs (10%% near-dups), our time and RSS"
    )
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--_worker", help=argparse.SUPPRESS)
    ap.add_argument("--_dir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._worker == "synthetic":
        synthetic_worker(args.synthetic, args._dir)
        return
    if args._worker:
        worker(args._worker, args._dir)
        return
    if args.synthetic:
        result = synthetic(args.synthetic)
    else:
        systems = tuple(s.strip() for s in args.systems.split(",") if s.strip())
        result = run(args.evaldata, args.docs, systems, args.threshold, args.dup_frac, args.seed, args.out)
        print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
