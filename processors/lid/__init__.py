"""Language identification: fastText (lid.176, GlotLID, OpenLID), heliport, and ``auto``.

One stage interface (``LanguageIdentifier``) with a module per backend; ``make_identifier``
builds the one a job asks for.  See ``auto.py`` for how the two shipped models are combined.
"""

from __future__ import annotations

from babelmill.processors.lid.common import (
    LOW_SCORE,
    MACRO_ONLY,
    NOT_TARGET,
    SCRIPT_CLASSES,
    SCRIPT_MISMATCH,
    LanguageIdentifier,
    Prediction,
    profile_scripts,
    script_pattern,
    script_share,
)
from babelmill.processors.lid.fasttext import (
    DEFAULT_MODEL_NAME,
    LABEL_PREFIX,
    FastTextLanguageIdentifier,
    default_model_path,
    label_family,
    resolve_model_path,
)
from babelmill.processors.lid.heliport import HeliportLanguageIdentifier
from babelmill.processors.lid.auto import BACKENDS, AutoLanguageIdentifier, make_identifier

__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL_NAME",
    "LABEL_PREFIX",
    "LOW_SCORE",
    "MACRO_ONLY",
    "NOT_TARGET",
    "SCRIPT_CLASSES",
    "SCRIPT_MISMATCH",
    "AutoLanguageIdentifier",
    "FastTextLanguageIdentifier",
    "HeliportLanguageIdentifier",
    "LanguageIdentifier",
    "Prediction",
    "default_model_path",
    "label_family",
    "make_identifier",
    "profile_scripts",
    "resolve_model_path",
    "script_pattern",
    "script_share",
]
