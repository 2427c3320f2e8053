"""Every stage babelmill ships, found by walking ``babelmill.processors``, with what it
declares: name, class, module, drop reasons, resources.  ``babelmill stages`` prints it
and a test holds each stage to it; nothing is listed by hand, so a new stage appears
here as soon as it exists."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from typing import Any

from babelmill.processors import base
from babelmill.processors.base import GlobalStage, Stage


def stage_classes() -> list[type[Stage]]:
    """The concrete stages: subclasses of ``Stage`` that set their own ``name`` (the
    contract's own bases in ``processors.base`` are not stages one runs)."""
    import babelmill.processors as root

    found: dict[str, type[Stage]] = {}
    for info in pkgutil.walk_packages(root.__path__, root.__name__ + "."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, Stage)
                and cls.__module__ == module.__name__
                and "name" in cls.__dict__
                and cls.__module__ != base.__name__
            ):
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[k] for k in sorted(found, key=lambda k: (found[k].name, k))]


def describe(cls: type[Stage]) -> dict[str, Any]:
    """One stage's declarations, as ``babelmill stages --json`` prints them."""
    return {
        "name": cls.name,
        "class": cls.__qualname__,
        "module": cls.__module__,
        "kind": "global" if issubclass(cls, GlobalStage) else ("expands" if cls.expands else "per-row"),
        "stateful": cls.stateful,
        "reasons": list(cls.reasons),
        "resources": dataclasses.asdict(cls.resources),
    }
