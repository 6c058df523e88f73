"""The local worker: one process started with a Windmill worker's minimal environment, forking one child per job.

`python -m fractal_local.jobhost` reads one JSON request a line on stdin,
`{"id", "path", "args", "dir", "env"}`, and forks a child that becomes its own process group,
adds the job's `WM_*` variables, runs in the job's folder with stdout and stderr going to
`<dir>/log`, calls the script through `runner.call`, and writes `<dir>/result.json`
(`{"ok": true, "result": …}` or `{"ok": false, "error": {error, message, hint}}`).
It answers on stdout, one JSON line each: `{"id", "pid"}` when the child started and
`{"id", "exit"}` when it ended. The pack's modules are imported once here, so a job starts in
milliseconds; each job still has a process of its own and nothing it does outlives it: when the
server goes away (stdin closes), every running job's process tree is stopped, as a cancel would.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from f.fractal.model.errors import FractalError
from f.fractal.platform.scripts import load_main
from f.fractal.platform.secrets import mask_also
from fractal_local.contracts import scripts, validator
from fractal_local.proctree import KILL_AFTER_S, process_tree, signal_tree
from fractal_local.runner import call, error_payload


def _write_json(path: Path, value: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, default=str, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def run_child(request: dict[str, Any]) -> int:
    """In the forked child: run one job and record its outcome. Returns the exit code."""
    folder = Path(request["dir"])
    os.setsid()
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.environ.update(request["env"])
    mask_also(request.get("mask") or [])
    log = os.open(folder / "log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    os.chdir(folder)
    try:
        outcome: dict[str, Any] = {"ok": True, "result": call(request["path"], request["args"])}
    except BaseException as exc:  # the job's failure is its result, as in Windmill
        if not isinstance(exc, FractalError):
            traceback.print_exc()
        outcome = {"ok": False, "error": error_payload(exc)}
    _write_json(folder / "result.json", outcome)
    sys.stdout.flush()
    sys.stderr.flush()
    return 0 if outcome["ok"] else 1


def _answer(message: dict[str, Any]) -> None:
    try:
        os.write(1, json.dumps(message).encode() + b"\n")  # one short line: a single write
    except BrokenPipeError:
        pass  # the server is gone: stdin's end of file follows, and stops the jobs


def _stop_all(running: dict[int, str]) -> None:
    """The server went away: stop every job's process tree (SIGTERM, then SIGKILL after KILL_AFTER_S)."""
    trees = [process_tree(pid) for pid in running]  # before the first signal orphans them
    for tree in trees:
        signal_tree(tree, signal.SIGTERM)
    deadline = time.monotonic() + KILL_AFTER_S
    while running and time.monotonic() < deadline:
        time.sleep(0.05)
        for pid in list(running):
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == 0:
                    continue
            except ChildProcessError:
                pass
            del running[pid]
    for tree in trees:
        signal_tree(tree, signal.SIGKILL)


def _reap(jobs: dict[int, str]) -> None:
    while jobs:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        job = jobs.pop(pid, None)
        if job:
            _answer({"id": job, "exit": os.waitstatus_to_exitcode(status)})


def serve() -> None:
    for path in scripts():  # import every public script and compile its argument check once; each fork starts warm
        load_main(path)
        validator(path)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    running: dict[int, str] = {}
    stdin = sys.stdin.buffer
    pending = b""
    while True:
        ready, _, _ = select.select([stdin, wake_r], [], [])
        if wake_r in ready:
            os.read(wake_r, 4096)
        if stdin in ready:
            chunk = os.read(stdin.fileno(), 65536)
            if not chunk:
                _stop_all(running)  # the server went away: so do its jobs, and we
                return
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    code = 1
                    try:
                        os.close(wake_r)
                        os.close(wake_w)
                        code = run_child(request)
                    finally:
                        os._exit(code)
                running[pid] = request["id"]
                _answer({"id": request["id"], "pid": pid})
        _reap(running)


if __name__ == "__main__":
    serve()
