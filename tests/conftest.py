"""Shared fixtures.  One embedded Ray session serves the whole suite (a fresh
``ray.init`` costs seconds and most of a GB here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # embedded Ray on loopback only
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


@pytest.fixture(scope="session")
def ray_session():
    """The suite's one embedded Ray (2 CPUs, small object store)."""
    import ray

    if not ray.is_initialized():
        # Workers import test modules (stages defined in tests) from this directory, and
        # babelmill from this checkout (not whichever one the venv was installed from).
        tests_dir = Path(__file__).resolve().parent
        pythonpath = os.pathsep.join([str(tests_dir), str(tests_dir.parent)])
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            object_store_memory=150 * 1024 * 1024,
            logging_level="ERROR",
            runtime_env={"env_vars": {"PYTHONPATH": pythonpath}},
        )
    yield ray
    ray.shutdown()


@pytest.fixture
def sample_dir(tmp_path: Path) -> Path:
    from babelmill.sample import write_sample

    d = tmp_path / "input"
    write_sample(d, docs_per_lang=20, files=3, seed=1, malformed=True)
    return d
