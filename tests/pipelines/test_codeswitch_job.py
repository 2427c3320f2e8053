"""`babelmill instruct codeswitch` / `instruct interleave` / `codeswitch stats` end to end:
conservation with malformed input, byte-identical reruns, the card and report, Moses
pairs, packing with a tokenizer built here, the translate mode on a tiny random model."""

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
from babelmill.processors.codeswitch.synthetic import documents, lexicon_lines, pairs, vocab


def _rows(out: Path) -> list[dict]:
    files = sorted(glob.glob(str(out / "data" / "*.parquet")))
    return pa.concat_tables([pq.read_table(f) for f in files]).to_pylist() if files else []


def _conserved(out: Path) -> dict:
    ledger = json.loads((out / "ledger.json").read_text())
    added = sum(s.get("added", 0) for s in ledger["stages"])
    assert ledger["input"] + added == ledger["kept"] + ledger["rejected"] + ledger["quarantined"]
    return ledger


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("csdata")
    recs = [orjson.dumps(r) for r in pairs(60, seed=11, protected=0.3)]
    recs += [
        b"not json",
        b'{"id": "e1", "src": "", "tgt": "x"}',
        b'{"id": "e2", "what": 1}',
        b'{"id": "e3", "src": "a b", "tgt": "x", "alignment": "7-7"}',
    ]
    (root / "pairs.jsonl").write_bytes(b"\n".join(recs) + b"\n")
    _, lex = vocab(seed=0)
    (root / "lex.txt").write_text("\n".join(lexicon_lines(lex)) + "\n")
    docs = list(documents(12, seed=3, max_sents=25))
    (root / "docs.jsonl").write_bytes(b"\n".join(orjson.dumps(d) for d in docs) + b"\n")
    return {"root": root, "pairs": root / "pairs.jsonl", "lex": root / "lex.txt", "docs": root / "docs.jsonl"}


def _cs(data, out: Path, *extra: str) -> list[str]:
    return ["instruct", "codeswitch", "-i", str(data["pairs"]), "-o", str(out), "--tgt", "sw", "--no-progress", *extra]


def test_dictionary_job_conserves_rows_and_reruns_identically(ray_session, data, tmp_path) -> None:
    args = ["--lexicon", str(data["lex"]), "--ratio", "0.4", "--seed", "3"]
    res = CliRunner().invoke(app, _cs(data, tmp_path / "a", *args))
    assert res.exit_code == 0, res.output
    ledger = _conserved(tmp_path / "a")
    assert ledger["quarantined"] == 1 and ledger["rejected"] == 2 and ledger["kept"] == 61
    rejected = pa.concat_tables([pq.read_table(f) for f in glob.glob(str(tmp_path / "a" / "rejected" / "*.parquet"))])
    assert sorted(rejected.column("drop_reason").to_pylist()) == ["empty_side", "malformed_parallel"]
    rows = _rows(tmp_path / "a")
    assert {"id", "source_id", "text", "source_text", "ratio_target", "ratio", "cmi", "spans"} <= set(rows[0])
    assert abs(sum(r["ratio"] for r in rows) / len(rows) - 0.4) <= 0.05
    card = (tmp_path / "a" / "README.md").read_text()
    assert "language:\n- en\n- sw\n" in card.split("---")[1]
    assert "## Code-switching" in card and "**seed**: `3`" in card and "| `cmi` |" in card
    assert card.count("## Code-switching") == 1  # the section is appended once
    assert (tmp_path / "a" / "report" / "cs_cmi.png").is_file() and "cs_ratio.png" in (
        tmp_path / "a" / "report.html"
    ).read_text()
    import datasets

    ds = datasets.load_dataset(str(tmp_path / "a"), split="train", cache_dir=str(tmp_path / "hf"))
    assert len(ds) == 61 and "spans" in ds.column_names

    assert CliRunner().invoke(app, _cs(data, tmp_path / "b", *args)).exit_code == 0
    files_a = sorted(glob.glob(str(tmp_path / "a" / "data" / "*.parquet")))
    files_b = sorted(glob.glob(str(tmp_path / "b" / "data" / "*.parquet")))
    assert [Path(f).read_bytes() for f in files_a] == [Path(f).read_bytes() for f in files_b]
    args[-1] = "4"
    assert CliRunner().invoke(app, _cs(data, tmp_path / "c", *args)).exit_code == 0
    assert [r["text"] for r in _rows(tmp_path / "c")] != [r["text"] for r in rows]


def test_align_job_and_match_stats(ray_session, data, tmp_path) -> None:
    tagged = tmp_path / "tagged.txt"
    tagged.write_text("a/en b/en c/hi d/hi\ne/en f/en\ng/en h/hi ./univ\n")
    res = CliRunner().invoke(app, ["codeswitch", "stats", str(tagged), "--json"])
    assert res.exit_code == 0, res.output
    stats = json.loads(res.output)
    assert {
        "utterances",
        "cmi_mean",
        "cmi_mean_mixed",
        "m_index",
        "i_index",
        "switch_points_mean",
        "burstiness",
    } <= set(stats)
    assert stats["utterances"] == 3 and stats["cmi_mean"] == pytest.approx(100 / 3)
    (tmp_path / "stats.json").write_text(res.output)
    res = CliRunner().invoke(
        app,
        _cs(
            data, tmp_path / "out", "--mode", "align", "--unit", "phrase", "--match-stats", str(tmp_path / "stats.json")
        ),
    )
    assert res.exit_code == 0, res.output
    ledger = _conserved(tmp_path / "out")
    reasons = {s["stage"]: s["dropped"] for s in ledger["stages"]}
    assert reasons["codeswitch"] == {"malformed_alignment": 1}
    rows = _rows(tmp_path / "out")
    # the density histogram: a third of utterances monolingual, the rest at 0.5 / 0.33 share
    assert {round(r["ratio_target"], 1) for r in rows} <= {0.0, 0.3, 0.4, 0.5, 0.6}
    assert all(sp["method"] == "align" for r in rows for sp in r["spans"])


def test_bad_input_is_one_line_before_ray(data, tmp_path) -> None:
    (tmp_path / "c.en").write_text("one\ntwo\n")
    (tmp_path / "c.sw").write_text("moja\n")
    cases = [
        (
            [
                "instruct",
                "codeswitch",
                "--moses",
                str(tmp_path / "c"),
                "-o",
                str(tmp_path / "o"),
                "--tgt",
                "sw",
                "--lexicon",
                str(data["lex"]),
            ],
            "not aligned",
        ),
        (_cs(data, tmp_path / "o"), "--lexicon"),
        (_cs(data, tmp_path / "o", "--lexicon", str(tmp_path / "missing.txt")), "does not exist"),
        (_cs(data, tmp_path / "o", "--mode", "translate"), "--model"),
        (_cs(data, tmp_path / "o", "--ratio", "1.5", "--lexicon", str(data["lex"])), "--ratio"),
        (
            [
                "instruct",
                "interleave",
                "-i",
                str(data["docs"]),
                "-o",
                str(tmp_path / "o"),
                "--tgt",
                "sw",
                "--mode",
                "pack",
                "--tokenizer",
                str(tmp_path),
            ],
            "--tokenizer",
        ),
    ]
    for args, needle in cases:
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        assert needle in res.output and len(res.output.strip().splitlines()) <= 2


def test_moses_pair_and_interleave_jobs(ray_session, data, tmp_path) -> None:
    from tiny_tokenizer import build_tokenizer

    (tmp_path / "c.en").write_text("The cat.\nA dog.\n\nBird.\n")
    (tmp_path / "c.sw").write_text("Paka.\nMbwa.\nx\nNdege.\n")
    res = CliRunner().invoke(
        app,
        [
            "instruct",
            "interleave",
            "--moses",
            str(tmp_path / "c"),
            "-o",
            str(tmp_path / "m"),
            "--tgt",
            "sw",
            "--mode",
            "translation-instructions",
            "--no-progress",
        ],
    )
    assert res.exit_code == 0, res.output
    rows = _rows(tmp_path / "m")
    assert [r["messages"][1]["content"] for r in rows] == ["Paka.", "Mbwa.", "Ndege."]

    (tmp_path / "pairs.tsv").write_text("One. Two.\tMoja. Mbili.\nno tab on this line\nThree.\tTatu.\n")
    res = CliRunner().invoke(
        app,
        [
            "instruct",
            "interleave",
            "-i",
            str(tmp_path / "pairs.tsv"),
            "-o",
            str(tmp_path / "i"),
            "--tgt",
            "sw",
            "--sep",
            " | ",
            "--no-progress",
        ],
    )
    assert res.exit_code == 0, res.output
    assert sorted(r["text"] for r in _rows(tmp_path / "i")) == ["One. | Moja. | Two. | Mbili.", "Three. | Tatu."]
    assert _conserved(tmp_path / "i")["rejected"] == 1

    tok = build_tokenizer(tmp_path / "tok")
    res = CliRunner().invoke(
        app,
        [
            "instruct",
            "interleave",
            "-i",
            str(data["docs"]),
            "-o",
            str(tmp_path / "p"),
            "--tgt",
            "sw",
            "--mode",
            "pack",
            "--tokenizer",
            str(tok),
            "--max-tokens",
            "120",
            "--no-progress",
        ],
    )
    assert res.exit_code == 0, res.output
    ledger = _conserved(tmp_path / "p")
    assert ledger["stages"][-1]["added"] > 0
    packed = _rows(tmp_path / "p")
    assert packed and max(r["tokens"] for r in packed) <= 120
    assert "Interleaving" in (tmp_path / "p" / "README.md").read_text()
    before = {p: p.read_bytes() for p in (tmp_path / "p" / "data").rglob("*.parquet")}
    res = CliRunner().invoke(
        app,
        [
            "instruct",
            "interleave",
            "-i",
            str(data["docs"]),
            "-o",
            str(tmp_path / "p"),
            "--tgt",
            "sw",
            "--mode",
            "pack",
            "--tokenizer",
            str(tok),
            "--max-tokens",
            "120",
            "--no-progress",
        ],
    )
    assert res.exit_code == 0 and "already done" in res.output  # resumed: nothing redone
    assert {p: p.read_bytes() for p in (tmp_path / "p" / "data").rglob("*.parquet")} == before
    (tmp_path / "tok" / "tokenizer.json").write_text(
        (tmp_path / "tok" / "tokenizer.json").read_text().replace('"[UNK]"', '"[UNKNOWN]"')
    )
    res = CliRunner().invoke(
        app,
        [
            "instruct",
            "interleave",
            "-i",
            str(data["docs"]),
            "-o",
            str(tmp_path / "p"),
            "--tgt",
            "sw",
            "--mode",
            "pack",
            "--tokenizer",
            str(tok),
            "--max-tokens",
            "120",
            "--no-progress",
        ],
    )
    assert res.exit_code == 2 and "different command" in res.output  # a changed tokenizer is a different run


def test_translate_mode_on_a_tiny_model(ray_session, data, tmp_path_factory, tmp_path) -> None:
    from tiny_models import cached

    model = cached("m2m100", tmp_path_factory.getbasetemp())
    res = CliRunner().invoke(
        app,
        _cs(
            data,
            tmp_path / "t",
            "--mode",
            "translate",
            "--model",
            str(model),
            "--model-cache-dir",
            str(tmp_path / "cache"),
            "--device",
            "cpu",
            "--ratio",
            "0.3",
            "--num-cpus",
            "1",
        ),
    )
    assert res.exit_code == 0, res.output
    ledger = _conserved(tmp_path / "t")
    counters = {s["stage"]: s.get("counters", {}) for s in ledger["stages"]}["codeswitch"]
    assert counters.get("mt_context", 0) + counters.get("mt_isolated", 0) > 0
    rows = _rows(tmp_path / "t")
    assert any(r["spans"] for r in rows)
    for r in rows:
        for sp in r["spans"]:
            assert sp["method"] in ("mt-context", "mt-isolated")
            assert r["text"][sp["out_start"] : sp["out_end"]] == sp["replacement"]


@pytest.mark.parametrize(
    "recipe, command",
    [("instruct-codeswitch.yaml", "instruct codeswitch"), ("instruct-interleave.yaml", "instruct interleave")],
)
def test_recipes_name_every_option_and_nothing_else(recipe: str, command: str) -> None:
    import yaml
    from cli_params import _params

    from babelmill.pipelines import cli

    data = yaml.safe_load((Path(cli.__file__).parent / "recipes" / recipe).read_text())
    names = {p.name for p in _params(command) if p.param_type_name == "option"} - {"recipe", "help"}
    keys = {k.replace("-", "_") for k in data}
    assert keys == names, (keys - names, names - keys)


def test_help_fits_80_columns() -> None:
    for command in (["instruct", "codeswitch"], ["instruct", "interleave"], ["codeswitch", "stats"]):
        res = CliRunner().invoke(app, [*command, "--help"], terminal_width=80, env={"COLUMNS": "80"})
        assert res.exit_code == 0
        assert max(len(line) for line in res.output.splitlines()) <= 80
