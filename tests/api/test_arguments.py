"""Every argument is checked against the script's schema before main runs (issue 10, item 5): one code path
(runner.call) for the CLI, the local server's jobs and the tests, refusing with invalid_input naming the argument."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
from fractal_local.contracts import scripts
from fractal_local.runner import call
from support.cli import run_cli

from f.fractal.model.errors import InvalidInput
from f.fractal.platform.scripts import load_main

# (script, arguments, the argument the refusal must name, a word of the message)
REFUSED: list[tuple[str, dict[str, Any], str, str]] = [
    ("list_items", {"limit": "5"}, "limit", "integer"),
    ("list_items", {"limit": True}, "limit", "integer"),
    ("list_items", {"query": {"a": 1}}, "query", "string"),
    ("list_items", {"tags": "demo"}, "tags", "array"),
    ("list_items", {"tags": ["demo", 3]}, "tags", "string"),
    ("list_items", {"kind": "widget"}, "kind", "one of"),
    ("list_items", {"targets": "f/fractal/catalog"}, "targets", "array"),
    ("list_items", {"query": "caf\ud800"}, "query", "Unicode"),
    ("get_item", {}, "ref", "ref"),
    ("get_item", {"ref": None}, "ref", "string"),
    ("get_item", {"ref": 7}, "ref", "string"),
    ("save_item", {"item": "entity:web"}, "item", "object"),
    ("save_item", {"item": {}, "bump": "huge"}, "bump", "one of"),
    ("save_item", {"item": {}, "conflict": "merge"}, "conflict", "one of"),
    ("save_item", {"item": {}, "expected_version": 1}, "expected_version", "string"),
    ("save_item", {"item": {"spec": {"files": {"a": "\udcff"}}}}, "item", "Unicode"),
    ("save_item", {"item": {"apiVersion": "fractal/v1", "kind": "Entity", "metadata": {"name": "clash"},
                            "spec": {"tool": "ansible", "files": {"a/b": "x", "a/b/c.yml": "y"}}}}, "item", "folder"),
    ("delete_item", {"ref": "entity:web", "force": "yes"}, "force", "boolean"),
    ("run_item", {"ref": "entity web"}, "ref", "pattern"),
    ("run_item", {"ref": "entity:web", "mode": "yolo"}, "mode", "one of"),
    ("run_item", {"ref": "entity:web", "inputs": [1]}, "inputs", "object"),
    ("generate_entity", {"need": ["a", "b"]}, "need", "string"),
    ("generate_entity", {"need": "x", "attempts": "3"}, "attempts", "integer"),
    ("refine_entity", {"draft": {}, "message": 5}, "message", "string"),
    ("compose_pipeline", {"need": "x", "save": "true"}, "save", "boolean"),
    ("item_history", {"ref": "entity:web", "limit": 1.5}, "limit", "integer"),
    ("sync_catalog", {"targets": [1]}, "targets", "string"),
    ("list_items", {"colour": "red"}, "colour", "no argument"),
]


@pytest.mark.parametrize(("script", "args", "argument", "word"), REFUSED, ids=[f"{s}-{a}" for s, _, a, _ in REFUSED])
def test_wrong_arguments_are_invalid_input_naming_the_argument(script: str, args: dict[str, Any], argument: str,
                                                               word: str, fractal_home: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        call(f"f/fractal/{script}", args)
    assert caught.value.code == "invalid_input" and caught.value.data["argument"] == argument
    assert word in caught.value.message and argument in caught.value.message


def test_the_cli_and_the_server_refuse_through_the_same_check(fractal_home: Any) -> None:
    done = run_cli("call", "f/fractal/list_items", json.dumps({"limit": "5"}))
    error = json.loads(done.stderr)
    assert done.returncode == 1 and error["error"] == "invalid_input" and error["data"]["argument"] == "limit"
    assert error["hint"] == "Page size (1 to 1000)."  # the schema's own description of the argument


def test_every_public_script_has_a_schema_that_matches_its_main() -> None:
    """The schema is only a good gate if it names exactly main's parameters, with main's required ones."""
    for path, script in scripts().items():
        params = inspect.signature(load_main(path)).parameters
        assert set(script.schema["properties"]) == set(params), path
        required = {n for n, p in params.items() if p.default is inspect.Parameter.empty}
        assert set(script.required) == required, path


def test_null_for_an_optional_argument_means_its_default(fractal_home: Any, make_target: Any) -> None:
    target = make_target("a")
    assert call("f/fractal/list_items", {"targets": [target], "tags": None, "query": None})["total"] == 0
