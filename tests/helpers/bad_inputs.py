"""Generators of the inputs a crawl or a user's disk really holds and a reader must
survive: files in UTF-16 / latin-1 / cp1252, NUL bytes, a 100 MB line, JSON nested
100,000 levels deep, an empty file, a directory named like a file, symlink loops.

``write_bad_inputs(dir)`` writes them all and returns what each should become, so a
test can check every file's fate (documents kept, records quarantined and why).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

#: Non-ASCII text that reads as natural language (charset detection needs some).
FRENCH = [
    "Le café de la gare était fermé à cause de la grève, déjà pour la troisième fois cette année.",
    "Où êtes-vous allés pendant les congés d'été ? À Genève, près du lac, chez nos amis.",
    "Ça coûte très cher, mais la qualité des élèves reste élevée et le résultat est là.",
    "Les enfants ont été très sages pendant la fête de Noël chez leur grand-mère.",
    "Il a déjà répondu à toutes les questions posées par le comité d'experts.",
    "Nous préférons les fenêtres ouvertes en été, même si la chaleur est étouffante.",
]
#: cp1252-only characters (curly quotes, euro sign, em dash) that latin-1 lacks.
CP1252 = [
    "Le prix est de 20 € – c’est « raisonnable », dit-il — et c’est vrai.",
    "L’œuvre a coûté 1 500 € ; l’élève l’a trouvée “magnifique”.",
    "C’était l’été… et les œufs coûtaient 3 € la douzaine, à peine.",
]


@dataclasses.dataclass
class Expect:
    """What a file should give: documents kept, records quarantined (with a word of the reason)."""

    kept: int
    quarantined: int = 0
    reason: str = ""


def _jsonl(lines: list[str]) -> str:
    return "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in lines)


def write_bad_inputs(d: Path, huge_line_bytes: int = 100 * 1024 * 1024) -> dict[str, Expect]:
    """Write every bad input under ``d``; returns source name -> expected fate."""
    d.mkdir(parents=True, exist_ok=True)
    expect: dict[str, Expect] = {}

    def put(name: str, data: bytes, fate: Expect) -> None:
        (d / name).write_bytes(data)
        expect[name] = fate

    text = "\n".join(FRENCH) + "\n"
    # Declared by a byte order mark: decoded.
    put("utf16le-bom.jsonl", _jsonl(FRENCH).encode("utf-16"), Expect(len(FRENCH)))  # utf-16 writes a BOM (LE here)
    put("utf16be-bom.jsonl", b"\xfe\xff" + _jsonl(FRENCH).encode("utf-16-be"), Expect(len(FRENCH)))
    put("utf16-bom.txt", text.encode("utf-16"), Expect(len(FRENCH)))
    put("utf8-bom.jsonl", b"\xef\xbb\xbf" + _jsonl(FRENCH).encode("utf-8"), Expect(len(FRENCH)))
    # Not declared, detected with confidence: decoded.
    put("latin1.jsonl", _jsonl(FRENCH * 3).encode("latin-1"), Expect(3 * len(FRENCH)))
    put("cp1252.jsonl", _jsonl(CP1252 * 4 + FRENCH).encode("cp1252"), Expect(4 * len(CP1252) + len(FRENCH)))
    put("latin1.txt", (text * 3).encode("latin-1"), Expect(3 * len(FRENCH)))
    # Not UTF-8 and too little to tell what it is: quarantined with the reason.
    put("undetectable.txt", b"\xe9\xff\xfe\x81\n", Expect(0, 1, "UTF-8"))
    # NUL: escaped inside a JSON string it is text; raw inside a JSON string it is invalid JSON.
    put(
        "nul.jsonl",
        b'{"text": "before\\u0000after"}\n{"text": "raw \x00 nul"}\n{"text": "fine"}\n',
        Expect(2, 1, "JSON"),
    )
    put("nul.txt", b"a line with a \x00 inside\nand a normal one\n", Expect(2))
    # One record far over --max-record-bytes, in the middle of good ones.
    if huge_line_bytes:
        with open(d / "huge-line.jsonl", "wb") as fh:
            fh.write(b'{"text": "first"}\n{"text": "')
            block = b"x" * (1 << 20)
            left = huge_line_bytes
            while left > 0:
                fh.write(block[: min(left, len(block))])
                left -= len(block)
            fh.write(b'"}\n{"text": "last"}\n')
        expect["huge-line.jsonl"] = Expect(2, 1, "max-record-bytes")
    # JSON nested 100,000 levels deep, in JSONL and as a .json document.
    deep = b'{"text": "deep", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    put("deep.jsonl", b'{"text": "shallow"}\n' + deep + b"\n", Expect(1, 1, "JSON"))
    put("deep.json", b"[" * 100_000 + b"]" * 100_000, Expect(0, 1, "JSON"))
    # Nothing at all.
    put("empty.jsonl", b"", Expect(0))
    put("empty.txt", b"", Expect(0))
    # A directory named like a file (its content is read, it is not opened as a file).
    (d / "x.jsonl").mkdir()
    put("x.jsonl/inside.jsonl", b'{"text": "in a folder called x.jsonl"}\n', Expect(1))
    # A symlink loop between two files, and a directory link back to its parent.
    os.symlink("loop-b.jsonl", d / "loop-a.jsonl")
    os.symlink("loop-a.jsonl", d / "loop-b.jsonl")
    expect["loop-a.jsonl"] = Expect(0, 1, "symbolic links")
    expect["loop-b.jsonl"] = Expect(0, 1, "symbolic links")
    os.symlink(".", d / "again")
    return expect
