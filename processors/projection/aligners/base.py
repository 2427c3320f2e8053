"""The word-aligner interface every backend implements.

``align`` is batched: lists of token lists in, one list of (source index, target index)
links per pair out.  Backends that can say how sure a link is (agreement of the two
directions, similarity, attention mass) also implement ``align_scored``, which returns
one ``{link: confidence}`` mapping per pair; ``SpanProjector`` uses it for its minimum
confidence and its overlap decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

Link = tuple[int, int]
Tokens = Sequence[str]


@runtime_checkable
class Aligner(Protocol):
    name: str

    def align(self, src: Sequence[Tokens], tgt: Sequence[Tokens]) -> list[list[Link]]: ...

    def align_scored(self, src: Sequence[Tokens], tgt: Sequence[Tokens]) -> list[dict[Link, float]]: ...


def check_batch(src: Sequence[Tokens], tgt: Sequence[Tokens]) -> None:
    """Refuse batches whose two sides differ in length (a caller bug, never data)."""
    if len(src) != len(tgt):
        raise ValueError(f"{len(src)} source sentences but {len(tgt)} target sentences")


def direction_confidence(forward: Sequence[Link], reverse: Sequence[Link], links: Sequence[Link]) -> dict[Link, float]:
    """Confidence from directional agreement: 1.0 when both directions propose a link,
    0.5 when one does, 0.25 for a link only the symmetrisation added."""
    fwd, rev = set(forward), set(reverse)
    return {link: 0.5 * ((link in fwd) + (link in rev)) or 0.25 for link in links}
