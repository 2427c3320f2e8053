"""The `project` job end to end: every method on generated data / a tiny model, ledger
conservation, resume across the eflomal global step, the ``ner_tags`` round trip, and
the CLI's up-front errors."""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

import pytest

from babelmill.pipelines import cli

NAMES = {
    "Ana": "PER",
    "Pedro": "PER",
    "Maria": "PER",
    "Lima": "LOC",
    "Oslo": "LOC",
    "Kenya": "LOC",
    "Toyota": "ORG",
    "Nokia": "ORG",
}
VOCAB = "house river green walks quickly the small dog sees near old city red bird eats into water light".split()


def _tgt_word(word: str) -> str:
    """The generated target language: every common word has one fixed translation;
    names are written the same (as most names are across Latin-script languages)."""
    return word if word in NAMES else word[::-1] + "o"


def _corpus(n: int, seed: int = 0) -> list[tuple[list[str], list[str]]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = [rng.choice(VOCAB) for _ in range(rng.randint(4, 8))]
        tags = ["O"] * len(words)
        for name in rng.sample(sorted(NAMES), rng.choice([1, 1, 2])):
            k = rng.randint(0, len(words))
            words.insert(k, name)
            tags.insert(k, "B-" + NAMES[name])
        out.append((words, tags))
    return out


def _write_conll(path: Path, sentences, ragged_at: int | None = None) -> None:
    lines = []
    for k, (words, tags) in enumerate(sentences):
        if k == ragged_at:
            lines += ["broken line with too many columns", ""]
            continue
        lines += [f"{w} {t}" for w, t in zip(words, tags)] + [""]
    path.write_text("\n".join(lines))


def _main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["babelmill", *args])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    return int(exc.value.code or 0)


def _conserved(ledger) -> None:
    added = sum(s.added for s in ledger.stages)
    assert ledger.input + added == ledger.kept + ledger.rejected + ledger.quarantined


def _rows(out: Path, lang: str) -> list[dict]:
    import pyarrow.parquet as pq

    files = sorted((out / "data" / lang).glob("*.parquet"))
    return [r for f in files for r in pq.read_table(f).to_pylist()]


def test_parallel_eflomal_projects_exactly_resumes_and_round_trips(tmp_path: Path, ray_session) -> None:
    """``parallel`` with eflomal on generated pairs (TSV, target column first): every
    kept sentence gets exactly the expected tags; the quarantined sentence keeps its
    target line's place; the global step survives a rerun from each phase."""
    import datasets

    from babelmill.pipelines.jobs import ProjectOptions, project_job
    from babelmill.pipelines.runner import run

    sents = _corpus(60, seed=1)
    _write_conll(tmp_path / "en.conll", sents, ragged_at=7)
    # target first: the job finds the direction by itself
    (tmp_path / "en-de.tsv").write_text("".join(f"{' '.join(map(_tgt_word, w))}\t{' '.join(w)}\n" for w, _ in sents))
    out = tmp_path / "out"

    def job():
        options = ProjectOptions(
            method="parallel", targets=["de"], src="en", target=[str(tmp_path / "en-de.tsv")], target_pretokenized=True
        )
        return project_job([str(tmp_path / "en.conll")], out, options)

    first = run(job())
    led = first.ledger
    assert led.input == 60 and led.quarantined == 1
    _conserved(led)
    rows = _rows(out, "de")
    assert len(rows) == led.kept >= 55
    expected = {f"en.conll:{k}": ([_tgt_word(w) for w in words], tags) for k, (words, tags) in enumerate(sents)}
    for row in rows:
        tokens, tags = expected[row["source_id"]]
        assert row["tokens"] == tokens and row["tags"] == tags, row["source_id"]
        assert row["lang"] == "de" and row["src_lang"] == "en" and row["tgt_lang"] == "de"
        assert {e["method"] for e in row["projection"]} <= {"align", "name"}
    counters = led.stage("project_spans").counters
    assert counters["entities_in"] == sum(t.startswith("B-") for _, tags in sents for t in tags) - sum(
        t.startswith("B-") for t in sents[7][1]
    )
    assert counters["entities_projected"] + counters["entities_lost"] == counters["entities_in"]
    assert counters["source:PER"] >= counters["projected:PER"] > 0
    assert led.stage("align_eflomal").counters["pairs_aligned"] == 59
    # through the dataset card's YAML header, as a user loads it: one config per target
    ds = datasets.load_dataset(str(out), "de", split="train", cache_dir=str(tmp_path / "hf"))
    assert ds.num_rows == led.kept
    names = ds.features["ner_tags"].feature.names
    assert names == ["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"]
    for row in ds:
        assert ds.features["ner_tags"].feature.int2str(row["ner_tags"]) == row["tags"]
    assert "B-PER" in (out / "README.md").read_text()  # the card lists the label names
    report = (out / "report.html").read_text()
    assert "Label projection" in report and "<td>PER</td>" in report

    # resume: a run stopped in the finish phase redoes only that phase ...
    layout = job().layout()
    state = layout.global_dir / "done.json"
    stamp = state.stat().st_mtime_ns
    finals = list(layout.marker("x").parent.glob("*.json"))
    assert finals and all(layout.map_marker(f.stem).exists() for f in finals)
    for marker in finals:
        marker.unlink()
    again = run(job())
    assert state.stat().st_mtime_ns == stamp, "the global step ran again"
    assert again.shards_skipped == 0 and again.ledger.kept == led.kept and _rows(out, "de") == rows
    # ... and one stopped in the global step redoes the step from the mapped keys
    mapped = {f.stem: layout.map_marker(f.stem).stat().st_mtime_ns for f in finals}
    shutil.rmtree(layout.global_dir)
    for marker in finals:
        marker.unlink()
    third = run(job())
    assert state.exists() and third.ledger.stage("align_eflomal").counters["pairs_aligned"] == 59
    assert {k: layout.map_marker(k).stat().st_mtime_ns for k in mapped} == mapped, "the map phase ran again"
    assert third.ledger.kept == led.kept and _rows(out, "de") == rows
    _conserved(third.ledger)


# markers: tests/test_markers.py; align with eflomal trains it in the global step on the MT output
@pytest.mark.parametrize(
    "method, aligner", [("align", "attention"), ("align", "simalign"), ("align", "eflomal"), ("score", "eflomal")]
)
def test_methods_on_a_tiny_model(
    method: str, aligner: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, ray_session
) -> None:
    """Each MT method through the runner on the tiny random Marian model: conservation
    (rows added by the target expansion included), drop reasons only from the declared
    set, and target tokens under the tags."""
    import tiny_models

    from babelmill.pipelines.jobs import ProjectOptions, project_job
    from babelmill.pipelines.runner import run
    from babelmill.processors.translate.engine import CTranslate2Spec

    root = tmp_path_factory.getbasetemp()
    spec = CTranslate2Spec(str(tiny_models.cached("marian", root)), device="cpu", cache_dir=str(root / "ct2-project"))
    _write_conll(tmp_path / "en.conll", _corpus(8, seed=2), ragged_at=3)
    # two targets: rows are added; the tiny model translates into German only, so the
    # Swahili rows are quarantined (by row, with the engine's reason) and still add up
    targets = ["de", "sw"] if method == "score" else ["de"]
    # SimAlign reads a local encoder directory: a random BERT whose vocabulary has the
    # corpus' words (the MT output's unknown words share [UNK])
    encoder = None
    if aligner == "simalign":
        words = {w for toks, _ in _corpus(8, seed=2) for w in toks}
        encoder = str(tiny_models.build_bert(tmp_path / "bert", sorted(words)))
    options = ProjectOptions(
        method=method,
        targets=targets,
        aligner=aligner,
        encoder=encoder,
        symmetrize="union",
        drop_on=["type_conflict"],
    )
    result = run(project_job([str(tmp_path / "en.conll")], tmp_path / "out", options, spec))
    led = result.ledger
    assert not result.failures
    assert led.input == 8 and led.quarantined == 1 + 7 * (len(targets) - 1)
    assert led.stage("targets").added == 7 * (len(targets) - 1)
    _conserved(led)
    assert set(led.drop_reasons()) <= {
        "type_conflict",
        "empty_translation",
        "entity_lost",
        "marker_mismatch",
        "span_too_long",
        "low_confidence",
    }
    assert not (tmp_path / "out" / "data" / "sw").exists()
    for tgt in ["de"]:
        for row in _rows(tmp_path / "out", tgt):
            assert len(row["tokens"]) == len(row["tags"]) == len(row["ner_tags"])
            assert row["id"] == f"{row['source_id']}#{tgt}" and row["lang"] == tgt
    stage = {"markers": "project_markers", "score": "project_score"}.get(method, "project_spans")
    counters = led.stage(stage).counters
    assert counters.get("entities_in", counters.get("entities")) == sum(
        t.startswith("B-") for i, (_, tags) in enumerate(_corpus(8, seed=2)) if i != 3 for t in tags
    )


def test_target_formats_pair_the_same_sentences(tmp_path: Path) -> None:
    """TSV (either order), Moses pair, JSONL src/tgt and CoNLL give the same target side."""
    from babelmill.pipelines.jobs import ProjectOptions, _parallel_targets
    from babelmill.processors.io.records import ReaderOptions
    from babelmill.processors.ner.options import NerOptions

    sents = _corpus(5, seed=4)
    _write_conll(tmp_path / "en.conll", sents)
    tgt = [" ".join(map(_tgt_word, w)) for w, _ in sents]
    src = [" ".join(w) for w, _ in sents]
    (tmp_path / "a.tsv").write_text("".join(f"{s}\t{t}\n" for s, t in zip(src, tgt)))
    (tmp_path / "b.tsv").write_text("".join(f"{t}\t{s}\n" for s, t in zip(src, tgt)))
    (tmp_path / "c.de").write_text("".join(t + "\n" for t in tgt))
    (tmp_path / "c.en").write_text("".join(s + "\n" for s in src))
    (tmp_path / "d.jsonl").write_text("".join(f'{{"src": "{s}", "tgt": "{t}"}}\n' for s, t in zip(src, tgt)))
    (tmp_path / "e.conll").write_text("".join("".join(f"{w} O\n" for w in t.split()) + "\n" for t in tgt))
    reader = ReaderOptions(ner=NerOptions())
    results = []
    for target in (["a.tsv"], ["b.tsv"], ["c.en", "c.de"], ["d.jsonl"], ["e.conll"]):
        options = ProjectOptions(
            method="parallel", targets=["de"], target=[str(tmp_path / t) for t in target], target_pretokenized=True
        )
        mapping = _parallel_targets([str(tmp_path / "en.conll")], reader, "auto", options, "de")
        results.append([mapping[f"en.conll:{k}"] for k in range(5)])
    assert all(r == [t.split() for t in tgt] for r in results)


def test_score_with_the_reverse_direction(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, ray_session
) -> None:
    """``--score-reverse same`` on a multilingual model: candidates are ranked by both
    directions, every row is written or accounted for."""
    import tiny_models

    from babelmill.pipelines.jobs import ProjectOptions, project_job
    from babelmill.pipelines.runner import run
    from babelmill.processors.translate.engine import CTranslate2Spec

    root = tmp_path_factory.getbasetemp()
    spec = CTranslate2Spec(str(tiny_models.cached("m2m100", root)), device="cpu", cache_dir=str(root / "ct2-rev"))
    _write_conll(tmp_path / "en.conll", _corpus(6, seed=4))
    options = ProjectOptions(method="score", targets=["de"], score_reverse="same", drop_on=["type_conflict"])
    result = run(project_job([str(tmp_path / "en.conll")], tmp_path / "out", options, spec))
    led = result.ledger
    assert not result.failures and led.input == 6 and led.quarantined == 0
    _conserved(led)
    counters = led.stage("project_score").counters
    assert counters.get("entities_in", counters.get("entities")) == sum(
        t.startswith("B-") for _, tags in _corpus(6, seed=4) for t in tags
    )
    for row in _rows(tmp_path / "out", "de"):
        assert len(row["tokens"]) == len(row["tags"])


def test_missing_score_reverse_model_is_one_line_before_ray(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    import tiny_models

    model = tiny_models.cached("marian", tmp_path_factory.getbasetemp())
    _write_conll(tmp_path / "en.conll", _corpus(2))
    args = ["project", "--input", str(tmp_path / "en.conll"), "--output", str(tmp_path / "o"), "--no-progress"]
    args += ["--tgt", "de", "--method", "score", "--model", str(model), "--score-reverse", "/no/such/reverse"]
    assert _main(monkeypatch, *args) == 2
    err = capsys.readouterr().err
    assert "/no/such/reverse" in err and len(err.strip().splitlines()) == 1
    # "same" needs a model that translates the other way too: the tiny Marian is en -> de
    args[-1] = "same"
    assert _main(monkeypatch, *args) == 2
    err = capsys.readouterr().err
    assert "source language is en" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["--method", "parallel"], "--method parallel needs --target"),
        (["--method", "align"], "needs --model"),
        (["--tgt", "xx-nope"], "xx-nope"),
        (["--method", "align", "--model", "/no/such/model"], "/no/such/model"),
        (["--method", "parallel", "--target", "/no/such.tsv"], "/no/such.tsv does not exist"),
    ],
)
def test_cli_errors_are_one_line_before_ray(
    args, message, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _write_conll(tmp_path / "en.conll", _corpus(2))
    base = ["project", "--input", str(tmp_path / "en.conll"), "--output", str(tmp_path / "o"), "--no-progress"]
    if "--tgt" not in args:
        base += ["--tgt", "de"]
    assert _main(monkeypatch, *base, *args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_cli_missing_input_and_missing_eflomal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert (
        _main(
            monkeypatch,
            "project",
            "--input",
            str(tmp_path / "nope.conll"),
            "--tgt",
            "de",
            "--output",
            str(tmp_path / "o"),
        )
        == 2
    )
    assert "nope.conll does not exist" in capsys.readouterr().err
    _write_conll(tmp_path / "en.conll", _corpus(2))
    (tmp_path / "t.txt").write_text("a b\nc d\n")
    monkeypatch.setitem(sys.modules, "eflomal", None)  # import eflomal -> ImportError
    rc = _main(
        monkeypatch,
        "project",
        "--input",
        str(tmp_path / "en.conll"),
        "--tgt",
        "de",
        "--method",
        "parallel",
        "--target",
        str(tmp_path / "t.txt"),
        "--output",
        str(tmp_path / "o"),
    )
    assert rc == 2
    assert "pip install 'babelmill[eflomal]'" in capsys.readouterr().err


def test_project_recipe_names_every_option_and_nothing_else() -> None:
    import typer.main
    import yaml

    group = typer.main.get_command(cli.app).commands["project"]  # type: ignore[attr-defined]
    names = {p.name for p in group.params if p.param_type_name == "option"} - {"recipe", "help"}
    data = yaml.safe_load((Path(cli.__file__).parent / "recipes" / "project.yaml").read_text())
    keys = {k.replace("-", "_") for k in data}
    assert keys <= names, f"unknown keys {keys - names}"
    assert names - keys == set(), f"options missing from the recipe: {names - keys}"
    assert "eval" in group.commands  # the evaluation stays a sub-command


def test_projection_summary_reads_both_counter_conventions() -> None:
    from babelmill.processors.projection.pipeline import projection_summary

    aligned = projection_summary(
        {
            "entities_in": 4,
            "entities_projected": 3,
            "entities_lost": 1,
            "source:PER": 3,
            "projected:PER": 3,
            "source:LOC": 1,
        }
    )
    assert aligned is not None and aligned["rate"] == 0.75 and aligned["lost"] == 1
    assert aligned["types"] == {
        "LOC": {"entities": 1, "projected": 0, "rate": 0.0},
        "PER": {"entities": 3, "projected": 3, "rate": 1.0},
    }
    marked = projection_summary(
        {"entities": 2, "projected": 1, "lost": 1, "entities_ORG": 2, "projected_ORG": 1, "marker_nested": 1}
    )
    assert marked is not None and marked["types"] == {"ORG": {"entities": 2, "projected": 1, "rate": 0.5}}
    assert projection_summary({"segments": 5}) is None
