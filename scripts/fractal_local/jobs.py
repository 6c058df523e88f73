"""Jobs of the local runtime, as Windmill keeps them: queued, run in a process of their own, listed, followed, cancelled.

A `Jobs` lives in one asyncio loop (the server's, or the stdio MCP server's). It starts the worker
(`fractal_local.jobhost`) with the environment a Windmill worker gives a job (PATH, HOME, TZ, the
`WM_*` variables) plus the local stand-ins for the workspace (`FRACTAL_HOME`, workspace variables
`F_*`, provider credentials, the LLM settings); the server's own secrets (`FRACTAL_API_TOKEN`,
anything else in its environment) never reach a job. At most `max_running` jobs run at once; the
others wait in the queue. A finished job can POST its outcome to a callback URL, and an
idempotency key makes a retried submission return the first job instead of running twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from f.fractal.model.errors import InvalidInput, NotFound
from f.fractal.model.providers import PROVIDERS
from f.fractal.platform.secrets import is_secret_name
from fractal_local.contracts import ROOT, scripts

STATUSES = ("queued", "running", "success", "failure", "canceled")
# What a Windmill worker hands a job, and the local workspace's stand-ins for Windmill's store.
_PASS = {"PATH", "HOME", "TZ", "LANG", "LC_ALL", "FRACTAL_HOME", "FRACTAL_ACTOR", "FRACTAL_DEFAULT_TARGETS",
         "FRACTAL_TF_PLUGIN_DIR", "FRACTAL_FLOW_WAIT_S", "LITELLM_LOCAL_MODEL_COST_MAP"}
_PASS_PREFIXES = ("F_", "FRACTAL_LLM_")
KILL_AFTER_S = 3.0
CALLBACK_TRIES = 3


class IdempotencyKeyReused(InvalidInput):
    """The idempotency key was first used for another request."""

    code = "idempotency_key_reused"
    http_status = 422


def job_environment(environ: dict[str, str], workspace: str) -> dict[str, str]:
    """The worker's environment: Windmill's minimal job environment plus the local workspace's stand-ins."""
    credentials = {name for p in PROVIDERS.values() if p.credential for name in p.credential.env}
    env = {k: v for k, v in environ.items()
           if k in _PASS or k in credentials or (k.startswith(_PASS_PREFIXES) and k != "FRACTAL_API_TOKEN")}
    env.setdefault("PATH", os.defpath)
    env["PYTHONPATH"] = f"{ROOT}:{ROOT / 'scripts'}"
    env["WM_WORKSPACE"] = workspace
    return env


def _iso(t: float | None) -> str | None:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z") if t else None


@dataclass
class Job:
    id: str
    path: str
    args: dict[str, Any]
    folder: Path
    callback_url: str = ""
    key: str = ""  # its idempotency key, if any
    status: str = "queued"
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    ended_at: float | None = None
    pid: int | None = None
    result: Any = None
    error: dict[str, Any] | None = None
    callback: dict[str, Any] | None = None
    cancel_reason: str = ""
    done: asyncio.Event = field(default_factory=asyncio.Event)
    exited: asyncio.Future[int] | None = None

    @property
    def completed(self) -> bool:
        return self.status in ("success", "failure", "canceled")

    def outcome(self) -> Any:
        """What Windmill answers as the job's result: the value, or {error: {...}} for a failure."""
        return self.result if self.status == "success" else {"error": self.error}

    def to_dict(self, with_result: bool = False) -> dict[str, Any]:
        end = self.ended_at or time.time()
        out: dict[str, Any] = {
            "id": self.id, "type": "CompletedJob" if self.completed else "QueuedJob", "script_path": self.path,
            "status": self.status, "running": self.status == "running", "success": self.status == "success",
            "canceled": self.status == "canceled", "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at), "ended_at": _iso(self.ended_at),
            "duration_ms": round((end - self.started_at) * 1000) if self.started_at else None,
        }
        if self.callback_url:
            out["callback"] = self.callback or {"url": self.callback_url, "state": "pending"}
        if with_result and self.completed:
            out["result"] = self.outcome()
        return out


class Jobs:
    """The job queue and the worker process of one event loop."""

    def __init__(self, workspace: str = "local", max_running: int = 4, keep: int = 1000,
                 environ: dict[str, str] | None = None) -> None:
        self.workspace = workspace
        server_env = dict(os.environ if environ is None else environ)
        self.env = job_environment(server_env, workspace)
        # the server's own secrets never reach a job's environment, but a job can read the server's /proc
        # environ: it masks them (secrets.mask_also)
        self.mask = sorted(v for k, v in server_env.items() if is_secret_name(k) and k not in self.env)
        self.slots = asyncio.Semaphore(max_running)
        self.keep = keep
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.keys: dict[str, tuple[str, str]] = {}  # idempotency key → (request fingerprint, job id)
        self.root = Path(tempfile.mkdtemp(prefix="fractal-jobs-"))
        self.host: asyncio.subprocess.Process | None = None
        self.reader: asyncio.Task[None] | None = None
        self.tasks: set[asyncio.Task[Any]] = set()
        self.on_done: list[Any] = []  # callables(job), e.g. metrics

    async def start(self) -> None:
        self.host = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "fractal_local.jobhost", env=self.env, cwd=self.root,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, start_new_session=True)
        self.reader = asyncio.create_task(self._read_host())

    async def stop(self) -> None:
        for job in list(self.jobs.values()):
            if not job.completed:
                await self.cancel(job.id, "server stopping")
        if self.host and self.host.returncode is None:
            self.host.kill()
            await self.host.wait()
        if self.reader:
            self.reader.cancel()
        shutil.rmtree(self.root, ignore_errors=True)

    async def _read_host(self) -> None:
        host = self.host
        assert host and host.stdout
        async for line in host.stdout:
            message = json.loads(line)
            job = self.jobs.get(message["id"])
            if job is None:
                continue
            if "pid" in message:
                job.pid = message["pid"]
            elif job.exited and not job.exited.done():
                job.exited.set_result(int(message["exit"]))
        if self.host is not host:
            return
        for job in self.jobs.values():  # the worker is gone: its jobs are stopped and end without a result
            if job.exited and not job.exited.done():
                if job.pid:
                    _signal_all([job.pid, *_descendants(job.pid)], signal.SIGKILL)
                job.exited.set_result(-1)

    # ------------------------------------------------------------------ submit and run

    def submit(self, path: str, args: dict[str, Any], *, callback_url: str = "", idempotency_key: str = "") -> Job:
        """Queue a job; with an idempotency key already seen for the same request, the first job."""
        if path not in scripts():
            raise NotFound(f"no script at {path}", hint="the pack's public scripts: "
                           + ", ".join(sorted(scripts())))
        if callback_url and not callback_url.startswith(("http://", "https://")):
            raise InvalidInput(f"bad callback_url {callback_url[:80]!r}", hint="give an http:// or https:// URL")
        fingerprint = hashlib.sha256(json.dumps([path, args], sort_keys=True, default=str).encode()).hexdigest()
        if idempotency_key:
            seen = self.keys.get(idempotency_key)
            if seen and seen[1] in self.jobs:
                if seen[0] != fingerprint:
                    raise IdempotencyKeyReused(
                        "this Idempotency-Key was first used for another request",
                        hint="use a new key for a new request; resend the same body to get the first job")
                return self.jobs[seen[1]]
        job_id = str(uuid.uuid4())
        folder = self.root / job_id
        folder.mkdir(mode=0o700)
        job = Job(job_id, path, args, folder, callback_url, idempotency_key)
        self.jobs[job_id] = job
        if idempotency_key:
            self.keys[idempotency_key] = (fingerprint, job_id)
        self._forget_old()
        task = asyncio.create_task(self._drive(job))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return job

    def _forget_old(self) -> None:
        while len(self.jobs) > self.keep:
            oldest = next(iter(self.jobs.values()))
            if not oldest.completed:
                return
            del self.jobs[oldest.id]
            self.keys.pop(oldest.key, None)
            shutil.rmtree(oldest.folder, ignore_errors=True)

    async def _drive(self, job: Job) -> None:
        async with self.slots:
            if job.status == "queued":
                try:
                    await self._run(job)
                except OSError as e:  # the worker's pipe broke under us: the job fails, the next one restarts it
                    job.status, job.ended_at = "failure", time.time()
                    job.error = {"error": "job_crashed", "message": f"the job worker failed: {e}"}
                    job.done.set()
        for hook in self.on_done:
            hook(job)
        if job.callback_url:
            await asyncio.to_thread(self._post_callback, job)

    async def _run(self, job: Job) -> None:
        if self.host is None or self.host.returncode is not None:
            await self.start()  # the worker died (e.g. killed): a new one takes the next jobs
        assert self.host and self.host.stdin
        job.status, job.started_at = "running", time.time()
        job.exited = asyncio.get_running_loop().create_future()
        env = {"WM_JOB_ID": job.id, "WM_JOB_PATH": job.path, "WM_WORKSPACE": self.workspace}
        request = {"id": job.id, "path": job.path, "args": job.args, "dir": str(job.folder), "env": env,
                   "mask": self.mask}
        self.host.stdin.write(json.dumps(request, default=str).encode() + b"\n")
        await self.host.stdin.drain()
        await job.exited
        job.ended_at = time.time()
        if job.status == "canceled":
            job.error = {"error": "canceled", "message": f"Job canceled: {job.cancel_reason or 'by request'}"}
        else:
            self._read_outcome(job)
        job.done.set()

    def _read_outcome(self, job: Job) -> None:
        try:
            outcome = json.loads((job.folder / "result.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            outcome = {"ok": False, "error": {"error": "job_crashed", "message": "the job's process ended without a result",
                                              "hint": f"see its logs: jobs_u/get_logs/{job.id}"}}
        job.status = "success" if outcome["ok"] else "failure"
        job.result, job.error = outcome.get("result"), outcome.get("error")

    async def wait(self, job: Job) -> Job:
        await job.done.wait()
        return job

    # ------------------------------------------------------------------ follow and cancel

    def get(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise NotFound(f"no job {job_id[:40]}", hint="jobs are kept in memory for the server's life (the last 1000)")
        return job

    def list(self, script_path: str = "", status: str = "", created_after: float | None = None,
             created_before: float | None = None, limit: int = 100) -> list[Job]:
        """Newest first, filtered by script, status and creation time."""
        if status and status not in STATUSES:
            raise InvalidInput(f"bad status {status[:40]!r}", hint=f"one of: {', '.join(STATUSES)}")
        rows = [j for j in reversed(self.jobs.values())
                if (not script_path or j.path == script_path) and (not status or j.status == status)
                and (created_after is None or j.created_at >= created_after)
                and (created_before is None or j.created_at <= created_before)]
        return rows[:limit]

    def logs(self, job_id: str) -> str:
        log = self.get(job_id).folder / "log"
        return log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""

    async def cancel(self, job_id: str, reason: str = "") -> Job:
        job = self.get(job_id)
        if job.completed:
            return job
        job.cancel_reason = reason
        running = job.status == "running"
        job.status = "canceled"
        if not running:
            job.ended_at = time.time()
            job.error = {"error": "canceled", "message": f"Job canceled: {reason or 'by request'}"}
            job.done.set()
            return job
        while job.pid is None and not job.done.is_set():  # the worker has not said the pid yet
            await asyncio.sleep(0.01)
        tree = [job.pid, *_descendants(job.pid)] if job.pid else []  # before the first signal orphans them
        for sig, delay in ((signal.SIGTERM, KILL_AFTER_S), (signal.SIGKILL, 0.0)):
            _signal_all(tree, sig)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(job.done.wait()), delay or None)
            if job.done.is_set():
                break
        return job

    # ------------------------------------------------------------------ callback

    def _post_callback(self, job: Job) -> None:
        """POST the final status to the job's callback URL, retried with back-off."""
        body = json.dumps({"workspace": self.workspace, **job.to_dict(with_result=True)}, default=str).encode()
        state: dict[str, Any] = {"url": job.callback_url, "state": "failed", "attempts": 0}
        for attempt in range(1, CALLBACK_TRIES + 1):
            state["attempts"] = attempt
            request = urllib.request.Request(job.callback_url, data=body, method="POST",  # noqa: S310 (http(s) checked at submit)
                                             headers={"Content-Type": "application/json", "X-Fractal-Job-Id": job.id})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                    state.update(state="delivered", status=response.status)
                    break
            except (OSError, ValueError) as e:
                state["last_error"] = str(e)[:200]
                if attempt < CALLBACK_TRIES:
                    time.sleep(0.2 * 2 ** attempt)
        job.callback = state


def _descendants(pid: int) -> list[int]:
    """Every process under pid (a tool may start its own session, e.g. ansible-runner's pty), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _signal_all(tree: list[int], sig: int) -> None:
    """Signal the job's process group (its first pid) and every process of its tree."""
    for i, pid in enumerate(tree):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig) if i == 0 else os.kill(pid, sig)
