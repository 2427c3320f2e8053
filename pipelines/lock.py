"""One run at a time per output folder.

Two runs writing the same folder would race on its markers and ledger, so a run holds
an exclusive ``flock`` on ``<output>/.babelmill.lock`` for its whole life.  The kernel
drops the lock when the process dies, however it dies, so a lock file left by a killed
run (a dead PID in it) is simply taken over; the PID and host written into the file
are only there to tell the user who holds a live lock.

An object store has no such lock: an ``s3://`` (...) output is not locked.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import time
from pathlib import Path
from typing import IO

import orjson

from babelmill.processors.errors import BabelmillError
from babelmill.processors.io import storage

log = logging.getLogger(__name__)

LOCK_NAME = ".babelmill.lock"


class OutputLock:
    """An exclusive lock on one output folder, held from ``acquire`` to ``release``."""

    def __init__(self, root: Path) -> None:
        self.root = root  # a Path, or a UPath for an object store (not locked)
        self.path = root / LOCK_NAME
        self._fh: IO[bytes] | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`BabelmillError` naming the run that holds it."""
        if storage.is_remote(self.root):
            return
        self.root.mkdir(parents=True, exist_ok=True)
        for _ in range(10):
            fh = open(self.path, "a+b")
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _describe(self.path)
                fh.close()
                raise BabelmillError(
                    f"{self.root} is in use by another babelmill run{holder}; wait for it to end or choose another --output"
                ) from None
            except OSError:
                # A file system without flock (some network mounts): fall back to the PID check.
                if _holder_alive(self.path):
                    fh.close()
                    raise BabelmillError(
                        f"{self.root} is in use by another babelmill run{_describe(self.path)}; "
                        f"wait for it to end, or delete {self.path} if that run is gone"
                    ) from None
            # The holder may have removed the file between our open and our flock: then
            # we locked an orphan and must start over on the path's current file.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fh.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                fh.close()
                continue
            previous = _read(self.path)
            if previous.get("pid"):
                log.info("taking over the lock of a run that is gone (pid %s)", previous.get("pid"))
            fh.seek(0)
            fh.truncate()
            fh.write(orjson.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}))
            fh.flush()
            self._fh = fh
            return
        raise BabelmillError(f"could not lock {self.path}: other runs keep taking it; try again")

    def release(self) -> None:
        """Remove the lock file and drop the lock (in that order, see ``acquire``)."""
        if self._fh is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> "OutputLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read(path: Path) -> dict:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _describe(path: Path) -> str:
    info = _read(path)
    if not info.get("pid"):
        return ""
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["started"])) if info.get("started") else "?"
    return f" (pid {info['pid']} on {info.get('host', '?')}, since {since})"


def _holder_alive(path: Path) -> bool:
    """Whether the PID in a lock file is a live process on this host (unknown: alive)."""
    info = _read(path)
    pid = info.get("pid")
    if not isinstance(pid, int):
        return False
    if info.get("host") != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
