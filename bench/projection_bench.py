"""Label-projection and word-alignment benchmark on real gold data (passed by path).

    python bench/projection_bench.py --evaldata ../shared/evaldata

1. europarl-ner en->de/es/it: English gold entities projected onto the gold target
   sentences (tokens as given), scored against the gold target tags with strict
   (seqeval-style) micro F1, all four types and without MISC; one row per method.
   eflomal samples, so a row varies between invocations (en->it by about +-0.7 with one
   training; voting five trainings narrows it); ``--repeat N`` prints N fresh rows.
2. eflomal AER on word-align-awesome en-fr, ro-en, ja-en, zh-en, trained on the evaldata
   sentences only and with FLORES/Tatoeba text added.
3. Speed: our EflomalAligner vs eflomal's own ``eflomal.Aligner`` on the same pairs
   (wall and CPU seconds, ratio).
4. Name matching across scripts: FLORES en->ru/zh, how many English name tokens find a
   romanised match in the target sentence (no gold; examples printed to eyeball).

Sentences are read with babelmill's NER reader and scored with its evaluators (the same
ones `babelmill project eval` and `babelmill align eval` use).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from babelmill.langs import profiles  # noqa: E402
from babelmill.processors.evaluate import alignment_scores, entity_scores  # noqa: E402
from babelmill.processors.evaluate.alignment import parse_pharaoh as parse_gold  # noqa: E402
from babelmill.processors.ner.readers import read_ner  # noqa: E402
from babelmill.processors.ner.spans import iob2_from_spans, spans_from_iob2  # noqa: E402
from babelmill.processors.projection.aligners.eflomal import EflomalAligner, EflomalParams  # noqa: E402
from babelmill.processors.projection.names import NameMatcher  # noqa: E402
from babelmill.processors.projection.project import SpanProjector, projector_for  # noqa: E402
from babelmill.processors.projection.symmetrize import symmetrize  # noqa: E402

FLORES = {
    "en": "eng",
    "de": "deu",
    "es": "spa",
    "it": "ita",
    "fr": "fra",
    "ro": "ron",
    "ja": "jpn",
    "zh": "cmn_Hans",
    "ru": "rus",
}
TATOEBA = {"de": ("deu-eng", "deu"), "zh": ("eng-zho", "zho")}


def read_conll(path: Path) -> list[tuple[list[str], list[str]]]:
    """(tokens, IOB2 tags) of every sentence, read by babelmill's NER reader."""
    table, bad = read_ner([str(path)])
    assert not bad, f"{path}: {len(bad)} quarantined sentences"
    return list(zip(table.column("tokens").to_pylist(), table.column("tags").to_pylist()))


def strict_f1(
    pred: list[list], gold: list[list], n_tokens: list[int], drop: tuple[str, ...] = ()
) -> tuple[float, float, float]:
    """Strict micro P/R/F1 (babelmill's seqeval-strict evaluator) of predicted spans."""
    micro = entity_scores(
        [iob2_from_spans(n, p) for n, p in zip(n_tokens, pred)],
        [iob2_from_spans(n, g) for n, g in zip(n_tokens, gold)],
        drop_types=drop,
    ).micro
    return 100 * micro.precision, 100 * micro.recall, 100 * micro.f1


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


def methods(lang: str, tgt: list) -> dict:
    """name -> (aligner factory(extra), projector).  "plain" is the floor of issue 8
    (contiguous closure over every linked word, nothing else)."""
    plain = SpanProjector(
        name_matcher=None, max_gap=10**6, length_ratio=100, length_slack=100, trim_punctuation=False, weak_edge=0.0
    )
    ours = projector_for(lang, tgt)  # the defaults of the align method
    return {
        "eflomal plain (int)": (lambda extra: EflomalAligner("intersection", extra), plain),
        "eflomal plain (gdfa)": (lambda extra: EflomalAligner("grow-diag-final-and", extra), plain),
        "ours: eflomal+names/cognates, stems, clean edges (gdfa)": (
            lambda extra: EflomalAligner(
                "grow-diag-final-and", extra, params=OURS_PARAMS, prior_source=OURS_PRIORS.priors
            ),
            ours,
        ),
        f"ours, {OURS_RUNS} eflomal runs voted (the align default)": (
            lambda extra: EflomalAligner(
                "grow-diag-final-and", extra, params=OURS_PARAMS, prior_source=OURS_PRIORS.priors, runs=OURS_RUNS
            ),
            ours,
        ),
    }


#: name and cognate priors, the default of the ``align`` method
OURS_PRIORS = NameMatcher(cognate_priors=True)
#: eflomal on 5-character prefixes: small corpora see each inflected form too rarely
OURS_PARAMS = EflomalParams(source_prefix_len=5, target_prefix_len=5)
#: independent eflomal trainings voted per pair (the align method's --eflomal-runs default)
OURS_RUNS = 5
AER_PAIRS = ("enfr", "roen", "jaen", "zhen")


def bench_aer(evaldata: Path) -> None:
    d = evaldata / "word-align-awesome"
    print("\n## eflomal AER on word-align-awesome (lower is better)\n")
    print("| pair | training text | priors | intersection | gdfa | union | pairs trained |")
    print("|---|---|---|---|---|---|---|")
    for name in AER_PAIRS:
        src_lang, tgt_lang = name[:2], name[2:]
        lines = read_lines(d / f"{name}.src-tgt")
        src = [line.split(" ||| ")[0].split() for line in lines]
        tgt = [line.split(" ||| ")[1].split() for line in lines]
        gold = parse_gold(read_lines(d / f"{name}.gold"), one_based=True)
        extra = extra_text(evaldata, src_lang, tgt_lang)
        for label, ex, priors, params in (
            ("evaldata only", [], None, EflomalParams()),
            ("+ FLORES/Tatoeba", extra, None, EflomalParams()),
            ("+ FLORES/Tatoeba", extra, OURS_PRIORS.priors, EflomalParams()),
            ("+ FLORES/Tatoeba, stems", extra, OURS_PRIORS.priors, OURS_PARAMS),
        ):
            aligner = EflomalAligner(extra=ex, prior_source=priors, params=params)
            directional = aligner.directional(src, tgt)
            row = []
            for method in ("intersection", "grow-diag-final-and", "union"):
                pred = [symmetrize(f, r, method) for f, r in directional]
                row.append(f"{100 * alignment_scores([set(x) for x in pred], gold).aer:.1f}")
            print(
                f"| {src_lang}-{tgt_lang} | {label} | {'names+cognates' if priors else 'none'} | "
                f"{' | '.join(row)} | {len(src) + len(ex)} |",
                flush=True,
            )
    print("\npublished eflomal (large corpora): 8.2 en-fr, 25.1 ro-en, 47.5 ja-en, 28.7 zh-en")


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def bench_speed(evaldata: Path) -> None:
    """Our EflomalAligner vs eflomal's own Aligner on the same pairs, same settings."""
    import eflomal
    import tempfile

    d = evaldata / "europarl-ner"
    en = [t for t, _ in read_conll(d / "en-europarl.test.conll02")]
    de = [t for t, _ in read_conll(d / "de-europarl.test.conll02")]
    pairs = list(zip(en, de)) + extra_text(evaldata, "en", "de")
    src, tgt = [p[0] for p in pairs], [p[1] for p in pairs]
    print(f"\n## alignment speed: {len(pairs)} en-de pairs, both directions, 3 samplers\n")
    print("| aligner | wall s | CPU s | pairs/s | wall ratio (eflomal / ours) |")
    print("|---|---|---|---|---|")
    t0, c0 = time.perf_counter(), _cpu()
    with tempfile.TemporaryDirectory() as tmp:
        eflomal.Aligner().align(
            [" ".join(s) + "\n" for s in src],
            [" ".join(t) + "\n" for t in tgt],
            links_filename_fwd=os.path.join(tmp, "f"),
            links_filename_rev=os.path.join(tmp, "r"),
        )
    ref_wall, ref_cpu = time.perf_counter() - t0, _cpu() - c0
    t0, c0 = time.perf_counter(), _cpu()
    EflomalAligner().align(src, tgt)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    print(f"| eflomal.Aligner (its own API) | {ref_wall:.1f} | {ref_cpu:.1f} | {len(pairs) / ref_wall:.0f} | 1.00 |")
    print(
        f"| babelmill EflomalAligner (+gdfa) | {wall:.1f} | {cpu:.1f} | {len(pairs) / wall:.0f} | "
        f"{ref_wall / wall:.2f} |"
    )


def bench_names(evaldata: Path) -> None:
    """Non-Latin targets: English name tokens found again in FLORES ru / zh sentences."""
    d = evaldata / "flores200-devtest" / "devtest"
    en_lines = read_lines(d / "eng.devtest")
    en = tokenize("en", en_lines)
    matcher = NameMatcher()
    print("\n## name matching across scripts (FLORES devtest, no gold: rate + examples)\n")
    print("| pair | English name tokens | matched in target | rate |")
    print("|---|---|---|---|")
    examples = {}
    for lang in ("de", "ru", "zh"):
        tgt = tokenize(lang, read_lines(d / f"{FLORES[lang]}.devtest"))
        names = found = 0
        ex = []
        for s, t in zip(en, tgt):
            for k, tok in enumerate(s):
                if k == 0 or not tok[:1].isupper() or len(tok) < 3 or tok.isupper():
                    continue
                names += 1
                hit = matcher.find([tok], t)
                if hit:
                    found += 1
                    if len(ex) < 8 and random.Random(names).random() < 0.1:
                        ex.append(f"{tok}={' '.join(t[hit[0] : hit[1]])}")
        examples[lang] = ex
        print(f"| en-{lang} | {names} | {found} | {100 * found / max(1, names):.1f}% |")
    for lang, ex in examples.items():
        print(f"examples en-{lang}: {', '.join(ex)}")


def bench_europarl(evaldata: Path, langs: list[str], only: list[str] | None, repeat: int = 1) -> None:
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
        for name, (factory, projector) in methods(lang, tgt).items():
            if only and not any(o in name for o in only):
                continue
            for _ in range(repeat):
                _europarl_row(lang, name, factory(extra), projector, src, tgt, gold, src_spans)


def _europarl_row(lang, name, aligner, projector, src, tgt, gold, src_spans) -> None:
    """One row: train (eflomal samples afresh each time), project, score."""
    t0 = time.perf_counter()
    scored = aligner.align_scored(src, tgt)
    pred, lost = [], 0
    for s, t, sp, links in zip(src, tgt, src_spans, scored):
        proj = projector.project(s, t, sp, links)
        pred.append(proj.spans)
        lost += sum(e.target is None for e in proj.entities)
    wall = time.perf_counter() - t0
    lengths = [len(t) for t in tgt]
    p, r, f = strict_f1(pred, gold, lengths)
    _, _, f_nm = strict_f1(pred, gold, lengths, ("MISC",))
    print(
        f"| en-{lang} | {name} | {p:.1f} | {r:.1f} | {f:.1f} | {f_nm:.1f} | {lost} | {len(src) / wall:.0f} |",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--evaldata", type=Path, required=True, help="path of ../shared/evaldata")
    ap.add_argument("--langs", default="de,es,it", help="europarl target languages")
    ap.add_argument("--only", default="", help="comma list: run only methods whose name contains one")
    ap.add_argument("--parts", default="ner,aer,speed,names", help="comma list of parts: ner, aer, speed, names")
    ap.add_argument("--repeat", type=int, default=1, help="ner: fresh eflomal trainings per method and pair")
    args = ap.parse_args(argv)
    if not (args.evaldata / "europarl-ner").is_dir():
        print(f"error: {args.evaldata} has no europarl-ner/ (pass ../shared/evaldata)", file=sys.stderr)
        return 2
    parts = set(args.parts.split(","))
    only = [o for o in args.only.split(",") if o]
    if "ner" in parts:
        bench_europarl(args.evaldata, args.langs.split(","), only, args.repeat)
    if "aer" in parts:
        bench_aer(args.evaldata)
    if "speed" in parts:
        bench_speed(args.evaldata)
    if "names" in parts:
        bench_names(args.evaldata)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
