"""Symmetrisation of two directional word alignments.

A directional aligner links each word of one side to at most one word of the other, so
neither direction alone can express one-to-many links both ways.  The classic heuristics
(Och & Ney 2003; Koehn et al. 2005) combine the two: ``intersection`` is precise,
``union`` has recall, ``grow-diag-final-and`` starts from the intersection and adds union
links next to accepted ones, then links of still-unaligned words.
"""

from __future__ import annotations

from collections.abc import Iterable

from babelmill.processors.evaluate.alignment import parse_pharaoh_line

Link = tuple[int, int]
METHODS = ("intersection", "grow-diag-final-and", "grow-diag-final", "grow-diag", "union")
_NEIGHBOURS = ((-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


def symmetrize(forward: Iterable[Link], reverse: Iterable[Link], method: str = "grow-diag-final-and") -> list[Link]:
    """Combine ``forward`` (source i -> target j) and ``reverse`` links (also given as
    (i, j), source first) with ``method``; returns sorted (i, j) pairs."""
    fwd, rev = set(forward), set(reverse)
    if method == "intersection":
        return sorted(fwd & rev)
    if method == "union":
        return sorted(fwd | rev)
    if method not in METHODS:
        raise ValueError(f"symmetrisation {method!r} is not one of {', '.join(METHODS)}")
    union = fwd | rev
    links = fwd & rev
    src_done = {i for i, _ in links}
    tgt_done = {j for _, j in links}
    grown = True
    while grown:  # grow-diag: neighbours of accepted links that cover an unaligned word
        grown = False
        for i, j in sorted(links):
            for di, dj in _NEIGHBOURS:
                cand = (i + di, j + dj)
                if cand in union and cand not in links and (cand[0] not in src_done or cand[1] not in tgt_done):
                    links.add(cand)
                    src_done.add(cand[0])
                    tgt_done.add(cand[1])
                    grown = True
    if method == "grow-diag":
        return sorted(links)
    both = method == "grow-diag-final-and"
    for direction in (fwd, rev):  # final(-and): links of words still unaligned
        for i, j in sorted(direction):
            free = (i not in src_done and j not in tgt_done) if both else (i not in src_done or j not in tgt_done)
            if free:
                links.add((i, j))
                src_done.add(i)
                tgt_done.add(j)
    return sorted(links)


def parse_pharaoh(line: str, one_based: bool = False) -> list[Link]:
    """``"0-1 2-2"`` -> [(0, 1), (2, 2)]: every link of a line, possible ones (``p``/``?``)
    read as links (the evaluator's parser, which keeps the two kinds apart)."""
    return sorted(parse_pharaoh_line(line, one_based)[1])


def format_pharaoh(links: Iterable[Link]) -> str:
    return " ".join(f"{i}-{j}" for i, j in sorted(links))
