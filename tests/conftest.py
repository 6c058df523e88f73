"""Shared fixtures: a fresh local workspace per test, real bare Git repos, a real git daemon.

Nothing here is mocked: catalogs are bare repositories in temp folders, served over git:// on
127.0.0.1 where a network remote is needed. The only scripted part anywhere in the suite is the
LLM (see tests/llm_server.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture
def fractal_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty local workspace ($FRACTAL_HOME); Windmill's job variables removed."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("FRACTAL_HOME", str(home))
    monkeypatch.setenv("FRACTAL_ACTOR", "Test Runner <tests@localhost>")
    for var in ("WM_TOKEN", "WM_BASE_URL", "BASE_INTERNAL_URL", "FRACTAL_DEFAULT_TARGETS"):
        monkeypatch.delenv(var, raising=False)
    return home


def init_bare(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    return path


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class GitDaemon:
    """A real `git daemon` on 127.0.0.1 that accepts pushes; stop() makes its remotes unreachable."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = False

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}.git"

    def repo(self, name: str) -> Path:
        path = self.base / f"{name}.git"
        if not path.exists():
            init_bare(path)
        return path

    def start(self) -> None:
        """Start the daemon; on its first start, a port taken meanwhile by another process means a new port."""
        for _ in range(5):
            self.proc = subprocess.Popen(
                [
                    "git",
                    "daemon",
                    "--reuseaddr",
                    "--export-all",
                    "--enable=receive-pack",
                    "--informative-errors",
                    f"--base-path={self.base}",
                    "--listen=127.0.0.1",
                    f"--port={self.port}",
                    str(self.base),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._ready():
                self.started = True
                return
            self.stop()
            if self.started:
                break  # its URLs are handed out: the port cannot change now
            self.port = free_port()
        raise RuntimeError(f"git daemon did not start on 127.0.0.1:{self.port}")

    def _ready(self) -> bool:
        """Our own daemon answers (a connect alone could reach another process holding the port)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.proc and self.proc.poll() is None:
            probe = subprocess.run(["git", "ls-remote", self.url("__probe__")], capture_output=True, text=True)
            if "remote error" in probe.stderr:  # only a git daemon answers like this
                return self.proc.poll() is None
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def git_daemon(tmp_path: Path) -> Iterator[GitDaemon]:
    daemon = GitDaemon(tmp_path / "served")
    daemon.base.mkdir()
    daemon.start()
    yield daemon
    daemon.stop()


def run_cli(
    *args: str, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run `scripts/fractal` through the venv's Python (the set-up already ran)."""
    full_env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "fractal_local", *args],
        cwd=ROOT,
        env=full_env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def git_out(repo: Path | str, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def entity(name: str, **spec: Any) -> dict[str, Any]:
    """A minimal valid Entity (ansible on local unless overridden)."""
    body: dict[str, Any] = {
        "tool": "ansible",
        "providers": ["local"],
        "files": {"site.yml": "- hosts: localhost\n  connection: local\n  tasks: []\n"},
    }
    body.update(spec)
    return {
        "apiVersion": "fractal/v1",
        "kind": "Entity",
        "metadata": {"name": name, "description": f"{name} entity"},
        "spec": body,
    }
