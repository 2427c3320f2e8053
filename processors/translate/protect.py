"""Format preservation: what the MT model sees, and how its output is put back.

Instruction data is full of things a translation model must not touch: code, URLs,
placeholders, markup, math, and the Markdown structure around the prose.  Models
"translate" them anyway (they localise ``%s``, rename variables, drop list markers), so
``protect_and_split`` takes them out of the model's hands:

* whole blocks and line structure (fenced code, display math, raw HTML blocks, blank
  lines, indentation, list markers, headings, blockquotes, table pipes and separator
  rows, trailing whitespace) never enter a unit: they stay in the plan as literal text;
* inline spans (inline code, URLs, e-mails, placeholders, tags, inline math) at the edge
  of a sentence are kept outside the unit too; inside a sentence they become numbered
  sentinels (``⟦0⟧``), which MT models tend to copy, and are restored verbatim.

``Plan.restore`` reports every sentinel the model lost, duplicated or invented instead
of repairing it: a repaired sentence would look right and be wrong, so the problem goes
to the ``lost_placeholder`` check.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence
from typing import NamedTuple

from babelmill.processors.translate.segment import sentence_spans, split_long

DEFAULT_SENTINEL: tuple[str, str] = ("⟦", "⟧")
#: Stands for one protected span while sentences are split (a private-use character, so
#: no splitter treats it as punctuation; private-use characters in the input are
#: themselves protected, so every occurrence maps to exactly one span).
_MASK = "\ue000"
_LETTER = re.compile(r"[^\W\d_]")

# --- inline spans ----------------------------------------------------------------------

_INLINE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("code", r"(?P<bt>`+)(?!`).*?(?<!`)(?P=bt)(?!`)"),
    ("math_display", r"\$\$.+?\$\$"),
    ("math_paren", r"\\\(.+?\\\)"),
    ("math_bracket", r"\\\[.+?\\\]"),
    ("math_env", r"\\begin\{(?P<env>[A-Za-z]+\*?)\}.*?\\end\{(?P=env)\}"),
    # $x$ but not prices: no space just inside the dollars, no digit or $ right after.
    ("math_inline", r"(?<![\\$\w])\$(?=[^\s$])(?:\\.|[^$\\\n])+?(?<=[^\s\\])\$(?![\w$])"),
    ("autolink", r"<(?:https?|ftp|mailto):[^\s<>]+>"),
    ("html_comment", r"<!--.*?-->"),
    ("tag", r"</?[A-Za-z][\w:.-]*(?:\s+[\w:.@-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'<>=`]+))?)*\s*/?>"),
    ("link_open", r"!?\[(?=[^\[\]\n]*\]\()"),
    ("link_target", r"\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)"),
    # Full-width punctuation ends a URL: CJK text puts "。" right after a link.
    (
        "url",
        r"(?:https?|ftp)://[^\s<>\"'`。，、；：！？（）「」『』【】]+|www\.[A-Za-z0-9-]+\.[^\s<>\"'`。，、；：！？（）「」『』【】]+",
    ),
    ("email", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    ("template", r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}"),
    ("format_field", r"\{[A-Za-z0-9_]*(?:\[[^\]{}\s]*\]|\.[A-Za-z_]\w*)*(?:![rsa])?(?::[^{}\s]*)?\}"),
    (
        "printf",
        r"%(?:\([A-Za-z_]\w*\))?(?:\d+\$)?[-+#0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|L|q|j|z|t)?[diouxXeEfFgGcrsaAp](?![A-Za-z])",
    ),
    ("env_var", r"\$\{[A-Za-z_]\w*\}|\$[A-Z_][A-Z0-9_]*\b"),
)
_URL_TRAILING = ".,;:!?'\"*_"


@functools.lru_cache(maxsize=16)
def _inline_regex(sentinel: tuple[str, str]) -> re.Pattern[str]:
    # Text that already looks like a sentinel, and private-use characters, are protected
    # so that restoration can never confuse them with the real sentinels.
    escape = "|".join(re.escape(s) for s in dict.fromkeys(sentinel)) + "|[\ue000-\uf8ff]"
    alternatives = [f"(?P<{name}>{pattern})" for name, pattern in _INLINE_PATTERNS]
    alternatives.append(f"(?P<sentinel>{escape})")
    return re.compile("|".join(alternatives))


def _trim_url(url: str) -> str:
    """Drop sentence punctuation and unbalanced closing brackets from a URL's end."""
    while url:
        last = url[-1]
        unbalanced = (last == ")" and url.count("(") < url.count(")")) or (
            last == "]" and url.count("[") < url.count("]")
        )
        if last not in _URL_TRAILING and not unbalanced:
            return url
        url = url[:-1]
    return url


#: Every inline pattern needs one of these; text without any skips the big regex.
_TRIGGERS = re.compile(r"[`$\\<\]@{%\ue000-\uf8ff]|://|www\.")


def protected_spans(text: str, sentinel: tuple[str, str] = DEFAULT_SENTINEL) -> list[tuple[int, int]]:
    """``(start, end)`` of every inline span of ``text`` that must be copied verbatim."""
    if not _TRIGGERS.search(text) and not any(s in text for s in sentinel):
        return []
    rx = _inline_regex(sentinel)
    spans = []
    pos = 0
    while True:
        m = rx.search(text, pos)
        if m is None:
            return spans
        start, end = m.span()
        if m.lastgroup == "url":
            end = start + len(_trim_url(m.group()))
        if end <= start:  # a URL that was only punctuation after trimming
            pos = start + 1
            continue
        spans.append((start, end))
        pos = end


def strip_protected(text: str, sentinel: tuple[str, str] = DEFAULT_SENTINEL) -> str:
    """``text`` without its protected inline spans (what a check should compare)."""
    out = []
    pos = 0
    for s, e in protected_spans(text, sentinel):
        out.append(text[pos:s])
        pos = e
    out.append(text[pos:])
    return "".join(out)


@functools.lru_cache(maxsize=16)
def sentinel_regex(sentinel: tuple[str, str] = DEFAULT_SENTINEL) -> re.Pattern[str]:
    """Matches a sentinel as models return it (spaces inside tolerated)."""
    return re.compile(rf"{re.escape(sentinel[0])}\s*(\d+)\s*{re.escape(sentinel[1])}")


def strip_sentinels(text: str, sentinel: tuple[str, str] = DEFAULT_SENTINEL) -> str:
    """A unit or its translation without sentinels (for length and copy checks)."""
    return sentinel_regex(sentinel).sub("", text)


# --- block and line structure ------------------------------------------------------------

_FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})")
_BEGIN_ENV = re.compile(r"^\s*\\begin\{(?P<env>[A-Za-z]+\*?)\}")
_RAW_HTML = re.compile(r"^\s*<(?P<tag>pre|script|style|textarea)\b", re.IGNORECASE)
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
_LINE_PREFIX = re.compile(
    r"[ \t]*(?:>[ \t]?)*[ \t]*"
    r"(?:(?P<list>(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?)|(?P<heading>#{1,6}[ \t]+))?"
)
_HEADING_CLOSE = re.compile(r"[ \t]+#+$")
_PIPE = re.compile(r"(?<!\\)\|")


def _table_rows(lines: list[str]) -> set[int]:
    """Indices of lines that are Markdown table rows (header, separator, body)."""
    rows: set[int] = set()
    for i, line in enumerate(lines):
        if (
            "|" in line
            and "-" in line
            and _TABLE_SEP.match(line)
            and i > 0
            and "|" in lines[i - 1]
            and lines[i - 1].strip()
        ):
            rows.update((i - 1, i))
            j = i + 1
            while j < len(lines) and "|" in lines[j] and lines[j].strip():
                rows.add(j)
                j += 1
        else:
            stripped = line.strip()
            if len(stripped) > 1 and stripped.startswith("|") and stripped.endswith("|"):
                rows.add(i)
    return rows


def _block_end(lines: list[str], i: int) -> int | None:
    """If line ``i`` opens a verbatim block, the index of its last line (None otherwise)."""
    line = lines[i]
    m = _FENCE.match(line)
    if m:
        fence = m.group("fence")
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        for j in range(i + 1, len(lines)):
            if closing.match(lines[j].rstrip("\r\n")):
                return j
        return len(lines) - 1  # an unclosed fence runs to the end (CommonMark)
    stripped = line.strip()
    closer: str | None = None
    if stripped.startswith("$$") and "$$" not in stripped[2:]:
        closer = "$$"
    elif stripped.startswith("\\[") and "\\]" not in stripped[2:]:
        closer = "\\]"
    elif (m := _BEGIN_ENV.match(line)) and f"\\end{{{m.group('env')}}}" not in line:
        closer = f"\\end{{{m.group('env')}}}"
    elif (m := _RAW_HTML.match(line)) and f"</{m.group('tag').lower()}" not in line.lower():
        closer = f"</{m.group('tag').lower()}"
    if closer is None:
        return None
    for j in range(i + 1, len(lines)):
        if closer in (lines[j].lower() if closer.startswith("</") else lines[j]):
            return j
    return None  # unclosed: treat the line as ordinary text


def _split_eol(line: str) -> tuple[str, str]:
    body = line.rstrip()
    return body, line[len(body) :]


# --- the plan -----------------------------------------------------------------------------


class Restored(NamedTuple):
    """A restored text and the sentinel problems found on the way (empty: all good)."""

    text: str
    problems: list[str]


@dataclasses.dataclass
class Plan:
    """A text cut into translation units plus everything needed to rebuild it.

    ``pieces`` is the text as a sequence of literal strings (kept verbatim) and unit
    indices; ``spans[i][k]`` is the original text behind sentinel ``k`` of unit ``i``.
    """

    pieces: list[str | int]
    units: list[str]
    spans: list[tuple[str, ...]]
    sentinel: tuple[str, str] = DEFAULT_SENTINEL

    def restore(self, translations: Sequence[str], sentence_gap: str | None = None) -> Restored:
        """Re-insert literals and protected spans around the translated units.

        Lost, duplicated or unknown sentinels are reported in ``problems`` and left as
        the model returned them (a lost span stays lost).  ``sentence_gap`` replaces the
        spaces between two sentences of one line: ``""`` for a target written without
        spaces (Chinese puts nothing after "。"); None keeps the source's spacing.
        """
        if len(translations) != len(self.units):
            raise ValueError(f"{len(translations)} translations for {len(self.units)} units")
        problems: list[str] = []
        restored = [self._restore_unit(i, t, problems) for i, t in enumerate(translations)]
        out = []
        last = len(self.pieces) - 1
        for k, piece in enumerate(self.pieces):
            if not isinstance(piece, str):
                out.append(restored[piece])
            elif (
                sentence_gap is not None
                and 0 < k < last
                and _is_gap(piece)
                and not isinstance(self.pieces[k - 1], str)
                and not isinstance(self.pieces[k + 1], str)
            ):
                out.append(sentence_gap)
            else:
                out.append(piece)
        return Restored("".join(out), problems)

    def _restore_unit(self, i: int, translation: str, problems: list[str]) -> str:
        spans = self.spans[i]
        seen = [0] * len(spans)

        def put_back(m: re.Match[str]) -> str:
            k = int(m.group(1))
            if k < len(spans):
                seen[k] += 1
                return spans[k]
            problems.append(f"unit {i}: unknown sentinel {m.group()}")
            return m.group()

        text = sentinel_regex(self.sentinel).sub(put_back, translation.strip())
        for k, n in enumerate(seen):
            if n != 1:
                what = "lost" if n == 0 else f"duplicated x{n}"
                problems.append(f"unit {i}: {what} {self.sentinel[0]}{k}{self.sentinel[1]} = {_short(spans[k])!r}")
        return text

    @property
    def text(self) -> str:
        """The original text (the plan restored with its own units)."""
        return self.restore(self.units).text


def _is_gap(s: str) -> bool:
    """Horizontal whitespace only: what separates two sentences of one line."""
    return bool(s) and not s.strip(" \t\u3000")


def _short(s: str, n: int = 40) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."


class _Builder:
    def __init__(self, lang: str, sentinel: tuple[str, str], max_unit_chars: int) -> None:
        self.lang = lang
        self.sentinel = sentinel
        self.max_unit_chars = max_unit_chars
        self.pieces: list[str | int] = []
        self.units: list[str] = []
        self.spans: list[tuple[str, ...]] = []

    def literal(self, s: str) -> None:
        if not s:
            return
        if self.pieces and isinstance(self.pieces[-1], str):
            self.pieces[-1] += s
        else:
            self.pieces.append(s)

    def text(self, text: str) -> None:
        lines = text.splitlines(keepends=True)
        table = _table_rows(lines)
        i = 0
        while i < len(lines):
            end = _block_end(lines, i)
            if end is not None:
                self.literal("".join(lines[i : end + 1]))
                i = end + 1
                continue
            line = lines[i]
            if not line.strip():
                self.literal(line)
            elif i in table:
                self.table_row(line)
            else:
                self.line(line)
            i += 1

    def line(self, line: str) -> None:
        body, eol = _split_eol(line)
        m = _LINE_PREFIX.match(body)
        prefix = m.group() if m else ""
        rest = body[len(prefix) :]
        closing = ""
        if m and m.group("heading") and (h := _HEADING_CLOSE.search(rest)):
            rest, closing = rest[: h.start()], rest[h.start() :]
        self.literal(prefix)
        self.inline(rest)
        self.literal(closing + eol)

    def table_row(self, line: str) -> None:
        body, eol = _split_eol(line)
        if _TABLE_SEP.match(body):
            self.literal(line)
            return
        code = [m.span() for m in re.finditer(_INLINE_PATTERNS[0][1], body)]
        start = 0
        for m in _PIPE.finditer(body):
            if any(s <= m.start() < e for s, e in code):
                continue  # a pipe inside inline code is content
            self.inline(body[start : m.start()])  # each cell is translated on its own
            self.literal("|")
            start = m.end()
        self.inline(body[start:])
        self.literal(eol)

    def inline(self, text: str) -> None:
        """Prose with inline spans: sentences become units, the rest stays literal."""
        if not _LETTER.search(text):
            self.literal(text)
            return
        originals: list[str] = []
        masked_parts = []
        pos = 0
        for s, e in protected_spans(text, self.sentinel):
            masked_parts.append(text[pos:s])
            masked_parts.append(_MASK)
            originals.append(text[s:e])
            pos = e
        masked_parts.append(text[pos:])
        masked = "".join(masked_parts)
        queue = iter(originals)

        def unmask(s: str) -> str:
            if _MASK not in s:
                return s
            parts = s.split(_MASK)
            out = [parts[0]]
            for part in parts[1:]:
                out.append(next(queue))
                out.append(part)
            return "".join(out)

        cursor = 0
        for s, e in sentence_spans(masked, self.lang):
            pieces = (
                [(s, e)]
                if e - s <= self.max_unit_chars
                else [(s + a, s + b) for a, b in split_long(masked[s:e], self.max_unit_chars)]
            )
            for ps, pe in pieces:
                self.literal(unmask(masked[cursor:ps]))
                self.sentence(masked[ps:pe], unmask, queue)
                cursor = pe
        self.literal(unmask(masked[cursor:]))

    def sentence(self, masked: str, unmask, queue) -> None:
        lead_end, trail_at = 0, len(masked)
        while lead_end < trail_at and (masked[lead_end] == _MASK or masked[lead_end].isspace()):
            lead_end += 1
        while trail_at > lead_end and (masked[trail_at - 1] == _MASK or masked[trail_at - 1].isspace()):
            trail_at -= 1
        lead, core = masked[:lead_end], masked[lead_end:trail_at]
        if not _LETTER.search(core):
            self.literal(unmask(masked))
            return
        self.literal(unmask(lead))
        parts = core.split(_MASK)
        out = [parts[0]]
        for k, part in enumerate(parts[1:]):
            out.append(f"{self.sentinel[0]}{k}{self.sentinel[1]}")
            out.append(part)
        self.pieces.append(len(self.units))
        self.units.append("".join(out))
        self.spans.append(tuple(next(queue) for _ in parts[1:]))
        self.literal(unmask(masked[trail_at:]))


def protect_and_split(
    text: str, lang: str, sentinel: tuple[str, str] = DEFAULT_SENTINEL, max_unit_chars: int = 1000
) -> Plan:
    """Cut ``text`` (in language ``lang``) into sentence units with protected spans held back.

    ``max_unit_chars`` bounds a unit: longer sentences are cut at clause punctuation or
    spaces, since MT models truncate long inputs.
    """
    b = _Builder(lang, tuple(sentinel), max_unit_chars)  # type: ignore[arg-type]
    if text:
        b.text(text)
    return Plan(b.pieces, b.units, b.spans, tuple(sentinel))  # type: ignore[arg-type]
