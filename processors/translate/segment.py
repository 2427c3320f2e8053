"""Sentence splitting for translation units.

MT models are trained on sentences; long inputs get truncated or drift, so text is cut
into sentences before translation.  pysbd (rule-based, handles abbreviations) is used
for the languages it supports; the others fall back to a regex on the sentence
terminals of the language's script from ``langs`` (``।`` for Hindi and Bengali, ``。``
for Chinese, ``؟`` for Arabic ...).

Splitting returns character spans so that the caller keeps the exact whitespace between
sentences and can rebuild the text byte for byte.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from pysbd.languages import LANGUAGE_CODES as _PYSBD_CODES

from babelmill import langs

#: Terminals used when ``langs`` has no profile for a code: the common ones of several
#: scripts (a Latin text never contains ``।`` so the union is harmless).
DEFAULT_TERMINALS = ".!?。！？।॥؟۔"
#: Terminals after which a split needs following whitespace (Latin-style full stops);
#: the others (CJK, Devanagari danda, Arabic question mark) end a sentence on their own.
_SPACED_TERMINALS = frozenset(".!?;")
#: Closing quotes and brackets that stay with the sentence they end.
_CLOSERS = "\"'”’»)]}」』"
_OPENERS = "\"'“‘«([{「『"


@functools.lru_cache(maxsize=512)
def profile(lang: str) -> langs.LanguageProfile | None:
    """The ``langs`` profile of a code, or None for a code ``langs`` does not know."""
    try:
        return langs.get(lang)
    except langs.UnknownLanguageError:
        return None


def language_code(lang: str) -> str:
    """babelmill's short code for ``lang`` (``"swh_Latn"`` -> ``"sw"``); ``lang`` itself if unknown."""
    p = profile(lang)
    return p.code if p is not None else lang


def terminals(lang: str) -> str:
    """Characters that end a sentence in ``lang``'s script."""
    p = profile(lang)
    return (p.sentence_terminals if p is not None else "") or DEFAULT_TERMINALS


#: Languages written without spaces between words, for when ``langs`` has no profile.
_UNSPACED = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo", "yue", "wuu", "dz"})


def spaced(lang: str) -> bool:
    """Whether ``lang`` separates words (and sentences) with spaces."""
    p = profile(lang)
    return p.spaced if p is not None else lang not in _UNSPACED


def _pysbd_code(lang: str) -> str | None:
    p = profile(lang)
    for code in (p.iso1 if p is not None else None, p.code if p is not None else None, lang):
        if code and code in _PYSBD_CODES:
            return code
    return None


@functools.lru_cache(maxsize=64)
def _segmenter(code: str) -> Any:
    import pysbd

    return pysbd.Segmenter(language=code, clean=False)


@functools.lru_cache(maxsize=256)
def _terminal_class(chars: str) -> re.Pattern[str]:
    return re.compile(f"[{re.escape(chars)}]")


@functools.lru_cache(maxsize=256)
def _terminal_regex(chars: str) -> re.Pattern[str]:
    return re.compile(f"[{re.escape(chars)}]+[{re.escape(_CLOSERS)}]*")


def _candidate_cuts(text: str, chars: str) -> list[tuple[int, int]]:
    """``(cut, terminal_start)`` after each run of terminals that may end a sentence.

    A Latin-style terminal counts only when whitespace follows and the next word does
    not start in lower case; script-specific ones (``。``, ``।``, ``؟``) always do.
    """
    cuts = []
    for m in _terminal_regex(chars).finditer(text):
        end = m.end()
        if end >= len(text):
            break
        last = m.group().rstrip(_CLOSERS)[-1]
        if last in _SPACED_TERMINALS:
            if not text[end].isspace():
                continue
            rest = text[end:].lstrip()
            if rest and rest[0].islower():
                continue
        cuts.append((end, m.start()))
    return cuts


_WORD_BEFORE = re.compile(r"(\S+)$")


@functools.lru_cache(maxsize=64)
def _abbreviations(code: str) -> frozenset[str]:
    """pysbd's abbreviations for a language, lower-cased, without their final period."""
    lang = _PYSBD_CODES[code]
    abbr = getattr(lang, "Abbreviation", None)
    names = ("ABBREVIATIONS", "PREPOSITIVE_ABBREVIATIONS", "NUMBER_ABBREVIATIONS")
    return frozenset(a.lower().rstrip(".") for name in names for a in (getattr(abbr, name, None) or ()))


def _ambiguous(text: str, cuts: list[tuple[int, int]], abbreviations: frozenset[str]) -> bool:
    """Whether a full stop among the cuts may be an abbreviation, initial, number or ellipsis."""
    for end, start in cuts:
        run = text[start:end].rstrip(_CLOSERS)
        if run[-1] != ".":
            continue
        if len(run) > 1:
            return True  # "..." or "?." : let the rules decide
        m = _WORD_BEFORE.search(text, 0, start)
        word = (m.group(1) if m else "").lstrip(_OPENERS)
        if not word or "." in word or len(word) == 1 or word[-1].isdigit() or word.lower() in abbreviations:
            return True
    return False


def _spans_from_cuts(text: str, cuts: list[int]) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for cut in cuts + [len(text)]:
        s, e = _trim(text, start, cut)
        if s < e:
            spans.append((s, e))
        start = cut
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _pysbd_spans(text: str, code: str) -> list[tuple[int, int]] | None:
    """pysbd's sentences aligned back onto ``text``; None if they do not align.

    Calls pysbd's processor directly: ``Segmenter.segment`` would align the sentences
    itself by compiling one regex per sentence, slower than the splitting.
    """
    spans = []
    cursor = 0
    segmenter = _segmenter(code)
    for seg in segmenter.processor(text).process():
        seg = seg.strip()
        if not seg:
            continue
        at = text.find(seg, cursor)
        if at < 0 or text[cursor:at].strip():
            return None  # pysbd changed the text: do not trust its cuts
        spans.append((at, at + len(seg)))
        cursor = at + len(seg)
    if text[cursor:].strip():
        return None
    return spans


def sentence_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence in ``text``, whitespace around sentences excluded.

    The terminal regex finds the candidate boundaries.  pysbd (several ms per call) is
    asked only when one of them is a full stop that might not end a sentence (after an
    abbreviation it knows, an initial, a number, an ellipsis); the clear cases, most of
    them, never reach it.
    """
    start, end = _trim(text, 0, len(text))
    if start == end:
        return []
    chars = terminals(lang)
    if not _terminal_class(chars).search(text, start, end - 1):
        return [(start, end)]  # one sentence: the common case for short turns
    cuts = _candidate_cuts(text, chars)
    code = _pysbd_code(lang)
    if code is not None and _ambiguous(text, cuts, _abbreviations(code)):
        spans = _pysbd_spans(text, code)
        if spans is not None:
            return spans
    return _spans_from_cuts(text, [c for c, _ in cuts])


def split_sentences(text: str, lang: str) -> list[str]:
    """The sentences of ``text`` (surrounding whitespace removed)."""
    return [text[s:e] for s, e in sentence_spans(text, lang)]


_CLAUSE = re.compile(r"[,;:،、，；：]\s*")
_SPACE = re.compile(r"\s+")


def split_long(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Cut an over-long sentence into pieces of at most ``max_chars`` characters.

    Cuts after the last clause punctuation in the second half of the window or, failing
    that, at the last space; a piece with neither is cut hard.  MT models truncate long
    inputs, so a cut sentence is better than a lost tail.
    """
    spans = []
    start = 0
    n = len(text)
    while n - start > max_chars:
        window = text[start : start + max_chars]
        cut = max((m.end() for m in _CLAUSE.finditer(window)), default=0)
        if cut < max_chars // 2:
            cut = max((m.end() for m in _SPACE.finditer(window) if m.start() > 0), default=0) or max_chars
        s, e = _trim(text, start, start + cut)
        if s < e:
            spans.append((s, e))
        start += cut
    s, e = _trim(text, start, n)
    if s < e:
        spans.append((s, e))
    return spans
