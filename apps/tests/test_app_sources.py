"""The raw apps as Windmill sees them: what their folders hold, their runnables, and the real CLI's lint.

`wmill app lint` is windmill-cli's own check (raw_app.yaml, runnables, an esbuild build), run offline.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from fractal_local import apps

ROOT = Path(__file__).resolve().parents[2]
WMILL = ROOT / "node_modules" / ".bin" / "wmill"
SYNCED = {"raw_app.yaml", "index.tsx", "App.tsx", "package.json"}  # + backend/<id>.yaml
_IMPORT = re.compile(r"""from '(/ui/[\w/]+)'""")
_CALL = re.compile(r"""\b(?:call|start)(?:<[^>]*>)?\(\s*'(\w+)'""")


def _reachable(entry: Path) -> set[Path]:
    """The app's file and every shared ui/ module it imports, transitively."""
    seen: set[Path] = set()
    todo = [entry]
    while todo:
        file = todo.pop()
        if file in seen:
            continue
        seen.add(file)
        for spec in _IMPORT.findall(file.read_text()):
            todo += [p for p in (ROOT / f"{spec.lstrip('/')}.tsx", ROOT / f"{spec.lstrip('/')}.ts") if p.is_file()]
    return seen


@pytest.mark.parametrize("name", apps.APPS)
def test_the_folder_holds_only_what_windmill_syncs(name: str) -> None:
    folder = apps.app_dir(name)
    files = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "node_modules" not in p.parts}
    backend = {f for f in files if f.startswith("backend/")}
    assert files - backend == SYNCED, "tests and the host page live in apps/, never in the app folder"
    assert all(f.endswith(".yaml") for f in backend)
    assert yaml.safe_load((folder / "raw_app.yaml").read_text())["summary"].startswith("Fractal: ")


@pytest.mark.parametrize("name", apps.APPS)
def test_every_runnable_is_a_pack_script_and_every_call_has_its_runnable(name: str) -> None:
    runnables = apps.runnables(name)
    assert len(runnables) == len(list((apps.app_dir(name) / "backend").glob("*.yaml"))), "every runnable is type: script"
    for runnable, path in runnables.items():
        assert path == f"f/fractal/{runnable}"
        assert (ROOT / f"{path}.py").is_file() and (ROOT / f"{path}.script.yaml").is_file()
    called = {c for file in _reachable(apps.app_dir(name) / "App.tsx") for c in _CALL.findall(file.read_text())}
    assert called, "the pattern must find the app's calls"
    assert called <= set(runnables), f"calls without a backend/<id>.yaml: {sorted(called - set(runnables))}"


def test_the_local_server_serves_each_app_behind_the_host_page() -> None:
    assert apps.asset("/api/version") is None
    status, _, index = apps.asset("/apps/") or (0, "", b"")
    assert status == 200 and all(f"/apps/{n}/".encode() in index for n in apps.APPS)
    status, kind, page = apps.asset('/apps/entity_composer/?need="><script>') or (0, "", b"")
    assert status == 200 and kind == "text/html" and b"<script>" not in page.split(b"<iframe", 1)[1].split(b">", 1)[0]
    assert apps.asset("/apps/nope/")[0] == 404  # type: ignore[index]
    assert apps.asset("/apps/catalog_explorer/../../etc/passwd")[0] == 404  # type: ignore[index]


@pytest.mark.skipif(not WMILL.exists(), reason="windmill-cli is installed by scripts/setup (package.json)")
def test_windmill_cli_lints_and_builds_every_app_offline() -> None:
    for name in apps.APPS:
        (apps.app_dir(name) / "node_modules").mkdir(exist_ok=True)
        proc = subprocess.run([str(WMILL), "app", "lint", str(apps.app_dir(name))], cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0 and "All checks passed" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
        assert (apps.build(name) / "bundle.js").stat().st_size > 100_000  # `wmill app bundle`, react included
