"""What every LID backend shares: the decisions, the script check, line-level mode.

A backend (``fasttext``, ``heliport``, ``auto``) only answers ``predict``: the top code,
its score and the top-k answers of a column of texts, plus which backend gave each
answer.  Everything after that -- target languages, per-language thresholds,
macrolanguage answers, the script check, line-level filtering, counters -- is decided
here, identically for every backend, so that switching backends changes the labels and
nothing else.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import polars as pl
import pyarrow as pa

from babelmill import langs
from babelmill.langs import coverage
from babelmill.processors.base import Resources, Stage, set_drop_reason

NOT_TARGET = "lang_not_target"
LOW_SCORE = "lang_low_score"
SCRIPT_MISMATCH = "script_mismatch"
#: The model only named the macrolanguage (heliport's ``hbs`` for a Croatian target) and
#: the user did not allow macrolanguage answers (``accept_macro``).
MACRO_ONLY = "lang_macro_only"

#: ISO 15924 code -> the Unicode script classes (regex) whose letters count as "in script".
#: Japanese mixes kana and kanji; Korean text may carry hanja; Chinese variants share Han.
SCRIPT_CLASSES: dict[str, str] = {
    "Latn": r"\p{Latin}",
    "Cyrl": r"\p{Cyrillic}",
    "Grek": r"\p{Greek}",
    "Armn": r"\p{Armenian}",
    "Geor": r"\p{Georgian}",
    "Hebr": r"\p{Hebrew}",
    "Arab": r"\p{Arabic}",
    "Syrc": r"\p{Syriac}",
    "Thaa": r"\p{Thaana}",
    "Nkoo": r"\p{Nko}",
    "Tfng": r"\p{Tifinagh}",
    "Ethi": r"\p{Ethiopic}",
    "Deva": r"\p{Devanagari}",
    "Beng": r"\p{Bengali}",
    "Guru": r"\p{Gurmukhi}",
    "Gujr": r"\p{Gujarati}",
    "Orya": r"\p{Oriya}",
    "Taml": r"\p{Tamil}",
    "Telu": r"\p{Telugu}",
    "Knda": r"\p{Kannada}",
    "Mlym": r"\p{Malayalam}",
    "Sinh": r"\p{Sinhala}",
    "Olck": r"\p{Ol_Chiki}",
    "Mtei": r"\p{Meetei_Mayek}",
    "Thai": r"\p{Thai}",
    "Laoo": r"\p{Lao}",
    "Khmr": r"\p{Khmer}",
    "Mymr": r"\p{Myanmar}",
    "Tibt": r"\p{Tibetan}",
    "Mong": r"\p{Mongolian}",
    "Cher": r"\p{Cherokee}",
    "Cans": r"\p{Canadian_Aboriginal}",
    "Vaii": r"\p{Vai}",
    "Yiii": r"\p{Yi}",
    "Hani": r"\p{Han}",
    "Hans": r"\p{Han}",
    "Hant": r"\p{Han}",
    "Jpan": r"\p{Hiragana}\p{Katakana}\p{Han}\x{30FC}",  # ー, the long-vowel mark, is Common
    "Hang": r"\p{Hangul}\p{Han}",
    "Kore": r"\p{Hangul}\p{Han}",
}

#: Languages routinely written in more than one script: any of these is accepted.
EXTRA_SCRIPTS: dict[str, tuple[str, ...]] = {
    "sr": ("Cyrl", "Latn"),
    "bs": ("Latn", "Cyrl"),
    "uz": ("Latn", "Cyrl"),
    "kk": ("Cyrl", "Latn"),
    "az": ("Latn", "Cyrl"),
    "tk": ("Latn", "Cyrl"),
    "mn": ("Cyrl", "Mong"),
    "pa": ("Guru", "Arab"),
    "sd": ("Arab", "Deva"),
    "ks": ("Arab", "Deva"),
    "ms": ("Latn", "Arab"),
}

_LETTERS = r"\p{L}\p{M}"


def profile_scripts(code: str) -> tuple[str, ...]:
    """ISO 15924 scripts accepted for a language (its profile's, plus known second scripts)."""
    try:
        script = langs.get(code).script
    except LookupError:
        return ()
    return tuple(dict.fromkeys((script, *EXTRA_SCRIPTS.get(code, ()))))


def script_pattern(scripts: tuple[str, ...]) -> str | None:
    """The character-class body for letters in ``scripts`` (None: no script known, no check)."""
    classes = "".join(dict.fromkeys(SCRIPT_CLASSES[s] for s in scripts if s in SCRIPT_CLASSES))
    return classes or None


def _kept_chars(text: pl.Series, classes: str) -> np.ndarray:
    """How many characters of each row are in ``[classes]``: delete runs of everything else.

    One deletion per run instead of one match per character keeps this a single cheap
    regex pass over the column.
    """
    return text.str.replace_all(rf"[^{classes}]+", "").str.len_chars().to_numpy()


def script_share(text: pl.Series, scripts: tuple[str, ...]) -> pl.Series | None:
    """Share of the letters in ``text`` written in one of ``scripts`` (null where no letters).

    Inherited combining marks count as in-script.  None when no script is known.
    """
    classes = script_pattern(scripts)
    if classes is None:
        return None
    in_script = _kept_chars(text, classes + r"\p{Inherited}")
    letters = _kept_chars(text, _LETTERS)
    share = np.where(letters > 0, in_script / np.maximum(letters, 1), np.nan)
    return pl.Series("share", share, dtype=pl.Float64).fill_nan(None)


@dataclasses.dataclass
class Prediction:
    """A backend's answers for a column: top code (null: no language), its score in
    [0, 1], the top-k codes and scores (list arrays), and the backend of each answer."""

    lang: pl.Series
    score: np.ndarray
    labels: pa.Array
    scores: pa.Array
    backend: pl.Series

    def __iter__(self):
        """Unpacks as ``lang, score, labels, scores`` (what ``predict`` returned before backends)."""
        return iter((self.lang, self.score, self.labels, self.scores))

    def take(self, rows: np.ndarray) -> Prediction:
        """The answers of ``rows``, in that order."""
        idx = pa.array(rows)
        return Prediction(
            self.lang.gather(rows), self.score[rows], self.labels.take(idx), self.scores.take(idx),
            self.backend.gather(rows),
        )  # fmt: skip

    def overlay(self, rows: np.ndarray, other: Prediction) -> Prediction:
        """These answers with ``rows`` replaced by ``other``'s, one row of ``other`` per
        entry of ``rows`` (a second backend or a rule deciding some documents)."""
        n = len(self.lang)
        index = np.arange(n)
        index[rows] = n + np.arange(len(rows))
        at = pa.array(index)
        score = self.score.copy()
        score[rows] = other.score
        return Prediction(
            self.lang.scatter(rows, other.lang),
            score,
            pa.concat_arrays([self.labels, other.labels]).take(at),
            pa.concat_arrays([self.scores, other.scores]).take(at),
            self.backend.scatter(rows, other.backend),
        )


class LanguageIdentifier(Stage):
    """Sets ``lang`` / ``lang_score`` / ``lid_labels`` / ``lid_scores`` / ``lid_backend``
    and rejects non-target documents.  Subclasses implement ``predict`` and ``threshold``.

    Drop reasons: ``lang_not_target`` (top language not a target, or nothing left after
    line-level filtering), ``lang_low_score`` (below the language's threshold for the
    backend that answered, or the explicit ``threshold``), ``lang_macro_only`` (only the
    macrolanguage of a target was identified, e.g. ``hbs`` for ``hr``, and
    ``accept_macro`` is off), ``script_mismatch`` (fewer than ``min_script_frac`` of the
    letters are in the language's script).  With ``target_langs=None`` every language is
    kept, each held to its own threshold and script (as FineWeb-2 does per language).

    Counters: ``lang:<code>`` and ``decided:<backend>:<code>`` per labelled document,
    ``macro_accepted:<macro>-><code>`` per macrolanguage answer taken as a target.
    """

    # no ``name`` of its own: the backends below are the stages (``babelmill stages``)
    reasons: ClassVar[tuple[str, ...]] = (NOT_TARGET, LOW_SCORE, SCRIPT_MISMATCH, MACRO_ONLY)
    stateful: ClassVar[bool] = True
    resources: ClassVar[Resources] = Resources(num_cpus=1.0)
    backend: ClassVar[str] = "lid"

    def __init__(
        self,
        target_langs: list[str] | None = None,
        top_k: int = 3,
        threshold: float | None = None,
        script_check: bool = True,
        line_level: bool = False,
        min_script_frac: float = 0.5,
        accept_macro: bool = False,
    ) -> None:
        if target_langs is not None:
            if isinstance(target_langs, str):
                target_langs = [target_langs]
            if not target_langs:
                raise ValueError("target_langs is empty; pass None to keep every language")
            target_langs = sorted({langs.get(code).code for code in target_langs})
        if line_level and target_langs is None:
            raise ValueError("line_level needs target_langs (lines are kept when they are in a target language)")
        if top_k < 1:
            raise ValueError("top_k must be >= 1")
        self.target_langs = target_langs
        self.top_k = top_k
        self.threshold = threshold
        self.script_check = script_check
        self.line_level = line_level
        self.min_script_frac = min_script_frac
        self.accept_macro = accept_macro
        # macro label -> the target it stands for (the first target among its members)
        self._macro_targets: dict[str, str] = {}
        for macro, members in coverage.MACROLANGUAGES.items():
            hit = [m for m in members if m in (target_langs or [])]
            if hit:
                self._macro_targets[macro] = hit[0]

    # -- what a backend provides ---------------------------------------------------
    def predict(self, texts: pl.Series, k: int | None = None) -> Prediction:  # pragma: no cover - abstract
        raise NotImplementedError

    def threshold_for(self, backend: str, code: str) -> float:  # pragma: no cover - abstract
        """Minimum score for ``code`` answered by ``backend``."""
        raise NotImplementedError

    # -- decisions -------------------------------------------------------------------
    def _resolve_macro(self, lang: pl.Series) -> tuple[pl.Series, pl.Series]:
        """Macrolanguage answers of a target: (lang with them replaced when allowed, the
        macro label per row or null).  Without targets a macro label stays the label."""
        if not self._macro_targets:
            return lang, pl.Series([None] * len(lang), dtype=pl.String)
        macro = lang.replace_strict(
            list(self._macro_targets), list(self._macro_targets), default=None, return_dtype=pl.String
        )
        if self.accept_macro:
            lang = lang.replace(self._macro_targets)
        return lang, macro

    def _thresholds(self, lang: pl.Series, backend: pl.Series) -> pl.Series:
        """Per-row minimum score: the explicit one, else the answering backend's value for
        the language (FineWeb-2 does this per language); unknown labels get the default."""
        if self.threshold is not None:
            return pl.Series([self.threshold] * len(lang), dtype=pl.Float32)
        keys = (
            pl.DataFrame({"b": backend, "l": lang})
            .select(pl.concat_str("b", pl.lit("\t"), pl.col("l").fill_null("")))
            .to_series()
        )
        uniques = keys.unique().to_list()
        values = [self.threshold_for(*u.split("\t", 1)) if not u.endswith("\t") else 1.0 for u in uniques]
        return keys.replace_strict(uniques, values, return_dtype=pl.Float32)

    def _decide(self, text: pl.Series, pred: Prediction, reason: pl.Series) -> tuple[pl.Series, pl.Series]:
        """(lang after macro resolution, drop reason per row); ``reason`` holds earlier decisions."""
        thr = self._thresholds(pred.lang, pred.backend)
        lang, macro = self._resolve_macro(pred.lang)
        targets = self.target_langs
        df = pl.DataFrame({"reason": reason, "lang": lang, "macro": macro, "score": pl.Series(pred.score), "thr": thr})
        not_target = (
            (pl.col("lang").is_null() | ~pl.col("lang").is_in(targets))
            if targets is not None
            else pl.col("lang").is_null()
        )
        out = df.select(
            pl.when(pl.col("reason").is_not_null())
            .then(pl.col("reason"))
            .when(pl.col("macro").is_not_null() & pl.lit(not self.accept_macro))
            .then(pl.lit(MACRO_ONLY))
            .when(not_target)
            .then(pl.lit(NOT_TARGET))
            .when(pl.col("score") < pl.col("thr"))
            .then(pl.lit(LOW_SCORE))
            .otherwise(pl.lit(None, dtype=pl.String))
        ).to_series()
        if self.accept_macro and macro.null_count() < len(macro):
            pairs = pl.DataFrame({"m": macro, "l": lang}).drop_nulls().group_by("m", "l").len()
            for m, code, n in pairs.iter_rows():
                self.count(f"macro_accepted:{m}->{code}", int(n))
        if self.script_check:
            out = self._script_check(text, lang, out)
        return lang, out

    def _script_check(self, text: pl.Series, lang: pl.Series, reason: pl.Series) -> pl.Series:
        """``script_mismatch`` for kept rows whose letters are mostly outside the language's script.

        Rows are grouped by script (all Latin-script languages of the batch together), and
        only rows holding a letter outside their script are counted, in two passes.
        """
        rows = np.flatnonzero(reason.is_null().to_numpy())
        if not len(rows):
            return reason
        sub_text = text.gather(rows)
        sub_lang = lang.gather(rows).fill_null("").to_numpy()
        by_pattern: dict[str, list[str]] = {}
        for code in np.unique(sub_lang):
            classes = self._script_classes(str(code))
            if classes is not None:
                by_pattern.setdefault(classes, []).append(str(code))
        if not by_pattern:
            return reason
        letters = np.zeros(len(rows), dtype=np.int64)
        in_script = np.zeros(len(rows), dtype=np.int64)  # rows never counted stay 0/0: pass
        for classes, codes in by_pattern.items():
            idx = np.flatnonzero(np.isin(sub_lang, codes))
            group = sub_text.gather(idx)
            # Most documents have no letter outside their script: one fast scan clears them
            # and only the rest pay for the two counting passes.
            foreign = group.str.contains(rf"[[{_LETTERS}]--[{classes}\p{{Inherited}}]]").fill_null(False).to_numpy()
            if not foreign.any():
                continue
            idx, group = idx[foreign], group.filter(pl.Series(foreign))
            letters[idx] = _kept_chars(group, _LETTERS)
            in_script[idx] = _kept_chars(group, classes + r"\p{Inherited}")
        bad = (letters > 0) & (in_script < self.min_script_frac * letters)
        if not bad.any():
            return reason
        mismatch = np.zeros(len(text), dtype=bool)
        mismatch[rows[bad]] = True
        return pl.select(pl.when(pl.Series(mismatch)).then(pl.lit(SCRIPT_MISMATCH)).otherwise(reason)).to_series()

    def _script_classes(self, code: str) -> str | None:
        cache = self.__dict__.setdefault("_script_cache", {})
        if code not in cache:
            cache[code] = script_pattern(profile_scripts(code))
        return cache[code]

    def _script_classes(self, code: str) -> str | None:
        cache = self.__dict__.setdefault("_script_cache", {})
        if code not in cache:
            cache[code] = script_pattern(profile_scripts(code))
        return cache[code]

    def _filter_lines(self, text: pl.Series) -> tuple[pl.Series, pl.Series, np.ndarray]:
        """Keep the lines in a target language; returns new text, drop reason, removed share.

        All lines of the batch go to the backend in one call.  Lines without letters carry
        no language and stay; a document with no target-language line keeps its original
        text (it is rejected, and the rejected sink shows what came in).
        """
        lines = (
            pl.DataFrame({"text": text.fill_null("")})
            .with_row_index("doc")
            .with_columns(pl.col("text").str.split("\n"))
            .explode("text")
            .with_columns(pl.col("text").str.contains(r"\p{L}").alias("lettered"))
        )
        lettered = lines.get_column("lettered").to_numpy()
        codes = pl.Series([None] * lines.height, dtype=pl.String)
        if lettered.any():
            line_codes, _ = self._resolve_macro(
                self.predict(lines.get_column("text").filter(pl.Series(lettered)), k=1).lang
            )
            codes = codes.scatter(np.flatnonzero(lettered), line_codes)
        lines = lines.with_columns(code=codes).with_columns(
            removed=pl.col("lettered") & ~pl.col("code").is_in(self.target_langs or []).fill_null(False),
            chars=pl.col("text").str.len_chars(),
        )
        per_doc = lines.group_by("doc", maintain_order=True).agg(
            pl.col("text").filter(~pl.col("removed")).str.join("\n").alias("kept_text"),
            pl.col("lettered").sum().alias("lettered"),
            pl.col("removed").sum().alias("removed"),
            pl.col("chars").filter(pl.col("removed")).sum().alias("chars_removed"),
        )
        nothing_left = (per_doc["lettered"] == per_doc["removed"]).to_numpy()
        frac = np.where(
            per_doc["lettered"].to_numpy() > 0,
            per_doc["removed"].to_numpy() / np.maximum(per_doc["lettered"].to_numpy(), 1),
            0.0,
        )
        survivors = ~nothing_left
        self.count("lines_removed", int(per_doc["removed"].to_numpy()[survivors].sum()))
        self.count("chars_removed", int(per_doc["chars_removed"].to_numpy()[survivors].sum()))
        new_text = (
            pl.select(pl.when(pl.Series(nothing_left)).then(text).otherwise(per_doc["kept_text"]))
            .to_series()
            .alias("text")
        )
        reason = pl.select(
            pl.when(pl.Series(nothing_left)).then(pl.lit(NOT_TARGET)).otherwise(pl.lit(None, dtype=pl.String))
        ).to_series()
        return new_text, reason, frac.astype(np.float32)

    # -- the stage -------------------------------------------------------------------
    def __call__(self, batch: pa.Table) -> pa.Table:
        self.setup()
        n = batch.num_rows
        text = pl.Series("text", pl.from_arrow(batch.column("text")), dtype=pl.String).fill_null("")
        reason = pl.Series([None] * n, dtype=pl.String)
        frac = None
        if self.line_level:
            text, reason, frac = self._filter_lines(text)
            batch = _set_column(batch, "text", text.to_arrow().cast(pa.string()))
        pred = self.predict(text)
        lang, reason = self._decide(text, pred, reason)
        # once per batch, not per document
        for code, n_docs in lang.drop_nulls().value_counts().iter_rows():
            self.count(f"lang:{code}", int(n_docs))
        decided = pl.DataFrame({"b": pred.backend, "l": lang}).drop_nulls().group_by("b", "l").len()
        for backend, code, n_docs in decided.iter_rows():
            self.count(f"decided:{backend}:{code}", int(n_docs))
        batch = _set_column(batch, "lang", lang.to_arrow().cast(pa.string()))
        batch = _set_column(batch, "lang_score", pa.array(pred.score, pa.float32()))
        batch = _set_column(batch, "lid_labels", pred.labels)
        batch = _set_column(batch, "lid_scores", pred.scores)
        batch = _set_column(batch, "lid_backend", pred.backend.to_arrow().cast(pa.string()))
        if frac is not None:
            batch = _set_column(batch, "lid_removed_line_frac", pa.array(frac, pa.float32()))
        return set_drop_reason(batch, reason.to_arrow())


def list_arrays(codes: pl.Series, scores: np.ndarray, lengths: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Flat top-k codes and scores with per-row lengths -> two Arrow list arrays."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    pa_offsets = pa.array(offsets, pa.int32())
    labels = pa.ListArray.from_arrays(pa_offsets, codes.to_arrow().cast(pa.string()))
    values = pa.ListArray.from_arrays(pa_offsets, pa.array(np.asarray(scores, dtype=np.float32), pa.float32()))
    return labels, values


def profile_threshold(code: str) -> float:
    """The profile's lid.176 threshold; labels ``langs`` does not know get the default."""
    try:
        return float(langs.get(code).lid_threshold)
    except LookupError:
        return langs.DEFAULT_LID_THRESHOLD


def _set_column(batch: pa.Table, name: str, column: pa.Array | pa.ChunkedArray) -> pa.Table:
    if name in batch.column_names:
        return batch.set_column(batch.column_names.index(name), name, column)
    return batch.append_column(name, column)
