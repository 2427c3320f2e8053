"""Bilingual lexicons for dictionary switching: MUSE-style files, TSV, or induced from
word-aligned parallel text.

File formats (one entry per line, ``#`` comments and blank lines skipped):

* MUSE: ``src tgt`` separated by a space; a word with several translations has several
  lines, each counted once.
* TSV: ``src<TAB>tgt[<TAB>weight]``; either side may be a multi-word phrase, the optional
  weight (a frequency or a probability) replaces the count of 1.

A word's candidates are sampled in proportion to their weight ("sampled by frequency").
Lookup is case-insensitive; the replacement takes the source word's capitalisation.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from babelmill.processors.errors import BabelmillError


class Lexicon:
    """``phrase -> [(translation, weight)]`` with weighted sampling."""

    def __init__(self, entries: dict[str, Counter] | None = None) -> None:
        self._raw: dict[str, Counter] = {k: Counter(v) for k, v in (entries or {}).items()}
        self._freeze()

    def _freeze(self) -> None:
        self._cands: dict[str, tuple[list[str], list[float]]] = {}
        for key, counter in self._raw.items():
            items = sorted(counter.items())  # a fixed order: sampling must not depend on file order
            cands = [c for c, _ in items]
            self._cands[key] = (cands, list(itertools.accumulate(w for _, w in items)))
        self.max_words = max((len(k.split()) for k in self._raw), default=1)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, phrase: str) -> bool:
        return phrase.lower() in self._cands

    def keys(self) -> list[str]:
        """The lower-cased source phrases."""
        return list(self._cands)

    def candidates(self, phrase: str) -> list[str]:
        return self._cands.get(phrase.lower(), ([], []))[0]

    def sample(self, phrase: str, rng: random.Random) -> str | None:
        found = self._cands.get(phrase.lower())
        if found is None:
            return None
        cands, cum = found
        return cands[bisect.bisect_right(cum, rng.random() * cum[-1])] if len(cands) > 1 else cands[0]

    @classmethod
    def from_file(cls, path: str | Path) -> "Lexicon":
        p = Path(path)
        if not p.is_file():
            raise BabelmillError(f"--lexicon {path} does not exist")
        entries: dict[str, Counter] = defaultdict(Counter)
        with p.open(encoding="utf-8", errors="strict") as fh:
            for no, line in enumerate(fh, 1):
                line = line.rstrip("\n\r")
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                if "\t" in line:
                    parts = [x.strip() for x in line.split("\t")]
                else:
                    parts = line.split()
                weight = 1.0
                if len(parts) == 3:
                    try:
                        weight = float(parts[2])
                    except ValueError:
                        raise BabelmillError(
                            f"--lexicon {path}:{no}: third column {parts[2]!r} is not a number (expected src tgt [weight])"
                        ) from None
                    parts = parts[:2]
                if len(parts) != 2 or not parts[0] or not parts[1] or weight <= 0:
                    raise BabelmillError(
                        f"--lexicon {path}:{no}: expected 'src tgt' or 'src<TAB>tgt[<TAB>weight]', got {line[:80]!r}"
                    )
                entries[" ".join(parts[0].lower().split())][parts[1]] += weight
        if not entries:
            raise BabelmillError(f"--lexicon {path} holds no entry")
        return cls(entries)

    @classmethod
    def induce(cls, pairs: Iterable[tuple[str, str, str]], min_count: int = 2, max_candidates: int = 5) -> "Lexicon":
        """A lexicon from aligned pairs ``(src, tgt, "i-j ...")``: every 1-1 linked word pair
        (a source word linked to exactly one target word and back) counted over the corpus,
        pairs seen fewer than ``min_count`` times dropped, each word's top candidates kept."""
        counts: dict[str, Counter] = defaultdict(Counter)
        for src, tgt, alignment in pairs:
            s_toks, t_toks = src.split(), tgt.split()
            links = parse_alignment(alignment, len(s_toks), len(t_toks))
            fan_s = Counter(i for i, _ in links)
            fan_t = Counter(j for _, j in links)
            for i, j in links:
                if fan_s[i] == 1 and fan_t[j] == 1:
                    a, b = _strip(s_toks[i]).lower(), _strip(t_toks[j])
                    if a and b and any(ch.isalpha() for ch in a):
                        counts[a][b.lower()] += 1
        kept = {}
        for word, c in counts.items():
            top = {t: n for t, n in c.most_common(max_candidates) if n >= min_count}
            if top:
                kept[word] = Counter(top)
        return cls(kept)

    def write(self, path: str | Path) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            for key in sorted(self._raw):
                for cand, w in sorted(self._raw[key].items()):
                    fh.write(f"{key}\t{cand}\t{w:g}\n")


def read_aligned_pairs(path: str | Path) -> list[tuple[str, str, str]]:
    """``(src, tgt, alignment)`` from JSONL (``src``/``tgt``/``alignment``) or TSV lines
    (``src<TAB>tgt<TAB>alignment``); lines without an alignment are skipped."""
    import orjson

    p = Path(path)
    if not p.is_file():
        raise BabelmillError(f"--induce-lexicon {path} does not exist")
    out = []
    with p.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n\r")
            if line.startswith("{"):
                try:
                    obj = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(obj, dict) and all(isinstance(obj.get(k), str) for k in ("src", "tgt", "alignment")):
                    out.append((obj["src"], obj["tgt"], obj["alignment"]))
            else:
                parts = line.split("\t")
                if len(parts) == 3:
                    out.append((parts[0], parts[1], parts[2]))
    if not out:
        raise BabelmillError(
            f"--induce-lexicon {path} holds no aligned pair (JSONL src/tgt/alignment or TSV src<TAB>tgt<TAB>alignment)"
        )
    return out


def induce_from_file(path: str | Path, min_count: int = 2) -> "Lexicon":
    """A lexicon induced from a word-aligned parallel file (malformed alignments skipped)."""
    good = []
    for src, tgt, alignment in read_aligned_pairs(path):
        try:
            parse_alignment(alignment, len(src.split()), len(tgt.split()))
        except AlignmentError:
            continue
        good.append((src, tgt, alignment))
    return Lexicon.induce(good, min_count=min_count)


def _strip(token: str) -> str:
    return token.strip(".,;:!?\"'()[]{}«»“”‘’")


class AlignmentError(ValueError):
    """A malformed Pharaoh alignment (bad syntax or an index out of range)."""


def parse_alignment(text: str | None, n_src: int, n_tgt: int) -> list[tuple[int, int]]:
    """``"0-0 1-2"`` (Pharaoh; ``p`` for possible links, ``i?j``, also accepted) to links."""
    if text is None:
        raise AlignmentError("no alignment")
    links = []
    for item in text.split():
        sep = "-" if "-" in item else ("p" if "p" in item else "?")
        parts = item.split(sep)
        if len(parts) != 2 or not parts[0].isdigit() or not parts[1].isdigit():
            raise AlignmentError(f"bad alignment link {item!r}")
        i, j = int(parts[0]), int(parts[1])
        if i >= n_src or j >= n_tgt:
            raise AlignmentError(f"alignment link {item} outside {n_src} source / {n_tgt} target tokens")
        links.append((i, j))
    return sorted(set(links))


def extract_phrases(links: list[tuple[int, int]], n_src: int, max_len: int = 4) -> list[tuple[int, int, int, int]]:
    """Alignment-consistent phrase pairs ``(s1, s2, t1, t2)`` (inclusive), Koehn et al. 2003:
    the source span has a link, and no word inside either span is linked outside the other.
    Minimal target spans (unaligned target words at the edges are not added).

    With ``lo[j]`` / ``hi[j]`` the first / last source word linked to target word ``j``,
    a pair is consistent iff every linked ``j`` in ``t1..t2`` has ``s1 <= lo[j]`` and
    ``hi[j] <= s2``; spans grow one word at a time, so each check is O(max_len).
    """
    n_tgt = max((j for _, j in links), default=-1) + 1
    big = 1 << 30
    s_lo, s_hi = [big] * n_src, [-1] * n_src
    lo, hi = [big] * n_tgt, [-1] * n_tgt  # unlinked target words: always consistent
    for i, j in links:
        if j < s_lo[i]:
            s_lo[i] = j
        if j > s_hi[i]:
            s_hi[i] = j
        if i < lo[j]:
            lo[j] = i
        if i > hi[j]:
            hi[j] = i
    out = []
    for s1 in range(n_src):
        t1, t2 = big, -1
        for s2 in range(s1, min(n_src, s1 + max_len)):
            if s_lo[s2] < t1:
                t1 = s_lo[s2]
            if s_hi[s2] > t2:
                t2 = s_hi[s2]
            if t2 < 0:
                continue
            if t2 - t1 + 1 > max_len:
                break  # growing the source span only widens the target span
            if min(lo[t1 : t2 + 1]) >= s1 and max(hi[t1 : t2 + 1]) <= s2:
                out.append((s1, s2, t1, t2))
    return out
