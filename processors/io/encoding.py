"""Text files that are not UTF-8: decoded when their encoding is declared or can be told.

Readers parse UTF-8.  A file that starts with a byte order mark (UTF-8, UTF-16,
UTF-32) is read through a transcoder that turns it into UTF-8 as it streams.  A file
without one whose head is not UTF-8 is checked for a legacy single-byte encoding
(latin-1, cp1252, cp1251, ...) by uchardet (``cchardet``), and decoded as that only
when the evidence is good: no line of the head is valid non-ASCII UTF-8 (that would be
a UTF-8 file with some broken lines, whose broken lines are quarantined), the head has
enough non-ASCII bytes to judge, the detector is confident and the head decodes
cleanly.  Otherwise the file is read as UTF-8 and each line that is not is quarantined,
with the reason.
"""

from __future__ import annotations

import codecs
import dataclasses
import io
import logging
from typing import IO, Any

log = logging.getLogger(__name__)

#: the bytes of a file's head that decide its encoding
SNIFF_BYTES = 1 << 20
#: fewer non-ASCII bytes than this is too little to tell one legacy encoding from another
MIN_EVIDENCE = 16
#: uchardet's confidence (0-1) below which a guess is not trusted
MIN_CONFIDENCE = 0.5
#: byte order marks, longest first (the UTF-32 LE mark starts with the UTF-16 LE one)
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
#: appended to the reason of a line that is not UTF-8 in a file whose encoding could not be told
UNDETECTED_HINT = "the file has no byte order mark and its encoding could not be detected with confidence"


class EncodingStreamError(OSError):
    """A file stops being valid in the encoding it declared or was detected in."""


@dataclasses.dataclass(frozen=True)
class Encoding:
    """How a file is decoded: ``codec`` (``utf-8``: as is) and ``how`` it was decided
    (``bom``, ``detected``, ``utf-8``, or ``undetected``: not UTF-8, nothing better found)."""

    codec: str = "utf-8"
    how: str = "utf-8"

    @property
    def transcode(self) -> bool:
        return self.codec != "utf-8"


def _valid_utf8_prefix(data: bytes) -> bool:
    """Whether ``data`` is UTF-8, allowing a sequence cut at its very end."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.reason == "unexpected end of data" and exc.start >= len(data) - 3
    return True


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def sniff(head: bytes) -> Encoding:
    """The encoding of a file from its first bytes (see the module's docstring)."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return Encoding(codec, "bom")
    if _valid_utf8_prefix(head):
        return Encoding()
    cut = head.rfind(b"\n")
    sample = head[: cut + 1] if cut > 0 else head
    if any(not line.isascii() and _is_utf8(line) for line in sample.split(b"\n")):
        return Encoding()  # UTF-8 text with some broken lines (quarantined), not another encoding
    codec = detect_legacy(sample)
    return Encoding(codec, "detected") if codec else Encoding("utf-8", "undetected")


def detect_legacy(sample: bytes) -> str | None:
    """The single-byte encoding of text that is not UTF-8, or None when it cannot be told."""
    if len(sample.translate(None, bytes(range(128)))) < MIN_EVIDENCE:  # the non-ASCII bytes
        return None
    try:
        import cchardet  # uchardet, Mozilla's detector: right on latin-1 vs cp1252 where charset-normalizer was not
    except ImportError:  # pragma: no cover - a dependency; without it nothing is guessed
        return None
    guess = cchardet.detect(sample)
    name, confidence = guess.get("encoding"), guess.get("confidence") or 0.0
    if not name or confidence < MIN_CONFIDENCE:
        return None
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    if codec in ("utf-8", "ascii") or codec.startswith(("utf-16", "utf-32")):
        return None
    try:
        sample.decode(codec)
    except UnicodeDecodeError:
        return None
    return codec


def decode_document(data: bytes) -> tuple[str | None, str | None]:
    """A whole file's text, or None and the reason it cannot be decoded."""
    enc = sniff(data)
    codec = "utf-8" if enc.how in ("utf-8", "undetected") else enc.codec
    try:
        return data.decode(codec), None
    except UnicodeDecodeError as exc:
        if enc.how == "undetected":
            return None, f"invalid UTF-8 at byte {exc.start}: {exc.reason}; {UNDETECTED_HINT}"
        return None, f"invalid {codec} ({enc.how}) at byte {exc.start}: {exc.reason}"


class _Transcoded(io.RawIOBase):
    """A stream in another encoding, read as UTF-8 bytes."""

    def __init__(self, raw: IO[bytes], codec: str) -> None:
        self._raw = raw
        self._codec = codec
        self._decoder = codecs.getincrementaldecoder(codec)("strict")
        self._out = memoryview(b"")
        self._read = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._out:
            if self._done:
                return 0
            data = self._raw.read(1 << 16)
            try:
                text = self._decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                raise EncodingStreamError(
                    f"not valid {self._codec} after byte {self._read + max(exc.start, 0)}: {exc.reason}"
                ) from None
            self._read += len(data)
            self._done = not data
            self._out = memoryview(text.encode("utf-8"))
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def utf8_stream(raw: IO[bytes], enc: Encoding) -> IO[bytes]:
    """``raw`` as UTF-8 bytes: itself, or a buffered transcoder (which has ``readline``)."""
    if not enc.transcode:
        return raw
    return io.BufferedReader(_Transcoded(raw, enc.codec), buffer_size=1 << 20)  # type: ignore[return-value]
