"""Stages of the instruct job: parse records, fan out to target languages, translate.

Row contract (``processors/schema.py``): ``id``, ``messages: list<struct<role, content>>``,
``src_lang``, ``tgt_lang``, ``source_id``; plus ``format`` and ``original`` (the input
record's JSON) so that every translation can also be written back in the input's own
format (``translated_original``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import orjson
import pyarrow as pa

from babelmill import langs
from babelmill.processors.base import DROP_REASON, Stage, set_drop_reason
from babelmill.processors.instruct.formats import (
    MESSAGES,
    FormatError,
    fields,
    parse_record,
    selected,
    to_messages,
    with_texts,
)
from babelmill.processors.schema import MESSAGE_TYPE
from babelmill.processors.translate.checks import OUTPUT, PROBLEMS, SOURCE
from babelmill.processors.translate.core import TextTranslation, TranslateStats, translate_texts
from babelmill.processors.translate.stages import TranslatingStage
from babelmill.processors.translate.protect import DEFAULT_SENTINEL, Plan
from babelmill.processors.translate.segment import language_code

MALFORMED = "malformed_instruction"
SAME_LANGUAGE = "same_language"


def _put(batch: pa.Table, name: str, column: pa.Array | pa.ChunkedArray) -> pa.Table:
    """Set or append a column."""
    if name in batch.column_names:
        return batch.set_column(batch.column_names.index(name), name, column)
    return batch.append_column(name, column)


def _known_code(code: str) -> str:
    """babelmill's code for a language given on the command line; a typo fails here,
    at construction, instead of failing every batch in the engine."""
    return langs.get(code).code


class InstructionParser(Stage):
    """Reads each input record (the JSON in ``meta``) as an instruction example.

    Adds ``messages``, ``format`` (alpaca / sharegpt / messages), ``original`` (the
    record's JSON, unchanged) and ``parse_error``.  A record that is not a valid
    instance of its format is marked ``malformed_instruction`` with the problem in
    ``parse_error``: one bad record must not send its whole batch to the row-by-row
    retry.  ``meta`` is dropped (``original`` holds the same string) unless ``keep_meta``.
    """

    name: ClassVar[str] = "parse"
    reasons: ClassVar[tuple[str, ...]] = (MALFORMED,)

    def __init__(self, format: str = "auto", keep_meta: bool = False) -> None:
        self.format = format
        self.keep_meta = keep_meta

    def __call__(self, batch: pa.Table) -> pa.Table:
        raw = batch.column("meta") if "meta" in batch.column_names else pa.nulls(batch.num_rows, pa.string())
        messages: list[list[dict[str, str]] | None] = []
        formats: list[str | None] = []
        errors: list[str | None] = []
        for value in raw.to_pylist():
            try:
                parsed = parse_record(value, self.format)
            except FormatError as exc:
                messages.append(None)
                formats.append(None)
                errors.append(str(exc))
                continue
            messages.append(parsed.messages)
            formats.append(parsed.format)
            errors.append(None)
        out = _put(batch, "messages", pa.array(messages, MESSAGE_TYPE))
        out = _put(out, "format", pa.array(formats, pa.string()))
        out = _put(out, "original", raw.cast(pa.string()))
        out = _put(out, "parse_error", pa.array(errors, pa.string()))
        if not self.keep_meta and "meta" in out.column_names:
            out = out.drop_columns(["meta"])
        bad = sum(e is not None for e in errors)
        for fmt in set(formats) - {None}:
            self.count(f"format_{fmt}", formats.count(fmt))
        if bad or DROP_REASON in out.column_names:
            out = set_drop_reason(out, pa.array([None if e is None else MALFORMED for e in errors], pa.string()))
        return out


class TargetExpander(Stage):
    """One row per (input row, target language): the only stage that adds rows.

    Sets ``source_id`` (the input ``id``), ``src_lang``, ``tgt_lang`` and
    ``id = f"{source_id}#{tgt_lang}"``.  The source language is the row's ``src_lang``,
    else its ``src_column`` (the reader's ``lang``), else ``src_lang``.  A target equal
    to the source yields a row marked ``same_language`` (accounted for, not translated).
    """

    name: ClassVar[str] = "targets"
    expands: ClassVar[bool] = True
    reasons: ClassVar[tuple[str, ...]] = (SAME_LANGUAGE,)

    def __init__(self, targets: Sequence[str], src_lang: str = "en", src_column: str | None = "lang") -> None:
        if isinstance(targets, str):
            targets = [t for t in targets.split(",") if t.strip()]
        if not targets:
            raise ValueError("TargetExpander needs at least one target language")
        self.targets = list(dict.fromkeys(_known_code(t.strip()) for t in targets))
        self.src_lang = _known_code(src_lang)
        self.src_column = src_column

    def _sources(self, batch: pa.Table) -> list[str]:
        n = batch.num_rows
        cols = [c for c in ("src_lang", self.src_column) if c and c in batch.column_names]
        values = [batch.column(c).cast(pa.string()).to_pylist() for c in cols]
        out = []
        for i in range(n):
            found = next((v[i] for v in values if v[i]), None)
            out.append(language_code(found) if found else self.src_lang)
        return out

    def __call__(self, batch: pa.Table) -> pa.Table:
        n, k = batch.num_rows, len(self.targets)
        sources = self._sources(batch)
        ids = batch.column("id").cast(pa.string()).to_pylist()
        out = batch.take(pa.array(np.repeat(np.arange(n, dtype=np.int64), k)))
        tgts = self.targets * n
        srcs = [s for s in sources for _ in range(k)]
        source_ids = [i for i in ids for _ in range(k)]
        out = _put(out, "source_id", pa.array(source_ids, pa.string()))
        out = _put(out, "src_lang", pa.array(srcs, pa.string()))
        out = _put(out, "tgt_lang", pa.array(tgts, pa.string()))
        out = _put(out, "id", pa.array([f"{s}#{t}" for s, t in zip(source_ids, tgts)], pa.string()))
        same = [SAME_LANGUAGE if s == t else None for s, t in zip(srcs, tgts)]
        if any(same) or DROP_REASON in out.column_names:
            out = set_drop_reason(out, pa.array(same, pa.string()))
        return out


@dataclasses.dataclass
class _Job:
    """One field of one row: where it goes, its (src, tgt) group, its text's index there."""

    path: tuple[str | int, ...]
    group: tuple[str, str]
    index: int


class InstructionTranslator(TranslatingStage):
    """Translates the selected fields of every row into the row's ``tgt_lang``.

    Every text is cut by ``protect_and_split`` (code, URLs, placeholders and Markdown
    structure held back); all units of the batch for one (src, tgt) pair go to the
    translator in ONE call, the engine batches and caches.  Writes the translated
    ``messages``, ``translated_original`` (JSON in the input's format), ``model``,
    ``score`` (mean unit score, float32; null when nothing was translated) and the
    ``mt_source`` / ``mt_output`` / ``mt_problems`` columns the checks read.

    ``roles`` selects texts by chat role or the format's speaker name (``"user"``,
    ``"gpt"``); ``fields`` selects Alpaca keys (``("instruction", "input")``) and
    overrides ``roles`` for Alpaca records.  Counters: ``segments``, ``cache_hits``
    (from the translator's ``stats``), ``chars`` (characters sent to the model).
    """

    name: ClassVar[str] = "translate"

    def __init__(
        self,
        spec: Any,
        roles: Sequence[str] | None = ("system", "user", "assistant"),
        fields: Sequence[str] | None = None,
        sentinel: tuple[str, str] = DEFAULT_SENTINEL,
        max_unit_chars: int = 1000,
    ) -> None:
        super().__init__(spec)
        self.roles = None if roles is None else list(roles)
        self.fields = None if fields is None else list(fields)
        self.sentinel = tuple(sentinel)
        self.max_unit_chars = max_unit_chars

    def config(self) -> dict[str, Any]:
        return {
            "spec": self.spec_config(),
            "roles": self.roles,
            "fields": self.fields,
            "sentinel": list(self.sentinel),
            "max_unit_chars": self.max_unit_chars,
        }

    def _records(self, batch: pa.Table) -> tuple[list[dict[str, Any] | None], list[str | None]]:
        """Each row's record and format (None for a malformed row that was not routed away);
        a batch without ``original`` holds ``messages`` records."""
        if "original" in batch.column_names:
            cache: dict[str, Any] = {}
            records = []
            for raw in batch.column("original").to_pylist():
                if raw is not None and raw not in cache:  # rows of one source share their original
                    cache[raw] = orjson.loads(raw)
                records.append(cache.get(raw))
            formats = (
                batch.column("format").to_pylist() if "format" in batch.column_names else [MESSAGES] * batch.num_rows
            )
            return records, formats
        msgs = batch.column("messages").to_pylist()
        return [{"messages": m} if m else None for m in msgs], [MESSAGES if m else None for m in msgs]

    def __call__(self, batch: pa.Table) -> pa.Table:
        translator = self.translator
        records, formats = self._records(batch)
        srcs = batch.column("src_lang").to_pylist()
        tgts = batch.column("tgt_lang").to_pylist()
        roles = None if self.roles is None else frozenset(self.roles)
        alpaca = None if self.fields is None else frozenset(self.fields)
        # the selected fields of every row, grouped by (src, tgt): one translate_texts each
        groups: dict[tuple[str, str], list[str]] = {}
        jobs: list[list[_Job]] = []
        for record, fmt, src, tgt in zip(records, formats, srcs, tgts):
            row: list[_Job] = []
            texts = groups.setdefault((src, tgt), [])
            for f in fields(record, fmt) if record is not None and fmt is not None else ():
                if not f.text.strip() or not selected(f, fmt, roles, alpaca):
                    continue
                row.append(_Job(f.path, (src, tgt), len(texts)))
                texts.append(f.text)
            jobs.append(row)

        plans: dict[tuple[str, str], Plan] = {}
        results: dict[tuple[str, str], list[TextTranslation]] = {}
        totals = TranslateStats()
        for (src, tgt), texts in groups.items():
            results[(src, tgt)], stats = translate_texts(
                translator, texts, src, tgt, self.sentinel, self.max_unit_chars, plans
            )  # type: ignore[arg-type]
            if stats.sent:
                self.count("chars", stats.chars)
            totals.sent += stats.sent
            totals.segments += stats.segments
            totals.cache_hits += stats.cache_hits
            totals.units += stats.units
        self.count("segments", totals.segments)
        self.count("cache_hits", totals.cache_hits)
        # units the rows asked for, before identical ones in the batch were merged
        self.count("units", totals.units)

        messages, originals, scores, sources, outputs, problems = [], [], [], [], [], []
        for record, fmt, row in zip(records, formats, jobs):
            new_texts: dict[tuple[str | int, ...], str] = {}
            row_scores: list[float] = []
            row_problems: list[str] = []
            src_parts: list[str] = []
            out_parts: list[str] = []
            for job in row:
                done = results[job.group][job.index]
                new_texts[job.path] = done.text
                where = ".".join(map(str, job.path))
                row_problems.extend(f"{where}: {p}" for p in done.problems)
                row_scores.extend(done.unit_scores)
                src_parts.extend(done.source_units)
                out_parts.extend(done.output_units)
            if record is None or fmt is None:
                messages.append(None)
                originals.append(None)
            else:
                translated = with_texts(record, new_texts)
                messages.append(to_messages(translated, fmt))
                originals.append(orjson.dumps(translated).decode())
            scores.append(sum(row_scores) / len(row_scores) if row_scores else None)
            sources.append("\n".join(src_parts))
            outputs.append("\n".join(out_parts))
            problems.append(row_problems)

        out = _put(batch, "messages", pa.array(messages, MESSAGE_TYPE))
        out = _put(out, "translated_original", pa.array(originals, pa.string()))
        out = _put(out, "model", pa.array([translator.name] * batch.num_rows, pa.string()))
        out = _put(out, "score", pa.array(scores, pa.float32()))
        out = _put(out, SOURCE, pa.array(sources, pa.string()))
        out = _put(out, OUTPUT, pa.array(outputs, pa.string()))
        return _put(out, PROBLEMS, pa.array(problems, pa.list_(pa.string())))
