"""``auto``: resiliparse's DOM pass, a block classifier, trafilatura where the page is poor.

Designed from measurements on trafilatura's gold set (482 pages; tuned on one fixed
hash half, checked on the other; bench/extract_bench.py re-runs it):

* resiliparse main-content alone leaves boilerplate in (precision 0.79): teasers,
  "related" lists and cookie/newsletter notes around the article.
* The window: the fast pass emits blocks (paragraphs, headings) with their link text;
  a *good* block has >= 80 characters and link density < 0.35.  Keeping only the span
  from the first to the last good block lifts F1 from 0.859 to 0.884 at no measurable
  cost (50-200 characters and 0.2-0.5 were all worse on the tuning half).
* The block classifier, first version: one logistic model over 20 cheap features per
  block (length, link density, sentence end, digits and capitals, tag, position against
  the window, the neighbours' length and links), fitted on the tuning half's blocks that
  hold a gold snippet: F1 0.908 with the fallback (tuning half 0.906, held-out half
  0.910), precision 0.875 (a gradient-boosted model overfitted: 0.94 tuning, 0.89 held
  out).  Of the 87 boilerplate snippets it kept on the tuning half's non-fallback pages,
  18 were whole blocks and 69 shared a block with other text; typical: "more from ..."
  or "you may also like" headings after the article, credits, bylines, subscription
  and sharing notes, repeated captions.
* The block classifier now: 34 features, the 20 above plus a boilerplate-vocabulary hit
  among the block's first 200 characters (sharing, credits, subscriptions, navigation,
  bylines; a word-set lookup, 0.2 ms a page where one case-insensitive regex cost 5 ms),
  a date or time in a short block, line count, very short block, ending in ':?!', a
  block repeating an earlier one, a copyright sign, <pre> code, a heading not followed
  by a good block, the distance past the window's end and the position inside it:
  F1 0.917-0.918 with one model.  A second logistic model over the same features plus
  the first model's scores of the block and its neighbours (:func:`block_scores`) brings
  0.922 (tuning 0.923, held-out 0.922; fitted the other way round, on the held-out
  half, it scores 0.921 on the tuning half).  Its C (0.03-0.3) and threshold (0.4-0.55)
  all gave 0.919-0.924; 0.1 and 0.4 were chosen on the tuning half.  Short list items
  score low alone, so a list (not a link list) between two kept blocks stays.
  Measured and dropped: blocks split into lines (+0.002 at best, one model), resiliparse
  with main_content=False and every block classified (0.910-0.918: the recall it adds
  costs more precision), trafilatura's output as extra training labels (0.909-0.916),
  dropping short boilerplate or date lines inside kept blocks (+0.001, noise).
* The fallback: where the page is link-heavy (link density over all blocks >= 0.2),
  the window holds < 60% of the text, or no block is good, trafilatura runs instead
  (counter ``fallback_trafilatura``): about 5% of pages, the costlier ones (4.4 ms
  over all pages, where trafilatura everywhere costs 65 ms a page).  With the
  two-stage classifier, link-density limits 0.15-0.3 and window shares 0.5-0.7 (fallback 4-8%) all scored
  0.921-0.923, and a page-level model of where trafilatura wins, adding 3-8% more
  pages, gained at most 0.002, each time for 30% or more extra CPU: the rule stays.
  trafilatura without its own fallback extractors (``fallback_fast``, now the default)
  does as well on these pages (0.923: tuning 0.924, held-out 0.922) for 1.8 ms over
  all pages instead of 4.4.  The features cost about 1.5 ms a page (numpy over the
  blocks; the date and sentence-end checks only where they count), resiliparse about
  3.5 ms.

Measured on all 482 pages (bench/extract_bench.py, one core, the machine shared with
other work): P 0.902, R 0.945, F1 0.923 (tuning half 0.924, held-out half 0.922; the
fast pass alone 0.912) against trafilatura ``extract()``'s 0.926, at 5.7x its speed in
CPU seconds (4.3 s against 24.6 s for the 482 pages; trafilatura's own CPU time varied
from 25 to 31 s between runs on the busy machine).
"""

from __future__ import annotations

import html as html_lib
import re
from typing import ClassVar

import numpy as np

from babelmill.processors.extract.base import HtmlExtractor
from babelmill.processors.extract.trafilatura import TrafilaturaExtractor

_TAG = re.compile(r"<[^>]+>")
_LINK = re.compile(r"<a\b[^>]*>(.*?)</a>", re.S)
_HEADING = ("<h1", "<h2", "<h3", "<h4", "<h5", "<h6")


Block = tuple[str, float, bool, str]


def blocks(marked: str) -> list[Block]:
    """``(text, link density, is heading, tag)`` per block of resiliparse's minimal HTML
    (``tag``: the block's first three characters, ``<p>``, ``<li``, ``<h2``, ...)."""
    out = []
    for raw in marked.split("\n\n"):
        raw = raw.strip()
        if not raw:
            continue
        text = html_lib.unescape(_TAG.sub("", raw)).strip()
        if not text:
            continue
        link = sum(len(html_lib.unescape(_TAG.sub("", m))) for m in _LINK.findall(raw)) if "<a" in raw else 0
        out.append((text, min(1.0, link / len(text)), raw[:3] in _HEADING, raw[:3]))
    return out


#: The two logistic models over :func:`block_features` (raw features: the scaler is folded
#: into the weights), fitted on the 703 blocks of the tuning half that hold a gold snippet
#: (with: 1, without: 0).  The first (C=1) scores each block alone; the second (C=0.1)
#: sees the features plus the first's scores of the block and its neighbours
#: (:func:`context_features`), so a heading or caption between kept blocks stays and a
#: block among dropped ones goes.
_WEIGHTS_1 = np.array([
    -0.310884, -3.68441, 3.0346, -1.79998, 0.0664223, -0.22732, 0.448294, 1.46204, 2.25732, -2.93481, 2.37537,
    1.76084, 0.131465, -0.177888, 0.0919373, -0.22556, -0.145662, -0.044165, -0.590032, 0.22841, -0.240288,
    -0.98206, -0.81386, -0.470045, -0.330132, 0.464152, -1.4809, 0.0589614, -0.157165, -2.733, 1.11459, -0.125445,
    -1.92923, 6.38417,
])  # fmt: skip
_BIAS_1 = -2.48346
_WEIGHTS_2 = np.array([
    0.177556, -1.82879, 1.21067, -0.464821, 0.0850811, 0.0414448, 0.358316, 0.382231, 0.263748, -1.28783, 1.2011,
    0.682254, -0.0482626, 0.573091, 0.0396859, 0.119785, 0.090804, -0.00645399, -0.272426, 0.0238965, -0.113353,
    -0.660221, -0.452514, -0.293207, -0.0207536, 0.200435, -0.889721, -0.00664897, -0.354316, -0.986514, 0.0705787,
    -0.250698, -1.2981, 2.36183, 2.22548, 1.04315, 0.493299, 0.751959, 0.159435,
])  # fmt: skip
_BIAS_2 = -4.03239
_SENTENCE_END = (".", "!", "?", '"', "»", "”", ")")
_LIST_TAGS = ("<li", "<ul", "<ol")
#: generic boilerplate words (credits, sharing, subscriptions, navigation, bylines) in the
#: main languages of the web, looked up among a block's first 200 characters' words: one
#: feature of the model, not a rule by itself
_BOILERPLATE = frozenset(
    "copyright cookie cookies newsletter subscribe abonnieren share teilen partager compartir compartilhar related"
    " advertisement anzeige werbung publicidad publicité sponsored follow folgen login anmelden kommentar kommentare"
    " comment comments commentaires comentarios tags tag schlagworte foto fotos bild photo photos image credit"
    " credits quelle source posted published veröffentlicht publié publicado updated aktualisiert by von autor author"
    " e-mail email telefon phone tel kontakt contact whatsapp facebook twitter instagram pinterest linkedin print"
    " drucken previous next vorherige nächste zurück weiter weiterlesen more mehr read lesen rights reserved".split()
)
_BOILERPLATE_PHRASES = (
    "read more", "all rights reserved", "click here", "sign up", "follow us", "back to top", "mehr zum thema",
    "auch interessieren", "hier klicken", "klicken sie", "mehr lesen", "lire la suite", "leer más", "leia mais",
    "related", "you may also like", "empfehlungen", "abonn", "newsletter",
)  # fmt: skip
_PUNCT = ".,:;!?()[]\"'«»“”|/-–—©"
_DATE = re.compile(r"\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}:\d{2}\b")
N_FEATURES = 34


def _boilerplate(low: str) -> bool:
    return not _BOILERPLATE.isdisjoint(w.strip(_PUNCT) for w in low.split()) or any(
        p in low for p in _BOILERPLATE_PHRASES
    )


def block_features(blks: list[Block], good: list[int], first: int, last: int) -> np.ndarray:
    """Cheap per-block features (one row per block): size, links, tag, position against
    the window and the good blocks, the neighbours' size and links, boilerplate words,
    dates, lines, repeats."""
    n = len(blks)
    if not n:
        return np.zeros((0, N_FEATURES))
    rows = []
    seen: set[str] = set()
    for t, ld, hd, tag in blks:
        length = len(t)
        rows.append((
            length, ld, hd, tag == "<p>", tag in _LIST_TAGS, t.rstrip().endswith(_SENTENCE_END), len(t.split()),
            sum(map(str.isdigit, t)), sum(map(str.isupper, t)), t.count("|") + t.count("·"),
            _boilerplate(t[:200].lower()), length < 100 and _DATE.search(t) is not None, t.count("\n") + 1, t in seen,
            "©" in t, t.rstrip().endswith((":", "?", "!")), tag == "<pr",
        ))  # fmt: skip
        seen.add(t)
    text = np.array(rows, dtype=float)
    length, ld, hd = text[:, 0], text[:, 1], text[:, 2]
    lines, dup, copyright_, colon_end = text[:, 12], text[:, 13], text[:, 14], text[:, 15]
    idx = np.arange(n)
    safe = np.maximum(length, 1)
    in_window = (idx >= first) & (idx <= last)
    good_arr = np.asarray(good, dtype=np.int64)
    is_good = np.zeros(n, dtype=bool)
    if len(good_arr):
        is_good[good_arr] = True
        pos = np.clip(np.searchsorted(good_arr, idx), 0, len(good_arr) - 1)
        below = good_arr[np.maximum(pos - 1, 0)]
        dist = np.minimum(np.abs(idx - good_arr[pos]), np.abs(idx - below))
    else:
        dist = np.full(n, 99)
    log_len = np.log1p(length)
    prev_len = np.r_[0.0, log_len[:-1]]
    prev_ld = np.r_[0.0, ld[:-1]]
    next_len = np.r_[log_len[1:], 0.0]
    next_ld = np.r_[ld[1:], 0.0]
    padded = np.r_[False, False, is_good, False, False]
    next_good = padded[3 : n + 3] | padded[4 : n + 4]
    prev_good = padded[1 : n + 1] | padded[0:n]
    after = np.where(idx > last, np.log1p(np.maximum(idx - last, 0)), 0.0)
    boiler = text[:, 10]
    return np.column_stack(
        [
            log_len, ld, hd, idx / n, in_window, np.minimum(dist, 10), text[:, 5], np.log1p(text[:, 6]),
            text[:, 7] / safe, text[:, 8] / safe, text[:, 3], text[:, 4], prev_len, prev_ld, next_len, next_ld,
            (length >= 80) & (ld < 0.35), text[:, 9], idx < first, idx > last,
            boiler, boiler * (length < 200), text[:, 11], np.log1p(lines), length < 20, colon_end,
            dup, next_good, prev_good, hd * ~next_good, after, in_window * (idx - first) / max(1, last - first + 1),
            copyright_, text[:, 16],
        ]
    ).astype(float)  # fmt: skip


def context_features(feats: np.ndarray, first_scores: np.ndarray) -> np.ndarray:
    """The features plus the first model's score of the block, of its neighbours and of the
    best of the two blocks on each side (0.5 past the page's ends)."""
    s = first_scores
    n = len(s)
    prev, nxt = np.r_[0.5, s[:-1]], np.r_[s[1:], 0.5]
    prev2, nxt2 = np.r_[0.5, 0.5, s][:n], np.r_[s, 0.5, 0.5][2:]
    return np.column_stack([feats, s, prev, nxt, np.maximum(prev, prev2), np.maximum(nxt, nxt2)])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))  # no overflow warning on extreme blocks


def block_scores(feats: np.ndarray) -> np.ndarray:
    """P(main content) per block (rows of :func:`block_features`), the two models in turn."""
    if not len(feats):
        return np.zeros(0)
    first = _sigmoid(feats @ _WEIGHTS_1 + _BIAS_1)
    return _sigmoid(context_features(feats, first) @ _WEIGHTS_2 + _BIAS_2)


class AutoExtractor(HtmlExtractor):
    """Fast DOM extraction with a measured fallback to trafilatura (see module doc)."""

    name: ClassVar[str] = "extract"
    extractor: ClassVar[str] = "auto"

    def __init__(
        self,
        min_block_chars: int = 80,
        max_block_link_density: float = 0.35,
        fallback_link_density: float = 0.2,
        fallback_min_kept: float = 0.6,
        fallback: bool = True,
        fallback_fast: bool = True,
        classify: bool = True,
        min_block_score: float = 0.4,
        max_page_chars: int = 4_000_000,
        time_budget: float = 10.0,
    ) -> None:
        super().__init__(max_page_chars, time_budget)
        self.min_block_chars = min_block_chars
        self.max_block_link_density = max_block_link_density
        self.fallback_link_density = fallback_link_density
        self.fallback_min_kept = fallback_min_kept
        self.fallback = fallback
        #: trafilatura without its own fallbacks (readability, jusText) on the poor pages: about
        #: 2x cheaper and as accurate there (F1 0.923 against 0.922 with them, module docstring)
        self.fallback_fast = fallback_fast
        #: keep the blocks the two logistic models score >= min_block_score (see select), not the raw window
        self.classify = classify
        self.min_block_score = min_block_score

    def setup_local(self) -> None:
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.html import HTMLTree

        self._parse, self._extract = HTMLTree.parse, extract_plain_text
        # trafilatura's defaults minus comments: as accurate as favour_precision on
        # these pages (0.895 either way) and ~20% cheaper
        self._slow = TrafilaturaExtractor(
            favour_precision=False, include_comments=False, fast=self.fallback_fast, time_budget=0
        )
        self._slow.setup_local()

    def window(self, blks: list) -> tuple[str, bool]:
        """The content window's text and whether the cheap signals call it poor."""
        text, poor, _ = self._window(blks)
        return text, poor

    def _window(self, blks: list) -> tuple[str, bool, tuple[list[int], int, int]]:
        good = [
            i for i, b in enumerate(blks) if len(b[0]) >= self.min_block_chars and b[1] < self.max_block_link_density
        ]
        if not good:
            return "\n".join(b[0] for b in blks), True, (good, 0, len(blks) - 1)
        first, last = good[0], good[-1]
        while first > 0 and blks[first - 1][2]:
            first -= 1
        kept = [b[0] for b in blks[first : last + 1] if b[1] < 0.5]
        total = sum(len(b[0]) for b in blks)
        links = sum(len(b[0]) * b[1] for b in blks)
        in_window = sum(len(b[0]) for b in blks[first : last + 1])
        poor = links / total >= self.fallback_link_density or in_window / total < self.fallback_min_kept
        return "\n".join(kept), poor, (good, first, last)

    def select(self, blks: list[Block]) -> tuple[str, bool]:
        """The blocks the classifier keeps (the window's text if it keeps none) and
        whether the page is poor."""
        text, poor, (good, first, last) = self._window(blks)
        if not self.classify or not blks:
            return text, poor
        scores = block_scores(block_features(blks, good, first, last)).tolist()
        # table rows (resiliparse separates cells by tabs) inside the window stay: the
        # model, fitted on prose, scores short digit-rich rows low
        keep = [
            p >= self.min_block_score or (first <= i <= last and "\t" in b[0] and b[1] < self.max_block_link_density)
            for i, (b, p) in enumerate(zip(blks, scores))
        ]
        # so does a list (not a link list) between two kept blocks inside the window: its
        # short items score low alone (F1 unchanged on the gold pages)
        for i in range(max(first, 1), min(last + 1, len(blks) - 1)):
            b = blks[i]
            if (
                not keep[i]
                and keep[i - 1]
                and keep[i + 1]
                and b[3] in _LIST_TAGS
                and b[1] < self.max_block_link_density
            ):
                keep[i] = True
        kept = [b[0] for b, k in zip(blks, keep) if k]
        return ("\n".join(kept) if kept else text), poor

    def extract(self, page: str) -> tuple[str | None, str | None]:
        if not hasattr(self, "_extract"):
            self.setup_local()
        tree = self._parse(page)
        marked = self._extract(
            tree, main_content=True, preserve_formatting="minimal_html", links=True, post_meta=False, comments=False
        )
        text, poor = self.select(blocks(marked))
        if poor and self.fallback:
            slow, _ = self._slow.extract(page)
            if slow and slow.strip():
                return slow, "fallback_trafilatura"
            return text, "fallback_empty"
        return text, None
