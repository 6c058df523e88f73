"""Shared fixtures: a fresh local workspace per test, real bare Git repos, a real git daemon.

Nothing here is mocked: catalogs are bare repositories in temp folders, served over git:// on
127.0.0.1 where a network remote is needed. The only scripted part anywhere in the suite is the
LLM (see tests/support/llm_server.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts"), str(ROOT / "tests")]

from support.git import GitDaemon, init_bare  # noqa: E402

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture
def fractal_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty local workspace ($FRACTAL_HOME); Windmill's job variables removed."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("FRACTAL_HOME", str(home))
    monkeypatch.setenv("FRACTAL_ACTOR", "Test Runner <tests@localhost>")
    monkeypatch.setenv("FRACTAL_FETCH_TTL_S", "0")  # every read fetches: tests change remotes behind the caches' backs
    for var in ("WM_TOKEN", "WM_BASE_URL", "BASE_INTERNAL_URL", "FRACTAL_DEFAULT_TARGETS"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def make_target(fractal_home: Path, tmp_path: Path) -> Callable[..., str]:
    """make_target('a') → 'f/fractal/a': a git_repository resource over a new bare repo."""
    import f.fractal.platform.workspace as workspace

    def make(name: str, *, url: str | None = None, folder: str = "", branch: str = "main") -> str:
        if url is None:
            url = str(init_bare(tmp_path / "remotes" / f"{name}.git"))
        path = f"f/fractal/{name}"
        workspace.write_resource(path, "git_repository", {"url": url, "branch": branch, "folder": folder})
        return path

    return make


@pytest.fixture
def git_daemon(tmp_path: Path) -> Iterator[GitDaemon]:
    daemon = GitDaemon(tmp_path / "served")
    daemon.base.mkdir()
    daemon.start()
    yield daemon
    daemon.stop()


