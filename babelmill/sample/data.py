"""Loading the sample's text banks: YAML files next to the generator, as ``langs/`` keeps its data."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

_HERE = Path(__file__).resolve().parent


@functools.cache
def load(name: str) -> dict:
    """The parsed ``<name>.yaml`` of this package (parsed once per process)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader when libyaml is there
    with open(_HERE / f"{name}.yaml", encoding="utf-8") as f:
        return yaml.load(f, Loader=loader)
