"""The command line people use: help with a sentence per flag and examples, --version, exit codes, human output on a
terminal and JSON through a pipe, a missing item an error everywhere, no traceback on a closed pipe."""

from __future__ import annotations

import argparse
import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fractal_local.__main__ import COMMANDS, build_parser, main
from fractal_local.cli import CLOSED_PIPE
from support.items import entity
from support.paths import ROOT

import f.fractal.catalog.items as catalog


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_command_has_help_for_each_flag_and_an_example() -> None:
    commands = _subcommands()
    assert len(commands) >= 20
    for name, parser in commands.items():
        text = parser.format_help()
        assert "examples:\n  scripts/fractal " in text or "examples:\n  claude " in text or "eval " in text, name
        for action in parser._actions:
            assert action.help and len(action.help) > 8, f"{name} {action.dest} has no help"


def test_each_command_loads_only_its_own_module() -> None:
    """The lazy table names every command's module, so a call imports one module, not the whole CLI."""
    assert set(COMMANDS) | {"completion"} == set(_subcommands())
    for command, module in COMMANDS.items():
        sub = next(a for a in build_parser([command])._actions if isinstance(a, argparse._SubParsersAction))
        assert command in sub.choices, f"{command} is not registered by fractal_local.commands.{module}"


def _env(home: Path) -> dict[str, str]:
    return {"FRACTAL_HOME": str(home)}


@pytest.fixture
def saved(fractal_home: Path, make_target: Any) -> str:
    target = make_target("catalog")
    catalog.save(entity("web"))
    return target


# (arguments, exit code, what stderr says) — stdout and stderr are not terminals here, so errors are JSON
TABLE: list[tuple[list[str], int, str]] = [
    (["--version"], 0, ""),
    (["list", "--limit", "many"], 2, "invalid int value"),
    (["frobnicate"], 2, "invalid choice"),
    (["show", "entity:nope"], 1, '"error": "not_found"'),
    (["history", "entity:nope"], 1, '"error": "not_found"'),
    (["delete", "entity:nope"], 1, '"error": "not_found"'),
    (["run", "entity:nope", "--provider", "local"], 1, '"error": "not_found"'),
    (["show", "web"], 1, '"error": "invalid_input"'),
    (["call", "f/fractal/list_items", '{"limit": "5"}'], 1, '"argument": "limit"'),
    (["history", "entity:web"], 0, ""),
    (["users", "entity:nope"], 1, '"error": "not_found"'),
    (["users", "entity:web"], 0, ""),
    (["diff", "entity:web", "9.9.9"], 1, '"error": "not_found"'),
    (["diff", "entity:web", "latest", "--json"], 0, ""),
]


def test_exit_codes(saved: str, capsys: pytest.CaptureFixture[str]) -> None:
    """In-process (the same main as scripts/fractal) to keep it quick; the pipe and terminal tests run processes."""
    for args, code, says in TABLE:
        try:
            got = main(args)
        except SystemExit as e:  # argparse: --version, usage errors
            got = int(e.code or 0)
        out, err = capsys.readouterr()
        assert got == code and says in err, (args, got, err[-500:])
        assert "Traceback" not in err, args
        if args == ["--version"]:
            assert out.startswith("fractal ")
        if args in (["history", "entity:web"], ["users", "entity:web"]):
            assert json.loads(out)["ref"] == "entity:web"
        if args[0] == "diff" and code == 0:
            assert json.loads(out)["same"] is True


def test_a_closed_pipe_ends_quietly(saved: str, fractal_home: Path) -> None:
    """`scripts/fractal show entity:web | head -1`: the reader is gone before the item is written."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}", **_env(fractal_home)}
    proc = subprocess.Popen([sys.executable, "-m", "fractal_local", "show", "entity:web"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the command has started writing (it needs a second to import)
    assert proc.wait(60) == CLOSED_PIPE and proc.stderr.read() == b""


def _on_a_terminal(args: list[str], home: Path) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}", **_env(home)}
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "fractal_local", *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=follower, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return proc.wait(60), b"".join(chunks).decode()


def test_human_output_on_a_terminal(saved: str, fractal_home: Path) -> None:
    code, text = _on_a_terminal(["history", "entity:web"], fractal_home)
    assert code == 0 and text.startswith("1.0.0") and "save" in text and "{" not in text
    code, text = _on_a_terminal(["users", "entity:web"], fractal_home)
    assert code == 0 and text.startswith("-- 0 composites use entity:web") and "{" not in text
    code, text = _on_a_terminal(["show", "entity:nope"], fractal_home)
    assert code == 1 and text.startswith("error: entity:nope") and "{" not in text
