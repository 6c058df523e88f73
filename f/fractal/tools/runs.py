"""What every tool runner shares: the prepared run, its outcome, the redacting log, tool lookup.

A runner module (f.fractal.runners.<tool>) has two functions:

- `preflight(run)`: refuse (raise a FractalError) before anything runs: binary missing, files
  missing, a mode the tool cannot honour. No side effect.
- `execute(run, workdir)`: run the tool in `workdir` (fresh, private, deleted afterwards) and
  return an `Outcome`. A tool that fails is an Outcome with status `failed`, never an exception.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from f.fractal.model.errors import ConfigError
from f.fractal.model.providers import Provider
from f.fractal.platform.secrets import mask, secret_payloads

LOG_LIMIT = 20_000  # characters of log kept in the result; the full log is in log_file
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# What a tool process inherits from the worker (plus its own and the provider's variables).
ENV_ALLOWLIST = (
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
)

Progress = Callable[[str], None]


class RunLog:
    """The run's log: every chunk redacted, appended to the log file, streamed, tail kept."""

    def __init__(self, path: Path, secrets: list[str], progress: Progress | None = None) -> None:
        self.path = path
        self.secrets = secrets  # the run's list: runners append to it while the run goes on
        self.progress = progress
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self._tail: deque[str] = deque()
        self._tail_len = 0
        self.total = 0

    def write(self, text: str) -> None:
        if not text:
            return
        text = _ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
        self.learn(text)
        clean = self.redact(text)
        if not clean.endswith("\n"):
            clean += "\n"
        self._file.write(clean)
        self._file.flush()
        self.total += len(clean)
        self._tail.append(clean)
        self._tail_len += len(clean)
        while self._tail_len - len(self._tail[0]) >= LOG_LIMIT and len(self._tail) > 1:
            self._tail_len -= len(self._tail.popleft())
        if self.progress:
            self.progress(clean)

    def learn(self, value: Any) -> None:
        """Keep the data values of any Kubernetes Secret the value shows (a step printed a manifest): from now on
        they are masked wherever they appear, however printed."""
        self.secrets.extend(v for v in secret_payloads(value) if v not in self.secrets)

    def redact(self, text: str, key: str = "") -> str:
        """The text with every value of the run's list (in every form) and every detected secret masked
        (`key`: the field the text is the value of, see `mask`)."""
        return mask(text, self.secrets, key=key)

    def tail(self) -> str:
        text = "".join(self._tail)
        return text[-LOG_LIMIT:]

    def close(self) -> None:
        self._file.close()


@dataclass
class Run:
    """Everything decided before the tool starts. `secrets` grows with every value to redact."""

    ref: str
    item: dict[str, Any]
    provider: Provider
    inputs: dict[str, Any]
    mode: str
    env: dict[str, str]
    secrets: list[str]
    log: RunLog | None = None
    target: str = ""  # the catalog target the item was read from
    references: dict[str, str] = field(default_factory=dict)  # input name → the `$var:` reference it was given as

    @property
    def spec(self) -> dict[str, Any]:
        return dict(self.item["spec"])

    @property
    def files(self) -> dict[str, str]:
        return dict(self.spec.get("files") or {})

    @property
    def outputs_declared(self) -> dict[str, dict[str, Any]]:
        return dict(self.spec.get("outputs") or {})

    def say(self, text: str) -> None:
        if self.log:
            self.log.write(text)


@dataclass
class Outcome:
    status: str  # success | failed | timeout | canceled
    rc: int
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    failed_task: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def which(binary: str, install_hint: str) -> str:
    """The tool's path on this worker's PATH, or ConfigError naming what to install."""
    found = shutil.which(binary)
    if not found:
        raise ConfigError(
            f"{binary} is not installed on this worker (not found on PATH)",
            hint=install_hint, data={"binary": binary, "path": os.environ.get("PATH", "")},
        )
    return found


def tool_env(extra: dict[str, str]) -> dict[str, str]:
    """A tool process's environment: the allowlisted worker variables plus `extra`."""
    env = {k: os.environ[k] for k in ENV_ALLOWLIST if k in os.environ}
    env.update({k: v for k, v in os.environ.items() if k.startswith(("TF_LOG", "TF_CLI_CONFIG"))})
    env.update(extra)
    return env



def write_private(path: Path, text: str) -> Path:
    """A file only the worker's user can read (credentials, extra vars)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def command(run: Run, argv: list[str], *, cwd: Path, env: dict[str, str], capture: bool = False) -> tuple[int, str]:
    """Run one tool command, streaming its output to the log (or capturing it unlogged)."""
    run.say("$ " + " ".join(argv))
    if capture:
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
        if done.returncode:
            run.say(done.stderr)
        return done.returncode, done.stdout
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    assert proc.stdout is not None
    lines: deque[str] = deque(maxlen=200)
    for line in proc.stdout:
        lines.append(line)
        run.say(line)
    return proc.wait(), "".join(lines)


def step_failed(step: str, rc: int, tail: str) -> Outcome:
    """The outcome of a tool command that exited non-zero, naming the command."""
    return Outcome("failed", rc, error=f"{step} failed (rc {rc}): {last_lines(tail)}",
                   failed_task={"task": step, "host": "", "message": last_lines(tail, 3)})


def last_lines(text: str, n: int = 8) -> str:
    return "\n".join([ln for ln in text.strip().splitlines() if ln.strip()][-n:])[:1500]


def strings(value: Any) -> list[str]:
    """Every string (and scalar, as text) inside a nested value: what to redact."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return [] if value is None or isinstance(value, bool) else [str(value)]
