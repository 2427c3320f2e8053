"""The one place code-switching and interleaving call machine translation.

Kept to a single function so the caller does not depend on how the engine is reached:
today a ``Translator`` from ``processors/translate/engine.py`` (CTranslate2, batched by
tokens, with its segment cache); once the shared ``translate_texts`` core lands, only
this body changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def translate_texts(translator: Any, texts: Sequence[str], src: str, tgt: str) -> list[str]:
    """Translate ``texts`` from ``src`` to ``tgt`` in one batched call; results in order."""
    if not texts:
        return []
    unique = list(dict.fromkeys(texts))
    results = translator.translate(unique, src, tgt)
    if len(results) != len(unique):
        raise RuntimeError(f"translator returned {len(results)} results for {len(unique)} texts")
    by_text = {t: r.text for t, r in zip(unique, results)}
    return [by_text[t] for t in texts]
