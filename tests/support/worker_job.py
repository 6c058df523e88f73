"""Runs one Python job the way a Windmill worker does; started as `python -S worker_job.py JOB.json`.

Only the standard library here: the process has no site-packages, just PYTHONPATH (the locked packages).
Like Windmill's own loader (backend/windmill-worker/loader.py, read for behaviour; this is our code) a
finder appended to sys.meta_path resolves every `f.`/`u.` module of three or more parts by fetching
`{BASE_INTERNAL_URL}/api/w/{WM_WORKSPACE}/scripts/raw/p/<path>.py` with WM_TOKEN; a missing script is a
package (a folder), and one or two parts (`f`, `f.fractal`) are always packages.

JOB.json: {"script": "f/fractal/x", "args": {...}, "mode": "main" | "imports", "out": "result.json"}.
(imports mode takes comma-separated scripts that share one lock: one process for all of them.)
- main: import the script and call main(**args); the result (or the error) goes to `out`.
- imports: import the script, then follow its import graph to the end: every import statement at any
  depth (function-level too) and every importlib.import_module("f.…") of each pack module loaded; pack
  modules are imported, third-party ones must be found on PYTHONPATH (importing litellm costs seconds);
  `out` gets the modules that could not be.
"""

from __future__ import annotations

import ast
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import traceback
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

FETCHED: dict[str, str] = {}
DONE: set[str] = set()


class _Package(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: Any) -> None:
        module.__path__ = []


class PackFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        parts = name.split(".")
        if parts[0] not in ("f", "u"):
            return None
        if len(parts) <= 2:
            return importlib.machinery.ModuleSpec(name, _Package(), is_package=True)
        url = f"{os.environ['BASE_INTERNAL_URL']}/api/w/{os.environ['WM_WORKSPACE']}/scripts/raw/p/{'/'.join(parts)}.py"
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {os.environ.get('WM_TOKEN', '')}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                source = response.read().decode("utf-8")
        except urllib.error.HTTPError:
            return importlib.machinery.ModuleSpec(name, _Package(), is_package=True)
        file = Path.cwd() / "tmp" / Path(*parts[:-1]) / f"{parts[-1]}.py"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(source, encoding="utf-8")
        FETCHED[name] = source
        # no origin, so no __file__ in the module: exactly Windmill's ModuleSpec(name, SourceFileLoader(name, path))
        return importlib.machinery.ModuleSpec(name, importlib.machinery.SourceFileLoader(name, str(file)))


def _named(tree: ast.AST, module: str) -> set[str]:
    """Every module an import statement (any depth) or importlib.import_module call of `module` names."""
    here = module.split(".")
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join([*here[:len(here) - node.level], node.module or ""]).strip(".") if node.level else node.module or ""
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names if base.split(".")[0] in ("f", "u"))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module" and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value)
            elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
                found.add("*" + str(arg.values[0].value))  # every module of that folder
    return found


def _folder_modules(prefix: str) -> set[str]:
    """The deployed pack modules under a folder prefix such as 'f.fractal.tools.' (from the scripts the stub lists)."""
    url = f"{os.environ['BASE_INTERNAL_URL']}/api/w/{os.environ['WM_WORKSPACE']}/scripts/list_paths"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {os.environ.get('WM_TOKEN', '')}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        paths = json.loads(response.read())
    return {p.replace("/", ".") for p in paths if p.replace("/", ".").startswith(prefix)}


def follow_imports(script: str) -> list[dict[str, str]]:
    """Import the script and everything its pack modules can import; the failures."""
    failures: list[dict[str, str]] = []
    done = DONE
    todo = [script.replace("/", ".")]
    while todo:
        name = todo.pop()
        if name in done or not name:
            continue
        done.add(name)
        if name.startswith("*"):
            todo.extend(_folder_modules(name[1:]) - done)
            continue
        parent = name.rpartition(".")[0]
        try:
            if parent.count(".") >= 2 and parent.split(".")[0] in ("f", "u"):
                importlib.import_module(parent)
                if parent in FETCHED:
                    continue  # `from f.x.mod import thing`: a script has no submodules, `thing` is an attribute
            if name.split(".")[0] in ("f", "u"):
                importlib.import_module(name)
            elif importlib.util.find_spec(name.split(".")[0]) is None:  # found, not run: litellm alone takes seconds
                raise ModuleNotFoundError(f"No module named {name.split('.')[0]!r}")
        except Exception as e:  # an import that raises anything fails the job on a worker
            failures.append({"module": name, "error": f"{type(e).__name__}: {e}"})
            continue
        if name in FETCHED:
            todo.extend(_named(ast.parse(FETCHED[name]), name) - done)
    return failures


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    sys.meta_path.append(PackFinder())
    out: dict[str, Any]
    if job["mode"] == "imports":
        out = {"failures": [f for script in job["script"].split(",") for f in follow_imports(script)]}
    else:
        try:
            module = importlib.import_module(job["script"].replace("/", "."))
            out = {"result": module.main(**job.get("args", {}))}
        except BaseException as e:
            out = {"error": {"name": type(e).__name__, "message": str(e), "stack": traceback.format_exc()}}
    out["sys_path"] = sys.path
    Path(job["out"]).write_text(json.dumps(out, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
