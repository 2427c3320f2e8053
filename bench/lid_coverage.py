"""Regenerate ``langs/lid_coverage.tsv`` and ``langs/lid_routing.tsv`` from FLORES-200 devtest.

    python bench/lid_coverage.py --evaldata ../shared/evaldata

Runs both shipped backends (lid.176 through fastText, heliport) on every FLORES-200
devtest sentence, once, and writes:

* per profile: the label each family uses (lid.176 and GlotLID / OpenLID from the
  profiles, heliport from the model's own label list, macrolanguage labels for their
  members) and each shipped backend's accuracy on the profile's FLORES variety (the top
  answer equals the profile; no thresholds);
* per heliport answer: on the sentences heliport gave it (all 204 varieties), how many
  heliport got right and how many ``auto`` gets right when it consults lid.176 for them
  (``takes_fasttext``); ``auto`` consults lid.176 for that answer when that is clearly
  better (by 2 % of the sentences and at least 3), and always for a macrolanguage.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from babelmill import langs  # noqa: E402
from babelmill.langs import coverage  # noqa: E402
from babelmill.processors.lid import FastTextLanguageIdentifier, HeliportLanguageIdentifier  # noqa: E402
from babelmill.processors.lid.auto import AutoLanguageIdentifier, heliport_codes, takes_fasttext  # noqa: E402
from babelmill.processors.lid.heliport import heliport_labels  # noqa: E402

LANGS_DIR = HERE.parent / "langs"
#: routing: lid.176 must be right on this many more sentences (share of n, and absolute)
ROUTE_MARGIN, ROUTE_MIN = 0.02, 3
#: pair routing: lid.176's answer must be right on at least this many sentences, and on
#: more than PAIR_RATIO times as many as heliport's answer of the pair
PAIR_MIN, PAIR_RATIO = 10, 2.0


def write_tsv(path: Path, header: str, cols: list[str], rows: list[list[str]]) -> None:
    """One generated table: its ``#`` header line, the column names, the rows."""
    path.write_text(header + "\n".join("\t".join(r) for r in [cols, *rows]) + "\n", encoding="utf-8")


@functools.cache
def gold_code(label: str) -> str:
    """Babelmill code for a FLORES file label (``yor``, ``ace_Arab``, ``ara``); varieties
    ``langs`` does not know keep their bare ISO code."""
    bare = label.split("_", 1)[0]
    for key in (label, bare):
        try:
            return langs.get(key).code
        except LookupError:
            continue
    return bare


def load_flores(evaldata: Path, per_file: int | None = None) -> dict[str, list[str]]:
    folder = evaldata / "flores200-devtest" / "devtest"
    out = {}
    for path in sorted(folder.glob("*.devtest")):
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        if lines:
            out[path.stem] = lines[:per_file] if per_file else lines
    return out


def profile_variety(profile: langs.LanguageProfile, labels: list[str]) -> str | None:
    """The FLORES file measuring a profile: its own FLORES code's, else the one variety
    that maps to it in the profile's script."""
    if not profile.flores:
        return None
    iso, script = profile.flores.split("_")
    for cand in (profile.flores, iso):
        if cand in labels:
            return cand
    mapped = [lab for lab in labels if gold_code(lab) == profile.code and lab.split("_")[-1] in (lab, script)]
    return mapped[0] if len(mapped) == 1 else None


def predictions(flores: dict[str, list[str]]) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """(variety per sentence, gold per sentence, lid.176 answer, heliport answer)."""
    varieties = [lab for lab, lines in flores.items() for _ in lines]
    golds = [gold_code(v) for v in varieties]
    texts = pl.Series([t for lines in flores.values() for t in lines], dtype=pl.String)
    ft = FastTextLanguageIdentifier(top_k=1).predict(texts, k=1).lang.fill_null("").to_numpy()
    he = HeliportLanguageIdentifier(top_k=1).predict(texts, k=1).lang.fill_null("").to_numpy()
    return varieties, golds, ft, he


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--evaldata", type=Path, default=HERE.parent.parent / "shared" / "evaldata")
    ap.add_argument("--out", type=Path, default=LANGS_DIR, help="folder for the two TSV files (default: langs/)")
    args = ap.parse_args()
    flores = load_flores(args.evaldata)
    varieties, golds, ft, he = predictions(flores)
    v_arr, g_arr = np.array(varieties), np.array(golds)
    correct = {"lid176": ft == g_arr, "heliport": he == g_arr}

    # heliport labels per profile (direct first, then macrolanguages for their members)
    heli: dict[str, str] = {}
    for label in heliport_labels():
        code = coverage.heliport_code(label)
        if code and label not in coverage.MACROLANGUAGES:
            heli.setdefault(code, label)
    for label in heliport_labels():
        for member in coverage.MACROLANGUAGES.get(label, ()):
            heli.setdefault(member, label)
    ft_codes = {p.code for p in langs.all_profiles() if "lid176" in p.lid_labels}

    rows = []
    labels = list(flores)
    for p in langs.all_profiles():
        variety = profile_variety(p, labels)
        acc = {}
        if variety is not None:
            mask = v_arr == variety
            if p.code in ft_codes:
                acc["lid176"] = f"{correct['lid176'][mask].mean():.4f}"
            if p.code in heli:
                acc["heliport"] = f"{correct['heliport'][mask].mean():.4f}"
        rows.append(
            [
                p.code,
                p.name,
                variety or "",
                p.lid_labels.get("lid176", ""),
                heli.get(p.code, ""),
                p.lid_labels.get("glotlid", ""),
                p.lid_labels.get("openlid", ""),
                acc.get("lid176", ""),
                acc.get("heliport", ""),
            ]
        )
    header_cov = (
        "# generated by bench/lid_coverage.py from FLORES-200 devtest (first 500 sentences per variety); do not edit\n"
    )
    cols_cov = ["code", "name", "flores", "lid176", "heliport", "glotlid", "openlid", "acc_lid176", "acc_heliport"]
    write_tsv(args.out / "lid_coverage.tsv", header_cov, cols_cov, rows)

    # routing per heliport answer: what taking lid.176's answer (where auto would) gains
    coverage.table.cache_clear()  # the file just written decides what heliport answers reliably
    heliport_codes.cache_clear()
    he_codes = set(heliport_codes())
    take = np.array([takes_fasttext(h or None, f or None, he_codes) for h, f in zip(he.tolist(), ft.tolist())])
    n_by = Counter(he.tolist())
    he_ok = Counter(he[correct["heliport"]].tolist())
    auto_ok = Counter(he[np.where(take, correct["lid176"], correct["heliport"])].tolist())
    route_rows = []
    for answer in sorted(n_by, key=lambda a: (-n_by[a], a)):
        n, h, a = n_by[answer], he_ok[answer], auto_ok[answer]
        always = answer in coverage.MACROLANGUAGES
        route = "lid176" if (always or a - h >= max(ROUTE_MIN, ROUTE_MARGIN * n)) else "heliport"
        route_rows.append([answer or "-", str(n), str(h), str(a), route])
    header = "# generated by bench/lid_coverage.py: per heliport answer ('-': none), FLORES-200 sentences given it, right by heliport, right when lid.176 is consulted, route\n"
    cols = ["heliport", "sentences", "heliport_right", "auto_right", "route"]
    write_tsv(args.out / "lid_routing.tsv", header, cols, route_rows)
    # routing per answer pair: where auto keeps heliport's answer, a (heliport, lid.176)
    # pair on which lid.176 is right far more often than heliport takes lid.176's answer
    pair_n: Counter = Counter()
    pair_he: Counter = Counter()
    pair_ft: Counter = Counter()
    routed = {row[0] for row in route_rows if row[4] == "lid176"}
    for h, f, t, ok_h, ok_f in zip(he.tolist(), ft.tolist(), take, correct["heliport"], correct["lid176"]):
        if (t and (h or "-") in routed) or not h or not f or h == f:
            continue
        pair_n[(h, f)] += 1
        pair_he[(h, f)] += bool(ok_h)
        pair_ft[(h, f)] += bool(ok_f)
    pairs = sorted(p for p in pair_n if pair_ft[p] >= PAIR_MIN and pair_ft[p] > PAIR_RATIO * pair_he[p])
    header = (
        "# generated by bench/lid_coverage.py: (heliport answer, lid.176 answer) pairs on which auto takes lid.176's"
        " answer; FLORES-200 sentences with the pair, right by heliport, right by lid.176\n"
    )
    cols = ["heliport", "lid176", "sentences", "heliport_right", "lid176_right"]
    pair_rows = [[h, f, str(pair_n[(h, f)]), str(pair_he[(h, f)]), str(pair_ft[(h, f)])] for h, f in pairs]
    write_tsv(args.out / "lid_pair_routing.tsv", header, cols, pair_rows)
    # auto's own accuracy per profile, with the routing just written (markers included)
    if args.out.resolve() == LANGS_DIR.resolve():
        coverage.table.cache_clear()
        coverage.routing.cache_clear()
        coverage.pair_routing.cache_clear()
        heliport_codes.cache_clear()
        texts = pl.Series([t for lines in flores.values() for t in lines], dtype=pl.String)
        au = np.array(AutoLanguageIdentifier(top_k=1).predict(texts, k=1).lang.fill_null("").to_list(), dtype=object)
        ok_auto = au == g_arr
        for row in rows:
            mask = v_arr == row[2]
            row.append(f"{ok_auto[mask].mean():.4f}" if row[2] and mask.any() else "")
        write_tsv(args.out / "lid_coverage.tsv", header_cov, [*cols_cov, "acc_auto"], rows)
        coverage.table.cache_clear()
        print(f"auto: {ok_auto.mean():.4f} of all {len(ok_auto)} FLORES sentences")
    print(
        f"wrote {args.out / 'lid_coverage.tsv'} ({len(rows)} profiles), {args.out / 'lid_routing.tsv'} ({len(route_rows)}"
        f" heliport answers) and {args.out / 'lid_pair_routing.tsv'} ({len(pair_rows)} pairs)"
    )
    for backend, ok in correct.items():
        print(f"{backend}: {ok.mean():.4f} of all {len(ok)} FLORES sentences")


if __name__ == "__main__":
    main()
