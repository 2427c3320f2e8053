"""Typer parameters of a CLI command, for tests that check options against recipes."""

from __future__ import annotations

from babelmill.pipelines import cli


def _params(command: str) -> list:
    import typer.main

    cmd = typer.main.get_command(cli.app)
    for part in command.split():
        cmd = cmd.commands[part]  # type: ignore[attr-defined]
    return list(cmd.params)
