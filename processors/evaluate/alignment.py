"""Word-alignment quality against gold alignments: AER, precision, recall (Och & Ney 2003).

Gold alignments separate sure links ``S`` from possible ones ``P`` (``S`` is a subset of
``P``).  For a predicted alignment ``A``::

    precision = |A & P| / |A|      recall = |A & S| / |S|
    AER       = 1 - (|A & S| + |A & P|) / (|A| + |S|)

Pharaoh format: one line per sentence pair, links ``i-j`` (sure), ``i?j`` or ``ipj``
(possible), source index first; 0-based unless the file is 1-based (several published
gold sets are), which the caller says.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from typing import Any

_LINK = re.compile(r"^(\d+)([-?p])(\d+)$")

Link = tuple[int, int]


def parse_pharaoh_line(line: str, one_based: bool = False) -> tuple[set[Link], set[Link]]:
    """``(sure, possible)`` links of one line; ``possible`` includes the sure ones."""
    sure: set[Link] = set()
    possible: set[Link] = set()
    shift = 1 if one_based else 0
    for item in line.split():
        m = _LINK.match(item)
        if not m:
            raise ValueError(f"not a Pharaoh link: {item!r}")
        link = (int(m.group(1)) - shift, int(m.group(3)) - shift)
        if link[0] < 0 or link[1] < 0:
            raise ValueError(f"link {item!r} is below 1 in a 1-based file")
        possible.add(link)
        if m.group(2) == "-":
            sure.add(link)
    return sure, possible


def parse_pharaoh(lines: Iterable[str], one_based: bool = False) -> list[tuple[set[Link], set[Link]]]:
    """Every line of a Pharaoh file (a blank line is a pair with no links)."""
    out = []
    for number, line in enumerate(lines, 1):
        try:
            out.append(parse_pharaoh_line(line, one_based))
        except ValueError as exc:
            raise ValueError(f"line {number}: {exc}") from None
    return out


@dataclasses.dataclass
class AlignmentScores:
    predicted: int
    sure: int
    hits_sure: int
    hits_possible: int
    sentences: int

    @property
    def precision(self) -> float:
        return self.hits_possible / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.hits_sure / self.sure if self.sure else 0.0

    @property
    def aer(self) -> float:
        denom = self.predicted + self.sure
        return 1.0 - (self.hits_sure + self.hits_possible) / denom if denom else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "aer": self.aer,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "sentences": self.sentences,
            "predicted_links": self.predicted,
            "sure_links": self.sure,
        }


def alignment_scores(pred: Sequence[set[Link]], gold: Sequence[tuple[set[Link], set[Link]]]) -> AlignmentScores:
    """Corpus-level scores (link counts summed over sentences, as AER is defined)."""
    if len(pred) != len(gold):
        raise ValueError(f"{len(pred)} predicted alignments but {len(gold)} gold ones")
    predicted = sure = hs = hp = 0
    for a, (s, p) in zip(pred, gold):
        p = p | s
        predicted += len(a)
        sure += len(s)
        hs += len(a & s)
        hp += len(a & p)
    return AlignmentScores(predicted, sure, hs, hp, len(gold))
