"""Span projection: carry source entity spans onto target tokens through word links.

For each source entity the target words linked to it are collected; when they fall
apart into clusters (a stray link to a repeated function word) the cluster holding most
of the link mass is kept, and its contiguous closure becomes the target span.  Edges
are then cleaned (punctuation the source span does not have; sub-word pieces widened to
whole words), a span far longer than its source is refused, and overlapping spans are
resolved by confidence.  A name matcher fills in entities the alignment misses.

Every decision leaves a trace: per-entity details (source span, target span, method,
confidence) and sentence flags that a stage turns into drop reasons or keeps as flags.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from babelmill.processors.ner.spans import Span
from babelmill.processors.projection.names import NameMatcher

Link = tuple[int, int]

#: Quality flags a projection can raise, in the order a stage reports them.
FLAGS = (
    "entity_lost",  # a source entity has no target span
    "type_conflict",  # entities of different types claimed the same target words
    "span_too_long",  # a projected span exceeded the length cap and was refused
    "low_alignment_confidence",  # an entity's confidence is below the minimum
    "entity_count_mismatch",  # number of target spans != number of source spans
    "type_multiset_mismatch",  # the multiset of types differs between the two sides
)


def _is_punct(token: str) -> bool:
    return bool(token) and all(unicodedata.category(ch)[0] in "PS" for ch in token)


@dataclass(frozen=True)
class ProjectedEntity:
    """What happened to one source entity."""

    source: Span
    target: Span | None
    method: str  # "align", "name", or "lost"
    confidence: float

    def as_dict(self) -> dict:
        return {
            "label": self.source.label,
            "src_start": self.source.start,
            "src_end": self.source.end,
            "tgt_start": None if self.target is None else self.target.start,
            "tgt_end": None if self.target is None else self.target.end,
            "method": self.method,
            "confidence": round(self.confidence, 4),
        }


@dataclass
class Projection:
    spans: list[Span]
    entities: list[ProjectedEntity]
    flags: list[str] = field(default_factory=list)


@dataclass
class SpanProjector:
    """Projects spans through links (``{(i, j): confidence}`` or a plain link list)."""

    #: largest run of unlinked target words allowed inside one cluster of links
    max_gap: int = 3
    #: a target span may be at most ``max(length_ratio * source length, source length +
    #: length_slack)`` words long
    length_ratio: float = 2.0
    length_slack: int = 2
    #: entities whose confidence is below this are flagged ``low_alignment_confidence``
    #: (and refused when ``drop_low_confidence``)
    min_confidence: float = 0.3
    drop_low_confidence: bool = False
    #: direct matcher for entities the links miss (None: alignment only)
    name_matcher: NameMatcher | None = field(default_factory=NameMatcher)
    #: a name match at or above this similarity replaces an aligned span it overlaps
    name_override: float = 0.95
    #: strip edge punctuation the source entity does not have
    trim_punctuation: bool = True
    #: strip edge words held only by weak links (below this confidence; suits eflomal's
    #: direction-agreement confidences, inactive when no link reaches it) when the span has
    #: a stronger core: symmetrisation adds one-direction links to neighbouring words
    #: ("Strukturfonds darstellen"), which widen a span past the entity
    weak_edge: float = 1.0
    #: keep a weak lower-case edge word when it is the only link of a source word: right
    #: where lower-case words belong to names (Romance "Estados miembros"); off where
    #: common nouns are capitalised and lower-case edge words are verbs (see
    #: ``capitalised_share``)
    keep_sole_links: bool = True
    #: strip edge words linked more strongly to a word outside the source entity
    trim_elsewhere: bool = True
    #: ... but only while the span is longer than this many times the source span
    weak_floor: float = 0.0
    #: target-language function words (lower-cased, e.g. ``langs`` profile stopwords):
    #: stripped from span edges unless the source entity has the same word ("der
    #: Richtlinie" -> "Richtlinie", but "von Wogau" stays); a span of only such words
    #: is refused
    edge_stopwords: frozenset[str] = frozenset()
    #: ... except a stop-list word that is the best link of an entity word
    anchor_stopwords: bool = True
    #: target word pairs that form fixed expressions in the run's text (see
    #: ``collocations``): an unlinked word is added to a span whose edge it completes
    collocations: frozenset[tuple[str, str]] = frozenset()
    #: entity types whose one-word projection onto a lower-case word of a cased script
    #: becomes MISC: names are capitalised, so the target word is the derived adjective
    #: ("Belgium" -> "belgi", "Europe" -> "europäischen"), which CoNLL annotates MISC
    adjective_types: frozenset[str] = frozenset({"LOC", "ORG"})
    adjective_label: str = "MISC"
    #: source-language stop words (an entity word among them anchors nothing)
    source_stopwords: frozenset[str] = frozenset()
    #: entity types that are proper names in any cased script (persons): an aligned span of
    #: such an entity with no capitalised word (and no digit) in a cased target script is a
    #: link to a neighbouring common word ("Mr Monti" -> "pensi") and is refused, leaving
    #: the entity to the name matcher; caseless scripts are never refused
    cased_types: frozenset[str] = frozenset({"PER"})

    def project(
        self,
        src_tokens: Sequence[str],
        tgt_tokens: Sequence[str],
        src_spans: Sequence[Span],
        links: Mapping[Link, float] | Sequence[Link],
        tgt_word_ids: Sequence[int] | None = None,
    ) -> Projection:
        """Project ``src_spans``; ``tgt_word_ids`` maps sub-word target tokens to words so
        spans are widened to whole words."""
        conf = dict(links) if isinstance(links, Mapping) else {link: 1.0 for link in links}
        by_src: dict[int, list[tuple[int, float]]] = {}
        by_tgt: dict[int, list[tuple[int, float]]] = {}
        for (i, j), c in conf.items():
            if 0 <= i < len(src_tokens) and 0 <= j < len(tgt_tokens):
                by_src.setdefault(i, []).append((j, c))
                by_tgt.setdefault(j, []).append((i, c))
        candidates: list[tuple[Span, Span | None, str, float]] = []
        flags: set[str] = set()
        for span in src_spans:
            target, confidence = self._from_links(span, src_tokens, tgt_tokens, by_src, by_tgt, tgt_word_ids)
            method = "align"
            if (
                target is not None
                and span.label in self.cased_types
                and self._uncased(span, src_tokens, target, tgt_tokens)
            ):
                target, confidence = None, 0.0
            if target is not None and len(target) > self._cap(len(span)):
                flags.add("span_too_long")
                target, confidence = None, 0.0
            if target is not None and confidence < self.min_confidence:
                flags.add("low_alignment_confidence")
                if self.drop_low_confidence:
                    target, confidence = None, 0.0
            candidates.append((span, target, method, confidence))
        candidates = self._name_matches(src_tokens, tgt_tokens, candidates)
        entities, conflict = self._resolve(candidates)
        if self.adjective_types:
            entities = [self._adjective(e, tgt_tokens) for e in entities]
        if conflict:
            flags.add("type_conflict")
        spans = sorted(e.target for e in entities if e.target is not None)
        if any(e.target is None for e in entities):
            flags.add("entity_lost")
        if len(spans) != len(src_spans):
            flags.add("entity_count_mismatch")
        if Counter(s.label for s in spans) != Counter(s.label for s in src_spans):
            flags.add("type_multiset_mismatch")
        return Projection(spans, entities, [f for f in FLAGS if f in flags])

    def _adjective(self, entity: ProjectedEntity, tgt_tokens: Sequence[str]) -> ProjectedEntity:
        target = entity.target
        if (
            target is None
            or len(target) != 1
            or len(entity.source) != 1
            or entity.source.label not in self.adjective_types
        ):
            return entity
        word = tgt_tokens[target.start]
        if not (word[:1].islower() and word[:1].upper() != word[:1]):
            return entity
        return ProjectedEntity(
            entity.source, Span(target.start, target.end, self.adjective_label), entity.method, entity.confidence
        )

    @staticmethod
    def _uncased(span: Span, src_tokens: Sequence[str], target: Span, tgt_tokens: Sequence[str]) -> bool:
        """True when a capitalised source name lands on lower-case words only of a cased script."""

        def cased(word: str) -> bool:
            return any(ch.isupper() for ch in word)

        def lower_only(word: str) -> bool:
            return word[:1].islower() and word[:1].upper() != word[:1] and not any(ch.isdigit() for ch in word)

        words = tgt_tokens[target.start : target.end]
        return (
            any(cased(w) for w in src_tokens[span.start : span.end])
            and all(lower_only(w) or _is_punct(w) for w in words)
            and any(lower_only(w) for w in words)
        )

    def _cap(self, n: int) -> float:
        return max(self.length_ratio * n, n + self.length_slack)

    def _from_links(self, span, src_tokens, tgt_tokens, by_src, by_tgt, word_ids) -> tuple[Span | None, float]:
        mass: Counter[int] = Counter()
        for i in range(span.start, span.end):
            for j, c in by_src.get(i, ()):
                mass[j] += c
        if not mass:
            return None, 0.0
        # clusters of linked target words separated by more than max_gap unlinked words
        clusters: list[list[int]] = []
        for j in sorted(mass):
            if clusters and j - clusters[-1][-1] - 1 <= self.max_gap:
                clusters[-1].append(j)
            else:
                clusters.append([j])
        best = max(clusters, key=lambda c: (sum(mass[j] for j in c), len(c), -c[0]))
        start, end = best[0], best[-1] + 1
        if self.trim_elsewhere:
            # an edge word linked more strongly to a word outside the source entity belongs
            # to that word ("Strukturfonds darstellen" where "darstellen" is "represent")
            def elsewhere(j: int) -> bool:
                inside = max((c for i, c in by_tgt.get(j, ()) if span.start <= i < span.end), default=0.0)
                outside = max((c for i, c in by_tgt.get(j, ()) if not span.start <= i < span.end), default=0.0)
                return outside > inside

            while end - start > 1 and elsewhere(start):
                start += 1
            while end - start > 1 and elsewhere(end - 1):
                end -= 1
        if self.weak_edge > 0:
            strength = {
                j: max(c for i in range(span.start, span.end) for jj, c in by_src.get(i, ()) if jj == j) for j in best
            }

            # a capitalised word in a cased script is kept: it is more likely part of
            # a name whose other words the aligner linked in one direction only
            # ... and so is a word that is the only link of some source word of the entity
            def sole(j: int) -> bool:
                return any(
                    all(jj == j for jj, _ in by_src.get(i, ()))
                    for i in range(span.start, span.end)
                    if any(jj == j for jj, _ in by_src.get(i, ()))
                )

            def weak(j: int) -> bool:
                if strength.get(j, 0.0) >= self.weak_edge or tgt_tokens[j][:1].isupper():
                    return False
                return not (self.keep_sole_links and sole(j))

            if any(v >= self.weak_edge for v in strength.values()):
                while end - start > self.weak_floor * len(span) and end - start > 1 and weak(start):
                    start += 1
                while end - start > self.weak_floor * len(span) and end - start > 1 and weak(end - 1):
                    end -= 1
        if self.trim_punctuation:
            src_first, src_last = src_tokens[span.start], src_tokens[span.end - 1]
            while end - start > 1 and _is_punct(tgt_tokens[start]) and not _is_punct(src_first):
                start += 1
            while end - start > 1 and _is_punct(tgt_tokens[end - 1]) and not _is_punct(src_last):
                end -= 1
        if self.edge_stopwords:
            own = {t.casefold() for t in src_tokens[span.start : span.end]}

            def anchored(j: int) -> bool:
                if not self.anchor_stopwords:
                    return False
                # a stop-list word that is the best link of an entity word is a content
                # word of this entity (stop lists hold "gruppo", "consiglio"), not a determiner
                for i, c in by_tgt.get(j, ()):
                    if (
                        span.start <= i < span.end
                        and c >= 1.0
                        and src_tokens[i][:1].isalnum()
                        and (src_tokens[i][:1].isupper() or src_tokens[i].casefold() not in self.source_stopwords)
                        and all(jj == j or cc < c for jj, cc in by_src[i])  # j is i's one best link
                    ):
                        return True
                return False

            def stop_word(j: int) -> bool:
                tok = tgt_tokens[j]
                word = tok.casefold().rstrip("'’")  # elided articles: "dell'", "l’"
                return not tok[:1].isupper() and (word in self.edge_stopwords or not word) and word not in own

            def stop(j: int) -> bool:
                return stop_word(j) and not anchored(j)

            if all(stop_word(j) or _is_punct(tgt_tokens[j]) for j in range(start, end)):
                return None, 0.0
            while end - start > 1 and stop(start):
                start += 1
            while end - start > 1 and stop(end - 1):
                end -= 1
        if self.collocations:
            # a word the aligner left unlinked that forms a fixed expression with the
            # span's edge word belongs to it ("EU" -> "Unione" + "europea", "UK" -> "Regno" + "Unito")
            while (
                end < len(tgt_tokens)
                and not by_tgt.get(end)
                and (tgt_tokens[end - 1], tgt_tokens[end]) in self.collocations
            ):
                end += 1
            while (
                start > 0
                and not by_tgt.get(start - 1)
                and (tgt_tokens[start - 1], tgt_tokens[start]) in self.collocations
            ):
                start -= 1
        if word_ids is not None:  # sub-word merge: widen to whole words
            first, last = word_ids[start], word_ids[end - 1]
            while start > 0 and word_ids[start - 1] == first:
                start -= 1
            while end < len(word_ids) and word_ids[end] == last:
                end += 1
        covered = sum(1 for i in range(span.start, span.end) if by_src.get(i))
        link_conf = sum(mass[j] for j in best) / max(
            1, sum(1 for i in range(span.start, span.end) for _ in by_src.get(i, ()))
        )
        confidence = min(1.0, link_conf) * covered / len(span)
        return Span(start, end, span.label), confidence

    def _name_matches(self, src_tokens, tgt_tokens, candidates):
        if self.name_matcher is None:
            return candidates
        out = []
        for span, target, method, confidence in candidates:
            if target is None or confidence < max(self.min_confidence, 0.5):
                taken = [False] * len(tgt_tokens)
                for other_span, other, _, _ in candidates:
                    if other is not None and other_span != span:
                        for j in range(other.start, other.end):
                            taken[j] = True
                match = self.name_matcher.find(src_tokens[span.start : span.end], tgt_tokens, taken)
                if match is not None:
                    out.append((span, Span(match[0], match[1], span.label), "name", match[2]))
                    continue
            elif self.name_override < 1.0:
                match = self.name_matcher.find(src_tokens[span.start : span.end], tgt_tokens)
                if (
                    match is not None
                    and match[2] >= self.name_override
                    and match[0] < target.end
                    and target.start < match[1]
                    and (match[0], match[1]) != (target.start, target.end)
                ):
                    out.append((span, Span(match[0], match[1], span.label), "name", match[2]))
                    continue
            out.append((span, target, method, confidence))
        return out

    def _resolve(self, candidates) -> tuple[list[ProjectedEntity], bool]:
        """Overlapping target spans: the more confident keeps its words, the other is
        trimmed to what remains on one side (or lost)."""
        order = sorted(range(len(candidates)), key=lambda k: -candidates[k][3])
        taken: dict[int, str] = {}
        result: list[ProjectedEntity | None] = [None] * len(candidates)
        conflict = False
        for k in order:
            span, target, method, confidence = candidates[k]
            if target is not None:
                clash = [j for j in range(target.start, target.end) if j in taken]
                if clash:
                    conflict |= any(taken[j] != span.label for j in clash)
                    target = self._trim(target, taken)
            if target is None:
                result[k] = ProjectedEntity(span, None, "lost", 0.0)
                continue
            for j in range(target.start, target.end):
                taken[j] = span.label
            result[k] = ProjectedEntity(span, target, method, confidence)
        return [e for e in result if e is not None], conflict

    @staticmethod
    def _trim(target: Span, taken: Mapping[int, str]) -> Span | None:
        free = [j for j in range(target.start, target.end) if j not in taken]
        if not free:
            return None
        # the longest free run inside the span
        runs: list[list[int]] = []
        for j in free:
            if runs and j == runs[-1][-1] + 1:
                runs[-1].append(j)
            else:
                runs.append([j])
        run = max(runs, key=len)
        return Span(run[0], run[-1] + 1, target.label)


def capitalised_share(sentences: Sequence[Sequence[str]]) -> float:
    """Share of capitalised words among alphabetic non-initial words of a corpus.

    Around 0.1 in English, Spanish or Italian, above 0.25 where all nouns are capitalised
    (German): a lower-case word next to a name then is rarely part of it.
    """
    cap = total = 0
    for sent in sentences:
        for tok in sent[1:]:
            if tok[:1].isalpha() and (tok[:1].isupper() or tok[:1].islower()):
                total += 1
                cap += tok[:1].isupper()
    return cap / total if total else 0.0


def collocations(
    sentences: Sequence[Sequence[str]],
    stopwords: frozenset[str] = frozenset(),
    min_count: int = 3,
    min_dice: float = 0.5,
) -> frozenset[tuple[str, str]]:
    """Adjacent word pairs that nearly always occur together in ``sentences`` (Dice
    coefficient of the pair against its two words), neither a stop word nor punctuation:
    the multi-word names of a corpus ("Regno Unito", "Unione europea")."""
    words: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    for sent in sentences:
        words.update(sent)
        pairs.update(zip(sent, sent[1:]))

    def content(tok: str) -> bool:
        return tok[:1].isalnum() and tok.casefold() not in stopwords

    return frozenset(
        (a, b)
        for (a, b), n in pairs.items()
        if n >= min_count and content(a) and content(b) and 2 * n / (words[a] + words[b]) >= min_dice
    )


def projector_for(
    lang: str, tgt_sentences: Sequence[Sequence[str]], src_lang: str = "en", **overrides
) -> SpanProjector:
    """The ``align`` method's projector for target language ``lang``: stop words of both
    languages from ``langs`` and the capitalisation rule measured on the run's own target text."""
    from babelmill.langs import profiles

    stop = profiles.get(lang).stopwords
    settings = {
        "edge_stopwords": stop,
        "collocations": collocations(tgt_sentences, stop),
        "source_stopwords": profiles.get(src_lang).stopwords,
        "keep_sole_links": capitalised_share(tgt_sentences) < 0.2,
    }
    settings.update(overrides)
    return SpanProjector(**settings)
