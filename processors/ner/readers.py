"""NER readers: CoNLL-style column files, JSONL and Hugging Face datasets to NER rows.

Every reader yields :class:`ReadBatch` es whose table follows the NER row contract
(``id``, ``tokens``, ``tags``, ``lang``, ``source``, ``meta``); a sentence that cannot be
a row (a ragged line, an empty token, tokens and tags of different lengths, a sentence
over the length cap, integer tags without label names) is quarantined with its reason.
Tags are passed through as written: :class:`TagSchemeNormalizer` turns them into IOB2.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import pyarrow as pa

from babelmill.processors.io.records import QuarantineRecord, ReadBatch, ReaderOptions
from babelmill.processors.ner.features import hf_features_of, label_names_from_features
from babelmill.processors.ner.options import NerOptions
from babelmill.processors.ner.schemes import split_tag
from babelmill.processors.schema import NER_SCHEMA

#: Sentences per batch handed to the stages.
BATCH_SENTENCES = 10_000
#: Non-blank lines looked at to find the token and tag columns of a CoNLL file.
_DETECT_LINES = 5_000


# --------------------------------------------------------------------------- rows


class _Rows:
    """Accumulates good sentences and quarantined ones, and cuts them into batches."""

    def __init__(self, source: str, opts: ReaderOptions) -> None:
        self.source, self.opts = source, opts
        self.ner: NerOptions = opts.ner or NerOptions()
        self.cols: dict[str, list[Any]] = {k: [] for k in NER_SCHEMA.names}
        self.quarantine: list[QuarantineRecord] = []

    def add(
        self,
        ordinal: int,
        tokens: Sequence[Any],
        tags: Sequence[Any],
        rid: str | None = None,
        lang: str | None = None,
        meta: dict[str, Any] | None = None,
        raw: str | None = None,
    ) -> None:
        problem = check_sentence(tokens, tags, self.ner.max_tokens)
        if problem:
            self.quarantine.append(QuarantineRecord(self.source, ordinal, problem, raw=raw))
            return
        self.cols["id"].append(rid if rid else f"{self.source}:{ordinal}")
        self.cols["tokens"].append(list(tokens))
        self.cols["tags"].append(list(tags))
        self.cols["lang"].append(lang or self.ner.lang)
        self.cols["source"].append(self.source)
        self.cols["meta"].append(orjson.dumps(meta).decode() if meta else None)

    def bad(self, ordinal: int, error: str, raw: str | None = None) -> None:
        self.quarantine.append(QuarantineRecord(self.source, ordinal, error, raw=raw))

    def __len__(self) -> int:
        return len(self.cols["id"]) + len(self.quarantine)

    def flush(self) -> ReadBatch:
        table = pa.Table.from_pydict(self.cols, schema=NER_SCHEMA)
        batch = ReadBatch(docs=table, quarantine=list(self.quarantine))
        for v in self.cols.values():
            v.clear()
        self.quarantine.clear()
        return batch


def check_sentence(tokens: Sequence[Any], tags: Sequence[Any], max_tokens: int) -> str | None:
    """Why a sentence cannot be an NER row, or None."""
    if not isinstance(tokens, (list, tuple)) or not isinstance(tags, (list, tuple)):
        return "tokens and tags must be lists"
    if len(tokens) != len(tags):
        return f"{len(tokens)} tokens but {len(tags)} tags"
    if not tokens:
        return "empty sentence"
    if len(tokens) > max_tokens:
        return f"sentence of {len(tokens)} tokens exceeds the cap of {max_tokens}"
    for i, (tok, tag) in enumerate(zip(tokens, tags)):
        if not isinstance(tok, str) or not tok.strip():
            return f"empty token at position {i}"
        if not isinstance(tag, str) or not tag:
            return f"empty or non-string tag at position {i}"
    return None


# --------------------------------------------------------------------------- CoNLL


def _fields(line: str) -> list[str]:
    """Columns of one line: tab-separated when it has a tab, else whitespace-separated."""
    if "\t" in line:
        return line.split("\t")
    return line.split()


def _is_comment(line: str) -> bool:
    return line.startswith("#")


def _is_token_line(line: str, layout: "ConllLayout") -> bool:
    """A line starting with ``#`` that is a token ``#`` with its tag, not a comment."""
    fields = _fields(line)
    return len(fields) == layout.width and fields[layout.token] == "#" and _looks_like_tag(fields[layout.tag])


def _looks_like_tag(value: str) -> bool:
    return split_tag(value) is not None


@dataclasses.dataclass(frozen=True)
class ConllLayout:
    """Where the token and tag of each line are, and how many columns a line has."""

    token: int
    tag: int
    width: int


def detect_layout(
    rows: Sequence[Sequence[str]], token_column: int | None = None, tag_column: int | None = None
) -> ConllLayout:
    """Find the token and tag columns from sample lines.

    The usual width is the most common column count.  An all-integer first column is an
    index (Universal NER / CoNLL-U), so the token follows it.  The tag column is the
    rightmost column after the token whose every value looks like a tag and that holds
    at least one entity tag (CoNLL-2003's chunk column also looks like tags but comes
    before the NER column; UNER's trailing ``-`` columns do not look like tags).
    """
    if not rows:
        return ConllLayout(token_column or 0, tag_column if tag_column is not None else 1, 2)
    width = Counter(len(r) for r in rows).most_common(1)[0][0]
    sample = [r for r in rows if len(r) == width]
    if token_column is None:
        token_column = 1 if width > 2 and all(r[0].isdigit() for r in sample) else 0
    if tag_column is None:
        candidates = [c for c in range(token_column + 1, width) if all(_looks_like_tag(r[c]) for r in sample)]
        with_entities = [c for c in candidates if any(r[c] != "O" for r in sample)]
        if with_entities:
            tag_column = with_entities[-1]
        elif candidates:
            tag_column = candidates[-1]
        else:
            tag_column = width - 1
    if token_column >= width or tag_column >= width:
        raise ValueError(f"column {max(token_column, tag_column)} does not exist: lines have {width} columns")
    return ConllLayout(token_column, tag_column, width)


def _stream_errors() -> tuple[type[BaseException], ...]:
    """What a missing, truncated or corrupt (compressed) file raises while read."""
    from babelmill.processors.io.readers import _STREAM_ERRORS

    return _STREAM_ERRORS


def _conll_lines(path: str) -> Iterator[tuple[int, str | None]]:
    """(line number, text) of a possibly compressed file; None text for a line that is not UTF-8."""
    from babelmill.processors.io.readers import open_binary

    with open_binary(path) as fh:
        for number, raw in enumerate(fh, 1):
            try:
                yield number, raw.decode("utf-8").rstrip("\r\n").rstrip("\r")
            except UnicodeDecodeError:
                yield number, None


def _sample_rows(path: str) -> list[list[str]]:
    """Fields of the first token lines (a file cut short gives what it has: the read
    pass then records where it broke)."""
    rows: list[list[str]] = []
    try:
        for _, line in _conll_lines(path):
            if line is None or not line.strip() or _is_comment(line) or line.startswith("-DOCSTART-"):
                continue
            rows.append(_fields(line))
            if len(rows) >= _DETECT_LINES:
                break
    except _stream_errors():
        if not rows:
            raise
    return rows


def read_conll(path: str, source: str, opts: ReaderOptions) -> Iterator[ReadBatch]:
    """Sentences of a CoNLL-style column file (``-DOCSTART-`` and ``#`` lines skipped)."""
    ner = opts.ner or NerOptions()
    rows = _Rows(source, opts)
    try:
        layout = detect_layout(_sample_rows(path), ner.token_column, ner.tag_column)
    except ValueError as exc:
        rows.bad(0, f"unusable CoNLL file: {exc}")
        yield rows.flush()
        return
    except _stream_errors() as exc:
        rows.bad(0, f"unreadable CoNLL file: {type(exc).__name__}: {exc}")
        yield rows.flush()
        return
    tokens: list[str] = []
    tags: list[str] = []
    lines: list[str] = []
    problem: str | None = None
    meta: dict[str, Any] = {}
    ordinal = 0

    def end_sentence() -> None:
        nonlocal problem, ordinal
        if tokens or problem:
            raw = "\n".join(lines)
            if problem:
                rows.bad(ordinal, problem, raw=raw)
            else:
                rows.add(ordinal, tokens, tags, meta=dict(meta) if meta else None, raw=raw)
            ordinal += 1
        tokens.clear()
        tags.clear()
        lines.clear()
        meta.clear()
        problem = None

    try:
        for number, line in _conll_lines(path):
            if line is None:
                problem = problem or f"line {number}: invalid UTF-8"
                lines.append("")
                continue
            if not line.strip() or line.startswith("-DOCSTART-"):
                end_sentence()
                continue
            if _is_comment(line) and not _is_token_line(line, layout):
                if tokens or problem:  # a comment inside a sentence ends it
                    end_sentence()
                key, sep, value = line[1:].strip().partition("=")
                if sep and key.strip() in ("sent_id", "id"):
                    meta["sent_id"] = value.strip()
                continue
            lines.append(line)
            fields = _fields(line)
            if problem is None:
                if len(fields) != layout.width:
                    problem = f"line {number}: ragged line of {len(fields)} columns, expected {layout.width}"
                elif not fields[layout.token].strip():
                    problem = f"line {number}: empty token"
                else:
                    tokens.append(fields[layout.token].strip())
                    tags.append(fields[layout.tag].strip())
            if len(rows) >= BATCH_SENTENCES:
                yield rows.flush()
        end_sentence()
    except _stream_errors() as exc:
        rows.bad(ordinal, f"unreadable from sentence {ordinal} on: {type(exc).__name__}: {exc}")
    yield rows.flush()


# --------------------------------------------------------------------------- JSONL


def _tags_of(obj: dict[str, Any], names: Sequence[str] | None) -> tuple[list[Any] | None, str | None]:
    """The string tags of a record (``tags``, or ``ner_tags`` strings or ints), or an error."""
    tags = obj.get("tags", obj.get("ner_tags"))
    if tags is None:
        return None, "record has no 'tags' or 'ner_tags'"
    if not isinstance(tags, list):
        return None, "tags must be a list"
    if tags and all(isinstance(t, int) and not isinstance(t, bool) for t in tags):
        if not names:
            return None, "integer tags need label names (pass --labels)"
        if any(not 0 <= t < len(names) for t in tags):
            return None, f"tag id out of range for {len(names)} label names"
        return [names[t] for t in tags], None
    return tags, None


def read_ner_jsonl(path: str, source: str, opts: ReaderOptions) -> Iterator[ReadBatch]:
    """One sentence per JSON line: ``tokens`` plus ``tags`` (or ``ner_tags``)."""
    from babelmill.processors.io.readers import open_binary

    ner = opts.ner or NerOptions()
    rows = _Rows(source, opts)
    known = {"tokens", "tags", "ner_tags", opts.id_field, "lang"}
    ordinal = 0
    try:
        with open_binary(path) as fh:
            for raw in fh:
                if not raw.strip():
                    continue
                text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                if len(raw) > opts.max_record_bytes:
                    rows.bad(ordinal, f"record of {len(raw)} bytes exceeds --max-record-bytes {opts.max_record_bytes}")
                else:
                    try:
                        obj = orjson.loads(raw)
                    except orjson.JSONDecodeError as exc:
                        rows.bad(ordinal, f"invalid JSON: {exc}", raw=text)
                        obj = None
                    if obj is not None and not isinstance(obj, dict):
                        rows.bad(ordinal, "record is not a JSON object", raw=text)
                    elif obj is not None:
                        tags, err = _tags_of(obj, ner.label_names)
                        if err:
                            rows.bad(ordinal, err, raw=text)
                        else:
                            rid = obj.get(opts.id_field)
                            meta = {k: v for k, v in obj.items() if k not in known}
                            lang = obj.get("lang") if isinstance(obj.get("lang"), str) else None
                            rows.add(
                                ordinal,
                                obj.get("tokens"),
                                tags,
                                rid=str(rid) if rid is not None else None,
                                lang=lang,
                                meta=meta,
                                raw=text,
                            )
                ordinal += 1
                if len(rows) >= BATCH_SENTENCES:
                    yield rows.flush()
    except _stream_errors() as exc:
        rows.bad(ordinal, f"unreadable from record {ordinal} on: {type(exc).__name__}: {exc}")
    yield rows.flush()


# --------------------------------------------------------------------------- tables (HF, Parquet)


def ner_rows_from_table(
    table: pa.Table, source: str, opts: ReaderOptions, start: int, label_names: Sequence[str] | None
) -> ReadBatch:
    """NER rows from a table with ``tokens`` and ``ner_tags`` (ints or strings) or ``tags``."""
    ner = opts.ner or NerOptions()
    names = list(label_names) if label_names else (list(ner.label_names) if ner.label_names else None)
    rows = _Rows(source, opts)
    if "tokens" not in table.column_names or not ({"tags", "ner_tags"} & set(table.column_names)):
        rows.bad(start, f"table has no 'tokens' and 'tags'/'ner_tags' columns (has {', '.join(table.column_names)})")
        return rows.flush()
    tag_col = "tags" if "tags" in table.column_names else "ner_tags"
    other = [c for c in table.column_names if c not in ("tokens", "tags", "ner_tags", opts.id_field, "lang")]
    ids = table.column(opts.id_field).to_pylist() if opts.id_field in table.column_names else [None] * table.num_rows
    langs = table.column("lang").to_pylist() if "lang" in table.column_names else [None] * table.num_rows
    rest = table.select(other).to_pylist() if other else [{}] * table.num_rows
    for i, (tokens, tags) in enumerate(zip(table.column("tokens").to_pylist(), table.column(tag_col).to_pylist())):
        if tags is None or tokens is None:
            rows.bad(start + i, "null tokens or tags")
            continue
        str_tags, err = _tags_of({"tags": tags}, names)
        if err:
            rows.bad(start + i, err)
            continue
        meta = {k: v for k, v in rest[i].items() if v is not None}
        try:
            meta_ok = orjson.loads(orjson.dumps(meta, default=str))
        except TypeError:
            meta_ok = None
        rid = ids[i]
        rows.add(
            start + i,
            tokens,
            str_tags or [],
            rid=str(rid) if rid is not None else None,
            lang=langs[i] if isinstance(langs[i], str) else None,
            meta=meta_ok,
        )
    return rows.flush()


def read_ner_table_file(path: str, source: str, opts: ReaderOptions, kind: str) -> Iterator[ReadBatch]:
    """A Parquet file or one Arrow file of a ``save_to_disk`` dataset."""
    import pyarrow.parquet as pq

    start = 0
    try:
        if kind == "parquet":
            pf = pq.ParquetFile(path)
            names = label_names_from_features(hf_features_of(pf.schema_arrow, path))
            batches = pf.iter_batches(batch_size=BATCH_SENTENCES)
        else:
            mm = pa.memory_map(path)
            try:
                reader: Any = pa.ipc.open_stream(mm)
                batches = iter(reader)
            except pa.ArrowInvalid:
                mm.seek(0)
                reader = pa.ipc.open_file(mm)
                batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
            names = label_names_from_features(hf_features_of(reader.schema, path))
        for rb in batches:
            table = pa.Table.from_batches([rb])
            yield ner_rows_from_table(table, source, opts, start, names)
            start += table.num_rows
    except (OSError, pa.ArrowException) as exc:
        yield ReadBatch(
            docs=NER_SCHEMA.empty_table(),
            quarantine=[QuarantineRecord(source, start, f"unreadable from row {start} on: {exc}")],
        )


def read_ner_hf_load(path: str, source: str, opts: ReaderOptions, row_range: tuple[int, int]) -> Iterator[ReadBatch]:
    """A row range of a local ``load_dataset``-able path; label names from its features."""
    from babelmill.processors.io.readers import load_hf_dataset

    ds = load_hf_dataset(path, opts.hf_split)
    names = None
    feat = ds.features.get("ner_tags")
    inner = getattr(feat, "feature", None)
    if inner is not None and hasattr(inner, "names"):
        names = list(inner.names)
    start, stop = row_range
    table = ds.select(range(start, stop)).flatten_indices().data.table
    for offset in range(0, table.num_rows, BATCH_SENTENCES):
        yield ner_rows_from_table(table.slice(offset, BATCH_SENTENCES), source, opts, start + offset, names)


# --------------------------------------------------------------------------- dispatch


def read_ner_shard(shard: Any, opts: ReaderOptions) -> Iterator[ReadBatch]:
    """Every batch of one shard of an NER input, in a deterministic order."""
    path, source = shard.paths[0], shard.sources[0]
    kind = shard.kind
    if kind == "conll" or kind == "text-lines":
        yield from read_conll(path, source, opts)
    elif kind == "jsonl":
        yield from read_ner_jsonl(path, source, opts)
    elif kind in ("parquet", "hf-arrow"):
        yield from read_ner_table_file(path, source, opts, kind)
    elif kind == "hf-load":
        assert shard.row_range is not None
        yield from read_ner_hf_load(path, source, opts, shard.row_range)
    else:
        yield ReadBatch(
            docs=NER_SCHEMA.empty_table(),
            quarantine=[QuarantineRecord(source, 0, f"NER input cannot be read from a {kind!r} shard")],
        )


def read_ner(
    inputs: Sequence[str], opts: ReaderOptions | None = None, fmt: str = "auto"
) -> tuple[pa.Table, list[QuarantineRecord]]:
    """All NER rows of ``inputs`` in shard order, without Ray (evaluation, tests, notebooks)."""
    from babelmill.processors.io.sources import discover_shards

    opts = opts or ReaderOptions(ner=NerOptions())
    if opts.ner is None:
        opts = dataclasses.replace(opts, ner=NerOptions())
    tables, bad = [], []
    for shard in discover_shards(list(inputs), fmt, hf_split=opts.hf_split):
        for batch in read_ner_shard(shard, opts):
            tables.append(batch.docs)
            bad.extend(batch.quarantine)
    table = pa.concat_tables(tables) if tables else NER_SCHEMA.empty_table()
    return table, bad


__all__ = [
    "NerOptions",
    "ConllLayout",
    "detect_layout",
    "read_conll",
    "read_ner_jsonl",
    "read_ner_shard",
    "read_ner",
    "check_sentence",
    "label_names_from_features",
    "hf_features_of",
]
