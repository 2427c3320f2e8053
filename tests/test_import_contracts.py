"""The import contracts in pyproject.toml ([tool.importlinter]) hold: imports point one way,
``pipelines -> processors -> langs``, and only ``babelmill.pipelines.runner`` imports ray.

import-linter finds a package's modules by walking the one folder it lives in, while in
a checkout ``babelmill.pipelines`` and friends are folders at the repository root.  So
the check runs on a staged copy of the Python files laid out as installed
(``babelmill/pipelines/...``), in a fresh interpreter that imports nothing of ours.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("importlinter", reason="import-linter is in the dev extra")


def _stage(tmp_path: Path) -> Path:
    """A copy of the package's Python files as installed: babelmill/{pipelines,processors,langs,...}."""
    pkg = tmp_path / "babelmill"
    py_only = shutil.ignore_patterns("*.pyc", "__pycache__", "*.yaml", "*.tsv", "*.md")
    shutil.copytree(ROOT / "babelmill", pkg, ignore=py_only)
    for top in ("pipelines", "processors", "langs"):
        shutil.copytree(ROOT / top, pkg / top, ignore=py_only)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint(staged: Path) -> subprocess.CompletedProcess[str]:
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))"
    env = {**os.environ, "PYTHONPATH": str(staged), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=staged, env=env, capture_output=True, text=True, timeout=120
    )


def test_import_contracts_hold(tmp_path: Path) -> None:
    result = _lint(_stage(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_import_contracts_catch_violations(tmp_path: Path) -> None:
    staged = _stage(tmp_path)
    # a processor that reaches up into pipelines and starts Ray itself: both contracts break
    (staged / "babelmill" / "processors" / "upward.py").write_text(
        "import ray\n\nfrom babelmill.pipelines import jobs\n"
    )
    result = _lint(staged)
    assert result.returncode == 1
    assert "0 kept, 2 broken" in result.stdout
    assert "babelmill.processors.upward -> babelmill.pipelines.jobs" in result.stdout
    assert "babelmill.processors.upward -> ray" in result.stdout
