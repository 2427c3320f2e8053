"""Stages that hold a translation model, and the plain one: translate a text column.

``TranslatingStage`` is what every model-holding stage shares (the picklable spec goes
to the workers, the model is built once per worker in ``setup``, the spec's resources
become the stage's).  ``TextTranslator`` puts :func:`translate_texts` over a column.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa

from babelmill.processors.base import Resources, Stage
from babelmill.processors.translate.checks import OUTPUT, PROBLEMS, SOURCE
from babelmill.processors.translate.core import TextTranslation, translate_texts
from babelmill.processors.translate.protect import DEFAULT_SENTINEL, Plan

if TYPE_CHECKING:
    from babelmill.processors.translate.engine import Translator


class TranslatingStage(Stage):
    """A stage holding a translator built from ``spec`` (anything with ``build()``)."""

    stateful: ClassVar[bool] = True

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        res = getattr(spec, "resources", None)
        if res is not None:  # a spec outside babelmill may still give (num_cpus, num_gpus)
            self.resources = res if isinstance(res, Resources) else Resources(*res)  # type: ignore[misc]

    def spec_config(self) -> Any:
        return dataclasses.asdict(self.spec) if dataclasses.is_dataclass(self.spec) else repr(self.spec)

    def setup(self) -> None:
        self._translator = self.spec.build()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_translator"}

    @property
    def translator(self) -> Translator:
        if "_translator" not in self.__dict__:
            self.setup()
        return self._translator


def _put(batch: pa.Table, name: str, column: pa.Array | pa.ChunkedArray) -> pa.Table:
    if name in batch.column_names:
        return batch.set_column(batch.column_names.index(name), name, column)
    return batch.append_column(name, column)


class TextTranslator(TranslatingStage):
    """Translates the ``column`` of every row (``text``) into ``output`` (``translation``).

    Each row's languages come from its ``src_column`` / ``tgt_column`` where set, else
    from ``src_lang`` / ``tgt_lang``; a row with neither fails its batch (quarantined).
    Also writes ``<output>_score`` (mean unit score, float32), ``model`` and the
    ``mt_source`` / ``mt_output`` / ``mt_problems`` columns and, where missing, the
    languages used as ``src_lang`` / ``tgt_lang``, so ``TranslationQualityFilter`` can
    follow it.  A null text stays null, a blank one is copied.  Counters as
    ``InstructionTranslator``'s: ``segments``, ``cache_hits``, ``chars``, ``units``.
    """

    name: ClassVar[str] = "translate_text"

    def __init__(
        self,
        spec: Any,
        src_lang: str | None = None,
        tgt_lang: str | None = None,
        column: str = "text",
        output: str = "translation",
        src_column: str | None = "src_lang",
        tgt_column: str | None = "tgt_lang",
        sentinel: tuple[str, str] = DEFAULT_SENTINEL,
        max_unit_chars: int = 1000,
    ) -> None:
        super().__init__(spec)
        self.src_lang = src_lang
        self.tgt_lang = tgt_lang
        self.column = column
        self.output = output
        self.src_column = src_column
        self.tgt_column = tgt_column
        self.sentinel = tuple(sentinel)
        self.max_unit_chars = max_unit_chars

    def config(self) -> dict[str, Any]:
        return {**super().config(), "spec": self.spec_config(), "sentinel": list(self.sentinel)}

    def _langs(self, batch: pa.Table, column: str | None, default: str | None, what: str) -> list[str]:
        values = (
            batch.column(column).cast(pa.string()).to_pylist()
            if column and column in batch.column_names
            else [None] * batch.num_rows
        )
        out = [v or default for v in values]
        if any(v is None for v in out):
            raise ValueError(f"a row has no {what} language: set {column or 'a column'} or pass {what}_lang")
        return out  # type: ignore[return-value]

    def __call__(self, batch: pa.Table) -> pa.Table:
        texts = batch.column(self.column).cast(pa.string()).to_pylist()
        srcs = self._langs(batch, self.src_column, self.src_lang, "src")
        tgts = self._langs(batch, self.tgt_column, self.tgt_lang, "tgt")
        groups: dict[tuple[str, str], list[int]] = {}
        for i, text in enumerate(texts):
            if text is not None and text.strip():
                groups.setdefault((srcs[i], tgts[i]), []).append(i)
        done: dict[int, TextTranslation] = {}
        plans: dict[tuple[str, str], Plan] = {}
        counters = {"segments": 0, "cache_hits": 0, "units": 0}
        for (src, tgt), rows in groups.items():
            results, stats = translate_texts(
                self.translator, [texts[i] for i in rows], src, tgt, self.sentinel, self.max_unit_chars, plans
            )  # type: ignore[arg-type]
            done.update(zip(rows, results))
            if stats.sent:
                self.count("chars", stats.chars)
            for key in counters:
                counters[key] += getattr(stats, key)
        for key, value in counters.items():
            self.count(key, value)
        n = batch.num_rows
        out = _put(
            batch, self.output, pa.array([done[i].text if i in done else texts[i] for i in range(n)], pa.string())
        )
        out = _put(
            out,
            f"{self.output}_score",
            pa.array([done[i].score if i in done else None for i in range(n)], pa.float32()),
        )
        out = _put(out, "model", pa.array([self.translator.name] * n, pa.string()))
        out = _put(
            out, SOURCE, pa.array(["\n".join(done[i].source_units) if i in done else "" for i in range(n)], pa.string())
        )
        out = _put(
            out, OUTPUT, pa.array(["\n".join(done[i].output_units) if i in done else "" for i in range(n)], pa.string())
        )
        out = _put(
            out, PROBLEMS, pa.array([done[i].problems if i in done else [] for i in range(n)], pa.list_(pa.string()))
        )
        for name, values in (("src_lang", srcs), ("tgt_lang", tgts)):  # what the checks read
            if name not in out.column_names:
                out = out.append_column(name, pa.array(values, pa.string()))
        return out
