"""One reader for every parallel input: the rows of code-switching and interleaving.

The runner's readers turn files into document rows; ``ParallelParser`` turns those into
parallel rows, whatever the input was:

* JSONL / Parquet records with ``src`` and ``tgt`` (or ``src_text`` / ``tgt_text``)
  strings, optional ``src_lang`` / ``tgt_lang`` / ``alignment`` (Pharaoh pairs);
* a Hugging Face translation dataset: a ``translation: {en: ..., sw: ...}`` column;
* the output of ``babelmill instruct translate``: the source conversation (rebuilt from
  ``original`` and ``format``) against the translated ``messages``, turn by turn;
* TSV lines ``src<TAB>tgt[<TAB>alignment]`` (text input);
* two Moses files ``PREFIX.src`` / ``PREFIX.tgt``: the source file is read as text lines and
  each line is paired with the same line of the target file (``moses``: source input name
  -> target path; the line counts are checked before a run starts: :func:`check_moses`);
* monolingual input where a mode allows it (``dictionary`` and ``translate``
  switching): records with a ``text`` field, or instruction records (Alpaca, ShareGPT,
  messages) switched turn by turn.

Rows get ``src_segments`` / ``tgt_segments`` (one string per text or per turn), ``roles``
(conversations), ``src_text`` / ``tgt_text`` (segments joined by a blank line),
``src_lang``, ``tgt_lang``, ``source_id`` and ``alignment``.  Misaligned input is
rejected with a reason, never zipped: ``empty_side``, ``turn_count_mismatch``,
``role_mismatch``, ``malformed_parallel`` (no usable field), ``no_target``
(monolingual input where the mode needs a target side).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pyarrow as pa
from babelmill.processors.base import Stage, set_drop_reason
from babelmill.processors.errors import BabelmillError
from babelmill.processors.io.readers import open_binary

PARALLEL_COLUMNS = (
    "src_segments",
    "tgt_segments",
    "roles",
    "src_text",
    "tgt_text",
    "src_lang",
    "tgt_lang",
    "source_id",
    "alignment",
)
_STR_LIST = pa.list_(pa.string())


@functools.lru_cache(maxsize=1024)
def _code(code: str) -> str:
    try:
        from babelmill import langs

        return langs.get(code).code
    except Exception:  # noqa: BLE001 - an unknown key is simply not a match
        return code.lower()


def _side(translation: dict[str, Any], lang: str) -> Any:
    """The value of ``translation`` for ``lang``, whatever code convention its keys use."""
    if lang in translation:
        return translation[lang]
    want = _code(lang)
    for key, value in translation.items():
        if _code(str(key)) == want:
            return value
    return None


def _moses_lines(path: str) -> list[bytes]:
    with open_binary(path) as fh:
        data = fh.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line.rstrip(b"\r") for line in lines]


def check_moses(pairs: dict[str, str]) -> int:
    """Refuse Moses file pairs whose line counts differ (one line, before Ray starts).

    Returns how many lines are blank on the source side only: the text reader skips
    blank lines, so those target lines cannot become rows (the caller warns).
    """
    lost = 0
    for src, tgt in pairs.items():
        for p in (src, tgt):
            if not Path(p).is_file():
                raise BabelmillError(f"Moses file {p} does not exist")
        a, b = _moses_lines(src), _moses_lines(tgt)
        if len(a) != len(b):
            raise BabelmillError(
                f"Moses files are not aligned: {src} has {len(a)} lines, {tgt} has {len(b)}; fix the pair or pass them as TSV/JSONL"
            )
        lost += sum(1 for x, y in zip(a, b) if not x.strip() and y.strip())
    return lost


class ParallelParser(Stage):
    """Document rows (record mode or text lines) to parallel rows; see the module doc."""

    name: ClassVar[str] = "parallel"
    reasons: ClassVar[tuple[str, ...]] = (
        "malformed_parallel",
        "turn_count_mismatch",
        "role_mismatch",
        "no_target",
        "empty_side",
    )

    def __init__(
        self,
        src: str,
        tgt: str,
        need_target: bool = True,
        moses: dict[str, tuple[str, str]] | None = None,
    ) -> None:
        self.src, self.tgt = src, tgt
        self.need_target = bool(need_target)
        #: source input name -> (source file, target file)
        self.moses = {k: tuple(v) for k, v in (moses or {}).items()}

    def setup(self) -> None:
        if self.moses and "_moses" not in self.__dict__:
            # The text reader numbers non-blank lines only: map that ordinal back to the
            # line number before looking the target line up.
            self._moses = {}
            for name, (src, tgt) in self.moses.items():
                lines = _moses_lines(tgt)
                kept = [i for i, line in enumerate(_moses_lines(src)) if line.strip()]
                self._moses[name] = [lines[i] for i in kept]

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_moses"}

    def _from_record(self, obj: Any) -> tuple[dict[str, Any] | None, str | None]:
        if not isinstance(obj, dict):
            return None, "malformed_parallel"
        # a record's own codes win (any convention: eng_Latn, swh, Swahili ...)
        src_lang = _code(obj["src_lang"]) if isinstance(obj.get("src_lang"), str) else self.src
        tgt_lang = _code(obj["tgt_lang"]) if isinstance(obj.get("tgt_lang"), str) else self.tgt
        align = obj.get("alignment") if isinstance(obj.get("alignment"), str) else None
        for s_key, t_key in (("src", "tgt"), ("src_text", "tgt_text"), ("source", "target")):
            if s_key in obj or t_key in obj:
                s, t = obj.get(s_key), obj.get(t_key)
                if not isinstance(s, str) or (t is not None and not isinstance(t, str)):
                    return None, "malformed_parallel"
                return {
                    "src": [s],
                    "tgt": None if t is None else [t],
                    "src_lang": src_lang,
                    "tgt_lang": tgt_lang,
                    "alignment": align,
                }, None
        tr = obj.get("translation")
        if isinstance(tr, dict):
            s, t = _side(tr, self.src), _side(tr, self.tgt)
            if not isinstance(s, str) or not isinstance(t, str):
                return None, "malformed_parallel"
            return {"src": [s], "tgt": [t], "src_lang": self.src, "tgt_lang": self.tgt, "alignment": align}, None
        from babelmill.processors.instruct.formats import FormatError, detect_format, to_messages

        if (
            isinstance(obj.get("messages"), list)
            and isinstance(obj.get("original"), str)
            and isinstance(obj.get("format"), str)
        ):
            try:
                source = to_messages(orjson.loads(obj["original"]), obj["format"])
            except (FormatError, orjson.JSONDecodeError, KeyError, TypeError):
                return None, "malformed_parallel"
            target = obj["messages"]
            if len(source) != len(target):
                return None, "turn_count_mismatch"
            if any(not isinstance(m, dict) or a["role"] != m.get("role") for a, m in zip(source, target)):
                return None, "role_mismatch"
            return {
                "src": [m["content"] for m in source],
                "tgt": [m.get("content") for m in target],
                "roles": [m["role"] for m in source],
                "src_lang": src_lang,
                "tgt_lang": tgt_lang,
                "source_id": obj.get("source_id"),
            }, None
        if isinstance(obj.get("text"), str):
            return {"src": [obj["text"]], "tgt": None, "src_lang": src_lang, "tgt_lang": tgt_lang}, None
        try:
            fmt = detect_format(obj)
            msgs = to_messages(obj, fmt)
        except (FormatError, KeyError, TypeError, ValueError):
            return None, "malformed_parallel"
        return {
            "src": [m["content"] for m in msgs],
            "tgt": None,
            "roles": [m["role"] for m in msgs],
            "src_lang": src_lang,
            "tgt_lang": tgt_lang,
        }, None

    def _from_line(self, text: str, rid: str, source: str) -> tuple[dict[str, Any] | None, str | None]:
        if source in self.moses:
            ordinal = int(rid.rsplit(":", 1)[1])
            lines = self._moses.get(source, [])
            if ordinal >= len(lines):
                return None, "malformed_parallel"
            try:
                tgt = lines[ordinal].decode("utf-8")
            except UnicodeDecodeError:
                return None, "malformed_parallel"
            return {"src": [text], "tgt": [tgt], "src_lang": self.src, "tgt_lang": self.tgt}, None
        parts = text.split("\t")
        if len(parts) not in (2, 3):
            return None, "malformed_parallel"
        return {
            "src": [parts[0]],
            "tgt": [parts[1]],
            "src_lang": self.src,
            "tgt_lang": self.tgt,
            "alignment": parts[2] if len(parts) == 3 else None,
        }, None

    def __call__(self, batch: pa.Table) -> pa.Table:
        self.setup()
        n = batch.num_rows
        ids = batch.column("id").to_pylist()
        texts = batch.column("text").to_pylist() if "text" in batch.column_names else [""] * n
        metas = batch.column("meta").to_pylist() if "meta" in batch.column_names else [None] * n
        sources = batch.column("source").to_pylist() if "source" in batch.column_names else [""] * n
        cols: dict[str, list[Any]] = {k: [] for k in PARALLEL_COLUMNS}
        reasons: list[str | None] = []
        for rid, text, meta, source in zip(ids, texts, metas, sources):
            if text:
                row, why = self._from_line(text, rid, source or "")
            else:
                try:
                    row, why = self._from_record(orjson.loads(meta) if meta else {})
                except orjson.JSONDecodeError:
                    row, why = None, "malformed_parallel"
            if row is not None and why is None:
                if row["tgt"] is None and self.need_target:
                    why = "no_target"
                elif any(not (s or "").strip() for s in row["src"]) or (
                    row["tgt"] is not None and any(not (t or "").strip() for t in row["tgt"])
                ):
                    why = "empty_side"
            reasons.append(why)
            row = row or {}
            src, tgt = row.get("src"), row.get("tgt")
            cols["src_segments"].append(src)
            cols["tgt_segments"].append(tgt)
            cols["roles"].append(row.get("roles"))
            cols["src_text"].append(None if src is None else "\n\n".join(s or "" for s in src))
            cols["tgt_text"].append(None if tgt is None else "\n\n".join(t or "" for t in tgt))
            cols["src_lang"].append(row.get("src_lang", self.src))
            cols["tgt_lang"].append(row.get("tgt_lang", self.tgt))
            cols["source_id"].append(row.get("source_id") or rid)
            cols["alignment"].append(row.get("alignment"))
        out = batch
        types = {"src_segments": _STR_LIST, "tgt_segments": _STR_LIST, "roles": _STR_LIST}
        for name in PARALLEL_COLUMNS:
            arr = pa.array(cols[name], types.get(name, pa.string()))
            out = (
                out.set_column(out.column_names.index(name), name, arr)
                if name in out.column_names
                else out.append_column(name, arr)
            )
        return set_drop_reason(out, pa.array(reasons, pa.string()))


def sentence_pairs(
    src: Sequence[str], tgt: Sequence[str], src_lang: str, tgt_lang: str, unit: str = "sentence"
) -> tuple[list[str], list[str]] | None:
    """Aligned units of a document pair, or None when the two sides do not line up.

    ``paragraph``: blocks separated by blank lines (turns count as blocks); ``sentence``:
    the non-empty lines when both sides have the same number of them, else sentences
    from the segmenter.  Never zipped: unequal counts are None.
    """
    import re

    from babelmill.processors.translate.segment import split_sentences

    def paragraphs(segs: Sequence[str]) -> list[str]:
        return [p.strip() for s in segs for p in re.split(r"\n\s*\n", s) if p.strip()]

    ps, pt = paragraphs(src), paragraphs(tgt)
    if unit == "paragraph":
        return (ps, pt) if len(ps) == len(pt) and ps else None
    ls = [x.strip() for p in ps for x in p.split("\n") if x.strip()]
    lt = [x.strip() for p in pt for x in p.split("\n") if x.strip()]
    if len(ls) == len(lt) and ls:
        if len(ls) > 1:
            return ls, lt
    ss = [x for line in ls for x in split_sentences(line, src_lang)]
    st = [x for line in lt for x in split_sentences(line, tgt_lang)]
    if len(ss) == len(st) and ss:
        return ss, st
    if len(ls) == len(lt) and ls:
        return ls, lt
    return None
