"""Shared fixtures.  One embedded Ray session serves the whole suite (a fresh
``ray.init`` costs seconds and most of a GB here)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
HELPERS_DIR = TESTS_DIR / "helpers"
# Shared test doubles and tiny-model builders live in tests/helpers/ and are imported by
# module name (``import tiny_models``) from test files anywhere in the tree.
if str(HELPERS_DIR) not in sys.path:
    sys.path.insert(0, str(HELPERS_DIR))


def worker_pythonpath() -> str:
    """PYTHONPATH for Ray workers: they unpickle stages defined in test modules (imported by
    basename from their own folder under pytest's default import mode) and in helpers, and
    import babelmill from this checkout (not whichever one the venv was installed from)."""
    test_dirs = sorted({str(f.parent) for f in TESTS_DIR.rglob("test_*.py") if "__pycache__" not in f.parts})
    return os.pathsep.join([str(HELPERS_DIR), *test_dirs, str(TESTS_DIR.parent)])


from s3_server import s3_env  # noqa: E402 - helpers are importable only from here on

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # embedded Ray on loopback only
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests on the shared Ray session get the ``ray`` marker, so ``-m "not ray"`` runs fast."""
    for item in items:
        if "ray_session" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.ray)


@pytest.fixture(autouse=True)
def _ray_only_when_marked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test without the ``ray`` marker may not start Ray: it would make ``-m "not ray"``
    slow again.  Use the ``ray_session`` fixture (or mark the test ``ray``)."""
    if request.node.get_closest_marker("ray") is not None:
        return
    from babelmill.pipelines import runner

    def refuse(*args: object, **kwargs: object) -> float:
        raise AssertionError(f"{request.node.nodeid} starts Ray without the ray marker: use the ray_session fixture")

    monkeypatch.setattr(runner, "init_ray", refuse)


@pytest.fixture(scope="session")
def ray_session():
    """The suite's one embedded Ray (2 CPUs, small object store)."""
    import ray

    if not ray.is_initialized():
        pythonpath = worker_pythonpath()
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            object_store_memory=150 * 1024 * 1024,
            logging_level="ERROR",
            # the loopback S3 endpoint and its fake credentials (see the s3 fixture)
            runtime_env={"env_vars": {"PYTHONPATH": pythonpath, **s3_env()}},
        )
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def s3():
    """A real S3 server (moto) on 127.0.0.1 for the session; this process and the shared
    Ray session's workers reach it through the standard AWS_* variables."""
    from s3_server import S3Server

    server = S3Server().start()
    saved = {k: os.environ.get(k) for k in s3_env()}
    os.environ.update(s3_env())
    yield server
    server.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def sample_dir(tmp_path: Path) -> Path:
    from babelmill.sample import write_sample

    d = tmp_path / "input"
    write_sample(d, docs_per_lang=20, files=3, seed=1, malformed=True)
    return d
