"""What a Windmill worker installs for a Python script and how it runs the job, reproduced offline.

Dependency rules: backend/parsers/windmill-parser-py-imports/src/lib.rs and mapping.rs (windmill-labs/windmill):
- a line starting `# requirements:` (or `#requirements:`) followed by lines matching `^#\\s?(\\S+)\\s*$`
  replaces inference; the pack's imports are then not followed at all;
- otherwise (plus any `# extra_requirements:` lines) the code is cut at the first `def main(`, and only
  top-level `import`/`from … import` statements count: `f.`/`u.` modules and relative imports name the
  script at that path, whose own code is read the same way (a folder is no script: its code is "");
  any other root module becomes a package name with `_` → `-` through the import→package table;
  standard-library names are dropped.
Install: uv resolves those requirements into a lock; each locked distribution is installed into its own
cache folder and the folders go on PYTHONPATH (console scripts are not put on PATH). Here the lock is
resolved from the distributions installed in the pack's .venv (the same pins requirements.txt gives
scripts/setup), and each folder holds links to just that distribution's files: no network.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from support.windmill_stub import WindmillStub, job_env

DEF_MAIN = "def main("
REQUIREMENT_LINE = re.compile(r"^#\s?(\S+)\s*$")
# mapping.rs SHORT_IMPORTS_MAP (the full-import map only covers google.cloud.* and azure.mgmt.*)
SHORT_IMPORTS = {
    "psycopg2": "psycopg2-binary", "psycopg": "psycopg[binary, pool]", "yaml": "pyyaml", "git": "GitPython",
    "shopify": "ShopifyAPI", "seleniumwire": "selenium-wire", "openbb-terminal": "openbb[all]",
    "riskfolio": "riskfolio-lib", "smb": "pysmb", "PIL": "Pillow", "googleapiclient": "google-api-python-client",
    "googlecloudbigquery": "google-cloud-bigquery", "dateutil": "python-dateutil", "mailparser": "mail-parser",
    "mailparser-reply": "mail-parser-reply", "gitlab": "python-gitlab", "smbclient": "smbprotocol",
    "playhouse": "peewee", "dns": "dnspython", "msoffcrypto": "msoffcrypto-tool", "tabula": "tabula-py",
    "shapefile": "pyshp", "sklearn": "scikit-learn", "umap": "umap-learn", "cv2": "opencv-python",
    "atlassian": "atlassian-python-api", "mysql": "mysql-connector-python", "tenable": "pytenable",
    "ns1": "ns1-python", "pymsql": "PyMySQL", "haystack": "haystack-ai", "github": "PyGithub", "ldap": "python-ldap",
    "opensearchpy": "opensearch-py", "lokalise": "python-lokalise-api", "msgraph": "msgraph-sdk",
    "pythonjsonlogger": "python-json-logger", "socks": "PySocks", "taiga": "python-taiga", "docx": "python-docx",
    "vt": "vt-py",
}
STDLIB = {n.replace("_", "-") for n in sys.stdlib_module_names} | {"--future--"}
JOB_SCRIPT = Path(__file__).with_name("worker_job.py")


def _block(code: str, header: tuple[str, ...]) -> list[str] | None:
    lines = code.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(header):
            found = []
            for nxt in lines[i + 1 :]:
                m = REQUIREMENT_LINE.match(nxt)
                if not m:
                    break
                found.append(m.group(1))
            return found
    return None


def _top_level_imports(code: str, path: str) -> list[str]:
    """parse_code_for_imports: 'relative:<path>' for pack modules, package names for the rest."""
    head = code.split(DEF_MAIN, 1)[0]
    if head.splitlines() and head.splitlines()[-1].startswith("@"):
        head = "\n".join(head.splitlines()[:-1]) + "\n"
    found: list[str] = []
    for node in ast.parse(head).body:
        modules: list[tuple[str | None, int]] = []
        if isinstance(node, ast.Import):
            modules = [(a.name, 0) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [(node.module, node.level)]
        for module, level in modules:
            if level:
                base = "/".join(path.split("/")[: len(path.split("/")) - level])
                found.append(f"relative:{base}/{module.replace('.', '/')}" if module else f"relative:{base}")
            elif module:
                root = module.split(".")[0].replace("_", "-")
                if root in ("f", "u"):
                    found.append("relative:" + module.replace(".", "/"))
                elif root not in STDLIB:
                    found.append(SHORT_IMPORTS.get(root, root))
    return list(dict.fromkeys(found))


def windmill_requirements(code: str, path: str, fetch: Callable[[str], str], visited: list[str] | None = None) -> list[str]:
    """The requirements Windmill hands uv for the script at `path` (fetch(path) is a deployed script's code or '')."""
    pinned = _block(code, ("#requirements:", "# requirements:"))
    if pinned is not None:
        return pinned
    visited = [] if visited is None else visited
    found = list(_block(code, ("#extra_requirements:", "# extra_requirements:")) or [])
    for name in _top_level_imports(code, path):
        nested = [name]
        if name.startswith("relative:"):
            rpath = name.removeprefix("relative:")
            nested = [] if rpath in visited else windmill_requirements(fetch(rpath), rpath, fetch, visited)
            visited.append(rpath)
        found.extend(n for n in nested if n not in found)
    return sorted(found)


@dataclass
class Lock:
    """What a worker installs: the distributions resolved from the requirements, and what could not be."""

    distributions: list[importlib.metadata.Distribution] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def names(self) -> set[str]:
        return {canonicalize_name(d.name) for d in self.distributions}

    def modules(self) -> set[str]:
        """The top-level modules the locked distributions provide."""
        names = self.names()
        return {m for m, dists in _owners().items() if any(canonicalize_name(d) in names for d in dists)}


@functools.cache
def installed() -> dict[str, importlib.metadata.Distribution]:
    """This environment's distributions by canonical name (one scan of sys.path)."""
    return {canonicalize_name(d.name): d for d in importlib.metadata.distributions()}


@functools.cache
def _owners() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def lock(requirements: list[str]) -> Lock:
    """Resolve like uv, but only from this environment's installed distributions (a pin must match them)."""
    return _lock(tuple(requirements))


@functools.cache
def _lock(requirements: tuple[str, ...]) -> Lock:
    out = Lock()
    todo = [(Requirement(r.split(" #", 1)[0]), "") for r in requirements]
    seen: set[str] = set()
    locked: set[str] = set()
    while todo:
        req, extra = todo.pop()
        if req.marker and not req.marker.evaluate({"extra": extra}):
            continue
        key = canonicalize_name(req.name)
        dist = installed().get(key)
        if dist is None:
            out.problems.append(f"{req}: no such distribution here (a worker would install whatever PyPI calls {req.name!r})")
            continue
        if req.specifier and not req.specifier.contains(dist.version, prereleases=True):
            out.problems.append(f"{req}: this environment has {req.name}=={dist.version}")
            continue
        for wanted in ["", *sorted(req.extras)]:
            if f"{key}[{wanted}]" not in seen:
                seen.add(f"{key}[{wanted}]")
                todo.extend((Requirement(r), wanted) for r in dist.requires or [])
        if key not in locked:
            locked.add(key)
            out.distributions.append(dist)
    return out


@functools.cache
def _shared_tops() -> set[str]:
    """Top-level names that more than one installed distribution puts files under (namespace packages)."""
    owners: dict[str, set[str]] = {}
    for name, dist in installed().items():
        for file in dist.files or []:
            owners.setdefault(file.parts[0], set()).add(name)
    return {top for top, names in owners.items() if len(names) > 1}


def package_folder(dist: importlib.metadata.Distribution, cache: Path) -> Path:
    """A folder holding links to just this distribution's files (Windmill: one cache folder per package)."""
    folder = cache / f"{canonicalize_name(dist.name)}=={dist.version}"
    if (folder / ".done").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    shared = _shared_tops()
    for file in dist.files or []:
        top = file.parts[0]
        if top == "..":
            continue  # console scripts: not on a worker's PATH
        whole = top not in shared and len(file.parts) > 1  # a folder of this distribution alone: one link
        source = Path(str(dist.locate_file(top if whole else file)))
        dest = folder / (top if whole else str(file))
        if source.exists() and not dest.is_symlink():
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.symlink_to(source)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".done").touch()
    return folder


def base_python() -> str:
    """The interpreter under the .venv: with -S it sees the standard library and PYTHONPATH only."""
    return os.path.realpath(sys.executable)


def run_job(stub: WindmillStub, script: str, locked: Lock, cache: Path, job_dir: Path, *,
            mode: str = "main", args: dict[str, Any] | None = None, timeout: float = 120) -> dict[str, Any]:
    """Run `script` in a fresh process: an empty environment plus the job variables, the lock on PYTHONPATH."""
    job_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(JOB_SCRIPT, job_dir / "wrapper.py")
    out = job_dir / "result.json"
    (job_dir / "job.json").write_text(json.dumps({"script": script, "args": args or {}, "mode": mode, "out": str(out)}))
    env = {**job_env(stub, script), "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(job_dir), "TZ": "Etc/UTC",
           "PYTHONPATH": os.pathsep.join(str(package_folder(d, cache)) for d in locked.distributions)}
    proc = subprocess.run([base_python(), "-S", "-u", "wrapper.py", "job.json"], cwd=job_dir, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if not out.is_file():
        raise AssertionError(f"the job process died (rc {proc.returncode}): {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.read_text())
    result["stderr"] = proc.stderr
    return result


def deploy_pack(stub: WindmillStub, root: Path) -> None:
    """Every .py of the pack as a deployed script at its Windmill path (what `wmill sync push` creates)."""
    for file in sorted((root / "f").rglob("*.py")):
        if "__pycache__" not in file.parts:
            stub.add_script(file.relative_to(root).with_suffix("").as_posix(), file.read_text(encoding="utf-8"))
