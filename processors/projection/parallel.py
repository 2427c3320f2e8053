"""Reading the target side the user already has (the ``parallel`` method) and extra
unlabelled parallel text (for eflomal), and pairing it with the labelled sentences.

Accepted: a TSV of ``src<TAB>tgt`` lines; two Moses files (``corpus.en`` +
``corpus.de``, one sentence per line); JSONL with ``src``/``tgt`` (or language-code keys,
or ``tokens``); a Hugging Face translation dataset (a ``translation`` column of
``{lang: text}``, or one column per language); a single plain-text file of target
lines; a CoNLL file whose tags are ignored (pre-tokenized, so projected tags line up
token for token with an existing annotation).  Which column is the target is decided by
language names where the format has them, else by which side shares more words with the
labelled sentences, so either direction works (translate-test included).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from babelmill.processors.errors import BabelmillError

Tokens = list[str]

CONLL_SUFFIXES = (".conll", ".conll02", ".conll03", ".conllu", ".iob", ".iob2", ".bio", ".bioes")


@dataclasses.dataclass
class Sides:
    """Sentences read from a parallel resource: one or two sides, raw text or tokens."""

    a: list[Any]
    b: list[Any] | None = None
    #: the language each side is known to be in (None: unknown)
    lang_a: str | None = None
    lang_b: str | None = None
    #: True when the sides are token lists already (CoNLL, JSONL ``tokens``)
    tokenized: bool = False


def _lines(path: Path) -> list[str]:
    text = path.read_bytes().decode("utf-8", errors="replace")
    return [line.rstrip("\r") for line in text.split("\n")][: None if not text.endswith("\n") else -1]


def _suffix_lang(path: Path) -> str | None:
    """``corpus.en-de.de`` -> ``de`` (the last suffix, when it is a language code)."""
    import babelmill.langs as langs

    suffix = path.suffix.lstrip(".")
    if not suffix or len(suffix) > 3:
        return None
    try:
        return langs.get(suffix).code
    except Exception:  # noqa: BLE001 - not a language suffix
        return None


def _lang(code: str) -> str | None:
    import babelmill.langs as langs

    try:
        return langs.get(code).code
    except Exception:  # noqa: BLE001
        return None


def read_sides(paths: Sequence[str]) -> Sides:
    """Read one parallel resource (see the module docstring for the formats)."""
    files = [Path(p) for p in paths]
    for f in files:
        if not f.exists():
            raise BabelmillError(f"parallel text {f} does not exist")
    if len(files) == 2:
        a, b = _lines(files[0]), _lines(files[1])
        if len(a) != len(b):
            raise BabelmillError(f"Moses files {files[0]} and {files[1]} have {len(a)} and {len(b)} lines")
        return Sides(a, b, _suffix_lang(files[0]), _suffix_lang(files[1]))
    if len(files) != 1:
        raise BabelmillError(f"give one parallel file (or two Moses files), not {len(files)}")
    path = files[0]
    if path.is_dir():
        return _read_hf(path)
    name = path.name.lower()
    if name.endswith(CONLL_SUFFIXES):
        return _read_conll(path)
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return _read_jsonl(path)
    if name.endswith(".parquet"):
        return _read_table(_parquet(path), str(path))
    lines = _lines(path)
    if name.endswith(".tsv") or (lines and all("\t" in line for line in lines[:50] if line)):
        pairs = [line.split("\t") for line in lines]
        bad = next((k for k, p in enumerate(pairs) if len(p) != 2), None)
        if bad is not None:
            raise BabelmillError(f"{path} line {bad + 1}: expected 2 tab-separated columns, found {len(pairs[bad])}")
        return Sides([p[0] for p in pairs], [p[1] for p in pairs])
    return Sides(lines, None, _suffix_lang(path))


def _read_conll(path: Path) -> Sides:
    from babelmill.processors.io.records import ReaderOptions
    from babelmill.processors.ner.options import NerOptions
    from babelmill.processors.ner.readers import read_ner

    table, bad = read_ner([str(path)], ReaderOptions(ner=NerOptions(max_tokens=1_000_000)), fmt="auto")
    if bad:
        raise BabelmillError(f"{path}: {len(bad)} unreadable sentence(s), first: {bad[0].error}")
    return Sides(table.column("tokens").to_pylist(), tokenized=True)


def _read_jsonl(path: Path) -> Sides:
    records = []
    for k, line in enumerate(_lines(path)):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise BabelmillError(f"{path} line {k + 1}: invalid JSON ({exc})") from None
        if not isinstance(obj, dict):
            raise BabelmillError(f"{path} line {k + 1}: not a JSON object")
        records.append(obj.get("translation", obj) if isinstance(obj.get("translation"), dict) else obj)
    if not records:
        return Sides([])
    first = records[0]
    if "tokens" in first:
        return Sides([r.get("tokens") or [] for r in records], tokenized=True)
    if "src" in first and "tgt" in first:
        return Sides([r.get("src") or "" for r in records], [r.get("tgt") or "" for r in records])
    keys = [k for k in first if _lang(k)]
    if len(keys) == 2:
        return Sides(
            [r.get(keys[0]) or "" for r in records],
            [r.get(keys[1]) or "" for r in records],
            _lang(keys[0]),
            _lang(keys[1]),
        )
    raise BabelmillError(
        f"{path}: JSONL records need 'src' and 'tgt', two language-code keys, a 'translation' object or 'tokens'"
    )


def _parquet(path: Path) -> Any:
    import pyarrow.parquet as pq

    return pq.read_table(path)


def _read_hf(path: Path) -> Sides:
    import datasets

    try:
        ds = datasets.load_from_disk(str(path))
    except Exception:  # noqa: BLE001 - a load_dataset-able directory instead
        ds = datasets.load_dataset(str(path))
    if isinstance(ds, datasets.DatasetDict):
        ds = ds["train"] if "train" in ds else ds[next(iter(ds))]
    return _read_table(ds.data.table if hasattr(ds.data, "table") else ds.data, str(path))


def _read_table(table: Any, where: str) -> Sides:
    names = table.column_names
    if "translation" in names:
        rows = table.column("translation").to_pylist()
        keys = [k for k in (rows[0] or {}) if _lang(k)] if rows else []
        if len(keys) != 2:
            raise BabelmillError(f"{where}: 'translation' needs two language keys, found {keys}")
        return Sides([r[keys[0]] or "" for r in rows], [r[keys[1]] or "" for r in rows], _lang(keys[0]), _lang(keys[1]))
    if "tokens" in names:
        return Sides(table.column("tokens").to_pylist(), tokenized=True)
    if "src" in names and "tgt" in names:
        return Sides(table.column("src").to_pylist(), table.column("tgt").to_pylist())
    keys = [k for k in names if _lang(k)]
    if len(keys) == 2:
        return Sides(
            table.column(keys[0]).to_pylist(), table.column(keys[1]).to_pylist(), _lang(keys[0]), _lang(keys[1])
        )
    raise BabelmillError(f"{where}: expected a 'translation' column, 'src'/'tgt', two language columns or 'tokens'")


def _overlap(side: Sequence[Any], sources: Sequence[Tokens], tokenize: Callable[[str], Tokens]) -> float:
    """Share of a side's words that occur in the labelled sentences (first 200 pairs)."""
    hits = total = 0
    for text, src in zip(side[:200], sources[:200]):
        words = {w.lower() for w in (text if isinstance(text, list) else tokenize(text or ""))}
        ref = {w.lower() for w in src}
        hits += len(words & ref)
        total += max(1, len(words))
    return hits / max(1, total)


def target_side(
    sides: Sides,
    src: str,
    tgt: str,
    tokenize: Callable[[str], Tokens],
    sources: Sequence[Tokens] | None = None,
    pretokenized: bool = False,
) -> tuple[list[Tokens], list[Tokens] | None]:
    """(target tokens, other side's tokens or None) of a resource, in its order.

    Two sides: the one named ``tgt`` (or not named ``src``) is the target; with no
    names, the side sharing fewer words with ``sources`` (the labelled sentences), or,
    without them, the second column.  ``pretokenized``: text is split on whitespace
    instead of the target language's tokenizer.
    """
    split = (lambda s: (s or "").split()) if pretokenized else tokenize

    def toks(side: Sequence[Any], fn: Callable[[str], Tokens]) -> list[Tokens]:
        return [list(x) if isinstance(x, list) else [w for w in fn(x or "") if w.strip()] for x in side]

    if sides.b is None:
        return toks(sides.a, split), None
    a_is_tgt: bool
    if tgt in (sides.lang_a, sides.lang_b) or src in (sides.lang_a, sides.lang_b):
        a_is_tgt = sides.lang_a == tgt or (sides.lang_b == src and sides.lang_a != src)
    elif sources:
        a_is_tgt = _overlap(sides.a, sources, tokenize) < _overlap(sides.b, sources, tokenize)
    else:
        a_is_tgt = False
    t, s = (sides.a, sides.b) if a_is_tgt else (sides.b, sides.a)
    return toks(t, split), toks(s, lambda x: x.split())


def input_ordinals(table: Any, quarantined: Sequence[Any]) -> list[int]:
    """Each labelled row's position among ALL input sentences (quarantined ones included),
    so row ``k`` pairs with target line ``k`` even when a broken sentence was set aside."""
    sources = table.column("source").to_pylist() if table.num_rows else []
    counts: dict[str, int] = {}
    for s in sources:
        counts[s] = counts.get(s, 0) + 1
    bad: dict[str, set[int]] = {}
    for q in quarantined:
        bad.setdefault(q.source, set()).add(int(q.record))
    order = list(dict.fromkeys(list(counts) + [q.source for q in quarantined]))
    offset, start, free = 0, {}, {}
    for s in order:
        n = counts.get(s, 0) + len(bad.get(s, ()))
        start[s] = offset
        free[s] = iter([k for k in range(n) if k not in bad.get(s, set())])
        offset += n
    return [start[s] + next(free[s]) for s in sources]


def read_extra(
    spec: str,
    src: str,
    tgt_langs: Sequence[str],
    tokenizers: dict[str, Callable[[str], Tokens]],
    pretokenized: bool = False,
) -> dict[str, list[tuple[Tokens, Tokens]]]:
    """``[LANG=]PATH[,PATH2]``: extra parallel sentences for eflomal, keyed by target
    language ("*" when no language is given: every target)."""
    lang, sep, rest = spec.partition("=")
    if sep and _lang(lang):
        key, paths = _lang(lang) or lang, rest
    else:
        key, paths = "*", spec
    sides = read_sides([p for p in paths.split(",") if p])
    if sides.b is None:
        raise BabelmillError(
            f"--extra-parallel {spec}: needs both sides (TSV, two Moses files, JSONL src/tgt or a translation dataset)"
        )
    out: dict[str, list[tuple[Tokens, Tokens]]] = {}
    for t in tgt_langs if key == "*" else [key]:
        tgt_tok, src_tok = target_side(sides, src, t, tokenizers[t], None, pretokenized)
        assert src_tok is not None
        src_tok = [list(s) for s in src_tok]
        if not sides.tokenized and not pretokenized:
            a_is_tgt = sides.lang_a == t or (sides.lang_b == src and sides.lang_a != src)
            raw = sides.b if a_is_tgt else sides.a
            src_tok = [tokenizers[src](x or "") for x in raw]
        out[t] = list(zip(src_tok, tgt_tok))
    return out
