"""Name matching that does not depend on the Latin script.

Most projection misses on real parallel text are one-off names: a small statistical
aligner has seen "Nistorescu" or "Путин" once and cannot link it.  Names are usually
kept, transliterated or slightly inflected across languages, so comparing romanised
forms finds them: ``anyascii`` romanises every script (Cyrillic, Greek, Arabic ...),
``pypinyin`` gives Mandarin readings for Han characters, digits are compared as digit
strings, and ``rapidfuzz`` scores near matches (cognates, case endings).

The matcher serves twice: as lexical priors for eflomal (``priors``) and as a direct
matcher for entities the aligner leaves unaligned or aligns badly (``find``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_DIGITS = re.compile(r"\d+")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


@functools.lru_cache(maxsize=1 << 16)
def romanize(token: str) -> str:
    """Lowercase ASCII form of ``token``: pinyin for Han, anyascii for everything else."""
    text = unicodedata.normalize("NFKC", token)
    if _HAN.search(text):
        try:
            from pypinyin import lazy_pinyin

            text = "".join(lazy_pinyin(text))
        except ImportError:  # pragma: no cover - pypinyin is a core dependency
            pass
    from anyascii import anyascii

    return _NON_ALNUM.sub("", anyascii(text).lower())


def _is_name_like(token: str) -> bool:
    """Capitalised, digit-bearing, or from a caseless script (where case says nothing)."""
    if not token:
        return False
    if any(ch.isdigit() for ch in token):
        return True
    first = token[0]
    if first.isupper():
        return True
    return first.isalpha() and not first.islower() and not first.isupper()  # caseless scripts


@dataclass
class NameMatcher:
    """Similarity of names across scripts, over tokens and token n-grams."""

    #: minimum similarity (0-1) for a direct match or a prior
    threshold: float = 0.8
    #: shortest romanised form compared fuzzily (shorter ones must match exactly)
    min_fuzzy_length: int = 4
    #: Dirichlet alpha of one prior link
    prior_alpha: float = 1.0
    #: extra target tokens a match may have beyond the source entity's length
    max_extra_tokens: int = 1
    #: priors for every similar word pair (cognates: "Commission"/"Kommission"), not
    #: only name-like tokens
    cognate_priors: bool = False

    def similarity(self, a: str, b: str) -> float:
        """0-1 similarity of two strings (tokens or space-joined n-grams)."""
        if a == b:
            return 1.0
        da, db = _DIGITS.findall(a), _DIGITS.findall(b)
        if da or db:  # numbers and dates: the digit sequences decide, the letters break ties
            if da != db:
                return 0.0
            la, lb = _DIGITS.sub("", a), _DIGITS.sub("", b)
            return 0.85 + 0.15 * self.similarity(la, lb) if (la or lb) else 1.0
        ra, rb = romanize(a), romanize(b)
        if not ra and not rb:
            return 1.0
        if not ra or not rb:
            return 0.0
        if ra == rb:
            return 0.98
        if min(len(ra), len(rb)) < self.min_fuzzy_length:
            return 0.0
        from rapidfuzz.distance import JaroWinkler
        from rapidfuzz.fuzz import ratio

        score = max(ratio(ra, rb) / 100.0, JaroWinkler.similarity(ra, rb) - 0.05)
        # shared stem: inflected names ("Europa"/"Europas", "Prodi"/"Prodiego")
        stem = min(len(ra), len(rb))
        if stem >= 5 and ra[:stem] == rb[:stem]:
            score = max(score, 0.9)
        return score * 0.97

    def priors(self, src: Sequence[Sequence[str]], tgt: Sequence[Sequence[str]]) -> list[tuple[str, str, float]]:
        """Lexical priors: name-like token pairs of the same sentence pair that match."""
        out: dict[tuple[str, str], float] = {}
        for s_tokens, t_tokens in zip(src, tgt):
            if self.cognate_priors:
                keep = lambda t: _is_name_like(t) or len(t) >= self.min_fuzzy_length + 1  # noqa: E731
            else:
                keep = _is_name_like
            s_names = {t for t in s_tokens if keep(t)}
            t_names = {t for t in t_tokens if keep(t)}
            for s in s_names:
                for t in t_names:
                    if self.similarity(s, t) >= self.threshold:
                        key = (s, t)
                        out[key] = out.get(key, 0.0) + self.prior_alpha
        return [(s, t, a) for (s, t), a in out.items()]

    def find(
        self,
        entity: Sequence[str],
        tgt: Sequence[str],
        taken: Sequence[bool] | None = None,
    ) -> tuple[int, int, float] | None:
        """Best target n-gram (start, end, similarity) for the ``entity`` tokens, or None.

        Compares the whole entity with n-grams of up to ``len(entity) + max_extra_tokens``
        tokens (joined without spaces, so "New York" meets "Nueva York" and "纽约"), and
        keeps the highest similarity at or above ``threshold``; ``taken`` marks target
        tokens already claimed by another entity.
        """
        if not entity or not tgt:
            return None
        joined = "".join(entity)
        best: tuple[int, int, float] | None = None
        max_len = min(len(tgt), len(entity) + self.max_extra_tokens)
        for n in range(1, max_len + 1):
            for start in range(len(tgt) - n + 1):
                if taken is not None and any(taken[start : start + n]):
                    continue
                gram = tgt[start : start + n]
                if not _is_name_like(gram[0]) and not _is_name_like(joined):
                    continue
                score = self.similarity(joined, "".join(gram))
                if n > len(entity):
                    score -= 0.02 * (n - len(entity))  # prefer the tighter span on ties
                if score >= self.threshold and (best is None or score > best[2]):
                    best = (start, start + n, score)
        return best
