"""Word <-> sub-word plumbing for using a CTranslate2 translation model on given words.

The attention aligner and the ``score`` projector feed the MT model pre-tokenised words
and need to know which sub-word pieces belong to which word.  Each word is tokenised on
its own (so piece boundaries never cross words), and the model's special tokens are
added the way its own tokenizer adds them to an empty string (``__en__ ... </s>`` for
M2M100/NLLB, ``... </s>`` for Marian), plus the engine's language plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class WordPieces:
    """Encodes word lists for one (src, tgt) pair of a ``CTranslate2Translator``."""

    translator: Any  # babelmill.processors.translate.engine.CTranslate2Translator
    src: str
    tgt: str
    _cache: dict[tuple[str, str], list[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.plan = self.translator.plan(self.src, self.tgt)
        tok = self.translator._tokenizer
        if self.plan.tokenizer_src_lang is not None and getattr(tok, "src_lang", None) != self.plan.tokenizer_src_lang:
            tok.src_lang = self.plan.tokenizer_src_lang
        specials = tok.convert_ids_to_tokens(tok("", add_special_tokens=True)["input_ids"])
        self.source_before = list(self.plan.source_prefix) + specials[:-1]
        self.source_after = specials[-1:]

    def pieces(self, word: str, side: str) -> list[str]:
        key = (side, word)
        got = self._cache.get(key)
        if got is None:
            tok = self.translator._tokenizer
            got = []
            if side == "tgt":
                try:  # Marian keeps a separate target vocabulary
                    ids = tok(text_target=word, add_special_tokens=False)["input_ids"]
                    got = tok.convert_ids_to_tokens(ids)
                except (KeyError, TypeError, ValueError):
                    got = []
            if not got:
                got = tok.tokenize(word)
            got = got or [tok.unk_token or "<unk>"]
            self._cache[key] = got
        return got

    def encode(self, words: Sequence[str], side: str) -> tuple[list[str], list[int]]:
        """Pieces of ``words`` (no specials) and the word index of each piece."""
        pieces: list[str] = []
        owner: list[int] = []
        for i, w in enumerate(words):
            p = self.pieces(w, side)
            pieces += p
            owner += [i] * len(p)
        return pieces, owner

    def source(self, words: Sequence[str]) -> tuple[list[str], list[int]]:
        """Model input for source ``words``; owner -1 marks special tokens."""
        pieces, owner = self.encode(words, "src")
        before, after = self.source_before, self.source_after
        return before + pieces + after, [-1] * len(before) + owner + [-1] * len(after)

    def target_prefix(self) -> list[str]:
        return list(self.plan.target_prefix)
