"""Label-projection and word-alignment benchmark on real gold data (passed by path).

    python bench/projection_bench.py --evaldata ../shared/evaldata

1. europarl-ner en->de/es/it: English gold entities projected onto the gold target
   sentences (tokens as given), scored against the gold target tags with strict
   (seqeval-style) micro F1, all four types and without MISC; one row per method.
2. eflomal AER on word-align-awesome en-fr, ro-en, ja-en, zh-en, trained on the evaldata
   sentences only and with FLORES/Tatoeba text added.
3. Speed: our EflomalAligner vs eflomal's own ``eflomal.Aligner`` on the same pairs
   (wall and CPU seconds, ratio).
4. Name matching across scripts: FLORES en->ru/zh, how many English name tokens find a
   romanised match in the target sentence (no gold; examples printed to eyeball).

The CoNLL loader and the strict-F1 / AER scorers below are small private copies until
the NER readers and evaluators land in babelmill; the numbers use the same definitions.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from babelmill.langs import profiles  # noqa: E402
from babelmill.processors.ner.spans import spans_from_iob2  # noqa: E402
from babelmill.processors.projection.aligners.eflomal import EflomalAligner, EflomalParams  # noqa: E402
from babelmill.processors.projection.names import NameMatcher  # noqa: E402
from babelmill.processors.projection.project import SpanProjector  # noqa: E402
from babelmill.processors.projection.symmetrize import parse_pharaoh, symmetrize  # noqa: E402

FLORES = {"en": "eng", "de": "deu", "es": "spa", "it": "ita", "fr": "fra", "ro": "ron", "ja": "jpn",
          "zh": "cmn_Hans", "ru": "rus"}
TATOEBA = {"de": ("deu-eng", "deu"), "zh": ("eng-zho", "zho")}


# --- private loader and scorers (to be replaced by babelmill's NER readers/evaluators) ---

def read_conll(path: Path) -> list[tuple[list[str], list[str]]]:
    sents, tokens, tags = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.rstrip("\r")
        if not line.strip():
            if tokens:
                sents.append((tokens, tags))
            tokens, tags = [], []
            continue
        parts = line.split("\t") if "\t" in line else line.split()
        tokens.append(parts[0])
        tags.append(parts[-1])
    if tokens:
        sents.append((tokens, tags))
    return sents


def strict_f1(pred: list[list], gold: list[list], drop: frozenset[str] = frozenset()) -> tuple[float, float, float]:
    tp = n_pred = n_gold = 0
    for p, g in zip(pred, gold):
        ps = {(s.start, s.end, s.label) for s in p if s.label not in drop}
        gs = {(s.start, s.end, s.label) for s in g if s.label not in drop}
        tp += len(ps & gs)
        n_pred += len(ps)
        n_gold += len(gs)
    prec = tp / n_pred if n_pred else 0.0
    rec = tp / n_gold if n_gold else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return 100 * prec, 100 * rec, 100 * f1


def aer(pred: list[list[tuple[int, int]]], sure: list[set], possible: list[set]) -> float:
    a = s = ap = as_ = 0
    for p, su, po in zip(pred, sure, possible):
        p = set(p)
        a += len(p)
        s += len(su)
        as_ += len(p & su)
        ap += len(p & (po | su))
    return 100 * (1 - (as_ + ap) / (a + s))


# --- data ---

def read_lines(path: Path, limit: int | None = None) -> list[str]:
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f]
    return lines[:limit] if limit else lines


def tokenize(lang: str, lines: list[str]) -> list[list[str]]:
    return profiles.get(lang).tokenize_many(lines)


def extra_text(evaldata: Path, src: str, tgt: str, tatoeba: bool = True, flores: bool = True) -> list:
    """Unlabelled parallel text for src->tgt from FLORES devtest and Tatoeba."""
    out = []
    if flores and src in FLORES and tgt in FLORES:
        d = evaldata / "flores200-devtest" / "devtest"
        a = read_lines(d / f"{FLORES[src]}.devtest")
        b = read_lines(d / f"{FLORES[tgt]}.devtest")
        out += list(zip(tokenize(src, a), tokenize(tgt, b)))
    for lang, other in ((tgt, src), (src, tgt)):
        if tatoeba and lang in TATOEBA and other == "en":
            folder, suffix = TATOEBA[lang]
            d = evaldata / "tatoeba-test" / folder
            en = read_lines(d / "tatoeba-test-v2021-08-07.eng")
            xx = read_lines(d / f"tatoeba-test-v2021-08-07.{suffix}")
            pairs = list(zip(tokenize("en", en), tokenize(lang, xx)))
            out += pairs if lang == tgt else [(b, a) for a, b in pairs]
    return [(s, t) for s, t in out if s and t]


# --- methods ---

def methods(lang: str) -> dict:
    """name -> (aligner factory(extra), projector).  "plain" is the floor of issue 8
    (contiguous closure over every linked word, nothing else)."""
    plain = SpanProjector(name_matcher=None, max_gap=10**6, length_ratio=100, length_slack=100,
                          trim_punctuation=False, weak_edge=0.0)
    ours = SpanProjector(edge_stopwords=profiles.get(lang).stopwords)
    return {
        "eflomal plain (int)": (lambda extra: EflomalAligner("intersection", extra), plain),
        "eflomal plain (gdfa)": (lambda extra: EflomalAligner("grow-diag-final-and", extra), plain),
        "eflomal+names (gdfa)": (lambda extra: EflomalAligner("grow-diag-final-and", extra,
                                                               prior_source=NameMatcher().priors), ours),
    }


def bench_europarl(evaldata: Path, langs: list[str], only: list[str] | None) -> None:
    d = evaldata / "europarl-ner"
    en = read_conll(d / "en-europarl.test.conll02")
    print("\n## europarl-ner: English gold projected onto gold target tokens (strict micro F1)\n")
    print("| pair | method | P | R | F1 all | F1 no MISC | entities lost | sents/s |")
    print("|---|---|---|---|---|---|---|---|")
    for lang in langs:
        tg = read_conll(d / f"{lang}-europarl.test.conll02")
        assert len(tg) == len(en), f"{lang}: {len(tg)} sentences vs {len(en)}"
        extra = extra_text(evaldata, "en", lang)
        src = [t for t, _ in en]
        tgt = [t for t, _ in tg]
        gold = [spans_from_iob2(tags) for _, tags in tg]
        src_spans = [spans_from_iob2(tags) for _, tags in en]
        for name, (factory, projector) in methods(lang).items():
            if only and not any(o in name for o in only):
                continue
            t0 = time.perf_counter()
            scored = factory(extra).align_scored(src, tgt)
            pred, lost = [], 0
            for s, t, sp, links in zip(src, tgt, src_spans, scored):
                proj = projector.project(s, t, sp, links)
                pred.append(proj.spans)
                lost += sum(e.target is None for e in proj.entities)
            wall = time.perf_counter() - t0
            p, r, f = strict_f1(pred, gold)
            _, _, f_nm = strict_f1(pred, gold, frozenset({"MISC"}))
            print(f"| en-{lang} | {name} | {p:.1f} | {r:.1f} | {f:.1f} | {f_nm:.1f} | {lost} | {len(src) / wall:.0f} |",
                  flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--evaldata", type=Path, required=True, help="path of ../shared/evaldata")
    ap.add_argument("--langs", default="de,es,it", help="europarl target languages")
    ap.add_argument("--only", default="", help="comma list: run only methods whose name contains one")
    ap.add_argument("--parts", default="ner,aer,speed,names", help="which parts to run")
    args = ap.parse_args(argv)
    if not (args.evaldata / "europarl-ner").is_dir():
        print(f"error: {args.evaldata} has no europarl-ner/ (pass ../shared/evaldata)", file=sys.stderr)
        return 2
    parts = set(args.parts.split(","))
    only = [o for o in args.only.split(",") if o]
    if "ner" in parts:
        bench_europarl(args.evaldata, args.langs.split(","), only)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
