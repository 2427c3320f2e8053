"""Tag schemes: IOB1, IOB2, BIOES/BILOU and plain IO, all normalised to IOB2.

Datasets disagree on how a span is encoded (CoNLL-2003 ships IOB1, most Hugging Face
sets IOB2, many Chinese and biomedical sets BIOES), and model outputs are often invalid
(``I-`` after ``O``, a type change inside a span).  Everything downstream works on valid
IOB2, so this module converts once, at the edge, and counts every repair: an invalid
sequence is read the way seqeval reads it in its default mode (a tag that cannot continue
the open span starts a new one), and the number of repaired tags is reported, never
hidden.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import ClassVar

import pyarrow as pa

from babelmill.processors.base import DROP_REASON, Stage, set_drop_reason

SCHEMES = ("auto", "iob1", "iob2", "bioes", "io")
#: ``O``, or a prefix and a type (BILOU's L/U and the M of some BMES sets included).
_TAG = re.compile(r"^(?:O|([BIESLUM])-(\S+))$")
#: A bare type (IO scheme): no prefix, no spaces, not ``O``.
_BARE = re.compile(r"^[^\s-][^\s]*$")


def split_tag(tag: str) -> tuple[str, str] | None:
    """``(prefix, type)`` of a tag, ``("O", "")`` for outside, None when malformed."""
    if tag == "O":
        return "O", ""
    m = _TAG.match(tag)
    if m:
        return m.group(1), m.group(2)
    return None


def valid_tag(tag: str) -> bool:
    return split_tag(tag) is not None


def detect_scheme(sequences: Iterable[Sequence[str]]) -> str:
    """The scheme a set of tag sequences was written in.

    BIOES/BILOU when any ``E-``/``S-``/``L-``/``U-`` appears; IO when no tag has a prefix;
    otherwise IOB1 if spans start with ``I-`` and never with ``B-`` (IOB1 uses ``B-`` only
    between two adjacent spans of one type), else IOB2.
    """
    b_starts = i_starts = prefixed = bare = 0
    for tags in sequences:
        prev_type = ""
        for tag in tags:
            parts = split_tag(tag)
            if parts is None:
                if _BARE.match(tag):
                    bare += 1
                prev_type = ""
                continue
            prefix, kind = parts
            if prefix in "ESLU" and prefix != "O":
                return "bioes"
            if prefix != "O":
                prefixed += 1
            if prefix == "B" and prev_type != kind:
                b_starts += 1
            elif prefix == "I" and prev_type != kind:
                i_starts += 1
            prev_type = kind
    if bare and not prefixed:
        return "io"
    if i_starts and not b_starts:
        return "iob1"
    return "iob2"


def to_iob2(tags: Sequence[str], scheme: str) -> tuple[list[str], int]:
    """IOB2 tags and the number of tags repaired (invalid in ``scheme``).

    Malformed tags raise ValueError (the caller records the row as dropped).
    """
    out: list[str] = []
    repairs = 0
    open_type = ""  # type of the span the previous token belongs to ("" when outside)
    closing = False  # the previous token ended its span (E-/S-/L-/U-)
    for tag in tags:
        if scheme == "io" and tag != "O" and split_tag(tag) is None and _BARE.match(tag):
            prefix, kind = "I", tag
        else:
            parts = split_tag(tag)
            if parts is None:
                raise ValueError(f"malformed tag {tag!r}")
            prefix, kind = parts
        if prefix == "O":
            out.append("O")
            open_type, closing = "", False
            continue
        continues = open_type == kind and not closing
        if scheme in ("iob2", "io", "iob1"):
            if prefix not in "BI":
                raise ValueError(f"tag {tag!r} is not {scheme.upper()}")
            if prefix == "B":
                out.append(f"B-{kind}")
            elif continues:
                out.append(f"I-{kind}")
            else:
                out.append(f"B-{kind}")
                # an I- that opens a span is how IOB1 and IO write it; in IOB2 it is an error
                repairs += scheme == "iob2"
            open_type, closing = kind, False
            continue
        # bioes / bilou (M- is the BMES spelling of I-)
        if prefix in ("S", "U"):
            out.append(f"B-{kind}")
            open_type, closing = kind, True
            continue
        if prefix == "B":
            out.append(f"B-{kind}")
            open_type, closing = kind, False
            continue
        # I-/M-/E-/L- continue an open span of the same type; otherwise they start one
        if continues:
            out.append(f"I-{kind}")
        else:
            out.append(f"B-{kind}")
            repairs += 1
        open_type, closing = kind, prefix in ("E", "L")
    if scheme == "bioes":
        repairs += _unclosed_bioes(tags)
    return out, repairs


def _unclosed_bioes(tags: Sequence[str]) -> int:
    """BIOES spans opened by ``B-`` that never reach their ``E-`` (kept as they are, counted)."""
    bad = 0
    open_type = ""
    for tag in list(tags) + ["O"]:
        parts = split_tag(tag)
        prefix, kind = parts if parts is not None else ("O", "")
        if open_type and not (prefix in ("I", "M", "E", "L") and kind == open_type):
            bad += 1
            open_type = ""
        if prefix == "B":
            open_type = kind
        elif prefix in ("E", "L", "S", "U", "O"):
            open_type = ""
    return bad


class TagSchemeNormalizer(Stage):
    """Rewrites ``tags`` to valid IOB2, from any scheme, and counts what it repaired.

    ``scheme="auto"`` detects the scheme once per input file (the ``source`` column) from
    the first batch of that file and keeps it for the rest, so one file is never read
    half in one scheme and half in another.  A row with a malformed tag (``X-PER``, an
    empty string) is dropped with ``invalid_tag``.  Counters: ``sequences_repaired``,
    ``tags_repaired`` and ``scheme_<name>`` (rows read in each scheme).
    """

    name: ClassVar[str] = "tag_scheme"
    reasons: ClassVar[tuple[str, ...]] = ("invalid_tag",)

    def __init__(self, scheme: str = "auto") -> None:
        if scheme not in SCHEMES:
            raise ValueError(f"unknown tag scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
        self.scheme = scheme
        self._per_source: dict[str, str] = {}

    def _schemes(self, sources: list[str | None], tags: list[list[str]]) -> list[str]:
        if self.scheme != "auto":
            return [self.scheme] * len(tags)
        by_source: dict[str, list[list[str]]] = {}
        for src, seq in zip(sources, tags):
            by_source.setdefault(src or "", []).append(seq)
        for src, seqs in by_source.items():
            if src not in self._per_source:
                self._per_source[src] = detect_scheme(seqs)
        return [self._per_source[src or ""] for src in sources]

    def __call__(self, batch: pa.Table) -> pa.Table:
        tags = batch.column("tags").to_pylist()
        sources = batch.column("source").to_pylist() if "source" in batch.column_names else [None] * batch.num_rows
        previous = (
            batch.column(DROP_REASON).to_pylist() if DROP_REASON in batch.column_names else [None] * batch.num_rows
        )
        new_tags: list[list[str] | None] = []
        reasons: list[str | None] = []
        for seq, scheme, prev in zip(tags, self._schemes(sources, tags), previous):
            if prev is not None or seq is None:
                new_tags.append(seq)
                reasons.append(None)  # an earlier decision stands (set_drop_reason)
                continue
            try:
                fixed, repairs = to_iob2(seq, scheme)
            except ValueError:
                new_tags.append(seq)
                reasons.append("invalid_tag")
                continue
            self.count(f"scheme_{scheme}")
            if repairs:
                self.count("sequences_repaired")
                self.count("tags_repaired", repairs)
            new_tags.append(fixed)
            reasons.append(None)
        col = pa.array(new_tags, pa.list_(pa.string()))
        batch = batch.set_column(batch.column_names.index("tags"), "tags", col)
        return set_drop_reason(batch, pa.array(reasons, pa.string()))
