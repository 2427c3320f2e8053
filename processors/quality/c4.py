"""C4's heuristic cleaning (Raffel et al. 2020), decided like datatrove's ``C4QualityFilter``
with its defaults (the ones FineWeb uses): line rules remove lines, document rules drop the
document.

Like datatrove, the filter rewrites the text of the documents it keeps: their lines are
stripped, citation marks removed and only the lines that pass every line rule kept
(``modify_text=False`` decides without rewriting).  Rejected documents keep their original
text so the rejected sink shows what was judged.  Languages whose profile has
``quality.c4_enabled`` false (all but English by default) pass untouched; ``languages``
overrides the profiles.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import polars as pl
import pyarrow as pa

from babelmill.processors.base import set_drop_reason
from babelmill.processors.quality._common import (
    PY_WHITESPACE,
    TERMINAL,
    WS,
    QualityFilter,
    flat_rows,
    per_group,
    profile,
    row_codes,
    row_sum,
    splitlines_text,
    tokenize_series,
)

CITATION = r"\[\d*\]|\[edit\]|\[citation needed\]"
END_PUNCTUATION = r"""[.?!"']$"""
POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")


class C4QualityFilter(QualityFilter):
    """Removes bad lines and rejects documents by C4's rules.

    Per line (``text.splitlines()``, each stripped), in order: a word longer than
    ``max_word_length`` removes the line; citation marks (``[1]``, ``[edit]``,
    ``[citation needed]``) are cut; a line not ending in ``. ? ! " '`` (or ending in ``...``)
    is removed; so is one with fewer than ``min_words_per_line`` words; ``lorem ipsum`` rejects
    the document (``lorem_ipsum``); ``javascript`` removes the line; ``{`` rejects the document
    (``curly_bracket``); cookie/terms-of-use phrases remove the line.  Fewer than
    ``min_num_sentences`` sentences in the kept lines rejects the document
    (``too_few_sentences``).  Sentences are counted like spaCy's sentencizer (which datatrove
    uses): a new one starts at the first non-punctuation token after a terminal mark.

    Line removals are counted as ``line-filter-<rule>`` and ``line-kept`` counters.
    """

    name: ClassVar[str] = "c4_quality"
    reasons: ClassVar[tuple[str, ...]] = ("lorem_ipsum", "curly_bracket", "too_few_sentences")

    def __init__(
        self,
        remove_citations: bool = True,
        filter_no_terminal_punct: bool = True,
        min_num_sentences: int = 5,
        min_words_per_line: int = 3,
        max_word_length: int = 1000,
        filter_lorem_ipsum: bool = True,
        filter_javascript: bool = True,
        filter_curly_bracket: bool = True,
        filter_policy: bool = True,
        modify_text: bool = True,
        languages: list[str] | None = None,
        language: str = "en",
    ) -> None:
        self.remove_citations = remove_citations
        self.filter_no_terminal_punct = filter_no_terminal_punct
        self.min_num_sentences = min_num_sentences
        self.min_words_per_line = min_words_per_line
        self.max_word_length = max_word_length
        self.filter_lorem_ipsum = filter_lorem_ipsum
        self.filter_javascript = filter_javascript
        self.filter_curly_bracket = filter_curly_bracket
        self.filter_policy = filter_policy
        self.modify_text = modify_text
        self.languages = sorted(languages) if languages is not None else None
        self.language = self.checked_language(language)

    def _applies(self, code: str) -> bool:
        if self.languages is not None:
            return code in {profile(c).code for c in self.languages}
        return bool(profile(code).quality.c4_enabled)

    def __call__(self, batch: pa.Table) -> pa.Table:
        cols = [c for c in ("text", "lang") if c in batch.column_names]
        df = pl.from_arrow(batch.select(cols))
        assert isinstance(df, pl.DataFrame)
        if not df.height:
            reason, new_text = pl.Series("reason", [], dtype=pl.String), None
        else:
            reason, new_text = self._run(df)
        batch = set_drop_reason(batch, reason.to_arrow())
        if self.modify_text and new_text is not None:
            i = batch.column_names.index("text")
            batch = batch.set_column(i, batch.schema.field(i), new_text.cast(batch.schema.field(i).type))
        return batch

    def decide(self, df: pl.DataFrame) -> pl.Series:
        return self._run(df)[0]

    def _run(self, df: pl.DataFrame) -> tuple[pl.Series, pa.Array | None]:
        n = df.height
        codes = row_codes(df, self.language)
        applies = np.array([self._applies(c) for c in codes.to_list()], dtype=bool) if n else np.zeros(0, bool)
        reason = np.full(n, None, dtype=object)
        todo = np.flatnonzero(applies)
        if not len(todo):
            return pl.Series("reason", reason.tolist(), dtype=pl.String), None
        text = df.get_column("text").fill_null("")
        sub_text = text.gather(todo)
        sub_reason, kept_text = self._judge(sub_text, codes.gather(todo))
        reason[todo] = sub_reason
        out_text = text.scatter(todo, kept_text)
        keep = np.zeros(n, bool)
        keep[todo] = sub_reason == None  # noqa: E711
        final = pl.select(pl.when(pl.Series(keep)).then(out_text).otherwise(df.get_column("text"))).to_series()
        return pl.Series("reason", reason.tolist(), dtype=pl.String), final.to_arrow()

    def _judge(self, text: pl.Series, codes: pl.Series) -> tuple[np.ndarray, pl.Series]:
        """(reason per document, text of its kept lines) for documents C4 applies to."""
        n = len(text)
        t = splitlines_text(pl.col("t"))
        # str.splitlines(): no line after a final separator, none at all for ""
        body = pl.when(t.str.ends_with("\n")).then(t.str.slice(0, t.str.len_chars() - 1)).otherwise(t)
        split = (
            pl.when(t.str.len_bytes() > 0).then(body.str.split("\n")).otherwise(pl.lit([], dtype=pl.List(pl.String)))
        )
        raw, rows = flat_rows(text.to_frame("t").select(split).to_series())
        line = raw.str.strip_chars(PY_WHITESPACE)
        n_words = line.str.count_matches(rf"[^{WS}]+").to_numpy()
        long_word = np.zeros(len(line), bool)
        if self.max_word_length != -1:
            for i in np.flatnonzero(line.str.len_chars().to_numpy() > self.max_word_length):
                long_word[i] = any(len(w) > self.max_word_length for w in line[int(i)].split())
        if self.remove_citations:
            line = line.str.replace_all(CITATION, "")
        no_punct = (
            (~line.str.contains(END_PUNCTUATION) | line.str.ends_with("...")).to_numpy()
            if self.filter_no_terminal_punct
            else np.zeros(len(line), bool)
        )
        few_words = n_words < self.min_words_per_line
        lorem = (
            line.str.contains("(?i)lorem ipsum").to_numpy() if self.filter_lorem_ipsum else np.zeros(len(line), bool)
        )
        js = line.str.contains("(?i)javascript").to_numpy() if self.filter_javascript else np.zeros(len(line), bool)
        curly = (
            line.str.contains("{", literal=True).to_numpy() if self.filter_curly_bracket else np.zeros(len(line), bool)
        )
        policy = (
            line.str.contains("(?i)" + "|".join(POLICY)).to_numpy() if self.filter_policy else np.zeros(len(line), bool)
        )

        # the rules in datatrove's order: each one sees only the lines the previous ones let through
        left = np.ones(len(line), bool)
        removed: dict[str, np.ndarray] = {}
        for key, flag in (("too_long_word", long_word), ("no_terminal_punc", no_punct), ("too_few_words", few_words)):
            removed[key] = left & flag
            left &= ~flag
        lorem_hit = left & lorem
        left &= ~lorem
        removed["javascript"] = left & js
        left &= ~js
        curly_hit = left & curly
        left &= ~curly
        removed["policy"] = left & policy
        left &= ~policy

        # the first document-level hit (in line order) decides, and stops the line scan there
        reason = np.full(n, None, dtype=object)
        stop_at = np.full(n, np.iinfo(np.int64).max)
        line_pos = np.arange(len(line))
        hits = np.flatnonzero(lorem_hit | curly_hit)
        if len(hits):
            hit_rows, first = np.unique(rows[hits], return_index=True)
            first_hits = hits[first]
            reason[hit_rows] = np.where(lorem_hit[first_hits], "lorem_ipsum", "curly_bracket")
            stop_at[hit_rows] = first_hits
        scanned = line_pos < stop_at[rows] if len(rows) else np.zeros(0, bool)
        self.count("line-total", int(scanned.sum()))
        for key, mask in removed.items():
            if k := int((mask & scanned).sum()):
                self.count(f"line-filter-{key}", k)
        kept = left & scanned
        self.count("line-kept", int(kept.sum()))

        kept_idx = np.flatnonzero(kept)
        kept_lines = line.gather(kept_idx)
        kept_rows = rows[kept_idx]
        if self.min_num_sentences != -1:
            sentences = row_sum(kept_rows, self._sentences(kept_lines, codes.gather(kept_rows)), n)
            reason[(reason == None) & (sentences < self.min_num_sentences)] = "too_few_sentences"  # noqa: E711
        joined = (
            pl.DataFrame({"row": kept_rows, "line": kept_lines})
            .group_by("row")
            .agg(pl.col("line").str.join("\n").str.strip_chars(PY_WHITESPACE))
        )
        kept_text = (
            pl.DataFrame({"row": np.arange(n)})
            .join(joined, on="row", how="left", maintain_order="left")
            .get_column("line")
            .fill_null("")
        )
        return reason, kept_text

    @staticmethod
    def _sentences(lines: pl.Series, codes: pl.Series) -> np.ndarray:
        """Sentences per line as spaCy's sentencizer counts them.

        It starts a sentence at every non-punctuation token that follows a terminal mark
        (possibly with more punctuation between), so a line has one sentence plus one per
        run of punctuation containing a terminal mark that is followed by a word.
        """
        m = len(lines)
        if not m:
            return np.zeros(0)
        tokens = per_group(lines, codes, tokenize_series)
        flat, line_of = flat_rows(tokens)
        if not len(flat):
            return np.ones(m)
        flags = flat.to_frame("w").select(
            term=pl.col("w").str.contains("^" + TERMINAL + "$"),
            punct=pl.col("w").str.contains(r"^\p{P}+$"),
        )
        word = ~flags.get_column("punct").to_numpy()
        term = flags.get_column("term").to_numpy()
        words_per_line = np.bincount(line_of, weights=word, minlength=m).astype(np.int64)
        # words before each token within its line
        cum = np.cumsum(word) - word
        line_start = np.concatenate(([0], np.cumsum(np.bincount(line_of, minlength=m))))[:-1]
        before = cum - (np.cumsum(word) - word)[line_start[line_of]] if len(line_of) else cum
        t = np.flatnonzero(term & (before < words_per_line[line_of]))
        events = np.unique(line_of[t].astype(np.int64) * (len(flat) + 1) + before[t])
        per_line = np.bincount((events // (len(flat) + 1)).astype(np.int64), minlength=m)
        return 1 + per_line[:m]
