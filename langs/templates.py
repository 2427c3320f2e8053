"""Instruction templates per language (``templates.yaml``) for bilingual data rows.

Data plus lookups only.  ``template(kind, lang)`` gives the ``kind`` template written in
``lang`` (English when the language has none); ``render`` fills in language names.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from .profiles import get

KINDS = ("translate", "xcot", "xicl")


@functools.lru_cache(maxsize=8)
def load(user_file: str | None = None) -> dict[str, dict[str, Any]]:
    """The shipped templates, updated by a user YAML file of the same shape."""
    data = yaml.safe_load((Path(__file__).parent / "templates.yaml").read_text(encoding="utf-8")) or {}
    if user_file:
        extra = yaml.safe_load(Path(user_file).read_text(encoding="utf-8")) or {}
        if not isinstance(extra, dict) or not all(isinstance(v, dict) for v in extra.values()):
            raise ValueError(f"{user_file}: expected a mapping of language codes to {{translate, xcot, xicl, names}}")
        for lang, entry in extra.items():
            data.setdefault(get(str(lang)).code, {}).update(entry)
    return {get(str(k)).code: v for k, v in data.items()}


def template(kind: str, lang: str, user_file: str | None = None) -> tuple[str, str]:
    """``(template, language it is written in)``; English when ``lang`` has none."""
    data = load(user_file)
    code = get(lang).code
    entry = data.get(code, {})
    if kind in entry:
        return entry[kind], code
    return data["en"][kind], "en"


def render(kind: str, lang: str, source: str, target: str, user_file: str | None = None) -> str:
    """The ``kind`` template in ``lang`` with the names of ``source`` and ``target``."""
    text, written_in = template(kind, lang, user_file)
    names = load(user_file).get(written_in, {}).get("names", {})

    def name(code: str) -> str:
        p = get(code)
        return names.get(p.code) or p.name

    return text.format(source=name(source), target=name(target))
