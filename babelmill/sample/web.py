"""The generated imitation of a multilingual web crawl (see ``babelmill.sample``).

The phrase banks, PII sentences and bad-document text live in ``grammars.yaml`` and
``web.yaml`` next to this module; this module holds only the generator.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import random
import re
from pathlib import Path

from babelmill.sample.data import load

#: The sample's languages (documents a ``--lang`` run over these keeps).
LANGS: tuple[str, ...] = ("en", "de", "fr", "es", "pt", "it", "nl", "sw", "id", "tr", "pl", "yo", "ru", "ar", "zh")
#: Languages outside ``LANGS``: the ``foreign`` bad documents.
FOREIGN_LANGS: tuple[str, ...] = ("sv", "vi")
#: Written without spaces between words.
UNSPACED: frozenset[str] = frozenset({"zh"})
_SLOTS = "SVOPTRJY"


@dataclasses.dataclass(frozen=True)
class Grammar:
    """One language's phrase banks and sentence patterns."""

    lang: str
    slots: dict[str, tuple[str, ...]]
    patterns: tuple[tuple[str, ...], ...]
    headline: tuple[str, ...]

    @property
    def spaced(self) -> bool:
        return self.lang not in UNSPACED

    def compile(self, pattern: tuple[str, ...]) -> tuple[tuple[str, ...] | str, ...]:
        """The pattern with each slot letter replaced by its phrase pool."""
        return tuple(self.slots[tok] if tok in _SLOTS and len(tok) == 1 else tok for tok in pattern)

    @functools.cached_property
    def compiled(self) -> tuple[tuple[tuple[str, ...] | str, ...], ...]:
        return tuple(self.compile(p) for p in self.patterns)

    def vocabulary(self) -> list[str]:
        """Distinct words of the phrase banks, in order of first use."""
        seen: dict[str, None] = {}
        for slot in _SLOTS:
            for phrase in self.slots.get(slot, ()):
                for word in phrase.split():
                    word = word.strip(",.，。،")
                    if word and "{" not in word:
                        seen.setdefault(word.lower(), None)
        return list(seen)


def _grammar(lang: str, bank: dict) -> Grammar:
    slots = {k: tuple(p for p in bank[k] if p) for k in _SLOTS if bank.get(k)}
    patterns = tuple(tuple(p.split()) for p in bank["patterns"])
    for pattern in patterns:
        missing = [tok for tok in pattern if len(tok) == 1 and tok in _SLOTS and tok not in slots]
        assert not missing, f"{lang}: pattern {' '.join(pattern)} uses empty slots {missing}"
    return Grammar(lang, slots, patterns, tuple(bank["headline"].split()))


GRAMMARS: dict[str, Grammar] = {lang: _grammar(lang, bank) for lang, bank in load("grammars").items()}

#: Per language, the distinct words of its phrase banks (kept under the historical
#: name: a space-separated string of words in that language).
WORDS: dict[str, str] = {lang: " ".join(GRAMMARS[lang].vocabulary()) for lang in LANGS}

_ATTACH = frozenset(",.;:!?،")
_FR_ELISION = re.compile(r"\bque (?=(?:un|une|il|elle|on)\b)")


def _cap(text: str, lang: str) -> str:
    if not text:
        return text
    if text.startswith("'s "):  # Dutch: 's avonds -> 's Avonds
        return "'s " + _cap(text[3:], lang)
    first = text[0]
    if lang == "tr" and first == "i":
        return "İ" + text[1:]
    return first.upper() + text[1:]


def _fill(pattern: tuple[tuple[str, ...] | str, ...], g: Grammar, rng: random.Random) -> str:
    """Fill a compiled pattern: a pool of phrases per slot, literals as they are."""
    rand = rng.random  # a C call; rng.choice goes through Python-level _randbelow
    parts: list[str] = []
    glue = False
    for el in pattern:
        phrase = el[int(rand() * len(el))] if el.__class__ is tuple else el
        if "{" in phrase:
            phrase = phrase.replace("{year}", str(1995 + int(rand() * 29)))
        if parts and (glue or phrase[0] in _ATTACH):
            parts[-1] += phrase  # punctuation (and a joiner's comma) sticks to the word before
        else:
            parts.append(phrase)
        glue = phrase == "و"  # Arabic "and" is written onto the next word
    text = " ".join(parts)
    if not g.spaced:
        return text.replace(" ", "")
    if g.lang == "fr" and "que " in text:
        text = _FR_ELISION.sub("qu'", text)
    return text


def make_sentence(lang: str, rng: random.Random) -> str:
    """One sentence from a random pattern of ``lang``'s grammar."""
    g = GRAMMARS[lang]
    return _cap(_fill(g.compiled[int(rng.random() * len(g.compiled))], g, rng), lang)


def make_headline(lang: str, rng: random.Random) -> str:
    """A title line: subject, verb and object, no final punctuation."""
    g = GRAMMARS[lang]
    return _cap(_fill(g.compile(g.headline), g, rng), lang)


def _length(text: str, spaced: bool) -> int:
    """Words in ``text`` (for unspaced scripts, ~1.6 characters a word)."""
    return text.count(" ") + 1 if spaced else int(len(text) / 1.6)


def make_document(lang: str, rng: random.Random, min_words: int = 60, max_words: int = 400) -> str:
    """A web article in ``lang``: an optional headline, then paragraphs of 2-5 sentences.

    Lengths follow a triangular distribution peaking near 130 words, like the body of
    a short news item or blog post.
    """
    g = GRAMMARS[lang]
    target = int(rng.triangular(min_words, max_words - 20, 130))
    joiner = " " if g.spaced else ""
    paragraphs: list[str] = []
    n = count = 0
    while n < target or count < 5:  # C4 wants at least 5 sentences
        sentences = []
        for _ in range(rng.randint(2, 5)):
            s = make_sentence(lang, rng)
            sentences.append(s)
            n += _length(s, g.spaced)
            count += 1
            if n >= target and count >= 5:
                break
        paragraphs.append(joiner.join(sentences))
    if rng.random() < 0.6:
        paragraphs.insert(0, make_headline(lang, rng))
    return "\n\n".join(paragraphs)


# --------------------------------------------------------------------------- PII

_WEB = load("web")
#: Sentences carrying PII, per language: an e-mail and a phone, an IPv4 address, an e-mail.
PII_FRAMES: dict[str, tuple[str, ...]] = {lang: tuple(frames) for lang, frames in _WEB["pii_frames"].items()}
_MAIL_USERS: tuple[str, ...] = tuple(_WEB["mail_users"])
_MAIL_DOMAINS = ("example.org", "example.com")
#: IPv4 documentation ranges (RFC 5737): never a real host.
_IP_NETS = ("192.0.2", "198.51.100", "203.0.113")


def _email(rng: random.Random) -> str:
    return f"{rng.choice(_MAIL_USERS)}@{rng.choice(_MAIL_DOMAINS)}"


def _phone(rng: random.Random) -> str:
    """A phone number in one of three fictional-looking styles."""
    style = rng.randrange(3)
    if style == 0:
        return f"+254 7{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
    if style == 1:
        return f"(555) 010-{rng.randint(1000, 9999)}"
    return f"+44 20 7946 0{rng.randint(100, 999)}"  # Ofcom's drama range


def _ip(rng: random.Random) -> str:
    return f"{rng.choice(_IP_NETS)}.{rng.randint(1, 254)}"


def add_pii(text: str, lang: str, rng: random.Random) -> tuple[str, list[str]]:
    """``text`` with 1-2 PII sentences appended to random paragraphs; also the values inserted."""
    paragraphs = text.split("\n\n")
    values: list[str] = []
    for _ in range(rng.randint(1, 2)):
        frame = rng.choice(PII_FRAMES[lang])
        fills = {"email": _email(rng), "phone": _phone(rng), "ip": _ip(rng)}
        used = [fills[k] for k in ("email", "phone", "ip") if "{" + k + "}" in frame]
        values.extend(used)
        sentence = frame.format(**fills)
        i = rng.randrange(len(paragraphs))
        if i == 0 and len(paragraphs) > 1 and not paragraphs[0].endswith(tuple(".。")):
            i = 1  # not onto the headline
        paragraphs[i] += (" " if lang not in UNSPACED else "") + sentence
    return "\n\n".join(paragraphs), values


# --------------------------------------------------------------------------- bad documents

#: Navigation words of a site header / footer, per language.
NAV: dict[str, tuple[str, ...]] = {lang: tuple(items) for lang, items in _WEB["nav"].items()}

#: A cookie banner, per language (scraped once per page section, so it repeats).
COOKIE: dict[str, str] = dict(_WEB["cookie"])

_LOREM: tuple[str, ...] = tuple(_WEB["lorem"])
_JS: tuple[str, ...] = tuple(_WEB["javascript"])
_SPAM: tuple[str, ...] = tuple(_WEB["spam"])
_SPAM = ("🔥🔥🔥", "$$$", "!!!", ">>>", "★★★★★", "100%", "💰💰", "👉👉", "###", "⚡")


def _truncated(lang: str, rng: random.Random) -> str:
    """A sentence cut off mid-way, as teaser lists and feeds show them."""
    s = make_sentence(lang, rng).rstrip(".。")
    if lang in UNSPACED:
        return s[: max(4, int(len(s) * rng.uniform(0.4, 0.7)))] + "……"
    words = s.split()
    return " ".join(words[: max(3, int(len(words) * rng.uniform(0.4, 0.7)))]) + "..."


def _bad_short(lang: str, rng: random.Random) -> str:
    g = GRAMMARS[lang]
    words = make_headline(lang, rng).split()
    text = " ".join(words[:5]) if g.spaced else words[0][:12]
    return text + ("." if g.spaced else "。")


def _bad_boilerplate(lang: str, rng: random.Random) -> str:
    items = list(NAV[lang])
    lines = [" | ".join(rng.sample(items, rng.randint(3, 6))) for _ in range(rng.randint(2, 4))]
    lines += rng.sample(items, rng.randint(4, 8))
    lines.append(f"© {rng.randint(2015, 2024)} {rng.choice(('Example Media', 'Example News', 'example.org'))}")
    return "\n".join(lines)


def _bad_repeated(lang: str, rng: random.Random) -> str:
    joiner = " " if lang not in UNSPACED else ""
    body = [joiner.join(make_sentence(lang, rng) for _ in range(rng.randint(1, 3)))]
    for _ in range(rng.randint(4, 7)):
        body.append(COOKIE[lang])
        body.append(make_sentence(lang, rng) if rng.random() < 0.3 else COOKIE[lang])
    return "\n".join(body)


def _bad_bullets(lang: str, rng: random.Random) -> str:
    g = GRAMMARS[lang]
    mark = rng.choice(("•", "-"))
    items = rng.sample(g.slots["O"], min(len(g.slots["O"]), rng.randint(8, 14)))
    return "\n".join(f"{mark} {_cap(item.replace(' ', '') if not g.spaced else item, lang)}" for item in items)


def _bad_ellipsis(lang: str, rng: random.Random) -> str:
    return "\n".join(_truncated(lang, rng) for _ in range(rng.randint(5, 10)))


def _bad_spam(lang: str, rng: random.Random) -> str:
    g = GRAMMARS[lang]
    tags = ["#" + re.sub(r"\W", "", w) for w in rng.sample(g.slots["O"], 8)]
    lines = []
    for _ in range(rng.randint(3, 6)):
        head = make_headline(lang, rng).upper()
        lines.append(f"{rng.choice(_SPAM)} {head} {rng.choice(_SPAM)}")
        lines.append(" ".join(rng.sample(tags, rng.randint(4, 8))) + " #sale #win #free")
    return "\n".join(lines)


def _bad_lorem(lang: str, rng: random.Random) -> str:
    paras = [" ".join(rng.sample(_LOREM, rng.randint(2, 4))) for _ in range(rng.randint(2, 4))]
    return make_headline(lang, rng) + "\n\n" + "\n\n".join(paras)


def _bad_javascript(lang: str, rng: random.Random) -> str:
    joiner = " " if lang not in UNSPACED else ""
    prose = joiner.join(make_sentence(lang, rng) for _ in range(rng.randint(2, 4)))
    code = rng.sample(_JS[1:], rng.randint(3, 5))
    return "\n".join([_JS[0], *code, prose])


def _bad_mixed(lang: str, rng: random.Random) -> str:
    other = rng.choice([x for x in LANGS if x != lang])
    return "\n".join(make_sentence(lang if i % 2 == 0 else other, rng) for i in range(rng.randint(8, 12)))


def _bad_foreign(lang: str, rng: random.Random) -> str:
    return make_document(lang if lang in FOREIGN_LANGS else rng.choice(FOREIGN_LANGS), rng)


#: Bad document kinds, each a common web failure the corpus filters should catch.
BAD_KINDS: dict[str, object] = {
    "short": _bad_short,  # a 5-word line (Gopher min words)
    "boilerplate": _bad_boilerplate,  # navigation menus (FineWeb line punctuation / short lines)
    "repeated": _bad_repeated,  # cookie banner scraped again and again (Gopher repetition)
    "bullets": _bad_bullets,  # a bullet list only (Gopher bullet lines)
    "ellipsis": _bad_ellipsis,  # truncated teasers ending in "..." (Gopher ellipsis)
    "spam": _bad_spam,  # hashtags and symbols (Gopher hash / symbol ratio)
    "lorem": _bad_lorem,  # placeholder text (C4 "lorem ipsum"; LID: Latin)
    "javascript": _bad_javascript,  # a script dump (C4 javascript / curly brace)
    "mixed": _bad_mixed,  # two languages line by line (line-level LID)
    "foreign": _bad_foreign,  # good text in a language outside LANGS (FOREIGN_LANGS; --lang)
}


def make_bad_document(kind: str, lang: str, rng: random.Random) -> str:
    """A document of the given bad ``kind`` (see ``BAD_KINDS``), mostly in ``lang``."""
    return BAD_KINDS[kind](lang, rng)  # type: ignore[operator]


# --------------------------------------------------------------------------- duplicates

#: A token that is one word (letters only) with optional punctuation around it.
_EDITABLE = re.compile(r"[,.;:!?،()\"'«»]*([^\W\d_]+)[,.;:!?،()\"'«»]*")


def near_duplicate(text: str, rng: random.Random, edits: int = 2) -> str:
    """``text`` with ``edits`` words replaced by other words of the same text.

    Edits are spread over the document (one per equal stretch), each replacement
    differs from the word it replaces after lowercasing, and punctuation around a word
    is kept, so the copy is a near (not exact) duplicate after dedup normalisation.
    Text written without spaces is edited one character at a time.
    """
    if text.count(" ") * 12 < len(text):  # unspaced script: edit characters
        chars = list(text)
        idx = [i for i, c in enumerate(chars) if c.isalpha() and ord(c) > 0x2E80]
        pool = sorted({chars[i] for i in idx})
        if len(pool) < 2:
            return text
        for part in _stretches(idx, edits):
            i = rng.choice(part)
            chars[i] = rng.choice([c for c in pool if c != chars[i]])
        return "".join(chars)
    tokens = text.split(" ")
    match = _EDITABLE.fullmatch
    words = {i: m.group(1) for i, t in enumerate(tokens) if (m := match(t))}
    idx = list(words)
    vocab = sorted(set(words.values()))
    if len(vocab) < 2:
        return text
    for part in _stretches(idx, edits):
        i = rng.choice(part)
        word = words[i]
        new = rng.choice([w for w in vocab if w.lower() != word.lower()])
        tokens[i] = tokens[i].replace(word, new, 1)
    return " ".join(tokens)


def _stretches(idx: list[int], k: int) -> list[list[int]]:
    """``idx`` cut into ``k`` consecutive, non-empty, about equal parts."""
    k = max(1, min(k, len(idx)))
    size = len(idx) / k
    return [idx[int(j * size) : int((j + 1) * size)] or idx[-1:] for j in range(k)]


def near_duplicate_edits(text: str) -> int:
    """How many word edits keep word 5-gram Jaccard >= ~0.88: 1 per 80 words, 1 to 3."""
    n = text.count(" ") + 1 if text.count(" ") * 12 >= len(text) else int(len(text) / 1.6)
    return max(1, min(3, n // 80))


# --------------------------------------------------------------------------- records

_DOMAINS = ("example.org", "news.example.com", "blog.example.org", "example.com", "forum.example.net")


def sample_records(
    docs_per_lang: int,
    seed: int = 0,
    *,
    langs: tuple[str, ...] | list[str] = LANGS,
    bad_fraction: float = 0.12,
    exact_fraction: float = 0.05,
    near_fraction: float = 0.05,
    pii_fraction: float = 0.2,
) -> list[dict]:
    """Well-formed records: good documents per language (some with PII), exact and near
    duplicates and bad documents, shuffled.  Fractions are of the returned records.

    Each record has ``id``, ``text``, ``url``, ``lang_hint`` (the language it was
    written in) and ``kind`` (``good``, ``pii``, ``exact_dup``, ``near_dup`` or a key of
    ``BAD_KINDS``); duplicates add ``dup_of``, PII documents ``pii`` (the values).
    """
    rng = random.Random(seed)
    unknown = [x for x in langs if x not in GRAMMARS or x in FOREIGN_LANGS]
    if unknown:
        raise ValueError(f"no sample grammar for {unknown}; choose from {', '.join(LANGS)}")
    good: list[dict] = []
    for lang in langs:
        for i in range(docs_per_lang):
            text = make_document(lang, rng)
            rec = {
                "id": f"{lang}-{i:05d}",
                "text": text,
                "url": f"https://{rng.choice(_DOMAINS)}/{lang}/{i}",
                "lang_hint": lang,
                "kind": "good",
            }
            if rng.random() < pii_fraction:
                rec["text"], rec["pii"] = add_pii(text, lang, rng)
                rec["kind"] = "pii"
            good.append(rec)
    if not good:
        return []
    total = len(good) / max(0.05, 1.0 - bad_fraction - exact_fraction - near_fraction)
    n_exact = max(1, round(total * exact_fraction)) if exact_fraction > 0 else 0
    n_near = max(1, round(total * near_fraction)) if near_fraction > 0 else 0
    n_bad = max(len(BAD_KINDS), round(total * bad_fraction)) if bad_fraction > 0 else 0

    extra: list[dict] = []
    for rec in rng.sample(good, min(n_exact, len(good))):
        extra.append({**rec, "id": rec["id"] + "-copy", "kind": "exact_dup", "dup_of": rec["id"]})
    # near copies of long documents only: 1-3 edits keep them >= 0.85 similar
    long_docs = [r for r in good if _length(r["text"], r["lang_hint"] not in UNSPACED) >= 100] or good
    for rec in rng.sample(long_docs, min(n_near, len(long_docs))):
        text = near_duplicate(rec["text"], rng, near_duplicate_edits(rec["text"]))
        extra.append(
            {
                **rec,
                "id": rec["id"] + "-near",
                "text": text,
                "url": rec["url"] + "?page=1",
                "kind": "near_dup",
                "dup_of": rec["id"],
            }
        )
    kinds = list(BAD_KINDS)
    for j in range(n_bad):
        kind = kinds[j % len(kinds)]
        lang = rng.choice(FOREIGN_LANGS if kind == "foreign" else list(langs))
        text = make_bad_document(kind, lang, rng)
        extra.append(
            {
                "id": f"{kind}-{j:05d}",
                "text": text,
                "url": f"https://{rng.choice(_DOMAINS)}/{lang}/{kind}/{j}",
                "lang_hint": lang,
                "kind": kind,
            }
        )
    records = good + extra
    rng.shuffle(records)
    return records


#: One of each kind of broken record a real crawl dump contains.
MALFORMED_LINES: list[bytes] = [
    b'{"id": "broken-json", "text": "unterminated',
    b'{"id": "bad-utf8", "text": "caf\xe9 au lait"}',
    b'{"id": "no-text", "body": "the text is under another key"}',
    b'{"id": "number-text", "text": 12345}',
    b'["a", "list", "not", "an", "object"]',
    b"\x00\x01\x02\xff\xfe binary junk \x89PNG",
]


def write_sample(
    directory: Path,
    docs_per_lang: int = 200,
    files: int = 4,
    seed: int = 0,
    malformed: bool = True,
    *,
    langs: tuple[str, ...] | list[str] = LANGS,
) -> list[Path]:
    """Write the sample as ``files`` JSONL files (``sample-NN.jsonl``); returns their paths.

    The records of ``sample_records`` plus one whitespace-only document, and, with
    ``malformed``, the ``MALFORMED_LINES`` spread over the first file.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("sample-*.jsonl"):
        old.unlink()
    records = sample_records(docs_per_lang, seed, langs=langs)
    records.append({"id": "empty-doc", "text": "   ", "url": "https://example.org/empty", "kind": "empty"})
    paths = []
    per_file = (len(records) + files - 1) // files
    for f in range(files):
        path = directory / f"sample-{f:02d}.jsonl"
        lines = [json.dumps(r, ensure_ascii=False).encode("utf-8") for r in records[f * per_file : (f + 1) * per_file]]
        if malformed and f == 0:
            for j, bad in enumerate(MALFORMED_LINES):
                lines.insert(min(len(lines), 3 + 7 * j), bad)
        path.write_bytes(b"\n".join(lines) + b"\n")
        paths.append(path)
    return paths
