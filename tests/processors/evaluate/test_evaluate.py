"""Evaluators against hand-computed figures, and the `project eval` / `align eval` CLIs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from babelmill.pipelines.cli import app
from babelmill.processors.evaluate.alignment import alignment_scores, parse_pharaoh, parse_pharaoh_line
from babelmill.processors.evaluate.ner import entity_scores, strict_entities

GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O", "B-MISC", "I-MISC"]]
PRED = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "I-ORG", "B-MISC", "I-MISC"]]


def test_strict_entities_ignore_ill_formed_spans() -> None:
    assert strict_entities(["B-PER", "I-PER", "O", "B-LOC"]) == [(0, 2, "PER"), (3, 4, "LOC")]
    assert strict_entities(["I-PER", "I-PER", "O"]) == []  # no B-: no entity in strict mode
    assert strict_entities(["B-PER", "I-LOC", "I-LOC"]) == [(0, 1, "PER")]
    assert strict_entities(["B-PER", "B-PER"]) == [(0, 1, "PER"), (1, 2, "PER")]


def test_entity_scores_hand_computed() -> None:
    # PER: 1 correct; LOC: 1 missed; ORG: 2 wrong, 1 missed; MISC: 1 correct
    s = entity_scores(PRED, GOLD)
    assert {k: (v.tp, v.fp, v.fn) for k, v in s.per_type.items()} == {
        "PER": (1, 0, 0),
        "LOC": (0, 0, 1),
        "ORG": (0, 2, 1),
        "MISC": (1, 0, 0),
    }
    assert (s.micro.precision, s.micro.recall, s.micro.f1) == (0.5, 0.5, 0.5)
    assert s.macro_f1 == pytest.approx((1 + 0 + 0 + 1) / 4)


def test_entity_scores_drop_and_map_types() -> None:
    s = entity_scores(PRED, GOLD, drop_types=["MISC"])
    assert (s.micro.tp, s.micro.fp, s.micro.fn) == (1, 2, 2)
    assert s.micro.precision == pytest.approx(1 / 3) and s.micro.recall == pytest.approx(1 / 3)
    s = entity_scores(PRED, GOLD, type_map={"ORG": "LOC"})
    # sentence 1: LOC(3,4) now matches; sentence 2: LOC(0,2) predicted vs LOC(0,1) gold
    assert {k: (v.tp, v.fp, v.fn) for k, v in s.per_type.items()} == {
        "PER": (1, 0, 0),
        "LOC": (1, 1, 1),
        "MISC": (1, 0, 0),
    }
    assert s.micro.f1 == pytest.approx(0.75)


def test_entity_scores_strict_mode_and_errors() -> None:
    s = entity_scores([["I-PER", "I-PER", "O"]], [["B-PER", "I-PER", "O"]])
    assert (s.micro.tp, s.micro.fp, s.micro.fn, s.micro.f1) == (0, 0, 1, 0.0)
    with pytest.raises(ValueError, match="sentences"):
        entity_scores([["O"]], [])
    with pytest.raises(ValueError, match="sentence 0"):
        entity_scores([["O"]], [["O", "O"]])


def test_pharaoh_parsing() -> None:
    assert parse_pharaoh_line("0-0 1?1 2p2") == ({(0, 0)}, {(0, 0), (1, 1), (2, 2)})
    assert parse_pharaoh_line("1-1 2p2", one_based=True) == ({(0, 0)}, {(0, 0), (1, 1)})
    assert parse_pharaoh([""]) == [(set(), set())]
    with pytest.raises(ValueError, match="line 2"):
        parse_pharaoh(["0-0", "0:1"])
    with pytest.raises(ValueError, match="below 1"):
        parse_pharaoh_line("0-1", one_based=True)


def test_aer_hand_computed() -> None:
    gold = parse_pharaoh(["0-0 1?1 2-2", "0-1"])
    pred = [{(0, 0), (1, 1), (2, 1)}, {(0, 1)}]
    s = alignment_scores(pred, gold)
    # |A|=4 |S|=3 |A&S|=2 |A&P|=3
    assert s.precision == pytest.approx(3 / 4)
    assert s.recall == pytest.approx(2 / 3)
    assert s.aer == pytest.approx(1 - (2 + 3) / (4 + 3))
    perfect = alignment_scores([{(0, 0), (2, 2)}], parse_pharaoh(["0-0 1?1 2-2"]))
    assert perfect.aer == 0.0 and perfect.recall == 1.0
    with pytest.raises(ValueError):
        alignment_scores([set()], [])


def _conll(path: Path, sents: list[list[str]]) -> Path:
    path.write_text("".join("".join(f"w{i}\t{t}\n" for i, t in enumerate(s)) + "\n" for s in sents))
    return path


def test_project_eval_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    pred, gold = _conll(tmp_path / "pred.conll", PRED), _conll(tmp_path / "gold.conll", GOLD)
    res = runner.invoke(app, ["project", "eval", "--pred", str(pred), "--gold", str(gold), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["micro"]["f1"] == 0.5 and data["per_type"]["ORG"]["predicted"] == 2
    res = runner.invoke(
        app,
        [
            "project",
            "eval",
            "--pred",
            str(pred),
            "--gold",
            str(gold),
            "--drop-types",
            "MISC",
            "--map",
            "ORG=LOC",
            "--json",
        ],
    )
    data = json.loads(res.output)
    assert set(data["per_type"]) == {"PER", "LOC"} and data["micro"]["correct"] == 2
    res = runner.invoke(app, ["project", "eval", "--pred", str(pred), "--gold", str(gold)])
    assert res.exit_code == 0 and "micro" in res.output and "50.00" in res.output
    short = _conll(tmp_path / "short.conll", GOLD[:1])
    res = runner.invoke(app, ["project", "eval", "--pred", str(pred), "--gold", str(short)])
    assert res.exit_code == 2 and "sentences" in res.output
    res = runner.invoke(app, ["project", "eval", "--pred", str(pred), "--gold", str(gold), "--map", "ORG"])
    assert res.exit_code == 2 and "OLD=NEW" in res.output
    res = runner.invoke(app, ["project", "eval", "--pred", str(tmp_path / "nope.conll"), "--gold", str(gold)])
    assert res.exit_code == 2 and "does not exist" in res.output
    res = runner.invoke(app, ["project"])
    assert res.exit_code == 0 and "eval" in res.output


def test_align_eval_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "gold.txt").write_text("1-1 2p2 3-3\n1-2\n")
    (tmp_path / "pred.txt").write_text("0-0 1-1 2-1\n0-1\n")
    res = runner.invoke(
        app,
        [
            "align",
            "eval",
            "--pred",
            str(tmp_path / "pred.txt"),
            "--gold",
            str(tmp_path / "gold.txt"),
            "--one-based",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["aer"] == pytest.approx(2 / 7) and data["precision"] == 0.75
    res = runner.invoke(
        app, ["align", "eval", "--pred", str(tmp_path / "pred.txt"), "--gold", str(tmp_path / "gold.txt")]
    )
    assert res.exit_code == 0 and "AER" in res.output  # 0-based reading: different, but valid
    (tmp_path / "bad.txt").write_text("0-0\nx\n")
    res = runner.invoke(
        app, ["align", "eval", "--pred", str(tmp_path / "bad.txt"), "--gold", str(tmp_path / "gold.txt"), "--one-based"]
    )
    assert res.exit_code == 2 and "line 2" in res.output
    (tmp_path / "one.txt").write_text("0-0\n")
    res = runner.invoke(
        app, ["align", "eval", "--pred", str(tmp_path / "one.txt"), "--gold", str(tmp_path / "gold.txt"), "--one-based"]
    )
    assert res.exit_code == 2 and "1 predicted alignments but 2" in res.output
