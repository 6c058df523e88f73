"""`wmill sync push` of the whole pack, by the real windmill-cli (pinned in package.json), into the Windmill
stand-in of tests/support/windmill_stub.py (no Windmill server here: the stub answers what the CLI calls as
Windmill's source does, see its docstring). Every script, flow, raw app, HTTP route, resource type,
resource and the shared ui/ folder of the checkout must arrive as the files say.

And the `git_repository` clash, read in the CLI (`pushResourceType`) and Windmill (resources.rs): the CLI
GETs `resources/type/get/<name>`, which also finds the hub's types (workspace `admins`); when the remote
one differs it POSTs `resources/type/update/<name>`, whose UPDATE only touches the workspace's own row:
answered 200, and nothing changes. So pushing a `git_repository.resource-type.yaml` is a silent no-op on
an instance with hub types (and would change the type for every workspace if pushed into `admins`), and
creates a workspace type only where the hub's is missing. The pack therefore pushes none and uses the
hub's shape as is (resources/windmill/git_repository.resource-type.yaml is a reference copy, not pushed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.windmill_stub import WindmillStub

import f.fractal.platform.settings as settings

ROOT = Path(__file__).resolve().parents[2]
WMILL = ROOT / "node_modules" / ".bin" / "wmill"
HUB_GIT_REPOSITORY = {"workspace_id": "admins", "name": "git_repository", "description": "Git repository (hub)",
                      "schema": {"type": "object", "required": ["url"], "properties": {"url": {"type": "string"}}},
                      "created_by": "admin", "format_extension": None}
ADDED_RESOURCES = {  # what an admin's own checkout would add beside the pack (a settings.*.yaml would be skipped)
    "f/fractal/catalog": {"resource_type": "git_repository", "description": "the catalog",
                          "value": {"url": "https://fractal:$var:f/fractal/git_token@git.example/catalog.git", "branch": "main"}},
    settings.RESOURCE: {"resource_type": "fractal_settings", "description": "Fractal settings",
                           "value": {"flow_wait_s": 0, "terraform_state": {"backend": "pg", "resource": "f/fractal/tf_state"}}},
}
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not WMILL.exists() or not shutil.which("node"),
                                                  reason="windmill-cli is not installed (scripts/setup runs npm ci)")]


@pytest.fixture
def stub() -> Iterator[WindmillStub]:
    stub = WindmillStub()
    yield stub
    stub.close()


def push(folder: Path, stub: WindmillStub) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(folder.parent / "home"), "NO_COLOR": "1"}
    done = subprocess.run([str(WMILL), "sync", "push", "--yes", "--base-url", stub.url, "--token", stub.token,
                           "--workspace", stub.workspace], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0 and "Failed" not in done.stdout + done.stderr, done.stdout[-3000:] + done.stderr[-3000:]
    failed = [(r["method"], r["path"], r["status"]) for r in stub.requests
              if r["status"] >= 400 and not (r["method"] == "GET" and r["status"] == 404)]
    assert failed == [], failed
    return done


def checkout(tmp_path: Path) -> Path:
    """The pack as an admin's checkout holds it (plus two resources), node_modules shared."""
    folder = tmp_path / "pack"
    shutil.copytree(ROOT / "f", folder / "f", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "ui", folder / "ui")
    for name in ("wmill.yaml", "package.json", "tsconfig.json", *(p.name for p in ROOT.glob("*.resource-type.yaml"))):
        shutil.copy(ROOT / name, folder / name)
    (folder / "node_modules").symlink_to(ROOT / "node_modules")
    for path, resource in ADDED_RESOURCES.items():
        (folder / f"{path}.resource.yaml").write_text(yaml.safe_dump(resource))
    return folder


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_the_whole_pack_arrives_in_windmill(stub: WindmillStub, tmp_path: Path) -> None:
    stub.hub_types["git_repository"] = HUB_GIT_REPOSITORY
    folder = checkout(tmp_path)
    push(folder, stub)
    pack = folder / "f" / "fractal"

    scripts = {p.relative_to(folder).with_suffix("").as_posix(): p for p in pack.rglob("*.py")}
    assert len(scripts) > 100 and set(stub.scripts) == set(scripts)
    created = {c["body"]["path"]: c["body"] for c in stub.calls("POST", "scripts/create")}
    for path, file in scripts.items():
        meta = load(file.with_suffix(".script.yaml"))
        arrived = stub.scripts[path]
        assert arrived["content"] == file.read_text(encoding="utf-8") and arrived["language"] == "python3", path
        assert (arrived["summary"], arrived["schema"]) == (meta["summary"], meta["schema"]), path
        assert created[path].get("timeout") == meta.get("timeout"), path  # the job time limit the local server keeps too

    flows = {p.parent.relative_to(folder).as_posix().removesuffix("__flow"): load(p) for p in pack.glob("*__flow/flow.yaml")}
    assert flows and set(stub.flows) == set(flows)
    for path, flow in flows.items():
        assert [m["id"] for m in stub.flows[path]["value"]["modules"]] == [m["id"] for m in flow["value"]["modules"]]

    apps = {p.relative_to(folder).as_posix().removesuffix("__raw_app"): p for p in pack.glob("*__raw_app")}
    assert len(apps) == 5 and set(stub.apps) == set(apps)
    for path, app in apps.items():
        arrived = stub.apps[path]
        assert set(arrived["value"]["runnables"]) == {f.stem for f in (app / "backend").glob("*.yaml")}, path
        assert len(arrived["js"]) > 10_000 and "/App.tsx" in arrived["value"]["files"], "bundled by the CLI, sources kept"
        assert arrived["policy"]["execution_mode"] == load(app / "raw_app.yaml")["policy"]["execution_mode"]

    routes = {p.name.removesuffix(".http_trigger.yaml"): load(p) for p in pack.glob("*.http_trigger.yaml")}
    assert len(routes) >= 20 and set(stub.http_triggers) == {f"f/fractal/{name}" for name in routes}
    assert all(stub.http_triggers[f"f/fractal/{n}"]["route_path"] == r["route_path"] for n, r in routes.items())

    types = {p.name.removesuffix(".resource-type.yaml"): load(p) for p in ROOT.glob("*.resource-type.yaml")}
    assert set(stub.resource_types) == set(types) and "git_repository" not in types
    assert all(stub.resource_types[name]["schema"] == t["schema"] for name, t in types.items())
    assert {p: (r["resource_type"], r["value"]) for p, r in stub.resources.items()} == {
        p: (r["resource_type"], r["value"]) for p, r in ADDED_RESOURCES.items()}
    assert stub.folders["fractal"]["summary"] == "Fractal pack"
    assert stub.shared_ui == {p.relative_to(folder / "ui").as_posix(): p.read_text(encoding="utf-8")
                              for p in (folder / "ui").rglob("*") if p.is_file()}, "ui/: the apps' shared components"


def test_a_pushed_git_repository_type_never_replaces_the_hub_one(stub: WindmillStub, tmp_path: Path) -> None:
    folder = tmp_path / "types"
    folder.mkdir()
    shutil.copy(ROOT / "wmill.yaml", folder / "wmill.yaml")
    shutil.copy(ROOT / "resources" / "windmill" / "git_repository.resource-type.yaml", folder)
    stub.hub_types["git_repository"] = HUB_GIT_REPOSITORY
    push(folder, stub)
    assert [r["path"].rsplit("/", 1)[1] for r in stub.calls("POST", "resources/type/")] == ["git_repository"]
    assert stub.calls("POST", "resources/type/update/git_repository"), "the CLI updates the type it found"
    assert stub.resource_types == {} and stub.hub_types["git_repository"] == HUB_GIT_REPOSITORY, "and nothing changes"

    stub.hub_types.clear()  # an instance without the hub's types: the same file creates a workspace type
    stub.requests.clear()
    push(folder, stub)
    assert stub.calls("POST", "resources/type/create") and set(stub.resource_types) == {"git_repository"}
