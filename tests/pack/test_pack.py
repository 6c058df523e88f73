"""The Windmill pack itself: every script documented, schemas matching code, the CLI contract."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import yaml
from support.cli import run_cli
from support.paths import ROOT

PY_FILES = sorted(
    p for p in (ROOT / "f").rglob("*.py") if "__pycache__" not in p.parts and "__flow" not in str(p) and "__raw_app" not in str(p)
)


def _main(path: Path) -> ast.FunctionDef | None:
    tree = ast.parse(path.read_text())
    return next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"), None)


@pytest.mark.parametrize("path", PY_FILES, ids=[str(p.relative_to(ROOT)) for p in PY_FILES])
def test_every_script_has_complete_metadata(path: Path) -> None:
    meta_file = path.with_suffix(".script.yaml")
    assert meta_file.is_file(), f"{meta_file.name} is missing: Windmill would push an empty form"
    meta = yaml.safe_load(meta_file.read_text())
    assert meta["summary"].startswith("Fractal: ") and len(meta["summary"]) > 12
    assert meta.get("description")
    main = _main(path)
    if main is None:
        assert meta.get("no_main_func") is True, "a library module must say no_main_func: true"
        return
    schema = meta["schema"]
    params = [a.arg for a in main.args.args]
    with_default = params[len(params) - len(main.args.defaults) :] if main.args.defaults else []
    assert list(schema["properties"]) == params or sorted(schema["properties"]) == sorted(params), (
        "schema properties = main's parameters"
    )
    assert sorted(schema.get("required", [])) == sorted(p for p in params if p not in with_default)
    for name, prop in schema["properties"].items():
        assert prop.get("description"), f"parameter {name} has no description"


def test_library_imports_stay_light() -> None:
    """Catalog scripts must not pull litellm or jsonschema-heavy stacks at import (a fresh process per job)."""
    import subprocess
    import sys

    heavy = "('litellm', 'jsonschema', 'ansible_runner', 'git')"
    scripts = "f.fractal.save_item, f.fractal.list_items, f.fractal.get_item"
    code = f"import sys, {scripts}; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert json.loads(out.replace("'", '"')) == []


def test_cli_call_runs_a_script_and_reports_errors_as_json(make_target, fractal_home: Path) -> None:
    target = make_target("a")
    env = {"FRACTAL_HOME": str(fractal_home)}
    sample = ROOT / "resources" / "samples" / "local-motd.yaml"
    saved = run_cli("save", str(sample), "-t", target, env=env)
    assert saved.returncode == 0, saved.stderr
    assert json.loads(saved.stdout)["ref"] == "entity:local-motd@1.0.0"
    listed = run_cli("call", "f/fractal/list_items", json.dumps({"query": "motd", "targets": [target]}), env=env)
    assert listed.returncode == 0 and json.loads(listed.stdout)["items"][0]["name"] == "local-motd"
    missing = run_cli("call", "f/fractal/get_item", json.dumps({"ref": "entity:nope", "targets": [target]}), env=env)
    assert missing.returncode == 1
    assert json.loads(missing.stderr)["error"] == "not_found"
    unknown = run_cli("call", "f/fractal/list_items", '{"colour": "red"}', env=env)
    assert unknown.returncode == 1 and "no argument colour" in json.loads(unknown.stderr)["message"]
    library = run_cli("call", "f/fractal/model", "{}", env=env)
    assert library.returncode == 1 and "library module" in json.loads(library.stderr)["message"]


def test_resource_types_live_at_the_repo_root() -> None:
    names = {p.name.split(".")[0] for p in ROOT.glob("*.resource-type.yaml")}
    assert {"fractal_settings", "fractal_llm", "exoscale", "vastai", "runpod", "kubeconfig"} <= names
    # git_repository (catalogs), postgresql and s3 (Terraform state) are Windmill hub types, used as they are:
    # a pushed type of the same name would shadow them; the reference copy stays out of the push
    assert not names & {"git_repository", "postgresql", "s3"}
    assert (ROOT / "resources" / "windmill" / "git_repository.resource-type.yaml").is_file()
    for path in ROOT.glob("*.resource-type.yaml"):
        doc = yaml.safe_load(path.read_text())
        assert doc["description"] and doc["schema"]["type"] == "object"
    assert not list((ROOT / "f").rglob("*.resource-type.yaml")), "Windmill ignores resource types outside the root"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["call", "f/fractal/list_items", "{bad"], "not JSON"),
        (["call", "f/fractal/list_items", "[1]"], "JSON object"),
        (["save", "/nonexistent/item.yaml"], "cannot read"),
    ],
)
def test_cli_bad_arguments_are_clear_errors(args: list[str], message: str, fractal_home: Path) -> None:
    proc = run_cli(*args, env={"FRACTAL_HOME": str(fractal_home)})
    assert proc.returncode == 1
    error = json.loads(proc.stderr)
    assert error["error"] == "invalid_input" and message in error["message"] and error["hint"]
