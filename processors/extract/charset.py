"""Decoding HTML bytes: HTTP header charset, then ``<meta charset>``, then detection.

A charset is only trusted when the bytes decode under it without error; a page that
decodes under none of the declared ones goes to detection (resiliparse's
``detect_encoding``, backed by uchardet), never to a blind UTF-8 ``errors="replace"``.
"""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
#: the spec says a meta charset must sit in the first 1024 bytes; real pages put it later.
_META_SCAN_BYTES = 8192


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        info = codecs.lookup(name.strip().lower())
    except LookupError:
        return None
    # WHATWG maps latin-1 labels to windows-1252 (a superset browsers use).
    return "cp1252" if info.name in ("latin-1", "iso8859-1", "ascii") else info.name


def header_charset(content_type: str | None) -> str | None:
    """The charset parameter of an HTTP ``Content-Type`` value, if any."""
    if not content_type:
        return None
    m = _HEADER_CHARSET.search(content_type)
    return m.group(1) if m else None


def meta_charset(payload: bytes) -> str | None:
    """The ``<meta charset>`` / ``http-equiv`` charset in the head of the page."""
    m = _META_CHARSET.search(payload[:_META_SCAN_BYTES])
    return m.group(1).decode("ascii", "ignore") if m else None


def decode_html(payload: bytes, content_type: str | None = None) -> tuple[str, str, str]:
    """``(text, codec, how)``; ``how`` is ``header``, ``meta``, ``bom``, ``utf-8`` or ``detected``."""
    if payload.startswith(codecs.BOM_UTF8):
        return payload[3:].decode("utf-8", "replace"), "utf-8", "bom"
    for how, label in (("header", header_charset(content_type)), ("meta", meta_charset(payload))):
        codec = _codec(label)
        if codec is None:
            continue
        try:
            return payload.decode(codec), codec, how
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        return payload.decode("utf-8"), "utf-8", "utf-8"
    except UnicodeDecodeError:
        pass
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    codec = detect_encoding(payload)
    # bytes_to_str tries the detected codec first and falls back through cp1252 itself.
    return bytes_to_str(payload, codec), codec, "detected"
