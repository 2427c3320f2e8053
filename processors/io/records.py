"""What readers hand to the runner: a table of good documents plus the malformed rest."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pyarrow as pa

from babelmill.processors.ner.options import NerOptions
from babelmill.processors.schema import empty_docs

#: Records above this many bytes are quarantined instead of parsed (a 50 MB "document"
#: is nearly always a broken dump, and it would blow up every later stage).
DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class ReaderOptions:
    """How input records map onto document rows."""

    #: the field holding the document text; "" for record mode (instruction data), where
    #: ``text`` is empty and the whole record goes to ``meta``.
    text_field: str = "text"
    id_field: str = "id"
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    #: text files: one document per ``line`` or per ``file``.
    text_mode: str = "line"
    #: bytes of a line-oriented file parsed at once (the unit of the fast path).
    chunk_bytes: int = 32 * 1024 * 1024
    #: split name for Hugging Face dataset inputs.
    hf_split: str = "train"
    #: set for NER jobs: records are sentences (tokens and tags), not documents.
    ner: NerOptions | None = None


@dataclasses.dataclass
class QuarantineRecord:
    """A record that could not become a document, kept with the reason why."""

    source: str
    #: the record's ordinal in its input file, or the document id for stage errors.
    record: int | str
    error: str
    stage: str = "read"
    raw: str | None = None
    raw_base64: str | None = None

    @classmethod
    def from_bytes(cls, source: str, record: int, error: str, data: bytes, stage: str = "read") -> "QuarantineRecord":
        try:
            return cls(source, record, error, stage, raw=data.decode("utf-8"))
        except UnicodeDecodeError:
            return cls(source, record, error, stage, raw_base64=base64.b64encode(data).decode("ascii"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "record": self.record, "stage": self.stage, "error": self.error}
        if self.raw is not None:
            out["raw"] = self.raw
        if self.raw_base64 is not None:
            out["raw_base64"] = self.raw_base64
        return out


@dataclasses.dataclass
class ReadBatch:
    """One batch from a reader; ``docs`` may carry a ``drop_reason`` column."""

    docs: pa.Table = dataclasses.field(default_factory=empty_docs)
    quarantine: list[QuarantineRecord] = dataclasses.field(default_factory=list)

    @property
    def num_records(self) -> int:
        return self.docs.num_rows + len(self.quarantine)
