"""Where bytes live: local paths as before, and object stores (``s3://``, ``gs://``,
``az://``, ``hf://`` for reading, ``file://``) through fsspec.

Local paths keep the plain ``open`` / ``os.replace`` code paths (no fsspec in between, so
no speed loss).  A remote output location is a ``UPath`` (fsspec's pathlib API), so the
layout code joins and reads it like a ``Path``.  Credentials come from each backend's own
environment and config (``AWS_*`` and ``~/.aws`` for s3fs, ``AWS_ENDPOINT_URL`` for a
non-AWS endpoint, ``GOOGLE_APPLICATION_CREDENTIALS`` for gcsfs, ``AZURE_STORAGE_*`` for
adlfs, ``HF_TOKEN`` for the Hub); nothing here takes or records a secret.

Commit on a store without rename: a file is written to a local staging file first and
published with one upload (a single PUT, or a multipart upload that becomes visible only
when completed), so no reader ever sees a half-written object under its final key; the
runner writes the completion marker only after every output of the shard is published.
"""

from __future__ import annotations

import contextlib
import glob as _glob
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from babelmill.processors.errors import BabelmillError

#: what the writers put between a final name and the temporary one (``.part.tmp-<pid>-<rand>``).
TMP_MARK = ".tmp-"
#: bytes fetched per request when streaming a remote file (readahead cache): big enough
#: to amortise a request's latency, small enough that the first record comes quickly.
REMOTE_BLOCK_SIZE = 8 << 20
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
#: the fsspec implementation each scheme needs, for a one-line install hint.
_PACKAGES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs"}
_PACKAGES |= {"abfss": "adlfs", "hf": "huggingface_hub"}


def scheme(path: str | os.PathLike[str]) -> str | None:
    """The URL scheme (``s3``, ``file``, ...) or None for a plain path."""
    m = _SCHEME.match(str(path))
    return m.group(1).lower() if m else None


def is_remote(path: Any) -> bool:
    """True for anything fsspec must handle: a URL whose scheme is not ``file``."""
    if isinstance(path, Path):  # a pathlib.Path (or a local UPath) is a local file
        return False
    s = scheme(path) if isinstance(path, str) else getattr(path, "protocol", None) or scheme(str(path))
    return s not in (None, "", "file", "local")


def local_path(path: str | os.PathLike[str]) -> str:
    """A local path with any ``file://`` prefix removed."""
    s = os.fspath(path)
    return s[len("file://") :] if s.lower().startswith("file://") else s


def location(path: str | os.PathLike[str]) -> Any:
    """A ``Path`` for a local path (or ``file://``), a ``UPath`` for an object-store URL;
    both join with ``/`` and read with ``exists()`` / ``read_bytes()``."""
    if isinstance(path, Path):
        return path
    if not is_remote(path):
        return Path(local_path(path))
    from upath import UPath

    with storage_errors("cannot use", str(path)):
        # no listing cache: Ray workers add files to the output behind this process's back
        return UPath(str(path), use_listings_cache=False)


def url_to_fs(path: Any) -> tuple[Any, str]:
    """(fsspec filesystem, path inside it) for a URL or UPath."""
    import fsspec.core

    fs = getattr(path, "fs", None)
    if fs is not None and hasattr(path, "path"):
        return fs, path.path
    return fsspec.core.url_to_fs(str(path))


def _unstrip(fs: Any, p: str) -> str:
    return fs.unstrip_protocol(p)


# ------------------------------------------------------------------ reading


def open_input(path: Any, block_size: int | None = None) -> IO[bytes]:
    """A binary, seekable stream of a file.  Remote files are read block by block as the
    reader goes (ranged requests with read-ahead), never downloaded whole first."""
    if not is_remote(path):
        return open(local_path(path), "rb")
    fs, p = url_to_fs(path)
    return fs.open(p, "rb", block_size=block_size or REMOTE_BLOCK_SIZE, cache_type="readahead")


def open_compressed(path: str, compression: str) -> IO[bytes]:
    """A remote gzip / bz2 file decompressed on the fly (closing it closes the connection)."""
    import fsspec.core

    fs, p = url_to_fs(path)
    of = fsspec.core.OpenFile(fs, p, "rb", compression=compression)
    return of.open()


def arrow_source(path: Any) -> Any:
    """What pyarrow reads: the path itself when local, a streamed file object when remote."""
    return open_input(path) if is_remote(path) else str(path)


def size(path: Any) -> int:
    if not is_remote(path):
        return os.path.getsize(local_path(path))
    fs, p = url_to_fs(path)
    return int(fs.size(p))


def is_dir(path: Any) -> bool:
    if not is_remote(path):
        return os.path.isdir(local_path(path))
    fs, p = url_to_fs(path)
    return bool(fs.isdir(p))


def glob_under(root: Any, pattern: str) -> list[str]:
    """Sorted paths (URLs when remote) under ``root`` matching a relative glob."""
    if not is_remote(root):
        return sorted(_glob.glob(os.path.join(_glob.escape(local_path(str(root))), pattern)))
    fs, p = url_to_fs(root)
    return sorted(_unstrip(fs, m) for m in fs.glob(f"{p.rstrip('/')}/{pattern}"))


def expand(spec: str) -> list[tuple[str, str]]:
    """(URL, name relative to the spec's root) of every file a remote ``--input`` names:
    one file, every file under a prefix (hidden names skipped), or a glob's matches."""
    fs, p = url_to_fs(spec)
    if any(ch in p for ch in "*?["):
        root = re.split(r"[*?\[]", p, maxsplit=1)[0]
        root = root if root.endswith("/") else root.rsplit("/", 1)[0] + "/"
        found = fs.glob(p, detail=True)
        files = sorted(k for k, v in found.items() if v.get("type") != "directory")
        named = [(f, f[len(root) :] if f.startswith(root) else f.rsplit("/", 1)[-1]) for f in files]
        # as a shell glob: a wildcard does not match hidden names
        return [(_unstrip(fs, f), rel) for f, rel in named if not any(x.startswith(".") for x in rel.split("/"))]
    info = fs.info(p)
    if info.get("type") != "directory":
        return [(_unstrip(fs, info.get("name", p)), p.rstrip("/").rsplit("/", 1)[-1])]
    root = p.rstrip("/") + "/"
    names = sorted(fs.find(p))
    out = []
    for f in names:
        rel = f[len(root) :] if f.startswith(root) else f.rsplit("/", 1)[-1]
        if any(part.startswith(".") for part in rel.split("/")):
            continue
        out.append((_unstrip(fs, f), rel))
    return out


# ------------------------------------------------------------------ writing


def tmp_path_for(final: Path) -> Path:
    """A sibling temporary name: same directory, so ``os.replace`` is a rename."""
    return final.with_name(f".{final.name}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")


def staging_path(final: Any) -> Path:
    """Where a file bound for ``final`` is written first: a hidden sibling for a local
    path, a local temporary file for a remote one (uploaded by :func:`publish`)."""
    if not is_remote(final):
        return tmp_path_for(Path(final))
    d = Path(tempfile.gettempdir()) / "babelmill-staging"
    d.mkdir(parents=True, exist_ok=True)
    return d / f".{str(final).rsplit('/', 1)[-1]}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"


def make_parent(final: Any) -> None:
    """Create a local file's directory; object stores have no directories to make."""
    if not is_remote(final):
        Path(final).parent.mkdir(parents=True, exist_ok=True)


def publish(tmp: Path, final: Any) -> None:
    """Move a finished staging file to its final name in one step: a rename locally, one
    upload (PUT or completed multipart upload) remotely, then the local copy is removed."""
    if not is_remote(final):
        os.replace(tmp, final)
        return
    fs, p = url_to_fs(final)
    try:
        fs.put_file(str(tmp), p)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(final: Any, data: bytes) -> None:
    """A small file (marker, ledger, card) in one step: temp + rename, or one PUT."""
    if not is_remote(final):
        final = Path(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = tmp_path_for(final)
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, final)
        return
    fs, p = url_to_fs(final)
    fs.pipe_file(p, data)


def remove(path: Any) -> None:
    """Delete a file or a whole directory (prefix); nothing if it does not exist."""
    if not is_remote(path):
        path = Path(local_path(str(path)))
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        return
    fs, p = url_to_fs(path)
    if fs.exists(p):
        fs.rm(p, recursive=True)


# ------------------------------------------------------------------ errors


@contextlib.contextmanager
def storage_errors(what: str, url: str, error: type[BabelmillError] = BabelmillError) -> Iterator[None]:
    """Turn a store's failure (missing bucket or key, no credentials, access denied,
    backend not installed) into one line the user can act on; local paths keep their
    own error handling."""
    try:
        yield
    except BabelmillError:
        raise
    except Exception as exc:  # noqa: BLE001 - every backend has its own error classes
        if not is_remote(url):
            raise
        raise error(one_line(exc, what, url)) from exc


def one_line(exc: BaseException, what: str, url: str) -> str:
    """``<what> <url>: <reason>`` with a hint where the user has something to do."""
    first = (str(exc).strip() or type(exc).__name__).splitlines()[0][:300]
    if isinstance(exc, ImportError):
        pkg = _PACKAGES.get(scheme(url) or "", "the fsspec implementation for it")
        return f"{what} {url}: {scheme(url)}:// needs {pkg} (pip install {pkg})"
    if isinstance(exc, FileNotFoundError):
        return f"{what} {url}: not found ({first})"
    text = f"{type(exc).__name__} {exc}".lower()
    hint = ""
    if isinstance(exc, PermissionError) or any(w in text for w in ("credential", "denied", "forbidden", "auth")):
        hint = (
            "; credentials come from the store's usual environment or config (for S3: AWS_ACCESS_KEY_ID / "
            "AWS_SECRET_ACCESS_KEY or ~/.aws, AWS_ENDPOINT_URL for a non-AWS endpoint)"
        )
    return f"{what} {url}: {type(exc).__name__}: {first}{hint}"
