"""More kinds of bad input (``tests/helpers/bad_inputs.py``): other encodings, NUL bytes,
a 100 MB line, JSON 100,000 levels deep, an empty file, a directory named like a file,
symlink loops.  Each file ends as documents or as quarantine records with a reason; the
run over all of them completes, conserves every count and stays within a memory cap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from bad_inputs import CP1252, FRENCH, Expect, write_bad_inputs

from babelmill.processors.io import ReaderOptions, discover_shards, read_shard
from babelmill.processors.io.encoding import decode_document, sniff

#: loose: the interpreter with babelmill's imports is ~110 MB, the run peaks near 310 MB
#: (a 32 MB chunk plus up to 64 MB of the line before it is known to be too long); the
#: 100 MB line held whole, as it was, took it to ~660 MB
RSS_CAP_MB = 520


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory) -> tuple[Path, dict[str, Expect]]:
    d = tmp_path_factory.mktemp("bad") / "input"
    return d, write_bad_inputs(d, huge_line_bytes=0)


def read_by_source(inputs: list[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    texts: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    for shard in discover_shards(inputs):
        for batch in read_shard(shard, ReaderOptions()):
            for source, text in zip(batch.docs.column("source").to_pylist(), batch.docs.column("text").to_pylist()):
                texts.setdefault(source, []).append(text)
            for q in batch.quarantine:
                errors.setdefault(q.source, []).append(q.error)
    return texts, errors


def test_every_bad_file_becomes_documents_or_reasons(bad_dir) -> None:
    d, expect = bad_dir
    texts, errors = read_by_source([str(d)])
    assert set(texts) | set(errors) <= set(expect), "a file was read twice or under another name"
    for name, fate in expect.items():
        got_kept, got_errors = texts.get(name, []), errors.get(name, [])
        assert (len(got_kept), len(got_errors)) == (fate.kept, fate.quarantined), (name, got_kept, got_errors)
        assert all(fate.reason in e for e in got_errors), (name, got_errors)
    # decoded, not mangled: the text is the text that was encoded
    for name in ("utf16le-bom.jsonl", "utf16be-bom.jsonl", "utf16-bom.txt", "utf8-bom.jsonl"):
        assert texts[name] == FRENCH, name
    assert texts["latin1.jsonl"] == FRENCH * 3 and texts["latin1.txt"] == FRENCH * 3
    assert texts["cp1252.jsonl"] == CP1252 * 4 + FRENCH
    assert texts["nul.jsonl"] == ["before\x00after", "fine"] and texts["nul.txt"][0] == "a line with a \x00 inside"
    assert "no byte order mark" in errors["undetectable.txt"][0]
    assert "depth limit" in errors["deep.jsonl"][0] and "depth limit" in errors["deep.json"][0]


def test_a_glob_through_a_link_to_the_parent_reads_each_file_once(bad_dir) -> None:
    d, expect = bad_dir
    shards = discover_shards([str(d / "**" / "*.jsonl")])
    sources = [s.sources[0] for s in shards]
    assert sorted(sources) == sorted(n for n in expect if n.endswith(".jsonl")), sources


def test_encoding_is_decided_on_evidence() -> None:
    assert sniff("é".encode("utf-16")).how == "bom"
    assert sniff("plain ascii\n".encode()).codec == "utf-8"
    # UTF-8 with one broken line stays UTF-8 (the line is quarantined), however French it looks
    mixed = ("\n".join(FRENCH) + "\n").encode() + "Café crème\n".encode("latin-1")
    assert (sniff(mixed).codec, sniff(mixed).how) == ("utf-8", "utf-8")
    # too few non-ASCII bytes to tell latin-1 from latin-2 or cp1251
    assert sniff("Café\n".encode("latin-1")).how == "undetected"
    assert sniff(("\n".join(FRENCH) + "\n").encode("latin-1")).codec in ("iso8859-1", "cp1252")
    text, problem = decode_document(b"\xe9\xff\xfe\x81")
    assert text is None and problem is not None and "invalid UTF-8" in problem
    assert decode_document("Ünïcödé".encode("utf-32")) == ("Ünïcödé", None)


def test_truncated_utf16_is_read_up_to_the_break(tmp_path: Path) -> None:
    data = ("".join(json.dumps({"text": t}) + "\n" for t in FRENCH)).encode("utf-16")
    path = tmp_path / "cut.jsonl"
    path.write_bytes(data[: len(data) // 2 * 2 - 1])  # an odd byte count: not UTF-16
    texts, errors = read_by_source([str(path)])
    assert 0 < len(texts.get("cut.jsonl", [])) < len(FRENCH)
    (error,) = errors["cut.jsonl"]
    assert "utf-16" in error


#: Every shard of the inputs through the exact code a Ray task runs (``run_shard``),
#: in a fresh process, so that its peak RSS can be read from the parent.
_RUN_ALL = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from babelmill.pipelines.executor import OutputLayout, run_shard
    from babelmill.processors.io import ReaderOptions, discover_shards
    from babelmill.processors.validate import EmptyTextFilter

    out = Path(sys.argv[1])
    layout = OutputLayout(out)
    for shard in discover_shards(sys.argv[2:]):
        marker = run_shard(shard, ReaderOptions(), [EmptyTextFilter()], layout)
        print(json.dumps({"source": shard.sources[0], "ledger": marker["ledger"]}))
    # VmHWM, not getrusage: ru_maxrss survives execve, so it would count the forking parent's pages
    hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")][0]
    print(json.dumps({"peak_rss_mb": int(hwm.split()[1]) / 1024}))
    """
)


def test_the_run_completes_conserves_counts_and_bounds_memory(bad_dir, tmp_path: Path) -> None:
    d, expect = bad_dir
    huge = tmp_path / "huge"
    expect = expect | write_bad_inputs(huge, huge_line_bytes=100 * 1024 * 1024)
    proc = subprocess.run(
        [sys.executable, "-c", _RUN_ALL, str(tmp_path / "out"), str(d), str(huge / "huge-line.jsonl")],
        capture_output=True,
        text=True,
        timeout=240,
        env=os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    *rows, last = [json.loads(line) for line in proc.stdout.splitlines()]
    peak_mb = last["peak_rss_mb"]
    kept, quarantined = Counter(), Counter()
    for row in rows:
        led = row["ledger"]
        assert led["input"] == led["kept"] + led["rejected"] + led["quarantined"], row
        kept[row["source"]] += led["kept"]
        quarantined[row["source"]] += led["quarantined"]
    for name, fate in expect.items():
        assert (kept[name], quarantined[name]) == (fate.kept, fate.quarantined), name
    q = [
        json.loads(x)
        for p in sorted((tmp_path / "out" / "quarantine").glob("*.jsonl"))
        for x in p.read_text().splitlines()
    ]
    (big,) = [r for r in q if r["source"] == "huge-line.jsonl"]
    assert "exceeds --max-record-bytes" in big["error"] and len(big["raw"]) == 64 * 1024
    print(f"peak RSS of the run: {peak_mb:.0f} MB")
    assert peak_mb < RSS_CAP_MB, f"peak RSS {peak_mb:.0f} MB"
