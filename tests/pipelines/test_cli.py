"""The command line: help texts, recipes, one-line errors and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from babelmill.pipelines import cli
from cli_params import _params


def _main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["babelmill", *args])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    return int(exc.value.code or 0)


def test_console_script_help() -> None:
    exe = Path(sys.executable).parent / "babelmill"
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("copy", "corpus", "instruct", "langs", "demo", "sample"):
        assert command in out


@pytest.mark.parametrize("command", ["copy", "corpus", "instruct translate", "langs", "demo", "sample", "stages"])
def test_every_option_is_explained(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # rich truncates long option names in narrow terminals
    assert _main(monkeypatch, *command.split(), "--help") == 0
    text = capsys.readouterr().out
    for param in _params(command):
        if param.param_type_name == "option":
            assert param.help, f"{command} {param.opts} has no help"
            assert param.opts[0] in text


def test_missing_input_is_one_line_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rc = _main(
        monkeypatch, "copy", "--input", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "o"), "--no-progress"
    )
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and "does not exist" in err and "Traceback" not in err


def test_unknown_extension_says_what_to_pass(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    f = tmp_path / "data.bin"
    f.write_bytes(b"x")
    rc = _main(monkeypatch, "copy", "--input", str(f), "--output", str(tmp_path / "o"), "--no-progress")
    err = capsys.readouterr().err
    assert rc == 2 and "--format" in err


def test_copy_from_recipe_with_override(
    ray_session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], sample_dir: Path, tmp_path: Path
) -> None:
    recipe = tmp_path / "r.yaml"
    out = tmp_path / "from-recipe"
    recipe.write_text(f"input: {sample_dir}\noutput: {tmp_path / 'ignored'}\noutput-format: jsonl\nprogress: false\n")
    rc = _main(monkeypatch, "copy", "--recipe", str(recipe), "--output", str(out))
    assert rc == 0
    assert not (tmp_path / "ignored").exists()  # the command line wins over the recipe
    assert list((out / "data").glob("*.jsonl"))
    led = orjson.loads((out / "ledger.json").read_bytes())
    assert led["input"] == led["kept"] + led["rejected"] + led["quarantined"]
    shown = capsys.readouterr().out
    assert "total" in shown and "validate" in shown  # the summary table


def test_recipe_with_unknown_key_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text("inptu: somewhere\n")
    assert _main(monkeypatch, "copy", "--recipe", str(recipe)) == 2
    assert "unknown option 'inptu'" in capsys.readouterr().err


def test_shipped_recipe_names_only_real_options() -> None:
    import yaml

    names = {p.name for p in _params("copy")}
    recipe = yaml.safe_load((Path(cli.__file__).parent / "recipes" / "copy.yaml").read_text())
    assert {k.replace("-", "_") for k in recipe} <= names


def test_sample_command_writes_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert _main(monkeypatch, "sample", "--output", str(tmp_path / "s"), "--docs", "3", "--files", "2") == 0
    assert len(list((tmp_path / "s").glob("*.jsonl"))) == 2


@pytest.mark.parametrize(
    "recipe, command",
    [("copy.yaml", "copy"), ("corpus.yaml", "corpus"), ("instruct-translate.yaml", "instruct translate")],
)
def test_shipped_recipes_name_every_option_and_nothing_else(recipe: str, command: str) -> None:
    import yaml

    data = yaml.safe_load((Path(cli.__file__).parent / "recipes" / recipe).read_text())
    names = {p.name for p in _params(command) if p.param_type_name == "option"} - {"recipe", "help"}
    keys = {k.replace("-", "_") for k in data}
    assert keys <= names, f"unknown keys {keys - names}"
    assert names - keys == set(), f"options missing from the recipe: {names - keys}"


def test_langs_lists_profiles_as_json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert _main(monkeypatch, "langs", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) >= 80
    by_code = {r["code"]: r for r in rows}
    assert by_code["sw"]["flores"] == "swh_Latn" and by_code["sw"]["lid176"] == "sw"
    assert _main(monkeypatch, "langs", "Swahili", "--json") == 0
    assert [r["code"] for r in json.loads(capsys.readouterr().out)] == ["sw"]


def test_unknown_language_is_one_line_with_suggestions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rc = _main(
        monkeypatch,
        "corpus",
        "--input",
        str(tmp_path),
        "--lang",
        "swx",
        "--output",
        str(tmp_path / "o"),
        "--no-progress",
    )
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "swx" in err and "sw" in err and "Traceback" not in err


# --------------------------------------------------------------------------- 80 columns, one-line errors


@pytest.mark.parametrize("command", ["copy", "corpus", "instruct translate"])
def test_help_is_readable_at_80_columns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """Each option's help runs beside or under its name in lines of many words, not one or
    two words a line in the last of six columns."""
    monkeypatch.setenv("COLUMNS", "80")
    assert _main(monkeypatch, *command.split(), "--help") == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    flat = " ".join(text.split())
    for param in _params(command):
        if param.param_type_name == "option" and param.help:
            words = param.help.split()[:6]
            start = " ".join(words)
            assert start in flat, f"{param.opts[0]}: {start!r} not in the help"
            # the first words are on one line: the help column is wide enough for them
            assert any(" ".join(words[:4]) in " ".join(line.split()) for line in lines), param.opts[0]


def test_group_help_with_options_is_readable_at_80_columns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``project`` is a group whose callback takes the job's options: same layout, and
    its subcommands listed after them."""
    monkeypatch.setenv("COLUMNS", "80")
    assert _main(monkeypatch, "project", "--help") == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    assert any(line.split()[:5] == ["--src", "<str>", "Language", "of", "the"] for line in lines if line.strip())
    assert "Commands:" in lines and any(line.split()[:1] == ["eval"] for line in lines)


@pytest.mark.parametrize(
    "args, says",
    [
        (["copy", "--no-such-option"], "No such option: --no-such-option"),
        (["copy", "--split-bytes", "many"], "Invalid value for '--split-bytes'"),
        (["copy", "--input"], "requires an argument"),
        (["no-such-command"], "No such command"),
        (["copy", "--input", "{tmp}/in.jsonl", "--output", "{tmp}/in.jsonl"], "is a file"),
        (["copy", "--input", "{tmp}/in.jsonl", "--output", "{tmp}/o", "--split-bytes", "-1"], "--split-bytes"),
        (["copy", "--recipe", "{tmp}/missing.yaml", "--output", "{tmp}/o"], "does not exist"),
    ],
)
def test_user_errors_are_one_line_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], says: str
) -> None:
    (tmp_path / "in.jsonl").write_text('{"text": "hello"}\n')
    monkeypatch.setenv("COLUMNS", "80")
    command, *rest = [a.replace("{tmp}", str(tmp_path)) for a in args]
    rc = _main(monkeypatch, command, "--no-progress", *rest)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 2, err
    assert len(lines) == 1 and lines[0].startswith("error:") and says in lines[0], lines
    assert "Traceback" not in err and "unexpected" not in err
