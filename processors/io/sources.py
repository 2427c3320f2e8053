"""Turn the user's ``--input`` values into a deterministic list of shards.

A shard is the unit of work, of resume and of output: one input file, one Arrow file
of a Hugging Face dataset, a row range of a ``load_dataset`` dataset, or a group of
small text files.  The list is sorted so that shard ``00007`` means the same input in
every rerun of a command.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import re
from pathlib import Path

from babelmill.processors.errors import InputError
from babelmill.processors.io import storage
from babelmill.processors.io.records import DEFAULT_SPLIT_BYTES

FORMATS = ("auto", "jsonl", "parquet", "text", "warc", "hf", "conll")
_COMPRESSIONS = (".gz", ".zst", ".zstd", ".bz2")
_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".txt": "text",
    ".text": "text",
    ".warc": "warc",
    ".arrow": "hf-arrow",
    ".conll": "conll",
    ".conll02": "conll",
    ".conll03": "conll",
    ".iob": "conll",
    ".iob2": "conll",
    ".bio": "conll",
    ".bioes": "conll",
}
#: small text files (one document each) are grouped so a shard is not a single line.
TEXT_FILES_PER_SHARD = 1000
#: rows per shard for datasets loaded through ``datasets.load_dataset``.
HF_ROWS_PER_SHARD = 100_000


@dataclasses.dataclass(frozen=True)
class InputShard:
    """One unit of work: which reader, which files (or rows), and the names to record."""

    index: int
    kind: str
    paths: tuple[str, ...]
    sources: tuple[str, ...]
    #: for ``hf-load`` shards: the row range ``[start, stop)`` of the loaded split.
    row_range: tuple[int, int] | None = None
    #: for a split WARC or JSONL file: the raw byte range whose records this shard owns.
    byte_range: tuple[int, int] | None = None
    #: for a split Parquet file: the row groups ``[first, stop)`` of this shard.
    row_groups: tuple[int, int] | None = None

    @property
    def shard_id(self) -> str:
        return f"{self.index:05d}"

    def describe(self) -> str:
        extra = f" rows {self.row_range[0]}-{self.row_range[1]}" if self.row_range else ""
        if self.byte_range:
            extra = f" bytes {self.byte_range[0]}-{self.byte_range[1]}"
        if self.row_groups:
            extra = f" row groups {self.row_groups[0]}-{self.row_groups[1] - 1}"
        more = f" (+{len(self.paths) - 1} files)" if len(self.paths) > 1 else ""
        return f"{self.sources[0]}{more}{extra}"

    def size_bytes(self) -> int:
        if self.byte_range:
            return self.byte_range[1] - self.byte_range[0]
        total = 0
        for p in self.paths:
            try:
                total += storage.size(p)
            except OSError:
                pass
        return total


def strip_compression(name: str) -> tuple[str, str | None]:
    lower = name.lower()
    for ext in _COMPRESSIONS:
        if lower.endswith(ext):
            return name[: -len(ext)], ext
    return name, None


def detect_format(path: str) -> str | None:
    """The reader kind for a file name, or None when the extension is not one we read."""
    base, _ = strip_compression(os.path.basename(path))
    lower = base.lower()
    if lower.endswith(".warc") or ".warc." in lower:
        return "warc"
    return _EXTENSIONS.get(os.path.splitext(lower)[1])


def _is_hf_saved_dataset(path: Path) -> bool:
    return (path / "state.json").is_file() and (path / "dataset_info.json").is_file()


def _hf_saved_arrow_files(path: Path, split: str) -> list[Path]:
    """Arrow files of a ``save_to_disk`` Dataset or of one split of a DatasetDict."""
    if (path / "dataset_dict.json").is_file():
        splits = json.loads((path / "dataset_dict.json").read_text())["splits"]
        if split not in splits:
            raise InputError(f"{path} has splits {', '.join(splits)}; pass --hf-split with one of them")
        path = path / split
    state = json.loads((path / "state.json").read_text())
    return [path / f["filename"] for f in state.get("_data_files", [])]


def _expand(spec: str, fmt: str) -> list[tuple[str, str, str]]:
    """(kind, path, source name) for every file one ``--input`` value names."""
    path = Path(spec)
    if any(ch in spec for ch in "*?["):
        matches = sorted(glob.glob(spec, recursive=True))
        if not matches:
            raise InputError(f"--input {spec!r} matches no file")
        root = Path(re.split(r"[*?\[]", spec, maxsplit=1)[0])
        if not root.is_dir():
            root = root.parent
        # files, and dangling links (a symlink loop), which the reader quarantines as unreadable
        files = _one_path_per_file([m for m in matches if os.path.isfile(m) or not os.path.exists(m)])
        return [_classify(m, fmt, os.path.relpath(m, root)) for m in files]
    if not path.exists():
        raise InputError(f"--input {spec!r} does not exist; pass a file, a directory or a glob")
    if path.is_dir():
        found = []
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                full = os.path.join(dirpath, name)
                kind = fmt if fmt not in ("auto",) else detect_format(full)
                if kind is None:
                    continue
                found.append(_classify(full, fmt, os.path.relpath(full, path)))
        if not found:
            raise InputError(
                f"--input {spec!r} holds no file babelmill reads (.jsonl[.gz|.zst], .parquet, .txt, .warc[.gz], .conll/.iob2, HF dataset)"
            )
        return found
    return [_classify(str(path), fmt, path.name)]


def _one_path_per_file(paths: list[str]) -> list[str]:
    """One path per real file, the shortest: ``**`` follows directory links, so a link
    back to a parent (``again -> .``) would list every file under 40 nested names."""
    best: dict[str, str] = {}
    for p in paths:
        real = os.path.realpath(p)
        if real not in best or (p.count(os.sep), p) < (best[real].count(os.sep), best[real]):
            best[real] = p
    return sorted(best.values())


def _expand_remote(spec: str, fmt: str) -> list[tuple[str, str, str]]:
    """(kind, URL, source name) for every file one object-store ``--input`` names: a file,
    everything under a prefix that babelmill reads, or a glob (``s3://b/crawl/*.warc.gz``)."""
    with storage.storage_errors("--input", spec, InputError):
        if any(ch in spec.split("://", 1)[1] for ch in "*?["):
            found = storage.expand(spec)
            if not found:
                raise InputError(f"--input {spec!r} matches no file")
            return [_classify(url, fmt, rel) for url, rel in found]
        found = storage.expand(spec)
    if len(found) == 1 and found[0][0].rstrip("/") == spec.rstrip("/"):
        return [_classify(found[0][0], fmt, found[0][1])]
    files = [(url, rel) for url, rel in found if fmt != "auto" or detect_format(url) is not None]
    if not files:
        raise InputError(
            f"--input {spec!r} holds no file babelmill reads (.jsonl[.gz|.zst], .parquet, .txt, .warc[.gz])"
        )
    kinds = {_classify(url, fmt, rel)[0] for url, rel in files}
    if kinds & {"hf-arrow", "hf-load"}:
        raise InputError(
            f"--input {spec!r}: Hugging Face dataset folders are read from local disk; pass its Parquet files instead"
        )
    return [_classify(url, fmt, rel) for url, rel in files]


def _classify(path: str, fmt: str, source: str) -> tuple[str, str, str]:
    kind = detect_format(path) if fmt == "auto" else fmt
    if kind is None:
        raise InputError(f"cannot tell the format of {path!r} from its name; pass --format ({', '.join(FORMATS[1:])})")
    if kind == "hf":
        kind = "hf-arrow"
    return kind, path, source


def discover_shards(
    inputs: list[str] | tuple[str, ...],
    fmt: str = "auto",
    text_mode: str = "line",
    hf_split: str = "train",
    split_bytes: int = DEFAULT_SPLIT_BYTES,
) -> list[InputShard]:
    """Resolve inputs to shards; raises :class:`InputError` with a one-line reason.

    WARC, JSONL and Parquet files over ``split_bytes`` become several shards (see
    :func:`split_file`); the runner just sees more shards."""
    if fmt not in FORMATS:
        raise InputError(f"unknown --format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if not inputs:
        raise InputError("no --input given")
    files: list[tuple[str, str, str]] = []
    for spec in inputs:
        if storage.is_remote(spec):
            files.extend(_expand_remote(spec, fmt))
            continue
        spec = storage.local_path(spec)
        path = Path(spec)
        if fmt == "hf" and path.is_dir() and not (_is_hf_saved_dataset(path) or (path / "dataset_dict.json").is_file()):
            files.append(("hf-load", str(path), path.name))
            continue
        if (
            path.is_dir()
            and fmt in ("auto", "hf")
            and (_is_hf_saved_dataset(path) or (path / "dataset_dict.json").is_file())
        ):
            files.extend(
                ("hf-arrow", str(p), f"{path.name}/{p.relative_to(path)}")
                for p in _hf_saved_arrow_files(path, hf_split)
            )
            continue
        files.extend(_expand(spec, fmt))
    seen: set[str] = set()
    unique = []
    for item in files:
        if item[1] not in seen:
            seen.add(item[1])
            unique.append(item)

    shards: list[InputShard] = []
    text_group: list[tuple[str, str]] = []

    def flush_text_group() -> None:
        if text_group:
            shards.append(
                InputShard(len(shards), "text-files", tuple(p for p, _ in text_group), tuple(s for _, s in text_group))
            )
            text_group.clear()

    for kind, path, source in unique:
        if kind == "text" and text_mode == "file":
            text_group.append((path, source))
            if len(text_group) >= TEXT_FILES_PER_SHARD:
                flush_text_group()
            continue
        if kind == "hf-load":
            for start, stop in _hf_load_ranges(path, hf_split):
                shards.append(InputShard(len(shards), kind, (path,), (f"{source}[{hf_split}]",), (start, stop)))
            continue
        if kind in ("warc", "parquet", "jsonl") and split_bytes > 0:
            for extra in split_file(kind, path, split_bytes):
                shards.append(InputShard(len(shards), kind, (path,), (source,), **extra))
            continue
        shards.append(InputShard(len(shards), kind if kind != "text" else "text-lines", (path,), (source,)))
    flush_text_group()
    return shards


def _hf_load_ranges(path: str, split: str) -> list[tuple[int, int]]:
    from babelmill.processors.io.hf import load_hf_dataset

    n = len(load_hf_dataset(path, split))
    if n == 0:
        return [(0, 0)]
    return [(s, min(s + HF_ROWS_PER_SHARD, n)) for s in range(0, n, HF_ROWS_PER_SHARD)]


def split_file(kind: str, path: str, split_bytes: int) -> list[dict[str, tuple[int, int] | None]]:
    """The pieces of one WARC (record-aligned byte ranges), uncompressed JSONL
    (line-aligned byte ranges) or Parquet (row groups) file.

    One piece (the whole file) when it is small, unreadable (the reader then
    quarantines it as before) or not cuttable (one gzip stream, zstd)."""
    try:
        size = storage.size(path)
    except OSError:
        return [{}]
    if size <= split_bytes:
        return [{}]
    if kind == "jsonl":
        from babelmill.processors.io.split import jsonl_ranges

        ranges = jsonl_ranges(path, split_bytes)
        return [{}] if len(ranges) == 1 else [{"byte_range": r} for r in ranges]
    if kind == "warc":
        from babelmill.processors.io.warc import byte_ranges

        try:
            ranges = byte_ranges(path, split_bytes)
        except OSError:
            return [{}]
        return [{}] if len(ranges) == 1 else [{"byte_range": r} for r in ranges]
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(storage.arrow_source(path)).metadata
    except Exception:  # noqa: BLE001 - the reader reports an unreadable file
        return [{}]
    pieces: list[dict[str, tuple[int, int] | None]] = []
    first, acc = 0, 0
    for i in range(meta.num_row_groups):
        acc += (
            meta.row_group(i).total_compressed_size
            if hasattr(meta.row_group(i), "total_compressed_size")
            else meta.row_group(i).total_byte_size
        )
        if acc >= split_bytes:
            pieces.append({"row_groups": (first, i + 1)})
            first, acc = i + 1, 0
    if first < meta.num_row_groups:
        pieces.append({"row_groups": (first, meta.num_row_groups)})
    return [{}] if len(pieces) <= 1 else pieces
