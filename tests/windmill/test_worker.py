"""Every public script on a simulated Windmill worker (there is no Windmill here; see tests/support/windmill_worker.py).

1. What Windmill would install, by its own rules (the `# requirements:` block, else top-level imports and
   module-path pack imports), covers every third-party module and tool command the script's code can reach.
2. A fresh job process per lock, with an empty environment plus the job variables and only the locked
   packages on PYTHONPATH, imports the script and follows its whole import graph (function-level and
   importlib imports too); pack modules come from the Windmill stub's raw-script endpoint through the
   job's own import hook.
3. The blocks are what scripts/worker_requirements.py generates from requirements.txt, and removing a
   pin makes both checks fail.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
import worker_requirements as generator
from support.windmill_stub import WindmillStub
from support.windmill_worker import Lock, deploy_pack, lock, run_job, windmill_requirements

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = {p.relative_to(ROOT).with_suffix("").as_posix(): p for p in generator.public_scripts()}


def _deployed(path: str) -> str:
    """A deployed script's code as the dependency resolver reads it ('' for a folder: no script there)."""
    file = ROOT / f"{path}.py"
    return file.read_text(encoding="utf-8") if file.is_file() else ""


def _requirements(path: str, code: str | None = None) -> list[str]:
    return windmill_requirements(_deployed(path) if code is None else code, path, _deployed)


def _uncovered(path: str, locked: Lock) -> list[str]:
    _pack, modules, commands = generator.closure(SCRIPTS[path])
    have = locked.modules()
    names = locked.names()
    return sorted({f"module {m}" for m in modules if m not in have}
                  | {f"command {c}" for c in commands if generator.normalize(generator.TOOL_COMMANDS[c]) not in names})


@pytest.fixture(scope="module")
def stub() -> Iterator[WindmillStub]:
    stub = WindmillStub()
    deploy_pack(stub, ROOT)
    yield stub
    stub.close()


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("windmill-cache")


def test_every_public_script_carries_the_generated_pins() -> None:
    pins = generator.pins()
    stale = [path for path, file in SCRIPTS.items() if file.read_text(encoding="utf-8") != generator.expected(file, pins)]
    assert not stale, f"run .venv/bin/python scripts/worker_requirements.py (stale: {stale})"
    assert len(SCRIPTS) >= 15


@pytest.mark.parametrize("path", sorted(SCRIPTS))
def test_windmill_installs_what_the_script_can_import(path: str) -> None:
    locked = lock(_requirements(path))
    assert not locked.problems
    assert not _uncovered(path, locked)


def _groups() -> dict[tuple[str, ...], list[str]]:
    groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for path in sorted(SCRIPTS):
        groups[tuple(_requirements(path))].append(path)
    return groups


@pytest.mark.parametrize("paths", list(_groups().values()), ids=lambda paths: "+".join(p.rsplit("/", 1)[1] for p in paths))
def test_a_worker_job_imports_the_whole_graph_from_the_lock_alone(
    paths: list[str], stub: WindmillStub, cache: Path, tmp_path: Path
) -> None:
    locked = lock(_requirements(paths[0]))
    done = run_job(stub, ",".join(paths), locked, cache, tmp_path / "job", mode="imports")
    assert done["failures"] == [], done["stderr"][-2000:]
    assert not any(".venv" in entry for entry in done["sys_path"]), "the job must not see the pack's own environment"


def test_without_a_pin_windmill_installs_too_little_and_the_job_fails(stub: WindmillStub, cache: Path, tmp_path: Path) -> None:
    path = "f/fractal/get_item"
    code = _deployed(path)
    pin = next(line for line in code.splitlines() if line.startswith("#wmill=="))
    unpinned = code.replace(pin + "\n", "")
    locked = lock(_requirements(path, unpinned))
    assert _uncovered(path, locked) == ["module wmill"]
    stub.add_script(path, unpinned)
    try:
        done = run_job(stub, path, locked, cache, tmp_path / "job", mode="imports")
    finally:
        stub.add_script(path, code)
    assert [f["module"] for f in done["failures"]] == ["wmill"]
    assert "No module named 'wmill'" in done["failures"][0]["error"]


def test_without_the_block_windmill_infers_from_top_level_imports_only() -> None:
    """Why the block exists: Windmill's own inference sees no lazy import and no `from f.fractal import x`."""
    path = "f/fractal/run_item"
    bare = generator.BLOCK_RE.sub("", _deployed(path))
    assert "# requirements:" not in bare
    inferred = _requirements(path, bare)
    assert "wmill" not in inferred and "ansible-core" not in inferred
    assert _uncovered(path, lock(inferred))


def test_the_worker_init_script_reports_what_a_worker_lacks(tmp_path: Path) -> None:
    """resources/windmill/worker-init.sh --check on a PATH holding only bash and git: terraform and kubectl missing."""
    import shutil
    import subprocess

    for tool in ("bash", "git"):
        (tmp_path / tool).symlink_to(str(shutil.which(tool)))
    script = ROOT / "resources" / "windmill" / "worker-init.sh"
    done = subprocess.run([str(tmp_path / "bash"), str(script), "--check"], env={"PATH": str(tmp_path)},
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and "missing: terraform" in done.stdout and "missing: kubectl" in done.stdout
    assert f"ok: git ({tmp_path / 'git'})" in done.stdout
