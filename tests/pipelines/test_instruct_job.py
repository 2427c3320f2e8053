"""`babelmill instruct translate` end to end on a tiny random M2M100 model: per-target
rows, the original format written back, conservation with expansion, resume, and the
one-line errors a user sees for a missing model or target."""

from __future__ import annotations

import glob
import json
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from babelmill.pipelines.cli import app

ALL_CHECKS = "lost_placeholder,repetition_loop,wrong_language,length_ratio,untranslated"

RECORDS = [
    {
        "id": "a1",
        "instruction": "Write a greeting for {name}.",
        "input": "",
        "output": "Hello {name}, see https://example.org for `code`.",
    },
    {"id": "a2", "instruction": "List two fruits.", "input": "", "output": "- apple\n- pear"},
    {
        "id": "s1",
        "conversations": [{"from": "human", "value": "What is two plus two?"}, {"from": "gpt", "value": "It is four."}],
    },
    {"id": "m1", "messages": [{"role": "user", "content": "Say hi."}, {"role": "assistant", "content": "Hi!"}]},
    {"id": "m2", "messages": [{"role": "user", "content": "Say hi."}, {"role": "assistant", "content": "Hi!"}]},
]
BROKEN = [b'{"id": "bad1", "instruction": 5}', b"not json at all"]

pytestmark = pytest.mark.slow  # every test builds and loads a (tiny) translation model


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from tiny_models import build_m2m100

    return build_m2m100(tmp_path_factory.mktemp("m2m") / "model")


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join([orjson.dumps(r) for r in RECORDS] + BROKEN) + b"\n")
    return path


def _args(inputs: Path, out: Path, model: Path, cache: Path, *extra: str) -> list[str]:
    return [
        "instruct",
        "translate",
        "--input",
        str(inputs),
        "--output",
        str(out),
        "--tgt",
        "sw,yo",
        "--model",
        str(model),
        "--model-cache-dir",
        str(cache),
        "--no-progress",
        *extra,
    ]


def _rows(out: Path, tgt: str) -> list[dict]:
    files = sorted(glob.glob(str(out / "data" / tgt / "*.parquet")))
    return pa.concat_tables([pq.read_table(f) for f in files]).to_pylist() if files else []


def test_translate_writes_one_subset_per_target(ray_session, inputs, tiny_model, tmp_path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(app, _args(inputs, out, tiny_model, tmp_path / "cache", "--skip-check", ALL_CHECKS))
    assert res.exit_code == 0, res.output
    ledger = json.loads((out / "ledger.json").read_text())
    # 7 records: 2 broken (1 quarantined at read, 1 rejected at parse), 5 good x 2 targets.
    assert ledger["input"] == 7 and ledger["quarantined"] == 1
    assert ledger["kept"] == 10 and ledger["rejected"] == 1
    stages = {s["stage"]: s for s in ledger["stages"]}
    assert stages["targets"]["added"] == 5
    counters = stages["translate"]["counters"]
    assert counters["units"] > counters["segments"] + counters["cache_hits"] - 1  # m2 repeats m1: translated once
    for tgt in ("sw", "yo"):
        rows = _rows(out, tgt)
        assert sorted(r["source_id"] for r in rows) == ["a1", "a2", "m1", "m2", "s1"]
        for r in rows:
            assert r["id"] == f"{r['source_id']}#{tgt}" and r["tgt_lang"] == tgt and r["src_lang"] == "en"
            assert r["model"] and isinstance(r["score"], float)
            assert "text" not in r and "mt_source" not in r
            original = json.loads(r["translated_original"])
            if r["format"] == "alpaca":
                assert set(original) == {"instruction", "input", "output"}
                assert r["messages"][0]["role"] == "user"
            elif r["format"] == "sharegpt":
                assert [t["from"] for t in original["conversations"]] == ["human", "gpt"]
            else:
                assert [m["role"] for m in original["messages"]] == ["user", "assistant"]
    import datasets

    ds = datasets.load_dataset(str(out), "sw", split="train", cache_dir=str(tmp_path / "hf"))
    assert len(ds) == 5 and ds[0]["messages"][0]["role"] in ("system", "user")


def test_checks_reject_random_model_output_with_reasons(ray_session, inputs, tiny_model, tmp_path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(app, _args(inputs, out, tiny_model, tmp_path / "cache"))
    assert res.exit_code == 0, res.output
    ledger = json.loads((out / "ledger.json").read_text())
    checks = {s["stage"]: s for s in ledger["stages"]}["checks"]
    assert sum(checks["dropped"].values()) > 0  # a random model's output cannot pass every check
    assert set(checks["dropped"]) <= {
        "lost_placeholder",
        "repetition_loop",
        "wrong_language",
        "length_ratio",
        "untranslated",
    }
    assert (
        ledger["input"] + sum(s.get("added", 0) for s in ledger["stages"])
        == ledger["kept"] + ledger["rejected"] + ledger["quarantined"]
    )


def test_rerun_resumes_and_reuses_the_converted_model(ray_session, inputs, tiny_model, tmp_path) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    args = _args(inputs, out, tiny_model, cache, "--skip-check", ALL_CHECKS)
    assert CliRunner().invoke(app, args).exit_code == 0
    converted = sorted(p for p in cache.rglob("model.bin"))
    assert len(converted) == 1
    before = {p: p.read_bytes() for p in out.rglob("*.parquet")}
    stamp = converted[0].stat().st_mtime_ns
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "1 already done" in res.output.replace("(", " ").replace(")", " ") or "already done" in res.output
    assert {p: p.read_bytes() for p in out.rglob("*.parquet")} == before
    assert converted[0].stat().st_mtime_ns == stamp


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--model", "/nonexistent/model"], "--model"),
        (["--model", "facebook/nllb-200-distilled-600M"], "--allow-download"),
        (["--tgt", "xx-not-a-language"], "xx-not-a-language"),
        (["--tgt", "qu"], "Quechua"),
    ],
)
def test_user_errors_are_one_line(inputs, tiny_model, tmp_path, extra, needle) -> None:
    args = _args(inputs, tmp_path / "out", tiny_model, tmp_path / "cache") + extra
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2, res.output
    lines = [line for line in res.output.strip().splitlines() if line.strip()]
    assert len(lines) <= 2 and needle in res.output  # rich may wrap a long line once
