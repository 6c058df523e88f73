"""Settings are read in one place: no module of the pack reads a `FRACTAL_*` environment variable except
f/fractal/platform/settings.py and the documented exceptions (settings.ENV_EXCEPTIONS: the local runtime's
own paths, identity and credentials). Inside Windmill a job's environment has none of them."""

from __future__ import annotations

import re
from pathlib import Path

import f.fractal.platform.settings as settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "f/fractal/platform/settings.py"
NAME = re.compile(r"FRACTAL_[A-Z0-9_]*")
CONSTANT = re.compile(r'^([A-Z_][A-Z0-9_]*)\s*(?::[^=]+)?=\s*["\'](FRACTAL_[A-Z0-9_]*)["\']', re.MULTILINE)


def env_reads(source: str) -> set[str]:
    """The FRACTAL_* names a module reads from the environment (a literal or a module constant on the line)."""
    constants = dict(CONSTANT.findall(source))
    names: set[str] = set()
    for line in source.splitlines():
        if re.search(r"\b(environ|getenv)\b", line):
            names.update(NAME.findall(line))
            names.update(value for const, value in constants.items() if re.search(rf"\b{const}\b", line))
    return names


def test_only_the_settings_module_and_the_documented_exceptions_read_fractal_variables() -> None:
    strays = []
    for file in sorted((ROOT / "f" / "fractal").rglob("*.py")):
        where = file.relative_to(ROOT).as_posix()
        if where == SETTINGS:
            continue
        strays += [(where, name) for name in env_reads(file.read_text(encoding="utf-8"))
                   if settings.ENV_EXCEPTIONS.get(name) != where]
    assert strays == [], "read these through f.fractal.platform.settings (or document the exception there)"


def test_a_stray_read_is_found() -> None:
    assert env_reads('PREFIX = "FRACTAL_X_"\nos.environ.get(f"{PREFIX}Y")\nos.getenv("FRACTAL_Z")\n') == {
        "FRACTAL_X_", "FRACTAL_Z"}
    assert env_reads('hint = "set FRACTAL_LLM_MODEL"\n') == set(), "a mention is no read"
