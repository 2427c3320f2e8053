"""The installed package is one ``babelmill`` namespace mapped onto the root folders."""

from __future__ import annotations

import tomllib
from pathlib import Path

import babelmill

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_folder_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {"babelmill"} | {"babelmill." + init.parent.name for init in (ROOT / "babelmill").glob("*/__init__.py")}
    for top in ("pipelines", "processors", "langs"):
        for init in (ROOT / top).rglob("__init__.py"):
            on_disk.add("babelmill." + ".".join(init.parent.relative_to(ROOT).parts))
    assert on_disk == listed


def test_subpackages_import_under_the_namespace() -> None:
    from babelmill import langs, pipelines, processors

    assert babelmill.__version__
    assert Path(pipelines.__file__).parent == ROOT / "pipelines"
    assert Path(processors.__file__).parent == ROOT / "processors"
    assert langs.get("sw").code == "sw"
