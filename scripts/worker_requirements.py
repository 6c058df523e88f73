"""Write the `# requirements:` block of every public script from requirements.txt (one source of truth).

A Windmill worker learns a script's pip packages only from the script: a `# requirements:` block of
`#pkg==version` lines replaces its import inference (backend/parsers/windmill-parser-py-imports), which
otherwise sees only top-level imports above `def main(` and misses every lazy import of the pack. So each
public script (a `f/fractal/*.py` with a top-level `main`) gets the pins of every third-party module its
code can import: all imports at any depth of every pack module it reaches (module-path, folder form,
relative, `importlib.import_module("f.…")`), plus the packages of the tool commands it starts.

    python scripts/worker_requirements.py          # rewrite the blocks
    python scripts/worker_requirements.py --check  # exit 1 and name the scripts whose block is stale

Run it with the pack's .venv: a module is mapped to its distribution by what is installed there.
Per-script blocks rather than a workspace dependency file (`dependencies/requirements.in`, recent
Windmill only): they work on every version, travel with each script, and touch no workspace-wide
setting that the workspace's other scripts would inherit.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "f" / "fractal"
HEADER = "# Worker requirements, generated from requirements.txt by scripts/worker_requirements.py (do not edit):"
BLOCK_RE = re.compile(r"\A# Worker requirements, generated[^\n]*\n# requirements:\n(?:#\S+\n)*\n")
# A hand-written block (Windmill reads `#\s?(\S+)` lines after either header): replaced by the generated one.
OLD_BLOCK_RE = re.compile(r"^#\s?(?:extra_)?requirements:\n(?:#\s?\S+[ \t]*\n)*", re.MULTILINE)
# Commands the pack starts as processes, and the distribution that installs each.
TOOL_COMMANDS = {"ansible-playbook": "ansible-core", "ansible-lint": "ansible-lint"}


def pins(requirements: Path = ROOT / "requirements.txt") -> dict[str, str]:
    """{normalized name: 'Name==version'} from requirements.txt (comments and blank lines skipped)."""
    found = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        spec = line.split("#", 1)[0].strip()
        if spec:
            name = re.split(r"[=<>!~\[ ;]", spec, maxsplit=1)[0]
            found[normalize(name)] = spec
    return found


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def public_scripts(pack: Path = PACK) -> list[Path]:
    """The pack's Windmill scripts: files with a top-level `def main`."""
    return sorted(p for p in pack.glob("*.py") if any(
        isinstance(n, ast.FunctionDef) and n.name == "main" for n in ast.parse(p.read_text(encoding="utf-8")).body))


def module_file(name: str, root: Path = ROOT) -> Path | None:
    """The file of pack module `f.x.y` (None for a folder or a missing module)."""
    path = root.joinpath(*name.split(".")).with_suffix(".py")
    return path if path.is_file() else None


def module_name(path: Path, root: Path = ROOT) -> str:
    return ".".join(path.resolve().relative_to(root).with_suffix("").parts)


def _dynamic_targets(call: ast.Call) -> Iterator[str]:
    """Modules an `importlib.import_module(...)` or `importlib.util.find_spec(...)` call can load: a literal name;
    for an f-string (f"f.fractal.tools.{tool}"), every pack module of the folder it starts with, or the
    third-party package it starts with (f"detect_secrets.plugins.{module}")."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr in ("import_module", "find_spec") and call.args):
        return
    arg = call.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        yield arg.value
    elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        prefix = str(arg.values[0].value)
        folder = ROOT.joinpath(*prefix.rstrip(".").split("."))
        if prefix.split(".")[0] not in ("f", "u"):
            if prefix.endswith(".") and prefix.split(".")[0]:
                yield prefix.rstrip(".")
        elif prefix.endswith(".") and folder.is_dir():
            yield from (module_name(p) for p in sorted(folder.glob("*.py")))


@functools.cache
def imports_of(path: Path) -> tuple[set[str], set[str], set[str]]:
    """(pack modules, third-party top-level modules, tool commands) that the module at `path` can import or
    start, at any depth (function-level imports included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path).split(".")
    pack: set[str] = set()
    third: set[str] = set()
    commands: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*here[: len(here) - node.level], *([node.module] if node.module else [])])
            names = [base] + [f"{base}.{a.name}" for a in node.names if module_file(f"{base}.{a.name}")]
        elif isinstance(node, ast.Call):
            names = list(_dynamic_targets(node))
        elif isinstance(node, ast.Constant) and node.value in TOOL_COMMANDS:
            commands.add(str(node.value))
        for name in names:
            top = name.split(".")[0]
            if top in ("f", "u"):
                if module_file(name):
                    pack.add(name)
            elif top and top not in sys.stdlib_module_names and top != "__future__":
                third.add(top)
    return pack, third, commands


def closure(script: Path) -> tuple[set[str], set[str], set[str]]:
    """(pack modules reached, third-party modules, tool commands) of a script and every pack module it reaches."""
    seen: set[str] = set()
    todo = [module_name(script)]
    third: set[str] = set()
    commands: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        file = module_file(name)
        if file is None:
            continue
        pack, found, started = imports_of(file)
        third |= found
        commands |= started
        todo.extend(pack - seen)
    return seen, third, commands


@functools.cache
def _owners() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distributions(modules: set[str], commands: set[str], known: dict[str, str]) -> list[str]:
    """The pinned requirement of each module's and command's distribution, sorted; SystemExit naming what is unpinned."""
    owners = _owners()
    wanted = {TOOL_COMMANDS[c] for c in commands}
    for module in modules:
        dists = [d for d in owners.get(module, []) if normalize(d) in known] or owners.get(module, [])
        if not dists:
            raise SystemExit(f"no installed distribution provides module {module!r}: run scripts/setup, or fix the import")
        wanted.add(dists[0])
    missing = sorted(d for d in wanted if normalize(d) not in known)
    if missing:
        raise SystemExit(f"{', '.join(missing)} imported by the pack but not pinned in requirements.txt: pin it there")
    return sorted((known[normalize(d)] for d in wanted), key=str.lower)


def block(requirements: list[str]) -> str:
    """The header, `# requirements:` and one `#name==version` line each; a blank line ends the block."""
    return "".join([HEADER, "\n# requirements:\n", *(f"#{r}\n" for r in requirements), "\n"])


def with_block(source: str, requirements: list[str]) -> str:
    """The script's source with its generated block replaced (or put first) and any hand-written one removed."""
    return block(requirements) + OLD_BLOCK_RE.sub("", BLOCK_RE.sub("", source, count=1))


def expected(script: Path, known: dict[str, str]) -> str:
    _pack, third, commands = closure(script)
    return with_block(script.read_text(encoding="utf-8"), distributions(third, commands, known))


def main(argv: list[str]) -> int:
    check = "--check" in argv
    known = pins()
    stale = []
    for script in public_scripts():
        want = expected(script, known)
        if script.read_text(encoding="utf-8") != want:
            stale.append(str(script.relative_to(ROOT)))
            if not check:
                script.write_text(want, encoding="utf-8")
    if check and stale:
        print("stale worker requirements in: " + ", ".join(stale) + "\nrun: .venv/bin/python scripts/worker_requirements.py",
              file=sys.stderr)
        return 1
    total = len(public_scripts())
    print("worker requirements up to date" if check else f"worker requirements: {len(stale)} of {total} scripts rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
