"""Line-aligned byte ranges of one big uncompressed JSONL file, read as separate shards.

A shard ``[start, end)`` owns the lines that begin in that range.  Its records are
numbered as in a whole-file read (documents without an id keep ``<file>:<record>``),
so a split run writes the same rows as a one-shard run: the shard counts the records
(non-blank lines) before its first line, a linear scan at memory speed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

from babelmill.processors.io import storage
from babelmill.processors.io.records import QuarantineRecord, ReadBatch, ReaderOptions

_SCAN = 8 << 20
_BLANK_LINE = re.compile(rb"^[ \t\r\f\v]*\n", re.M)


def jsonl_ranges(path: str, split_bytes: int) -> list[tuple[int, int]]:
    """Raw ranges of about ``split_bytes`` (aligned to lines when read); one for small files."""
    size = storage.size(path)
    lower = path.lower()
    if split_bytes <= 0 or size <= split_bytes or not lower.endswith((".jsonl", ".ndjson")):
        return [(0, size)]
    from babelmill.processors.io.encoding import SNIFF_BYTES, sniff

    with storage.open_input(path) as fh:
        if sniff(fh.read(SNIFF_BYTES)).transcode:
            return [(0, size)]  # read whole, through the decoder: raw ranges would cut UTF-16 lines
    n = -(-size // split_bytes)
    step = -(-size // n)
    return [(s, min(s + step, size)) for s in range(0, size, step)]


def line_start(fh: Any, pos: int) -> int:
    """The first line start at or after ``pos``."""
    if pos == 0:
        return 0
    fh.seek(pos - 1)
    _rest_of_line(fh)
    return fh.tell()


def _rest_of_line(fh: Any) -> bytes:
    """Read to the end of the current line in bounded pieces (a line may be 100 MB);
    returns the last piece."""
    piece = fh.readline(1 << 20)
    while piece and not piece.endswith(b"\n"):
        piece = fh.readline(1 << 20)
    return piece


def records_before(fh: Any, pos: int) -> int:
    """Non-blank lines in ``[0, pos)`` (``pos`` is a line start), as the reader counts records."""
    fh.seek(0)
    n = 0
    while fh.tell() < pos:
        data = fh.read(min(_SCAN, pos - fh.tell()))
        if not data:
            break
        if fh.tell() < pos and not data.endswith(b"\n"):
            # whole lines only, so a blank line is never cut in two; a long line is read in
            # bounded pieces and stands in as one short line, blank or not like itself
            cut = data.rfind(b"\n") + 1
            blank = not data[cut:].strip(b" \t\r\f\v")
            piece = fh.readline(1 << 20)
            while piece:
                blank = blank and not piece.strip(b" \t\r\f\v\n")
                if piece.endswith(b"\n"):
                    break
                piece = fh.readline(1 << 20)
            data = data[:cut] + (b"\n" if blank else b"x\n")
        n += data.count(b"\n") - len(_BLANK_LINE.findall(data))
    return n


class _Bounded(io.RawIOBase):
    """The bytes ``[start, end)`` of a file, as a stream."""

    def __init__(self, path: str, start: int, end: int) -> None:
        self._fh = storage.open_input(path)
        self._fh.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        n = self._fh.readinto(memoryview(buffer)[: min(len(buffer), self._left)])
        self._left -= n or 0
        return n or 0

    def close(self) -> None:
        if not self.closed:
            self._fh.close()
        super().close()


def read_jsonl_range(path: str, source: str, opts: ReaderOptions, byte_range: tuple[int, int]) -> Iterator[ReadBatch]:
    """The records of one byte range of a JSONL file, numbered as in the whole file."""
    from babelmill.processors.io.common import OversizeLine, _iter_chunks, held_line_bytes
    from babelmill.processors.io.jsonl import _date_like_fields, _merge, _parse_piece

    with storage.open_input(path) as fh:
        start = line_start(fh, byte_range[0])
        end = line_start(fh, byte_range[1]) if byte_range[1] < storage.size(path) else byte_range[1]
        ordinal = records_before(fh, start) if start else 0
        # pyarrow's date-like fields are judged on the file's head, as a one-shard read does
        fh.seek(0)
        head = fh.read(1 << 18)
        head = head[: head.rfind(b"\n") + 1]  # whole lines; never pulls in a huge line
    as_strings = _date_like_fields(head)
    if start >= end:
        yield ReadBatch()
        return
    try:
        with io.BufferedReader(_Bounded(path, start, end), buffer_size=1 << 20) as stream:
            for chunk in _iter_chunks(stream, opts.chunk_bytes, held_line_bytes(opts)):
                if isinstance(chunk, OversizeLine):
                    yield ReadBatch(quarantine=[chunk.quarantine(source, ordinal, opts)])
                    ordinal += 1
                    continue
                batches, consumed = _parse_piece(chunk, ordinal, source, opts, as_strings)
                ordinal += consumed
                yield _merge(batches)
    except OSError as exc:
        yield ReadBatch(
            quarantine=[
                QuarantineRecord(source, ordinal, f"unreadable from record {ordinal} on: {type(exc).__name__}: {exc}")
            ]
        )
