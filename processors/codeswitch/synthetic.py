"""Generated parallel data for tests and benchmarks (made-up words, no real text).

A made-up source vocabulary maps word by word onto a made-up target vocabulary (some
words with two candidate translations, a few two-word source phrases with one-word
translations); target sentences reorder adjacent word pairs now and then, so the
Pharaoh alignment is not monotone.  Some sentences carry protected spans (a URL, inline
code, a number) that every mode must leave untouched.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

_SYL = "ka lo ve ri ta sko bre mi su pe da nu fi go he il jar ke lor ma ne ro pa qui ra se ti va um wo ya ze".split()
_TSYL = "mba ku ngo zi wa te le ho ja ki sa ndu fe gi yo bu chi ra me po tu nya lwe ke ida".split()


def vocab(n_words: int = 400, seed: int = 0) -> tuple[list[str], dict[str, list[str]]]:
    """Source words and their target candidates (one or two each)."""
    rng = random.Random(seed)
    src: list[str] = []
    seen: set[str] = set()
    while len(src) < n_words:
        w = "".join(rng.choice(_SYL) for _ in range(rng.randint(1, 3)))
        if w not in seen and len(w) > 2:
            seen.add(w)
            src.append(w)
    lex = {}
    for w in src:
        cands = [
            "".join(rng.choice(_TSYL) for _ in range(rng.randint(2, 3))) for _ in range(1 if rng.random() < 0.7 else 2)
        ]
        lex[w] = cands
    return src, lex


def lexicon_lines(lex: dict[str, list[str]]) -> list[str]:
    """MUSE-style ``src tgt`` lines."""
    return [f"{w} {c}" for w, cands in lex.items() for c in cands]


def pairs(
    n: int, seed: int = 0, min_words: int = 4, max_words: int = 16, protected: float = 0.2
) -> Iterator[dict[str, str]]:
    """``{"id", "src", "tgt", "alignment"}`` records."""
    words, lex = vocab(seed=0)
    rng = random.Random(seed)
    for k in range(n):
        src = [rng.choice(words) for _ in range(rng.randint(min_words, max_words))]
        tgt = [lex[w][0] for w in src]
        order = list(range(len(src)))
        for i in range(0, len(order) - 1, 2):
            if rng.random() < 0.3:
                order[i], order[i + 1] = order[i + 1], order[i]
        tgt_tokens = [tgt[i] for i in order]
        links = sorted(f"{i}-{j}" for j, i in enumerate(order))
        src_tokens = list(src)
        if rng.random() < protected:
            extra = rng.choice(["https://example.org/x", "`x=1`", "42"])
            pos = rng.randint(0, len(src_tokens))
            src_tokens.insert(pos, extra)
            links = [f"{i + (1 if i >= pos else 0)}-{j}" for i, j in (map(int, link.split("-")) for link in links)]
            tgt_tokens.append(extra)
            links.append(f"{pos}-{len(tgt_tokens) - 1}")
        src_tokens[0] = src_tokens[0].capitalize() if src_tokens[0][0].isalpha() else src_tokens[0]
        yield {
            "id": f"p{k}",
            "src": " ".join(src_tokens) + ".",
            "tgt": " ".join(tgt_tokens) + ".",
            "alignment": " ".join(sorted(links, key=lambda x: tuple(map(int, x.split("-"))))),
        }


def documents(n: int, seed: int = 0, min_sents: int = 1, max_sents: int = 30) -> Iterator[dict[str, str]]:
    """Document pairs: several sentence pairs joined one per line."""
    rng = random.Random(seed)
    gen = pairs(n * max_sents, seed=seed + 1, protected=0.0)
    for k in range(n):
        sents = [next(gen) for _ in range(rng.randint(min_sents, max_sents))]
        yield {"id": f"d{k}", "src": "\n".join(s["src"] for s in sents), "tgt": "\n".join(s["tgt"] for s in sents)}
