"""Reader options for NER inputs (kept apart from the readers so that
``processors.io.records`` can hold them without importing the NER readers)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class NerOptions:
    """How NER records are read; ``ReaderOptions.ner`` is set for NER jobs only."""

    #: CoNLL files: 0-based column of the token and of the tag; None finds them.
    token_column: int | None = None
    tag_column: int | None = None
    #: names of integer tags (JSONL ``ner_tags``); HF datasets carry their own.
    label_names: tuple[str, ...] | None = None
    #: sentences with more tokens than this are quarantined.
    max_tokens: int = 512
    #: language written to ``lang`` when the input has none.
    lang: str | None = None
