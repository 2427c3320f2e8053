"""Text normalisation before language ID and filters: broken encodings repaired, one
Unicode normal form, stray control characters gone.  Web text is full of mojibake
("cafÃ©"); left alone it confuses LID and splits duplicates that should match."""

from __future__ import annotations

from typing import ClassVar

import ftfy
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from babelmill.processors.base import Stage

#: What mojibake and other ftfy-fixable damage looks like: UTF-8 read as Latin-1 /
#: Windows-1252 leaves these lead characters, HTML entities survive extraction, and
#: C0/C1 controls other than tab and newlines never belong in text.
_SUSPECT = r"[ÂÃÄÅÆÐÑØÙâãäåæðñ][\x80-\xbf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ ¡-¿]|&[a-zA-Z]{2,8};|&#x?[0-9a-fA-F]{2,6};|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\ufffd"


class TextNormalizer(Stage):
    """Repairs mojibake with ftfy (only on the documents that look damaged, found with
    one regex over the batch) and applies Unicode NFC to every document."""

    name: ClassVar[str] = "normalize"

    def __init__(self, fix_encoding: bool = True, form: str = "NFC") -> None:
        self.fix_encoding = fix_encoding
        self.form = form

    def __call__(self, batch: pa.Table) -> pa.Table:
        text = batch.column("text")
        if self.fix_encoding and batch.num_rows:
            suspect = pl.from_arrow(text).str.contains(_SUSPECT).fill_null(False).to_numpy()  # type: ignore[union-attr]
            idx = np.flatnonzero(suspect)
            if len(idx):
                values = text.to_pylist()
                changed = 0
                for i in idx:
                    fixed = ftfy.fix_text(values[i], normalization=None)
                    if fixed != values[i]:
                        values[i] = fixed
                        changed += 1
                self.count("ftfy_fixed", changed)
                text = pa.chunked_array([pa.array(values, pa.string())])
        if self.form:
            text = pc.utf8_normalize(text, self.form)
        return batch.set_column(batch.column_names.index("text"), "text", text)
