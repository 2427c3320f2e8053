"""Quality filters benchmark: babelmill's Gopher quality + Gopher repetition + FineWeb quality
against datatrove's, on documents built from real sentences.

    python bench/filters_bench.py --evaldata ../shared/evaldata [--limit N] [--batch 2000]

English documents group consecutive real sentences (FLORES-200 devtest, lingua web sentences,
Tatoeba, Europarl, short student answers) into 1-40 sentence documents with paragraphs; about a
quarter get corrupted (repeated lines, bullets, menus, trailing ellipses, duplicated
paragraphs) so both filters keep and drop.  Both sides run the three filters as a chain (a
document dropped by one filter is not seen by the next, as in a datatrove pipeline; spaCy's
tokens are cached between datatrove's filters by its own ``lru_cache``); decisions are also
taken per filter on every document to report agreement (same keep/drop and same reason).

The multilingual set does the same over several languages, datatrove's filters built per
language with ``language=`` and the same thresholds and stop words as babelmill's ``langs``
profile, so disagreements come from tokenization.
"""

from __future__ import annotations

import argparse
import glob
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pyarrow as pa  # noqa: E402

import langs  # noqa: E402
from babelmill.processors.quality import FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter  # noqa: E402

#: FLORES file names (OPUS-MT style) of the multilingual set.
MULTI = {
    "de": "deu",
    "fr": "fra",
    "es": "spa",
    "ru": "rus",
    "zh": "cmn_Hans",
    "ar": "ara",
    "sw": "swh",
    "tr": "tur",
    "th": "tha",
    "vi": "vie",
}


# ---------------------------------------------------------------------------------------------
# documents
# ---------------------------------------------------------------------------------------------


def _lines(path: str | Path, limit: int | None = None) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            out = [line.strip() for line in f if line.strip()]
    except FileNotFoundError:
        return []
    return out[:limit] if limit else out


def _conll_sentences(path: Path) -> list[str]:
    """Sentences of a CoNLL file, detokenized enough to look like running text."""
    sents, cur = [], []
    for line in _lines_raw(path):
        if not line.strip():
            if cur:
                sents.append(_detok(cur))
                cur = []
            continue
        cur.append(line.split()[0])
    if cur:
        sents.append(_detok(cur))
    return sents


def _lines_raw(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []


def _detok(tokens: list[str]) -> str:
    out = ""
    for t in tokens:
        if out and t not in {",", ".", ";", ":", "!", "?", ")", "%", "'s"} and not out.endswith("("):
            out += " "
        out += t
    return out


def english_sources(evaldata: Path) -> list[list[str]]:
    """Runs of consecutive English sentences, one list per source."""
    sources = [
        _lines(evaldata / "flores200-devtest" / "devtest" / "eng.devtest"),
        _lines(evaldata / "lingua-testdata" / "language-testdata" / "sentences" / "en.txt"),
        _conll_sentences(evaldata / "europarl-ner" / "en-europarl.test.conll02"),
    ]
    for f in sorted(glob.glob(str(evaldata / "tatoeba-test" / "*" / "*.eng"))):
        sources.append(_lines(f, 6000))
    # student answers are already paragraphs of real prose: keep each file as one source run
    answers = [
        Path(f).read_text(encoding="utf-8", errors="replace")
        for f in sorted(glob.glob(str(evaldata / "dedup-plagiarism-short-answers" / "*.txt")))
    ]
    sources.append([a.strip() for a in answers if a.strip()])
    return [s for s in sources if s]


def build_docs(sources: list[list[str]], n_docs: int, rng: random.Random, corrupt: float = 0.25) -> list[str]:
    """Documents of 1-40 consecutive sentences with paragraph breaks; some corrupted."""
    docs: list[str] = []
    cursors = [0] * len(sources)
    while len(docs) < n_docs:
        k = rng.randrange(len(sources))
        src = sources[k]
        size = rng.choice([1, 2, 3, 5, 8, 12, 16, 20, 25, 30, 40])
        start = cursors[k] % len(src)
        sents = (src[start:] + src[:start])[:size]
        cursors[k] += size
        paras, i = [], 0
        while i < len(sents):
            step = rng.randint(1, 6)
            paras.append(" ".join(sents[i : i + step]))
            i += step
        doc = rng.choice(["\n", "\n\n"]).join(paras)
        if rng.random() < corrupt:
            doc = _corrupt(doc, sents, rng)
        docs.append(doc)
    return docs


def _corrupt(doc: str, sents: list[str], rng: random.Random) -> str:
    kind = rng.choice(["repeat_lines", "bullets", "menu", "ellipsis", "dup_paragraphs", "repeat_phrase"])
    if kind == "repeat_lines":
        lines = doc.split("\n")
        return "\n".join(lines + [rng.choice(lines) for _ in range(rng.randint(1, len(lines) + 2))])
    if kind == "bullets":
        return "\n".join(rng.choice(["- ", "• ", "* "]) + s for s in sents)
    if kind == "menu":
        words = [w.strip(".,;:!?\"'()") for s in sents for w in s.split()]
        menu = [" ".join(rng.sample(words, min(len(words), rng.randint(1, 3)))) for _ in range(rng.randint(5, 25))]
        return "\n".join(menu) + "\n" + doc
    if kind == "ellipsis":
        return "\n".join(s.rstrip(".!?") + "..." if rng.random() < 0.5 else s for s in sents)
    if kind == "dup_paragraphs":
        paras = doc.split("\n")
        return "\n\n".join(paras + paras[: rng.randint(1, len(paras))])
    words = doc.split()
    phrase = " ".join(words[: rng.randint(2, 6)])
    return doc + " " + " ".join([phrase] * rng.randint(3, 12))


def multilingual_docs(evaldata: Path, n_docs: int, rng: random.Random) -> list[tuple[str, str]]:
    """(text, lang code) documents in the MULTI languages."""
    per_lang = max(1, n_docs // len(MULTI))
    out: list[tuple[str, str]] = []
    for code, flores in MULTI.items():
        p = langs.get(code)
        sources = [
            _lines(evaldata / "flores200-devtest" / "devtest" / f"{flores}.devtest"),
            _lines(evaldata / "lingua-testdata" / "language-testdata" / "sentences" / f"{p.iso1}.txt"),
        ]
        sources = [s for s in sources if s]
        if not sources:
            continue
        if p.spaced:
            docs = build_docs(sources, per_lang, rng)
        else:  # no spaces between sentences in these scripts
            docs = [d.replace("。 ", "。") for d in build_docs(sources, per_lang, rng)]
        out += [(d, code) for d in docs]
    rng.shuffle(out)
    return out


# ---------------------------------------------------------------------------------------------
# datatrove side
# ---------------------------------------------------------------------------------------------


def _datatrove_language(p) -> str | None:
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    # FineWeb-2 names languages by GlotLID label (``cmn_Hani``), datatrove's tokenizer table too
    for key in (p.lid_labels.get("glotlid"), f"{p.iso3}_{p.script}", p.iso3, p.iso1):
        if not key:
            continue
        try:
            tok = load_word_tokenizer(key)
            tok.word_tokenize("test")
            return key
        except Exception:  # noqa: BLE001 - tokenizer missing for this language
            continue
    return None


def datatrove_filters(code: str, english_defaults: bool):
    """datatrove's three filters for one language, with babelmill's thresholds for it."""
    from datatrove.pipeline.filters import FineWebQualityFilter as DFW
    from datatrove.pipeline.filters import GopherQualityFilter as DGQ
    from datatrove.pipeline.filters import GopherRepetitionFilter as DGR

    if english_defaults:
        return DGQ(), DGR(), DFW()
    p = langs.get(code)
    lang = _datatrove_language(p)
    if lang is None:
        return None
    q = p.quality
    gq = DGQ(
        min_doc_words=q.min_doc_words,
        max_doc_words=q.max_doc_words,
        min_avg_word_length=q.min_avg_word_length,
        max_avg_word_length=q.max_avg_word_length,
        max_symbol_word_ratio=q.max_symbol_word_ratio,
        max_bullet_lines_ratio=q.max_bullet_lines_ratio,
        max_ellipsis_lines_ratio=q.max_ellipsis_lines_ratio,
        max_non_alpha_words_ratio=q.max_non_alpha_words_ratio,
        min_stop_words=q.min_stop_words,
        stop_words=sorted(p.gopher_stopwords),
        language=lang,
    )
    gr = DGR(
        dup_line_frac=q.dup_line_frac,
        dup_para_frac=q.dup_para_frac,
        dup_line_char_frac=q.dup_line_char_frac,
        dup_para_char_frac=q.dup_para_char_frac,
        top_n_grams=q.top_n_grams,
        dup_n_grams=q.dup_n_grams,
        language=lang,
    )
    fw = DFW(
        line_punct_thr=q.line_punct_thr,
        line_punct_exclude_zero=q.line_punct_exclude_zero,
        short_line_thr=q.short_line_thr,
        short_line_length=q.short_line_length,
        char_duplicates_ratio=q.char_duplicates_ratio,
        new_line_ratio=q.new_line_ratio,
        language=lang,
    )
    return gq, gr, fw


def _reason(result) -> str | None:
    return None if result is True else result[1]


def run_datatrove(docs: list[str], codes: list[str], english_defaults: bool) -> dict:
    """Chain timing plus per-filter decisions on every document."""
    from datatrove.data import Document

    filters = {}
    for code in sorted(set(codes)):
        f = datatrove_filters(code, english_defaults)
        if f is not None:
            filters[code] = f
    usable = [i for i, c in enumerate(codes) if c in filters]
    # warm up spaCy / segmenters outside the timing
    for fs in filters.values():
        for f in fs:
            f.filter(Document(text="Warm up text. Another sentence here.", id="w"))
    per_filter: list[dict[int, str | None]] = [{}, {}, {}]
    chain: dict[int, str | None] = {}
    t0 = time.perf_counter()
    for i in usable:
        doc = Document(text=docs[i], id=str(i))
        reason = None
        for k, f in enumerate(filters[codes[i]]):
            reason = per_filter[k][i] = _reason(f.filter(doc))
            if reason is not None:
                break
        chain[i] = reason
    seconds = time.perf_counter() - t0
    # decisions the chain did not need (after an earlier drop), for per-filter agreement
    for i in usable:
        doc = Document(text=docs[i], id=str(i))
        for k, f in enumerate(filters[codes[i]]):
            if i not in per_filter[k]:
                per_filter[k][i] = _reason(f.filter(doc))
    return {
        "seconds": seconds,
        "chain": chain,
        "per_filter": per_filter,
        "usable": usable,
        "languages": sorted(filters),
    }


# ---------------------------------------------------------------------------------------------
# babelmill side
# ---------------------------------------------------------------------------------------------


def _ours() -> list:
    return [GopherQualityFilter(), GopherRepetitionFilter(), FineWebQualityFilter()]


def run_ours(docs: list[str], codes: list[str], batch: int) -> dict:
    table = pa.table({"id": [str(i) for i in range(len(docs))], "text": docs, "lang": codes})
    filters = _ours()
    # warm up (regex compilation, langs tables, segmenters) outside the timing
    for f in filters:
        f(table.slice(0, min(50, len(docs))))
    # the filters as a job runs them: the executor's chain over each batch (rejected rows
    # leave at their first drop reason), ledger included
    from babelmill.pipelines.executor import process_batch, stage_names
    from babelmill.pipelines.ledger import Ledger

    ledger = Ledger.for_stages(stage_names(filters))
    chain: dict[int, str | None] = {}
    t0 = time.perf_counter()
    for start in range(0, len(docs), batch):
        kept, rejected = process_batch(table.slice(start, batch), filters, ledger, [])
        for rej in rejected:
            for rid, reason in zip(rej.column("id").to_pylist(), rej.column("drop_reason").to_pylist(), strict=True):
                chain[int(rid)] = reason
        for rid in kept.column("id").to_pylist():
            chain[int(rid)] = None
    seconds = time.perf_counter() - t0
    per_filter = []
    for f in filters:
        reasons = []
        for start in range(0, len(docs), batch):
            reasons += f(table.slice(start, batch)).column("drop_reason").to_pylist()
        per_filter.append(dict(enumerate(reasons)))
    return {"seconds": seconds, "chain": chain, "per_filter": per_filter}


# ---------------------------------------------------------------------------------------------
# comparison
# ---------------------------------------------------------------------------------------------


def compare(docs: list[str], codes: list[str], batch: int, english_defaults: bool, show: int = 5) -> dict:
    dt = run_datatrove(docs, codes, english_defaults)
    ours = run_ours(docs, codes, batch)
    usable = dt["usable"]
    n = len(usable)
    names = ["gopher_quality", "gopher_repetition", "fineweb_quality"]
    result: dict = {
        "docs": n,
        "languages": dt["languages"],
        "datatrove_docs_per_s": round(n / dt["seconds"], 1),
        "babelmill_docs_per_s": round(len(docs) / ours["seconds"], 1),
    }
    result["speedup"] = round(result["babelmill_docs_per_s"] / result["datatrove_docs_per_s"], 1)
    agree = sum(dt["chain"][i] == ours["chain"][i] for i in usable)
    result["chain_agreement"] = round(agree / max(n, 1), 4)
    result["chain_keep_drop_agreement"] = round(
        sum((dt["chain"][i] is None) == (ours["chain"][i] is None) for i in usable) / max(n, 1), 4
    )
    result["kept_datatrove"] = sum(dt["chain"][i] is None for i in usable)
    result["kept_babelmill"] = sum(ours["chain"][i] is None for i in usable)
    result["per_filter_agreement"] = {}
    disagreements = []
    for k, name in enumerate(names):
        same = [i for i in usable if dt["per_filter"][k][i] == ours["per_filter"][k][i]]
        result["per_filter_agreement"][name] = round(len(same) / max(n, 1), 4)
        diff = Counter(
            (dt["per_filter"][k][i], ours["per_filter"][k][i])
            for i in usable
            if dt["per_filter"][k][i] != ours["per_filter"][k][i]
        )
        if diff:
            disagreements.append((name, diff.most_common(6)))
    result["reasons_datatrove"] = dict(Counter(dt["chain"][i] for i in usable).most_common())
    if len(set(codes)) > 1:
        per_lang = {}
        for code in dt["languages"]:
            idx = [i for i in usable if codes[i] == code]
            per_lang[code] = round(sum(dt["chain"][i] == ours["chain"][i] for i in idx) / max(len(idx), 1), 4)
        result["chain_agreement_per_language"] = per_lang
    result["disagreements"] = [
        {"filter": name, "pairs": [[a, b, c] for (a, b), c in pairs]} for name, pairs in disagreements
    ]
    return result


def run(evaldata: Path, limit: int | None = None, batch: int = 2000, seed: int = 0) -> dict:
    """English and multilingual comparison; returns the numbers (also printed by ``main``)."""
    evaldata = Path(evaldata)
    rng = random.Random(seed)
    n_en = limit or 3000
    en_docs = build_docs(english_sources(evaldata), n_en, rng)
    results = {"english": compare(en_docs, ["en"] * len(en_docs), batch, english_defaults=True)}
    n_multi = limit or 2000
    multi = multilingual_docs(evaldata, n_multi, rng)
    if multi:
        texts, codes = [t for t, _ in multi], [c for _, c in multi]
        results["multilingual"] = compare(texts, codes, batch, english_defaults=False)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--evaldata", type=Path, default=HERE.parent.parent / "shared" / "evaldata")
    ap.add_argument(
        "--limit", type=int, default=None, help="documents per set (default 3000 English, 2000 multilingual)"
    )
    ap.add_argument("--batch", type=int, default=2000, help="rows per batch on the babelmill side")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    results = run(args.evaldata, args.limit, args.batch)
    for name, r in results.items():
        print(f"== {name}: {r['docs']} docs ({', '.join(r['languages'])})")
        print(
            f"   datatrove {r['datatrove_docs_per_s']:>9.1f} docs/s   babelmill {r['babelmill_docs_per_s']:>9.1f} docs/s   speedup {r['speedup']}x"
        )
        print(
            f"   agreement (same keep/drop and reason, 3-filter chain): {r['chain_agreement']:.2%}   keep/drop only: {r['chain_keep_drop_agreement']:.2%}"
        )
        print("   per filter: " + ", ".join(f"{k} {v:.2%}" for k, v in r["per_filter_agreement"].items()))
        if "chain_agreement_per_language" in r:
            print("   per language: " + ", ".join(f"{k} {v:.1%}" for k, v in r["chain_agreement_per_language"].items()))
        for d in r["disagreements"]:
            print(f"   {d['filter']} (datatrove, babelmill, count): {d['pairs']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
