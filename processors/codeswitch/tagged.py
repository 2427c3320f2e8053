"""Reading language-tagged text and measuring it (``babelmill codeswitch stats``).

Accepted input:

* ``word/lang`` tokens separated by spaces, one utterance per line (the label follows
  the last ``/``; a token without one, or ``word/`` with an empty label, is
  language-independent);
* JSONL objects with ``tokens`` and ``langs`` lists of equal length (``labels`` and
  ``lang_labels`` are accepted for ``langs``), one utterance per line;
* CoNLL-style columns (LinCE, CALCS and ICON shared tasks): ``token<TAB>label`` per line,
  a blank line between utterances, ``#`` comment lines skipped (detected when the first
  non-comment line has a tab);
* with ``lid=True``: plain untagged text, each word labelled by word-level fastText LID
  (``processors/lid``), restricted to ``lid_langs`` when given; tokens without a letter
  are ``univ``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import orjson

from babelmill.processors.codeswitch.metrics import (
    DEFAULT_INDEPENDENT,
    UtteranceMetrics,
    corpus_metrics,
    switch_density_histogram,
    utterance_metrics,
)
from babelmill.processors.errors import BabelmillError

_WORD = re.compile(r"\w+(?:['’\-]\w+)*|[^\w\s]")
_LETTER = re.compile(r"[^\W\d_]")


def parse_line(line: str) -> tuple[list[str], list[str]] | None:
    """Tokens and labels of one line (JSONL or ``word/lang``); None for a blank line."""
    line = line.strip()
    if not line:
        return None
    if line.startswith("{"):
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON: {exc}") from None
        toks = obj.get("tokens")
        labs = obj.get("langs", obj.get("labels", obj.get("lang_labels")))
        if not isinstance(toks, list) or not isinstance(labs, list) or len(toks) != len(labs):
            raise ValueError("JSONL needs 'tokens' and 'langs' lists of equal length")
        return [str(t) for t in toks], ["" if x is None else str(x) for x in labs]
    toks, labs = [], []
    for item in line.split():
        word, sep, lab = item.rpartition("/")
        if not sep or not word:
            toks.append(item)
            labs.append("")
        else:
            toks.append(word)
            labs.append(lab)
    return toks, labs


def _read_conll(fh: Iterable[str], path: str | Path) -> Iterator[tuple[list[str], list[str]]]:
    toks: list[str] = []
    labs: list[str] = []
    for no, line in enumerate(fh, 1):
        line = line.rstrip("\n\r")
        if not line.strip():
            if toks:
                yield toks, labs
            toks, labs = [], []
            continue
        if line.startswith("#") and "\t" not in line:
            continue
        cols = line.split("\t")
        if len(cols) < 2:
            raise BabelmillError(f"{path}:{no}: expected 'token<TAB>label' (CoNLL columns), got {line[:60]!r}")
        toks.append(cols[0])
        labs.append(cols[1].strip())
    if toks:
        yield toks, labs


def read_tagged(path: str | Path) -> Iterator[tuple[list[str], list[str]]]:
    p = Path(path)
    if not p.is_file():
        raise BabelmillError(f"{path} does not exist")
    with p.open(encoding="utf-8") as fh:
        first = next((line for line in fh if line.strip() and not (line.startswith("#") and "\t" not in line)), "")
    if "\t" in first and not first.lstrip().startswith("{"):
        with p.open(encoding="utf-8") as fh:
            yield from _read_conll(fh, path)
        return
    with p.open(encoding="utf-8") as fh:
        for no, line in enumerate(fh, 1):
            try:
                parsed = parse_line(line)
            except ValueError as exc:
                raise BabelmillError(f"{path}:{no}: {exc}") from None
            if parsed is not None:
                yield parsed


def tag_words(
    lines: Sequence[str], model_path: str | None = None, lid_langs: Sequence[str] | None = None
) -> list[tuple[list[str], list[str]]]:
    """Word-level LID: each word of each line labelled by fastText (one batched call)."""
    import polars as pl

    from babelmill.processors.lid import FastTextLanguageIdentifier

    lid = FastTextLanguageIdentifier(target_langs=None, top_k=10, model_path=model_path)
    lid.setup()
    allowed = None if not lid_langs else set(lid_langs)
    tokens = [[m.group() for m in _WORD.finditer(line)] for line in lines]
    words = [t for toks in tokens for t in toks if _LETTER.search(t)]
    labels_by_word: dict[str, str] = {}
    uniq = list(dict.fromkeys(words))
    if uniq:
        _, _, codes, _ = lid.predict(pl.Series(uniq), k=10)
        for w, cands in zip(uniq, codes.to_pylist()):
            cands = [c for c in cands if c]
            pick = next((c for c in cands if allowed is None or c in allowed), None)
            labels_by_word[w] = pick or "undef"
    return [(toks, [labels_by_word[t] if _LETTER.search(t) else "univ" for t in toks]) for toks in tokens]


def measure(
    utterances: Iterable[tuple[list[str], list[str]]], independent: Iterable[str] = DEFAULT_INDEPENDENT, bins: int = 20
) -> dict:
    """The corpus summary of ``codeswitch stats`` plus ``ratio_histogram`` for ``--match-stats``."""
    indep = frozenset(x.lower() for x in independent)
    per: list[UtteranceMetrics] = [utterance_metrics(labs, indep) for _, labs in utterances]
    out = corpus_metrics(per)
    out["ratio_histogram"] = switch_density_histogram(per, bins)
    out["independent_labels"] = sorted(indep)
    return out


def load_density(path: str | Path) -> list[float]:
    """The ``ratio_histogram`` of a ``codeswitch stats --json`` file."""
    p = Path(path)
    if not p.is_file():
        raise BabelmillError(f"--match-stats {path} does not exist")
    try:
        data = orjson.loads(p.read_bytes())
    except orjson.JSONDecodeError:
        raise BabelmillError(
            f"--match-stats {path} is not JSON (write it with `babelmill codeswitch stats FILE --json`)"
        ) from None
    hist = data.get("ratio_histogram") if isinstance(data, dict) else None
    if (
        not isinstance(hist, list)
        or not hist
        or not all(isinstance(x, (int, float)) and x >= 0 for x in hist)
        or sum(hist) <= 0
    ):
        raise BabelmillError(
            f"--match-stats {path} has no non-empty 'ratio_histogram' (write it with `babelmill codeswitch stats FILE --json`)"
        )
    return [float(x) for x in hist]
