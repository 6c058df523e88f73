"""Real Git for tests: bare repositories in temp folders and a real `git daemon` on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path


def init_bare(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    return path


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


def git_out(repo: Path | str, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout
