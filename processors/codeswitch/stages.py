"""The code-switching stage: dictionary, align and translate modes.

Input rows come from :class:`~babelmill.processors.io.parallel.ParallelParser`
(``src_segments``, optional ``tgt_segments`` / ``alignment`` / ``roles``).  Each segment
(a text, or one turn of a conversation) is switched on its own; the row records the
target and achieved ratio, every switched span (source offsets, output offsets,
replacement, language, method) and the mixing metrics of the result.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Sequence
from typing import Any, ClassVar

import pyarrow as pa

from babelmill.processors.base import Stage, set_drop_reason
from babelmill.processors.codeswitch.core import (
    SPAN_TYPE,
    Switched,
    Unit,
    Word,
    apply_units,
    file_digest,
    joined_by_space,
    match_case,
    metrics_of,
    row_rng,
    select_units,
    source_side_labels,
    target_count,
    word_labels,
    words,
)
from babelmill.processors.codeswitch.lexicon import AlignmentError, Lexicon, extract_phrases, parse_alignment
from babelmill.processors.resources import Resources
from babelmill.processors.schema import MESSAGE_TYPE
from babelmill.processors.translate.core import translate_texts
from babelmill.processors.translate.segment import sentence_spans

MODES = ("dictionary", "align", "translate")
UNITS = ("word", "phrase")
#: longest phrase (in words) proposed by the translate mode's phrase unit
MT_PHRASE_WORDS = 3
_MARKED = re.compile(r"\[([^\[\]]+)\]")


def put(batch: pa.Table, name: str, column: Any) -> pa.Table:
    if name in batch.column_names:
        return batch.set_column(batch.column_names.index(name), name, column)
    return batch.append_column(name, column)


def sample_ratio(rng: Any, histogram: Sequence[float]) -> float:
    """A switch density drawn from a histogram over [0, 1] (bin by weight, then uniform)."""
    total = float(sum(histogram))
    cum, acc = [], 0.0
    for h in histogram:
        acc += h
        cum.append(acc)
    b = min(bisect.bisect_right(cum, rng.random() * total), len(histogram) - 1)
    return (b + rng.random()) / len(histogram)


class CodeSwitcher(Stage):
    """Replace a share of each row's source words by target-language words.

    * ``dictionary``: lexicon lookups (multi-word entries with ``unit="phrase"``), one
      lexicon per target language; with several targets each unit draws its language
      from those whose lexicon has it (multilingual / random-translation switching);
    * ``align``: alignment-consistent phrase pairs from the row's Pharaoh ``alignment``
      over whitespace tokens; the source phrase is replaced by the target phrase verbatim
      (``unit="word"``: one source word, whatever it links to);
    * ``translate``: units translated in context (the sentence with the unit in
      brackets; the bracketed output is taken), falling back to the unit alone when the
      model drops the brackets.

    ``ratio`` is the share of switchable source words to switch (``density``: a
    histogram over [0, 1] each row samples its own ratio from, ``--match-stats``).
    Drop reasons: ``missing_alignment``, ``malformed_alignment``, ``nothing_switched``
    (only with ``drop_unswitched``).  Counters: ``words``, ``switched_words``, ``units``,
    ``mt_context``, ``mt_isolated`` and the MT core's ``mt_chars``, ``mt_segments``,
    ``mt_cache_hits``, ``mt_units``.
    """

    name: ClassVar[str] = "codeswitch"
    reasons: ClassVar[tuple[str, ...]] = ("missing_alignment", "malformed_alignment", "nothing_switched")

    def __init__(
        self,
        mode: str,
        targets: Sequence[str],
        src: str = "en",
        ratio: float = 0.3,
        unit: str = "word",
        seed: int = 1,
        lexicons: dict[str, str] | None = None,
        induce: dict[str, str] | None = None,
        spec: Any = None,
        density: Sequence[float] | None = None,
        max_phrase: int = 4,
        drop_unswitched: bool = False,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
        self.mode, self.targets, self.src = mode, list(targets), src
        self.ratio, self.unit, self.seed = float(ratio), unit, int(seed)
        self.lexicons = dict(lexicons or {})
        #: target language -> word-aligned parallel file to induce its lexicon from
        self.induce = dict(induce or {})
        self.spec = spec
        self.density = list(density) if density else None
        self.max_phrase, self.drop_unswitched = int(max_phrase), bool(drop_unswitched)
        self.stateful = mode == "translate"  # type: ignore[misc]
        res = getattr(spec, "resources", None) if mode == "translate" else None
        if res is not None:
            self.resources = Resources(*res) if not isinstance(res, Resources) else res  # type: ignore[misc]

    def declared_reasons(self) -> tuple[str, ...]:
        """Alignment reasons in ``align`` mode only; ``nothing_switched`` only when asked."""
        return tuple(
            r
            for r in type(self).reasons
            if (self.mode == "align" or "alignment" not in r) and (self.drop_unswitched or r != "nothing_switched")
        )

    def config(self) -> dict[str, Any]:
        cfg = super().config()
        cfg["spec"] = dataclasses.asdict(self.spec) if dataclasses.is_dataclass(self.spec) else None
        cfg["files"] = {p: file_digest(p) for p in [*self.lexicons.values(), *self.induce.values()]}
        return cfg

    def setup(self) -> None:
        if self.mode == "dictionary" and "_lex" not in self.__dict__:
            from babelmill.processors.codeswitch.lexicon import induce_from_file

            self._lex = {lang: induce_from_file(path) for lang, path in self.induce.items()}
            self._lex.update({lang: Lexicon.from_file(path) for lang, path in self.lexicons.items()})
            self._induced = set(self.induce) - set(self.lexicons)
            self._keys = {k for lex in self._lex.values() for k in lex.keys()}
        if self.mode == "translate" and "_translator" not in self.__dict__:
            self._translator = self.spec.build()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("_translator", "_lex", "_induced", "_keys")}

    # ---------------------------------------------------------------- proposals

    def _langs_having(self, phrase: str) -> list[str]:
        return [lang for lang in self.targets if phrase in self._lex.get(lang, ())]

    def _dictionary_units(self, text: str, ws: list[Word]) -> list[Unit]:
        """Every lexicon match (the longest entry at each start); with ``unit="phrase"``
        also runs of up to MT_PHRASE_WORDS adjacent listed words that one target lexicon
        covers (translated word by word), so phrase switching works with word lexicons
        such as MUSE.  Translations are drawn later, for the chosen units only."""
        out = []
        keys = self._keys
        if self.unit == "word":
            for i, w in enumerate(ws):
                if w.switchable:
                    phrase = text[w.start : w.end]
                    if phrase.lower() in keys:
                        out.append(Unit(i, i, phrase, "", "dictionary"))
            return out
        longest = max(lex.max_words for lex in self._lex.values())
        n = len(ws)
        for i in range(n):
            if not ws[i].switchable:
                continue
            entry = None
            for j in range(min(n - 1, i + longest - 1), i - 1, -1):
                if j > i and (not all(w.switchable for w in ws[i : j + 1]) or not joined_by_space(text, ws, i, j)):
                    continue
                phrase = (
                    text[ws[i].start : ws[i].end] if j == i else " ".join(text[w.start : w.end] for w in ws[i : j + 1])
                )
                if phrase.lower() in keys:
                    entry = j
                    out.append(Unit(i, j, phrase, "", "dictionary"))
                    break
            if entry != i:
                continue  # a multi-word entry (or nothing) starts here
            langs = set(self._langs_having(text[ws[i].start : ws[i].end]))
            j = i
            while (
                j + 1 < n
                and j + 2 - i <= MT_PHRASE_WORDS
                and ws[j + 1].switchable
                and joined_by_space(text, ws, j, j + 1)
            ):
                langs &= set(self._langs_having(text[ws[j + 1].start : ws[j + 1].end]))
                if not langs:
                    break
                j += 1
                out.append(Unit(i, j, " ".join(text[w.start : w.end] for w in ws[i : j + 1]), "", "dictionary"))
        return out

    def _fill_dictionary(self, units: list[Unit], rng: Any) -> list[Unit]:
        """Draw each chosen unit's language (among the targets whose lexicon has it) and
        translation (by weight); a run of listed words is translated word by word."""
        filled = []
        for u in units:
            phrase = u.replacement
            langs = self._langs_having(phrase)
            if langs:
                lang = langs[0] if len(langs) == 1 else rng.choice(langs)
                repl = match_case(phrase, self._lex[lang].sample(phrase, rng) or "")
            else:
                parts = phrase.split(" ")
                common = [lang for lang in self.targets if all(p in self._lex.get(lang, ()) for p in parts)]
                lang = common[0] if len(common) == 1 else rng.choice(common)
                repl = " ".join(match_case(p, self._lex[lang].sample(p, rng) or "") for p in parts)
            filled.append(
                Unit(u.first, u.last, repl, lang, "dictionary-induced" if lang in self._induced else "dictionary")
            )
        return filled

    def _align_units(
        self, text: str, tgt: str, alignment: str, ws: list[Word]
    ) -> tuple[list[Unit], dict[tuple[int, int], tuple[int, int]], list[str]]:
        """Consistent phrase pairs over switchable words; the target side is joined only
        for the units chosen (``_fill_align``)."""
        t_toks = tgt.split()
        links = parse_alignment(alignment, len(ws), len(t_toks))
        longest = 1 if self.unit == "word" else self.max_phrase
        blocked = [0]  # prefix counts of words that may not be switched
        for w in ws:
            blocked.append(blocked[-1] + (not w.switchable))
        out = []
        spans = {}
        lang = self.targets[0]
        for s1, s2, t1, t2 in extract_phrases(links, len(ws), max_len=longest):
            if blocked[s2 + 1] != blocked[s1]:
                continue
            out.append(Unit(s1, s2, "", lang, "align"))
            spans[(s1, s2)] = (t1, t2)
        return out, spans, t_toks

    @staticmethod
    def _fill_align(units: list[Unit], spans: dict[tuple[int, int], tuple[int, int]], t_toks: list[str]) -> list[Unit]:
        filled = []
        for u in units:
            t1, t2 = spans[(u.first, u.last)]
            filled.append(u._replace(replacement=" ".join(t_toks[t1 : t2 + 1])))
        return filled

    def _mt_candidates(self, text: str, ws: list[Word], rng: Any) -> list[Unit]:
        """Spans to translate: single words, or runs of up to MT_PHRASE_WORDS words."""
        out = []
        for i in range(len(ws)):
            if not ws[i].switchable:
                continue
            size = 1 if self.unit == "word" else rng.randint(1, MT_PHRASE_WORDS)
            j = min(i + size - 1, len(ws) - 1)
            while j > i and not (all(w.switchable for w in ws[i : j + 1]) and joined_by_space(text, ws, i, j)):
                j -= 1
            lang = self.targets[0] if len(self.targets) == 1 else rng.choice(self.targets)
            out.append(Unit(i, j, "", lang, "mt"))
        return out

    def _mt(self, texts: list[str], lang: str) -> list[str]:
        """Main's shared core (protect -> segment -> translate, cached -> restore), one
        call with every distinct unit; its counters go to the ledger as ``mt_*``."""
        results, stats = translate_texts(self._translator, texts, self.src, lang)
        for key, value in stats.as_counters().items():
            self.count(f"mt_{key}", value)
        return [r.text for r in results]

    def _translate_units(self, jobs: list[tuple[str, list[Word], list[Unit]]]) -> list[list[Unit]]:
        """Fill the replacements of the chosen units: one batched MT call per target
        language for the bracketed sentences, one more for the units the model lost."""
        requests: dict[str, list[str]] = {}
        where: list[list[tuple[str, int, str]]] = []
        for text, ws, units in jobs:
            row = []
            sents = sentence_spans(text, self.src) or [(0, len(text))]
            for u in units:
                s, e = ws[u.first].start, ws[u.last].end
                a, b = next(((x, y) for x, y in sents if x <= s and e <= y), (0, len(text)))
                marked = f"{text[a:s]}[{text[s:e]}]{text[e:b]}"
                q = requests.setdefault(u.lang, [])
                row.append((u.lang, len(q), text[s:e]))
                q.append(marked)
            where.append(row)
        outputs = {lang: self._mt(texts, lang) for lang, texts in requests.items()}
        found: dict[tuple[str, int], str] = {}
        fallback: dict[str, list[str]] = {}
        for lang, outs in outputs.items():
            for k, out in enumerate(outs):
                m = _MARKED.findall(out)
                if len(m) == 1 and m[0].strip():
                    found[(lang, k)] = m[0].strip()
        for row in where:
            for lang, k, unit_text in row:
                if (lang, k) not in found:
                    fallback.setdefault(lang, []).append(unit_text)
        isolated = {lang: dict(zip(texts, self._mt(texts, lang))) for lang, texts in fallback.items()}
        result = []
        for (text, ws, units), row in zip(jobs, where):
            filled = []
            for u, (lang, k, unit_text) in zip(units, row):
                if (lang, k) in found:
                    self.count("mt_context")
                    filled.append(u._replace(replacement=found[(lang, k)], method="mt-context"))
                else:
                    self.count("mt_isolated")
                    filled.append(u._replace(replacement=isolated[lang][unit_text].strip(), method="mt-isolated"))
            result.append([u for u in filled if u.replacement])
        return result

    # ---------------------------------------------------------------- batch

    def __call__(self, batch: pa.Table) -> pa.Table:
        self.setup()
        n = batch.num_rows
        ids = batch.column("id").to_pylist()
        segs = batch.column("src_segments").to_pylist()
        tgts = batch.column("tgt_segments").to_pylist() if "tgt_segments" in batch.column_names else [None] * n
        aligns = batch.column("alignment").to_pylist() if "alignment" in batch.column_names else [None] * n
        reasons: list[str | None] = [None] * n
        ratios_target: list[float] = []
        chosen: list[list[tuple[str, list[Word], list[Unit], list[tuple[int, int]]]]] = []
        for r in range(n):
            rng = row_rng(self.seed, ids[r])
            ratio = sample_ratio(rng, self.density) if self.density else self.ratio
            ratios_target.append(ratio)
            row = []
            for k, text in enumerate(segs[r] or []):
                ws, protected = words(text or "", whitespace=self.mode == "align")
                switchable = sum(1 for w in ws if w.switchable)
                if self.mode == "dictionary":
                    cands = self._dictionary_units(text, ws)
                elif self.mode == "align":
                    tgt = tgts[r][k] if tgts[r] is not None and k < len(tgts[r]) else None
                    if aligns[r] is None or tgt is None:
                        reasons[r] = "missing_alignment"
                        cands = []
                    elif len(segs[r]) != 1:
                        reasons[r] = "malformed_alignment"
                        cands = []
                    else:
                        try:
                            cands, phrase_spans, t_toks = self._align_units(text, tgt, aligns[r], ws)
                        except AlignmentError:
                            reasons[r] = "malformed_alignment"
                            cands = []
                else:
                    cands = self._mt_candidates(text, ws, rng)
                units = select_units(rng, cands, target_count(rng, ratio, switchable))
                if self.mode == "dictionary":
                    units = self._fill_dictionary(units, rng)
                elif self.mode == "align" and units:
                    units = self._fill_align(units, phrase_spans, t_toks)
                row.append((text or "", ws, units, protected))
            chosen.append(row)
        if self.mode == "translate":
            flat = [job[:3] for row in chosen for job in row]
            filled = iter(self._translate_units(flat))
            chosen = [[(t, ws, next(filled), prot) for t, ws, _, prot in row] for row in chosen]

        texts, sources, spans_col, ratios, n_words, n_switched, metrics = [], [], [], [], [], [], []
        switched_segments: list[list[str]] = []
        for r, row in enumerate(chosen):
            parts: list[Switched] = [apply_units(t, ws, units, k) for k, (t, ws, units, _) in enumerate(row)]
            spans = [sp for p in parts for sp in p.spans]
            total = sum(p.words for p in parts)
            done = sum(p.switched for p in parts)
            texts.append("\n\n".join(p.text for p in parts))
            sources.append("\n\n".join(t for t, _, _, _ in row))
            spans_col.append(spans)
            n_words.append(total)
            n_switched.append(done)
            ratios.append(done / total if total else 0.0)
            labels: list[str] = []
            for (t, ws, units, prot), p in zip(row, parts):
                if self.mode == "align":  # whitespace tokens: label the output's word tokens
                    source_side_labels(t, prot, p.spans, self.src, labels)
                else:
                    word_labels(t, ws, units, self.src, labels)
            metrics.append(metrics_of(labels))
            if reasons[r] is None and done == 0 and self.drop_unswitched:
                reasons[r] = "nothing_switched"
            switched_segments.append([p.text for p in parts])
        self.count("words", sum(n_words))
        self.count("switched_words", sum(n_switched))
        self.count("units", sum(len(s) for s in spans_col))

        out = batch
        if "roles" in batch.column_names:
            roles = batch.column("roles").to_pylist()
            msgs = [
                [{"role": ro, "content": t} for ro, t in zip(rl, row)] if rl is not None else None
                for rl, row in zip(roles, switched_segments)
            ]
            out = put(out, "messages", pa.array(msgs, MESSAGE_TYPE))
        out = put(out, "text", pa.array(texts, pa.string()))
        out = put(out, "source_text", pa.array(sources, pa.string()))
        out = put(out, "mode", pa.array([self.mode] * n, pa.string()))
        out = put(out, "ratio_target", pa.array(ratios_target, pa.float32()))
        out = put(out, "ratio", pa.array(ratios, pa.float32()))
        out = put(out, "words", pa.array(n_words, pa.int32()))
        out = put(out, "switched_words", pa.array(n_switched, pa.int32()))
        out = put(out, "spans", pa.array(spans_col, SPAN_TYPE))
        for key, typ in (
            ("cmi", pa.float32()),
            ("cmi_2016", pa.float32()),
            ("m_index", pa.float32()),
            ("i_index", pa.float32()),
            ("switch_points", pa.int32()),
            ("burstiness", pa.float32()),
        ):
            out = put(out, key, pa.array([m[key] for m in metrics], typ))
        return set_drop_reason(out, pa.array(reasons, pa.string()))
