"""Per-language profiles: the single source of truth for language codes and settings.

Data plus lookups only; imports neither ``processors`` nor ``pipelines``.

    >>> import langs
    >>> p = langs.get("sw")          # also "swa", "swh", "swh_Latn", "Swahili", "__label__sw", "sw-KE"
    >>> p.flores, p.lid_labels["glotlid"], p.quality.min_avg_word_length
    ('swh_Latn', 'swh_Latn', 3)

The table lives in ``languages.tsv`` (codes, labels, tokenizer, LID threshold) and
``fineweb2.yaml`` (FineWeb-2's published per-language filter values); profiles are built on first
use and cached.  ``README.md`` in this folder documents the columns and sources.
"""

from .profiles import (
    DEFAULT_LID_THRESHOLD,
    GOPHER_ENGLISH_STOPWORDS,
    LanguageProfile,
    QualityThresholds,
    UnknownLanguageError,
    all_profiles,
    by_label,
    codes,
    get,
    suggest,
    table_rows,
)

__all__ = [
    "DEFAULT_LID_THRESHOLD",
    "GOPHER_ENGLISH_STOPWORDS",
    "LanguageProfile",
    "QualityThresholds",
    "UnknownLanguageError",
    "all_profiles",
    "by_label",
    "codes",
    "get",
    "suggest",
    "table_rows",
]
