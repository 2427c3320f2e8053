"""Gopher repetition heuristics (Rae et al. 2021, table A1), decided like datatrove's
``GopherRepetitionFilter``: same rules, order and reason strings, per-language values.

Line and paragraph duplicates are counted with polars (hash per line, first occurrence per
document).  The n-gram rules run in numpy over 64-bit token hashes: n-gram keys are rolled
from the token hashes and all n-grams of the batch are grouped by one ``np.sort`` per n
(document, key and position packed in one integer).  The "top n-gram" of a document is the
most frequent one whose first occurrence comes first (``Counter.most_common`` order).  From
n = 3 on only positions where the (n-1)-grams repeat are grouped, which shrinks the work
quickly.  The "duplicated n-gram" rule is a greedy left-to-right scan that cannot be
vectorised; it runs exactly, walking only the repeated n-grams, for the documents whose
repeated-n-gram coverage (an upper bound of the scan's result) exceeds the threshold.

One deliberate difference: datatrove compares n-grams of that rule as ``"".join(words)``, so
``["ab", "c"]`` equals ``["a", "bc"]``; here n-grams are token tuples.  Such collisions need
two different token splits of the same characters in one document and did not occur in the
agreement runs.
"""

from __future__ import annotations

import bisect
from typing import ClassVar

import numpy as np
import polars as pl

from babelmill.processors.quality._common import (
    PY_WHITESPACE,
    QualityFilter,
    first_distinct,
    flat_rows,
    row_codes,
    row_sum,
    tokens_for,
)

_MUL = np.uint64(0x100000001B3)
_ROW_MIX = np.uint64(0x9E3779B97F4A7C15)
_POS_BITS = np.uint64(40)
_POS_MASK = np.uint64((1 << 40) - 1)


def greedy_repeated_chars(repeats: list[int], first: list[int], key_ids: list[int], char_len: list[int], n: int) -> int:
    """datatrove's ``find_all_duplicate`` for one document, walking only its repeats.

    The scan visits position ``i``; if that n-gram was seen at a visited position it adds its
    characters and jumps to ``i + n``, else it remembers it and moves to ``i + 1``.  Only the
    non-first occurrences (``repeats``, ascending, each with the position of its n-gram's
    first occurrence and an n-gram id) can add characters, so the walk is over them: a
    repeat inside a jump is skipped; a visited one counts if an earlier occurrence was
    visited, i.e. its first occurrence was not jumped over or an earlier repeat of the same
    n-gram was visited.
    """
    counted: list[int] = []
    visited_ids: set[int] = set()
    repeated, resume = 0, 0
    for r, p0, kid, size in zip(repeats, first, key_ids, char_len, strict=True):
        if r < resume:
            continue
        if kid in visited_ids:
            hit = True
        else:
            j = bisect.bisect_left(counted, p0)
            hit = not (j and p0 < counted[j - 1] + n)
            visited_ids.add(kid)
        if hit:
            repeated += size
            counted.append(r)
            resume = r + n
    return repeated


class _Occurrences:
    """The n-grams of a batch sorted by (document, n-gram, position).

    ``row``/``local`` give each occurrence's document and position in it, ``new`` marks the
    first occurrence of each distinct n-gram of a document (runs of equal n-grams follow it).
    """

    def __init__(self, row: np.ndarray, local: np.ndarray, new: np.ndarray) -> None:
        self.row = row
        self.local = local
        self.new = new
        self.run_start = np.flatnonzero(new)
        self.run_len = np.diff(np.append(self.run_start, len(new)))


def _sorted_occurrences(
    rows: np.ndarray, keys: np.ndarray, local: np.ndarray, rolled: np.ndarray, offsets: np.ndarray
) -> _Occurrences:
    """Sort occurrences by (row, key, position).

    Fast path: row, the key's top bits and the position packed in one ``uint64`` and one
    ``np.sort``.  Truncating the key could merge two different n-grams of a document, so the
    full keys of each run are compared afterwards; if that ever happens (or the bits do not
    fit) the exact multi-column sort is used instead.
    """
    pos_bits = max(int(local.max()).bit_length(), 1)
    row_bits = max(int(rows.max()).bit_length(), 1)
    key_bits = 64 - pos_bits - row_bits
    if key_bits >= 32:
        packed = np.sort(
            (rows.astype(np.uint64) << np.uint64(64 - row_bits))
            | ((keys >> np.uint64(64 - key_bits)) << np.uint64(pos_bits))
            | local.astype(np.uint64)
        )
        high = packed >> np.uint64(pos_bits)
        new = np.concatenate(([True], high[1:] != high[:-1]))
        s_row = (packed >> np.uint64(64 - row_bits)).astype(np.int64)
        s_local = (packed & np.uint64((1 << pos_bits) - 1)).astype(np.int64)
        full = rolled[offsets[s_row] + s_local]
        if not np.any((full[1:] != full[:-1]) & ~new[1:]):
            return _Occurrences(s_row, s_local, new)
    frame = pl.DataFrame({"r": rows, "k": keys, "p": local}).sort(["r", "k", "p"])
    k = frame.get_column("k").to_numpy()
    r = frame.get_column("r").to_numpy()
    new = np.concatenate(([True], (k[1:] != k[:-1]) | (r[1:] != r[:-1])))
    return _Occurrences(r, frame.get_column("p").to_numpy(), new)


class _NGrams:
    """Rolling n-gram keys over the flattened tokens of a batch, and their occurrences."""

    def __init__(self, flat: pl.Series, rows: np.ndarray, n_rows: int) -> None:
        self._init(flat.hash(seed=11).to_numpy(), flat.str.len_chars().to_numpy().astype(np.int64), rows, n_rows)

    def _init(self, hashes: np.ndarray, lengths: np.ndarray, rows: np.ndarray, n_rows: int) -> None:
        self.rows = rows
        self.n_rows = n_rows
        self.hashes = hashes
        self.lengths = lengths
        self.cum = np.concatenate(([0], np.cumsum(lengths)))
        self.offsets = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n_rows))))
        self._key = hashes.copy()
        self._n = 1
        #: n -> positions whose n-gram occurs at least twice in its document
        self._repeated: dict[int, np.ndarray] = {}

    def subset(self, row_ids: np.ndarray) -> _NGrams:
        """The same tokens restricted to some rows (renumbered 0..len(row_ids)-1)."""
        pieces = [np.arange(self.offsets[r], self.offsets[r + 1]) for r in row_ids]
        idx = np.concatenate(pieces) if pieces else np.empty(0, np.int64)
        sizes = self.offsets[row_ids + 1] - self.offsets[row_ids]
        out = object.__new__(_NGrams)
        out._init(self.hashes[idx], self.lengths[idx], np.repeat(np.arange(len(row_ids)), sizes), len(row_ids))
        out._repeated = {n: mask[idx] for n, mask in self._repeated.items()}
        return out

    def _roll(self, n: int) -> np.ndarray:
        """Key of the n-gram starting at every position (garbage across document ends)."""
        if n < self._n:
            self._key, self._n = self.hashes.copy(), 1
        while self._n < n:
            m = len(self.hashes) - self._n
            self._key = self._key[:m] * _MUL + self.hashes[self._n :]
            self._n += 1
        return self._key

    def occurrences(self, n: int) -> _Occurrences | None:
        """The n-grams inside one document, sorted (None when there are none).

        Once the (n-1)-grams are known, only positions where both the (n-1)-gram and the
        next one repeat can hold a repeated n-gram; every other n-gram occurs once and is
        left out.  ``top`` and ``repeats`` only need the repeated ones.
        """
        keys = self._roll(n)
        m = len(self.hashes) - n + 1
        if m <= 0:
            return None
        starts = np.flatnonzero(self.rows[:m] == self.rows[n - 1 :])
        if n in self._repeated:
            starts = starts[self._repeated[n][starts]]
        elif n - 1 in self._repeated:
            prev = self._repeated[n - 1]
            starts = starts[prev[starts] & prev[starts + 1]]
        if not len(starts):
            self._repeated[n] = np.zeros(len(self.hashes), bool)
            return None
        rows = self.rows[starts]
        occ = _sorted_occurrences(rows, keys[starts], starts - self.offsets[rows], keys, self.offsets)
        repeated = np.zeros(len(self.hashes), bool)
        multi = np.repeat(occ.run_len > 1, occ.run_len)
        repeated[self.offsets[occ.row[multi]] + occ.local[multi]] = True
        self._repeated[n] = repeated
        return occ

    def top(self, n: int) -> np.ndarray:
        """Per row: count x length of the most common n-gram (NaN without n-grams).

        ``Counter.most_common(1)`` breaks ties by first insertion, so among the most frequent
        n-grams the one whose first occurrence comes first wins; when every n-gram occurs
        once that is the document's first n-gram.
        """
        sizes = np.diff(self.offsets)
        first_pos = self.offsets[:-1]
        value = np.where(sizes >= n, 1.0, np.nan) * (
            self.cum[np.minimum(first_pos + n, len(self.cum) - 1)] - self.cum[first_pos] + (n - 1)
        )
        occ = self.occurrences(n)
        if occ is None:
            return value
        first_local = occ.local[occ.run_start]
        run_row = occ.row[occ.run_start]
        score = (occ.run_len.astype(np.uint64) << _POS_BITS) | (_POS_MASK - first_local.astype(np.uint64))
        row_first = np.flatnonzero(np.concatenate(([True], run_row[1:] != run_row[:-1])))
        best = np.maximum.reduceat(score, row_first)
        rows = run_row[row_first]
        count = best >> _POS_BITS
        keep = count > 1
        rows, best, count = rows[keep], best[keep], count[keep]
        pos = self.offsets[rows] + (_POS_MASK - (best & _POS_MASK)).astype(np.int64)
        value[rows] = count.astype(np.float64) * (self.cum[pos + n] - self.cum[pos] + (n - 1))
        return value

    def repeats(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Non-first occurrences as (position, position of the first occurrence, n-gram id),
        in position order."""
        occ = self.occurrences(n)
        if occ is None:
            empty = np.empty(0, np.int64)
            return empty, empty, empty
        run = np.cumsum(occ.new) - 1
        base = self.offsets[occ.row]
        pos = base + occ.local
        first = base + occ.local[occ.run_start][run]
        rep = ~occ.new
        order = np.argsort(pos[rep], kind="stable")
        return pos[rep][order], first[rep][order], run[rep][order]

    def repeated_cover(self, n: int, repeat: np.ndarray | None = None) -> np.ndarray:
        """Per row: characters of tokens covered by a non-first occurrence of an n-gram.

        The greedy scan only counts non-first occurrences and never counts a token twice,
        so this bounds its result for n and (since a repeated m-gram contains a repeated
        n-gram for m > n) for every larger n.
        """
        if repeat is None:
            repeat = self.repeats(n)[0]
        if not len(repeat):
            return np.zeros(self.n_rows)
        size = len(self.hashes) + 1
        depth = np.cumsum(np.bincount(repeat, minlength=size) - np.bincount(repeat + n, minlength=size))[:-1]
        covered = depth > 0
        return row_sum(self.rows[covered], self.lengths[covered], self.n_rows)


class GopherRepetitionFilter(QualityFilter):
    """Rejects documents made of repeated lines, paragraphs or n-grams.

    Reasons (datatrove's strings, first failing rule wins): ``empty``, ``dup_para_frac``,
    ``dup_para_char_frac``, ``dup_line_frac``, ``dup_line_char_frac``, ``top_{n}_gram``,
    ``duplicated_{n}_n_grams``.  Paragraphs are ``re.split(r"\\n{2,}", text.strip())``, lines
    ``re.split("\\n+", text)``; character fractions are over ``len(text)``.  A falsy
    line/paragraph threshold switches that rule off, as in datatrove.
    """

    name: ClassVar[str] = "gopher_repetition"
    reasons: ClassVar[tuple[str, ...]] = (
        "empty",
        "dup_para_frac",
        "dup_para_char_frac",
        "dup_line_frac",
        "dup_line_char_frac",
        "top_{n}_gram",
        "duplicated_{n}_n_grams",
    )

    def __init__(
        self,
        dup_line_frac: float | None = None,
        dup_para_frac: float | None = None,
        dup_line_char_frac: float | None = None,
        dup_para_char_frac: float | None = None,
        top_n_grams: tuple[tuple[int, float], ...] | None = None,
        dup_n_grams: tuple[tuple[int, float], ...] | None = None,
        language: str = "en",
    ) -> None:
        self.dup_line_frac = dup_line_frac
        self.dup_para_frac = dup_para_frac
        self.dup_line_char_frac = dup_line_char_frac
        self.dup_para_char_frac = dup_para_char_frac
        self.top_n_grams = tuple(tuple(x) for x in top_n_grams) if top_n_grams is not None else None
        self.dup_n_grams = tuple(tuple(x) for x in dup_n_grams) if dup_n_grams is not None else None
        self.language = self.checked_language(language)

    def decide(self, df: pl.DataFrame) -> pl.Series:
        n = df.height
        codes = row_codes(df, self.language)
        text = df.get_column("text").fill_null("")
        text_len = text.str.len_chars().to_numpy().astype(np.float64)
        reason = np.full(n, None, dtype=object)
        reason[text_len == 0] = "empty"

        # paragraphs and lines
        paras = text.str.strip_chars(PY_WHITESPACE).str.extract_all(r"[^\n]+(?:\n[^\n]+)*")
        n_paras = np.maximum(paras.list.len().to_numpy(), 1)
        para_dups, para_dup_chars = self._duplicates(paras, n)
        lines = text.str.replace_all(r"\n+", "\n").str.split("\n")
        n_lines = lines.list.len().to_numpy()
        line_dups, line_dup_chars = self._duplicates(lines, n)
        with np.errstate(divide="ignore", invalid="ignore"):
            checks = [
                ("dup_para_frac", para_dups / n_paras),
                ("dup_para_char_frac", para_dup_chars / text_len),
                ("dup_line_frac", line_dups / n_lines),
                ("dup_line_char_frac", line_dup_chars / text_len),
            ]
        for name, value in checks:
            thr = self.gate(name, codes).to_numpy()
            hit = (reason == None) & (value > thr)  # noqa: E711 - elementwise on an object array
            reason[hit] = name

        alive = np.flatnonzero(reason == None)  # noqa: E711
        if len(alive):
            self._ngram_rules(df, codes, text_len, alive, reason)
        return pl.Series("reason", reason.tolist(), dtype=pl.String)

    @staticmethod
    def _dup_rules(grams: _NGrams, table: list[tuple[int, np.ndarray]], length: np.ndarray, reason: np.ndarray) -> None:
        """``duplicated_{n}_n_grams``: the exact greedy scan, only where it could fire."""
        n_min = min(k for k, _ in table)
        lowest = np.fmin.reduce(np.stack([f for _, f in table]), axis=0)
        with np.errstate(invalid="ignore"):
            bound = grams.repeated_cover(n_min) / length
            suspects = np.flatnonzero((reason == None) & (bound > lowest))  # noqa: E711
        if not len(suspects):
            return
        sub = grams.subset(suspects)
        sub_length = length[suspects]
        pending = np.ones(len(suspects), bool)
        for k, frac in table:
            frac = frac[suspects]
            todo = pending & ~np.isnan(frac)
            if not todo.any():
                break
            repeat, first, ids = sub.repeats(k)
            if not len(repeat):
                continue
            # the cover bound of this n rules out most documents before the scan
            with np.errstate(invalid="ignore"):
                todo &= sub.repeated_cover(k, repeat) / sub_length > frac
            bounds = np.searchsorted(sub.rows[repeat], np.arange(sub.n_rows + 1))
            sizes = sub.cum[repeat + k] - sub.cum[repeat]
            for j in np.flatnonzero(todo):
                lo, hi = bounds[j], bounds[j + 1]
                value = greedy_repeated_chars(
                    repeat[lo:hi].tolist(), first[lo:hi].tolist(), ids[lo:hi].tolist(), sizes[lo:hi].tolist(), k
                )
                if value / sub_length[j] > frac[j]:
                    reason[suspects[j]] = f"duplicated_{k}_n_grams"
                    pending[j] = False

    @staticmethod
    def _duplicates(parts: pl.Series, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(duplicate count, duplicate characters) per row, as datatrove's find_duplicates."""
        flat, rows = flat_rows(parts)
        if not len(rows):
            return np.zeros(n), np.zeros(n)
        dup = ~first_distinct(flat, rows)
        return row_sum(rows, dup, n), row_sum(rows, dup * flat.str.len_chars().to_numpy(), n)

    def _n_gram_table(self, field: str, codes: pl.Series) -> list[tuple[int, np.ndarray]]:
        """[(n, per-row fraction or NaN where the row's language has no rule for n)]."""
        uniq = codes.unique().to_list()
        per_code = {c: dict(self.value(field, c) or ()) for c in uniq}
        order: list[int] = []
        for c in uniq:
            order += [k for k in per_code[c] if k not in order]
        code_arr = codes.to_numpy()
        table = []
        for k in order:
            frac = np.full(len(codes), np.nan)
            for c in uniq:
                if k in per_code[c]:
                    frac[code_arr == c] = per_code[c][k]
            table.append((k, frac))
        return table

    def _ngram_rules(
        self,
        df: pl.DataFrame,
        codes: pl.Series,
        text_len: np.ndarray,
        alive: np.ndarray,
        reason: np.ndarray,
    ) -> None:
        sub_codes = codes.gather(alive)
        tokens = tokens_for(df[alive], sub_codes)
        flat, rows = flat_rows(tokens)
        grams = _NGrams(flat, rows, len(alive))
        length = text_len[alive]
        sub_reason = reason[alive]
        for k, frac in self._n_gram_table("top_n_grams", sub_codes):
            top = grams.top(k)
            with np.errstate(invalid="ignore"):
                hit = (sub_reason == None) & (top / length > frac)  # noqa: E711
            sub_reason[hit] = f"top_{k}_gram"
        dup_table = self._n_gram_table("dup_n_grams", sub_codes)
        if dup_table:
            self._dup_rules(grams, dup_table, length, sub_reason)
        reason[alive] = sub_reason
