"""Marker projection (EasyProject style): wrap each entity in markers, translate, and read
the markers back out of the translation.

Three stages, so that the model call sits alone in the one stateful stage:

* :class:`MarkerInserter` writes the source sentence with every entity wrapped in a
  marker pair (``[Paris]``; square brackets by default, several pairs possible) and the
  entity strings, which are translated separately;
* :class:`MarkerTranslator` translates both through the CTranslate2 engine;
* :class:`MarkerProjector` parses the markers out of the translation, tokenises the
  clean target text with the target language's tokenizer, and gives every target span
  the label of the source entity it stands for.

The MT output does not always keep the markers intact.  Each failure is handled and
counted: *nested* markers keep the outermost span; *unbalanced* ones are removed;
*reordered* spans (adjective-noun order, a moved subject) are matched to source entities
by fuzzy similarity against the separately translated entity string (and the source
string, for names copied as they are), with the source order as the tie-breaker;
*duplicated* spans (an entity the translation mentions twice) take the label of the
entity they repeat; *lost* entities are searched for in the clean translation by fuzzy
match and dropped with ``entity_lost`` when not found; spans that match no entity make
the row ``marker_mismatch``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import pyarrow as pa
from rapidfuzz import fuzz

from babelmill.processors.base import DROP_REASON, Resources, Stage, set_drop_reason
from babelmill.processors.ner.spans import Span, iob2_from_spans, spans_from_iob2
from babelmill.processors.schema import PROJECTION_TYPE

DEFAULT_MARKERS: tuple[tuple[str, str], ...] = (("[", "]"),)
#: Replacements for marker characters that occur in the source text itself, so that the
#: parser sees only the markers we inserted.
_LOOKALIKES = {"[": "(", "]": ")", "{": "(", "}": ")", "<": "(", ">": ")"}
METHOD = "markers"


def _check_pairs(pairs: Sequence[Sequence[str]]) -> tuple[tuple[str, str], ...]:
    out = tuple((str(o), str(c)) for o, c in pairs)
    if not out:
        raise ValueError("at least one marker pair is needed")
    strings = [s for pair in out for s in pair]
    if any(not s or s.isspace() for s in strings) or len(set(strings)) != len(strings):
        raise ValueError(f"marker strings must be non-empty and all different: {out}")
    return out


# --------------------------------------------------------------------------- insert


#: Tokens written without a space before them (closing punctuation, English clitics).
_NO_SPACE_BEFORE = re.compile(r"^(?:[,.;:!?%)\]}”’»…、。，！？；：」』）]+|'(?:s|re|ve|ll|d|m)|n't)$", re.IGNORECASE)
#: Tokens written without a space after them (opening punctuation, currency).
_NO_SPACE_AFTER = re.compile(r"^[(\[{“‘«¿¡$£€¥「『（]+$")


def join_tokens(words: Sequence[str], raw: Sequence[str] | None = None, spaced: bool = True) -> str:
    """Tokens as running text, the way the MT model saw text in training: no space before
    closing punctuation or after opening punctuation, none at all in unspaced scripts.
    ``raw`` are the tokens without markers, which decide the spacing."""
    raw = raw if raw is not None else words
    if not spaced:
        return "".join(words)
    out: list[str] = []
    for k, (word, tok) in enumerate(zip(words, raw)):
        if k and not _NO_SPACE_BEFORE.match(tok) and not _NO_SPACE_AFTER.match(raw[k - 1]):
            out.append(" ")
        out.append(word)
    return "".join(out)


def marked_sentence(
    tokens: Sequence[str],
    spans: Sequence[Span],
    pairs: Sequence[tuple[str, str]] = DEFAULT_MARKERS,
    detokenize: bool = False,
    spaced: bool = True,
) -> tuple[str, int]:
    """The sentence as text with entity ``i`` wrapped in ``pairs[i % len(pairs)]``, and
    how many marker characters in the tokens had to be replaced.  ``detokenize`` joins
    the tokens as running text (:func:`join_tokens`) instead of with single spaces."""
    marker_chars = {ch for pair in pairs for s in pair for ch in s}
    replaced = 0
    clean = []
    for tok in tokens:
        if any(ch in marker_chars for ch in tok):
            new = "".join(_LOOKALIKES.get(ch, "'") if ch in marker_chars else ch for ch in tok)
            replaced += sum(ch in marker_chars for ch in tok)
            tok = new
        clean.append(tok)
    words = list(clean)
    for i, span in enumerate(spans):
        open_, close = pairs[i % len(pairs)]
        words[span.start] = open_ + words[span.start]
        words[span.end - 1] = words[span.end - 1] + close
    if detokenize:
        return join_tokens(words, clean, spaced), replaced
    return " ".join(words), replaced


def _put(batch: pa.Table, name: str, column: Any) -> pa.Table:
    if name in batch.column_names:
        return batch.set_column(batch.column_names.index(name), name, column)
    return batch.append_column(name, column)


class MarkerInserter(Stage):
    """Adds ``mt_source`` (the sentence with each entity wrapped in markers) and
    ``mt_entities`` (the entity strings, in sentence order) to NER rows.

    With ``detokenize`` the tokens are joined as running text (no space before a comma,
    none at all in Chinese or Japanese), as MT models were trained on; the language is
    the row's ``src_lang`` or ``lang``, else ``src``.
    Marker characters already in a token are replaced by look-alikes first (counted as
    ``marker_chars_replaced``), so every marker in the output was put there by us.
    """

    name: ClassVar[str] = "insert_markers"

    def __init__(
        self, markers: Sequence[Sequence[str]] = DEFAULT_MARKERS, detokenize: bool = True, src: str = "en"
    ) -> None:
        self.markers = [list(p) for p in _check_pairs(markers)]
        self.detokenize = detokenize
        self.src = src

    def __call__(self, batch: pa.Table) -> pa.Table:
        import babelmill.langs as langs

        pairs = _check_pairs(self.markers)
        n = batch.num_rows
        lang_cols = [batch.column(c).to_pylist() for c in ("src_lang", "lang") if c in batch.column_names]
        row_langs = [next((col[i] for col in lang_cols if col[i]), self.src) for i in range(n)]
        spaced = {code: langs.get(code).spaced for code in set(row_langs)}
        sources, entities = [], []
        for tokens, tags, lang in zip(batch.column("tokens").to_pylist(), batch.column("tags").to_pylist(), row_langs):
            spans = spans_from_iob2(tags or [])
            text, replaced = marked_sentence(tokens or [], spans, pairs, self.detokenize, spaced[lang])
            if replaced:
                self.count("marker_chars_replaced", replaced)
            self.count("entities", len(spans))
            sources.append(text)
            entities.append(
                [
                    join_tokens(tokens[s.start : s.end], spaced=spaced[lang])
                    if self.detokenize
                    else " ".join(tokens[s.start : s.end])
                    for s in spans
                ]
            )
        batch = _put(batch, "mt_source", pa.array(sources, pa.string()))
        return _put(batch, "mt_entities", pa.array(entities, pa.list_(pa.string())))


# --------------------------------------------------------------------------- translate


def translate_texts(translator: Any, texts: Sequence[str], src: str, tgt: str) -> list[str]:
    """The one place marker projection calls the MT engine (``Translator.translate``)."""
    if not texts:
        return []
    return [r.text for r in translator.translate(list(texts), src, tgt)]


class MarkerTranslator(Stage):
    """Translates ``mt_source`` into ``mt_output`` and each of ``mt_entities`` into
    ``mt_entity_translations``, to the row's ``tgt_lang`` (or ``tgt``), from ``src_lang``
    (or ``src``).  One engine call per language pair and batch; the engine deduplicates.
    """

    name: ClassVar[str] = "translate_markers"
    stateful: ClassVar[bool] = True

    def __init__(self, spec: Any, src: str = "en", tgt: str | None = None) -> None:
        self.spec = spec
        self.src = src
        self.tgt = tgt
        res = getattr(spec, "resources", None)
        if res is not None:
            self.resources = Resources(*res) if not isinstance(res, Resources) else res  # type: ignore[misc]

    def config(self) -> dict[str, Any]:
        spec = dataclasses.asdict(self.spec) if dataclasses.is_dataclass(self.spec) else repr(self.spec)
        return {"spec": spec, "src": self.src, "tgt": self.tgt}

    def setup(self) -> None:
        self._translator = self.spec.build()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_translator"}

    @property
    def translator(self) -> Any:
        if "_translator" not in self.__dict__:
            self.setup()
        return self._translator

    def _column(self, batch: pa.Table, name: str, default: str | None) -> list[str]:
        values = batch.column(name).to_pylist() if name in batch.column_names else [None] * batch.num_rows
        out = [v or default for v in values]
        if any(v is None for v in out):
            raise ValueError(f"rows without {name} and no default language given")
        return out  # type: ignore[return-value]

    def __call__(self, batch: pa.Table) -> pa.Table:
        n = batch.num_rows
        srcs = self._column(batch, "src_lang", self.src)
        tgts = self._column(batch, "tgt_lang", self.tgt)
        sources = batch.column("mt_source").to_pylist()
        entities = batch.column("mt_entities").to_pylist()
        skip = batch.column(DROP_REASON).to_pylist() if DROP_REASON in batch.column_names else [None] * n
        outputs: list[str | None] = [None] * n
        ent_out: list[list[str] | None] = [None] * n
        groups: dict[tuple[str, str], list[int]] = {}
        for i in range(n):
            if skip[i] is None and sources[i] is not None:
                groups.setdefault((srcs[i], tgts[i]), []).append(i)
        for (src, tgt), rows in groups.items():
            flat = [e for i in rows for e in (entities[i] or [])]
            texts = translate_texts(self.translator, [sources[i] for i in rows] + flat, src, tgt)
            self.count("segments", len(rows) + len(flat))
            pos = len(rows)
            for k, i in enumerate(rows):
                outputs[i] = texts[k]
                m = len(entities[i] or [])
                ent_out[i] = texts[pos : pos + m]
                pos += m
        batch = _put(batch, "mt_output", pa.array(outputs, pa.string()))
        batch = _put(batch, "mt_entity_translations", pa.array(ent_out, pa.list_(pa.string())))
        if "tgt_lang" not in batch.column_names:
            batch = batch.append_column("tgt_lang", pa.array(tgts, pa.string()))
        if "src_lang" not in batch.column_names:
            batch = batch.append_column("src_lang", pa.array(srcs, pa.string()))
        return batch


# --------------------------------------------------------------------------- parse


@dataclasses.dataclass(frozen=True)
class MarkedSpan:
    """Characters ``start``-``end`` of the clean text were wrapped in marker pair ``pair``."""

    start: int
    end: int
    pair: int


@dataclasses.dataclass
class ParsedMarkers:
    """The translation without markers, the marked spans in text order, and the damage."""

    text: str
    spans: list[MarkedSpan]
    nested: int = 0
    unbalanced: int = 0
    empty: int = 0


@functools.lru_cache(maxsize=16)
def _marker_regex(pairs: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    strings = sorted({s for pair in pairs for s in pair}, key=len, reverse=True)
    return re.compile("|".join(re.escape(s) for s in strings))


def parse_markers(text: str, pairs: Sequence[Sequence[str]] = DEFAULT_MARKERS) -> ParsedMarkers:
    """Remove the markers from ``text`` and return the spans they enclosed.

    * nested pairs (``[[Bank of] America]``): the outermost span is kept, inner markers
      are dropped and counted as ``nested``;
    * a close with no open, an open never closed, or a close that skips open markers of
      another pair: those markers are dropped and counted as ``unbalanced``;
    * a pair that encloses only whitespace is dropped and counted as ``empty``.

    Span boundaries exclude surrounding whitespace.
    """
    pairs_t = _check_pairs(pairs)
    opens = {o: i for i, (o, _) in enumerate(pairs_t)}
    closes = {c: i for i, (_, c) in enumerate(pairs_t)}
    pieces: list[str] = []
    pos = 0  # length of the clean text so far
    stack: list[tuple[int, int, int]] = []  # (pair, clean start, open id)
    unclosed: set[int] = set()
    closed: list[tuple[int, int, int, tuple[int, ...]]] = []  # start, end, pair, enclosing open ids
    result = ParsedMarkers("", [])
    last = 0
    for number, m in enumerate(_marker_regex(pairs_t).finditer(text)):
        piece = text[last : m.start()]
        pieces.append(piece)
        pos += len(piece)
        last = m.end()
        marker = m.group(0)
        if marker in opens:
            stack.append((opens[marker], pos, number))
            continue
        pair = closes[marker]
        depth = next((k for k in range(len(stack) - 1, -1, -1) if stack[k][0] == pair), None)
        if depth is None:
            result.unbalanced += 1
            continue
        unclosed.update(e[2] for e in stack[depth + 1 :])  # opens of other pairs this close skips
        start = stack[depth][1]
        del stack[depth:]
        closed.append((start, pos, pair, tuple(e[2] for e in stack)))
    pieces.append(text[last:])
    unclosed.update(e[2] for e in stack)
    result.unbalanced += len(unclosed)
    clean = "".join(pieces)
    result.text = clean
    spans = []
    for start, end, pair, enclosing in closed:
        if not set(enclosing) <= unclosed:
            result.nested += 1  # inside a span that was closed: the outer one stands
            continue
        while start < end and clean[start].isspace():
            start += 1
        while end > start and clean[end - 1].isspace():
            end -= 1
        if start == end:
            result.empty += 1
            continue
        spans.append(MarkedSpan(start, end, pair))
    result.spans = _outermost(spans)
    return result


def _outermost(spans: list[MarkedSpan]) -> list[MarkedSpan]:
    """Spans in text order with any span inside an earlier-kept one removed."""
    out: list[MarkedSpan] = []
    for s in sorted(spans, key=lambda s: (s.start, -s.end)):
        if out and s.start < out[-1].end:
            continue
        out.append(s)
    return out


# --------------------------------------------------------------------------- tokens


def tokenize_with_spans(
    text: str, char_spans: Sequence[tuple[int, int]], tokenize: Callable[[str], list[str]]
) -> tuple[list[str], list[tuple[int, int]]]:
    """Tokens of ``text`` and the token range of each character span.

    The text is cut at every span boundary and each piece tokenised on its own, so a
    span always starts and ends on a token boundary, whatever the tokenizer does.
    """
    cuts = sorted({0, len(text), *[b for s in char_spans for b in s]})
    tokens: list[str] = []
    starts: dict[int, int] = {}
    for a, b in zip(cuts, cuts[1:]):
        starts[a] = len(tokens)
        tokens.extend(t for t in tokenize(text[a:b]) if t.strip())
    starts[len(text)] = len(tokens)
    return tokens, [(starts[a], starts[b]) for a, b in char_spans]


# --------------------------------------------------------------------------- assign


def similarity(a: str, b: str) -> float:
    """Normalised Indel similarity of two strings (0-1), case-insensitive."""
    if not a or not b:
        return 0.0
    return fuzz.ratio(a.casefold(), b.casefold()) / 100.0


def assign_spans(
    span_texts: Sequence[str],
    span_pairs: Sequence[int],
    entity_texts: Sequence[Sequence[str]],
    n_pairs: int = 1,
    order_weight: float = 0.05,
) -> list[tuple[int, int, float]]:
    """Match target spans to source entities: ``(span, entity, similarity)`` triples.

    The score of a pairing is the best similarity of the span text with any of the
    entity's strings (its separate translation, its source form) plus ``order_weight``
    when the span and the entity have the same rank, so that order decides between
    equally similar candidates.  With several marker pairs a span may only take an
    entity marked with the same pair.  The best one-to-one assignment is found with the
    Hungarian algorithm.
    """
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    ns, ne = len(span_texts), len(entity_texts)
    if not ns or not ne:
        return []
    sim = np.zeros((ns, ne))
    for i, text in enumerate(span_texts):
        for j, options in enumerate(entity_texts):
            sim[i, j] = max((similarity(text, o) for o in options if o), default=0.0)
    score = sim.copy()
    for k in range(min(ns, ne)):
        score[k, k] += order_weight
    if n_pairs > 1:
        for i in range(ns):
            for j in range(ne):
                if span_pairs[i] != j % n_pairs:
                    score[i, j] -= 10.0
    rows, cols = linear_sum_assignment(-score)
    return [
        (int(i), int(j), float(sim[i, j])) for i, j in zip(rows, cols) if n_pairs == 1 or span_pairs[i] == j % n_pairs
    ]


def fuzzy_find(
    text: str, needles: Sequence[str], taken: Sequence[tuple[int, int]], threshold: float, spaced: bool
) -> tuple[int, int, float] | None:
    """The best fuzzy occurrence of any needle in ``text`` outside the ``taken`` ranges,
    snapped to word boundaries in spaced scripts; None below ``threshold``."""
    masked = list(text.casefold())
    for a, b in taken:
        masked[a:b] = ["\x00"] * (b - a)
    hay = "".join(masked)
    best: tuple[int, int, float] | None = None
    for needle in needles:
        if not needle or not needle.strip():
            continue
        res = fuzz.partial_ratio_alignment(needle.casefold(), hay)
        if res is None or res.score / 100.0 < threshold:
            continue
        start, end = res.dest_start, res.dest_end
        if spaced:
            while start > 0 and text[start - 1].isalnum():
                start -= 1
            while end < len(text) and text[end].isalnum():
                end += 1
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start == end or "\x00" in hay[start:end]:
            continue
        if best is None or res.score / 100.0 > best[2]:
            best = (start, end, res.score / 100.0)
    return best


@dataclasses.dataclass
class Projection:
    """One projected sentence: target tokens, IOB2 tags, per-entity details, and why it
    should be dropped (None when it is good)."""

    tokens: list[str]
    tags: list[str]
    details: list[dict[str, Any]]
    reason: str | None
    counts: dict[str, int]


def project_markers(
    src_tags: Sequence[str],
    mt_output: str,
    entity_translations: Sequence[str] | None,
    entity_sources: Sequence[str],
    tokenize: Callable[[str], list[str]],
    pairs: Sequence[Sequence[str]] = DEFAULT_MARKERS,
    spaced: bool = True,
    duplicate_threshold: float = 0.8,
    recover_threshold: float = 0.85,
    min_confidence: float = 0.0,
    max_span_ratio: float | None = 3.0,
) -> Projection:
    """Project one sentence's entities onto its marked translation (see the module doc).

    A target span longer than ``max_span_ratio`` times its source entity (and at least
    two tokens longer) makes the row ``span_too_long``: markers that swallowed half the
    sentence are an MT failure, not an entity.
    """
    pairs_t = _check_pairs(pairs)
    src_spans = spans_from_iob2(src_tags)
    parsed = parse_markers(mt_output, pairs_t)
    text = parsed.text
    counts = {"marker_nested": parsed.nested, "marker_unbalanced": parsed.unbalanced, "marker_empty": parsed.empty}
    # candidate strings per entity: its separate translation (when there is one) and its source form
    translations = list(entity_translations or [])
    sources = list(entity_sources)
    options = [
        [translations[j] if j < len(translations) else "", sources[j] if j < len(sources) else ""]
        for j in range(len(src_spans))
    ]
    span_texts = [text[s.start : s.end] for s in parsed.spans]
    matches = assign_spans(span_texts, [s.pair for s in parsed.spans], options, len(pairs_t))
    # char span -> (entity index, method, confidence)
    chosen: dict[tuple[int, int], tuple[int, str, float]] = {}
    strong = {j for _, j, sim in matches if sim >= duplicate_threshold}
    kept = []
    for i, j, sim in matches:
        if sim < duplicate_threshold:
            # a weak match whose text repeats another, well-matched entity is that
            # entity's duplicate (and entity j was lost), not entity j
            alt = [(similarity(span_texts[i], o), k) for k in strong if k != j for o in options[k] if o]
            if alt and max(alt)[0] >= duplicate_threshold:
                continue
        kept.append((i, j, sim))
    matches = kept
    for i, j, sim in matches:
        chosen[(parsed.spans[i].start, parsed.spans[i].end)] = (j, METHOD, sim)
    matched_entities = {j for _, j, _ in matches}
    ordered = [j for _, j, _ in sorted(matches)]
    counts["marker_reordered"] = int(ordered != sorted(ordered))
    extra = 0
    for i, s in enumerate(parsed.spans):
        if (s.start, s.end) in chosen:
            continue
        # a span no entity took: a repeat of an assigned entity, or unexplained
        best_j, best = -1, 0.0
        for (a, b), (j, _, _) in list(chosen.items()):
            if (a, b) == (s.start, s.end):
                continue
            cand = max(similarity(span_texts[i], text[a:b]), *(similarity(span_texts[i], o) for o in options[j] if o))
            if cand > best:
                best_j, best = j, cand
        if best_j >= 0 and best >= duplicate_threshold:
            chosen[(s.start, s.end)] = (best_j, f"{METHOD}-duplicate", best)
            counts["marker_duplicated"] = counts.get("marker_duplicated", 0) + 1
        else:
            extra += 1
    counts["marker_extra"] = extra
    lost = 0
    for j in range(len(src_spans)):
        if j in matched_entities:
            continue
        found = fuzzy_find(text, options[j], list(chosen), recover_threshold, spaced)
        if found is None:
            lost += 1
            continue
        chosen[(found[0], found[1])] = (j, "fuzzy", found[2])
        counts["entity_recovered"] = counts.get("entity_recovered", 0) + 1
    counts["entity_lost"] = lost
    char_spans = sorted(chosen)
    tokens, token_spans = tokenize_with_spans(text, char_spans, tokenize)
    spans, details = [], []
    low = long_spans = 0
    for (a, b), (t0, t1) in zip(char_spans, token_spans):
        j, method, conf = chosen[(a, b)]
        if t1 <= t0:
            lost += 1  # a span of only characters the tokenizer drops
            continue
        src = src_spans[j]
        spans.append(Span(t0, t1, src.label))
        details.append(
            {
                "src_start": src.start,
                "src_end": src.end,
                "tgt_start": t0,
                "tgt_end": t1,
                "label": src.label,
                "method": method,
                "confidence": round(conf, 4),
            }
        )
        low += conf < min_confidence
        if max_span_ratio is not None and t1 - t0 > max(math.ceil(max_span_ratio * len(src)), len(src) + 2):
            long_spans += 1
    counts["entity_lost"] = lost
    counts["low_confidence"] = low
    counts["span_too_long"] = long_spans
    tags = iob2_from_spans(len(tokens), spans)
    reason = None
    if lost:
        reason = "entity_lost"
    elif extra:
        reason = "marker_mismatch"
    elif long_spans:
        reason = "span_too_long"
    elif low:
        reason = "low_confidence"
    elif not tokens:
        reason = "empty_translation"
    return Projection(tokens, tags, details, reason, {k: v for k, v in counts.items() if v})


class MarkerProjector(Stage):
    """Turns translated, marked rows into projected NER rows in the target language.

    Reads ``tokens``/``tags`` (source), ``mt_output``, ``mt_entity_translations``,
    ``tgt_lang``; writes target ``tokens``/``tags``, ``lang`` (= ``tgt_lang``), and, unless
    ``TargetExpander`` set them, ``source_id`` (the input ``id``) and ``id``
    (``<source id>#<tgt_lang>``); ``projection`` (per entity: source and
    target token span, label, method, confidence) and keeps the source sentence in
    ``src_tokens``/``src_tags``.  Drop reasons: ``entity_lost``, ``marker_mismatch``,
    ``span_too_long``, ``low_confidence``, ``empty_translation``.  Counters: ``entities``, ``projected``,
    ``lost`` (and ``entities_<TYPE>``/``projected_<TYPE>`` per entity type), and one per kind of marker damage (``marker_nested``, ``marker_unbalanced``,
    ``marker_reordered``, ``marker_duplicated``, ``marker_extra``, ``entity_recovered``).
    """

    name: ClassVar[str] = "project_markers"
    reasons: ClassVar[tuple[str, ...]] = (
        "entity_lost",
        "marker_mismatch",
        "span_too_long",
        "low_confidence",
        "empty_translation",
    )

    def __init__(
        self,
        markers: Sequence[Sequence[str]] = DEFAULT_MARKERS,
        tgt: str | None = None,
        duplicate_threshold: float = 0.8,
        recover_threshold: float = 0.85,
        min_confidence: float = 0.0,
        max_span_ratio: float | None = 3.0,
    ) -> None:
        self.markers = [list(p) for p in _check_pairs(markers)]
        self.tgt = tgt
        self.duplicate_threshold = duplicate_threshold
        self.recover_threshold = recover_threshold
        self.min_confidence = min_confidence
        self.max_span_ratio = max_span_ratio

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def _tokenizer(lang: str) -> tuple[Callable[[str], list[str]], bool]:
        import babelmill.langs as langs

        profile = langs.get(lang)
        return profile.word_tokenize, profile.spaced

    def __call__(self, batch: pa.Table) -> pa.Table:
        n = batch.num_rows
        cols = {
            c: batch.column(c).to_pylist()
            for c in ("id", "tokens", "tags", "mt_output", "mt_entity_translations")
            if c in batch.column_names
        }
        tgts = batch.column("tgt_lang").to_pylist() if "tgt_lang" in batch.column_names else [self.tgt] * n
        previous = batch.column(DROP_REASON).to_pylist() if DROP_REASON in batch.column_names else [None] * n
        # rows from TargetExpander already carry source_id and an id per target
        expanded = "source_id" in batch.column_names
        ids, tokens_out, tags_out, details_out, reasons = [], [], [], [], []
        for k in range(n):
            src_tokens, src_tags = cols["tokens"][k] or [], cols["tags"][k] or []
            tgt = tgts[k] or self.tgt
            ids.append(cols["id"][k] if expanded or not tgt else f"{cols['id'][k]}#{tgt}")
            output = cols["mt_output"][k]
            if previous[k] is not None or output is None or tgt is None:
                tokens_out.append(None)
                tags_out.append(None)
                details_out.append(None)
                reasons.append(None if previous[k] is not None else "empty_translation")
                continue
            tokenize, spaced = self._tokenizer(tgt)
            spans = spans_from_iob2(src_tags)
            result = project_markers(
                src_tags,
                output,
                cols["mt_entity_translations"][k],
                [" ".join(src_tokens[s.start : s.end]) for s in spans],
                tokenize,
                self.markers,  # type: ignore[arg-type]
                spaced,
                self.duplicate_threshold,
                self.recover_threshold,
                self.min_confidence,
                self.max_span_ratio,
            )
            projected = {(d["src_start"], d["src_end"]) for d in result.details}
            self.count("entities", len(spans))
            self.count("projected", len(projected))
            for span in spans:  # per type, for the projection rate of each type
                self.count(f"entities_{span.label}")
                if (span.start, span.end) in projected:
                    self.count(f"projected_{span.label}")
            self.count("lost", result.counts.get("entity_lost", 0))
            for key, v in result.counts.items():
                if key != "entity_lost":
                    self.count(key, v)
            tokens_out.append(result.tokens)
            tags_out.append(result.tags)
            details_out.append(result.details)
            reasons.append(result.reason)
        batch = _put(batch, "src_tokens", batch.column("tokens"))
        batch = _put(batch, "src_tags", batch.column("tags"))
        if not expanded:
            batch = batch.append_column("source_id", batch.column("id").cast(pa.string()))
        batch = _put(batch, "id", pa.array(ids, pa.string()))
        batch = _put(batch, "tokens", pa.array(tokens_out, pa.list_(pa.string())))
        batch = _put(batch, "tags", pa.array(tags_out, pa.list_(pa.string())))
        batch = _put(batch, "lang", pa.array(tgts, pa.string()))
        if "tgt_lang" not in batch.column_names:
            batch = batch.append_column("tgt_lang", pa.array(tgts, pa.string()))
        batch = _put(batch, "projection", pa.array(details_out, PROJECTION_TYPE))
        return set_drop_reason(batch, pa.array(reasons, pa.string()))
