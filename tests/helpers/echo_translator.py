"""A stand-in translator for marker projection tests."""

from __future__ import annotations

from babelmill.processors.translate.engine import TranslationResult


class Echo:
    """A stand-in translator: 'translates' by upper-casing the text (markers kept),
    except sentences with 'drop' in them, whose markers it loses."""

    name = "echo"
    stats: dict = {}

    def build(self) -> "Echo":
        return self

    def translate(self, texts, src, tgt):
        out = []
        for t in texts:
            t = t.upper()
            if "DROP" in t:
                t = t.replace("[", "").replace("]", "").replace("ANA", "SHE")
            out.append(TranslationResult(t, 0.0))
        return out
