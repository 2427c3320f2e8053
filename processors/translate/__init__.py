"""Machine translation: model resolution (``models``), the CTranslate2 engine (``engine``),
the text translation core (``core.translate_texts``) and the stages on it (``stages``).

Names are exported lazily (PEP 562): importing this package loads nothing heavy, so the
engine can be used (and benchmarked) without the stage modules' polars / Ray imports.
Add exports by appending ``"Name": "babelmill.processors.translate.module"`` entries below.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "CTranslate2Spec": "babelmill.processors.translate.engine",
    "CTranslate2Translator": "babelmill.processors.translate.engine",
    "TranslationResult": "babelmill.processors.translate.engine",
    "Translator": "babelmill.processors.translate.engine",
    "LanguagePlan": "babelmill.processors.translate.models",
    "ResolvedModel": "babelmill.processors.translate.models",
    "UnsupportedLanguageError": "babelmill.processors.translate.models",
    "UnsupportedModelError": "babelmill.processors.translate.models",
    "resolve_model": "babelmill.processors.translate.models",
    "TextTranslation": "babelmill.processors.translate.core",
    "translate_texts": "babelmill.processors.translate.core",
    "TextTranslator": "babelmill.processors.translate.stages",
    "TranslatingStage": "babelmill.processors.translate.stages",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
