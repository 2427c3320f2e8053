"""Token counting for packing: a local Hugging Face tokenizer or a tiktoken encoding.

``TokenCounter("path/to/tokenizer_dir")`` loads ``tokenizer.json`` with ``tokenizers``
(or the directory with ``transformers.AutoTokenizer``, local files only);
``TokenCounter("cl100k_base")`` uses tiktoken, imported only then (its encodings are
downloaded on first use, so an offline machine needs them in tiktoken's cache).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from babelmill.processors.errors import BabelmillError


class TokenCounter:
    """Counts tokens (no special tokens) the way the user's model will see them."""

    def __init__(self, spec: str) -> None:
        self.spec = spec

    def __getstate__(self) -> dict[str, Any]:
        return {"spec": self.spec}

    def load(self) -> "TokenCounter":
        if "_encode" in self.__dict__:
            return self
        spec = self.spec
        if os.path.isdir(spec):
            path = os.path.join(spec, "tokenizer.json")
            if os.path.isfile(path):
                from tokenizers import Tokenizer

                tok = Tokenizer.from_file(path)
                self._encode = lambda texts: [
                    len(e.ids) for e in tok.encode_batch(list(texts), add_special_tokens=False)
                ]
                return self
            if not any(
                os.path.isfile(os.path.join(spec, f))
                for f in ("tokenizer_config.json", "vocab.json", "tokenizer.model", "spiece.model", "vocab.txt")
            ):
                raise BabelmillError(
                    f"--tokenizer {spec}: no tokenizer files (tokenizer.json, tokenizer_config.json, ...) in this directory"
                )
            try:
                from transformers import AutoTokenizer

                hf = AutoTokenizer.from_pretrained(spec, local_files_only=True)
            except Exception as exc:  # noqa: BLE001 - any load failure is the user's path
                raise BabelmillError(
                    f"--tokenizer {spec}: not a loadable Hugging Face tokenizer directory ({type(exc).__name__}: {exc})"
                ) from exc
            self._encode = lambda texts: [len(x) for x in hf(list(texts), add_special_tokens=False)["input_ids"]]
            return self
        if os.path.exists(spec):
            raise BabelmillError(
                f"--tokenizer {spec} is a file; pass the tokenizer's directory or a tiktoken encoding name"
            )
        try:
            import tiktoken
        except ImportError:
            raise BabelmillError(
                f"--tokenizer {spec!r} is not a directory, and tiktoken (for encoding names) is not installed: pip install 'babelmill[tiktoken]'"
            ) from None
        try:
            enc = tiktoken.get_encoding(spec)
        except Exception as exc:  # noqa: BLE001
            raise BabelmillError(
                f"--tokenizer {spec!r}: no local tokenizer directory and no usable tiktoken encoding ({type(exc).__name__}: {exc})"
            ) from exc
        self._encode = lambda texts: [len(x) for x in enc.encode_ordinary_batch(list(texts))]
        return self

    def count(self, texts: Sequence[str]) -> list[int]:
        self.load()
        return self._encode(texts) if texts else []
