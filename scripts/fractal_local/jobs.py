"""Jobs of the local runtime, as Windmill keeps them: queued, run in a process of their own, listed, followed, cancelled.

A `Jobs` lives in one asyncio loop (the server's, or the stdio MCP server's). It starts the worker
(`fractal_local.jobhost`) with the environment a Windmill worker gives a job (PATH, HOME, TZ, the
`WM_*` variables) plus the local stand-ins for the workspace (`FRACTAL_HOME`, workspace variables
`F_*`, provider credentials, the LLM settings); the server's own secrets (`FRACTAL_API_TOKEN`,
anything else in its environment) never reach a job. At most `max_running` jobs run at once; the
others wait in the queue. A job runs at most its time limit (`limits`: Windmill's `timeout`); past
it, its process tree is stopped and the job is canceled by "timeout". A finished job can POST its
outcome to a callback URL on an allowed host (`limits`), and an idempotency key makes a retried submission
return the first job instead of running twice. Jobs, their keys and logs are kept under
$FRACTAL_HOME/jobs (`jobstore`) and outlive the server: the jobs of a server that died are ended
with the reason when the next one starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from f.fractal.model.errors import Conflict, InvalidInput, NotFound
from f.fractal.model.providers import PROVIDERS
from f.fractal.platform.secrets import is_secret_name
from f.fractal.platform.workspace import home
from fractal_local.contracts import ROOT, scripts
from fractal_local.jobstore import JobStore
from fractal_local.limits import Limits
from fractal_local.proctree import KILL_AFTER_S, process_tree, signal_tree, started

STATUSES = ("queued", "running", "success", "failure", "canceled")
# What a Windmill worker hands a job, and the local workspace's stand-ins for Windmill's store.
_PASS = {"PATH", "HOME", "TZ", "LANG", "LC_ALL", "FRACTAL_HOME", "FRACTAL_ACTOR", "FRACTAL_DEFAULT_TARGETS",
         "FRACTAL_TF_PLUGIN_DIR", "FRACTAL_FLOW_WAIT_S", "LITELLM_LOCAL_MODEL_COST_MAP"}
_PASS_PREFIXES = ("F_", "FRACTAL_LLM_")
CALLBACK_TRIES = 3
PRUNE_EVERY = 100  # forgetting old jobs scans the table: ~5 ms
_RETRIED = (408, 429)  # the only answers below 500 that a later try may change


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


def _owner(pid: int) -> str:
    return f"{pid}:{started(pid)}"


def _alive(owner: str) -> bool:
    pid, _, start = owner.partition(":")
    return pid.isdigit() and started(int(pid)) == start


@dataclass
class Job:
    id: str
    path: str
    folder: Path
    owner: str
    timeout_s: float
    args: dict[str, Any] = field(default_factory=dict)  # in memory only, while it waits or runs
    callback_url: str = ""
    idempotency_key: str | None = None
    fingerprint: str = ""
    status: str = "queued"
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    ended_at: float | None = None
    pid: int | None = None
    result: Any = None
    error: dict[str, Any] | None = None
    callback: dict[str, Any] | None = None
    canceled_by: str = ""  # request, timeout or server
    canceled_reason: str = ""
    done: asyncio.Event = field(default_factory=asyncio.Event)
    exited: asyncio.Future[int] | None = None

    @property
    def completed(self) -> bool:
        return self.status in ("success", "failure", "canceled")

    def outcome(self) -> Any:
        """What Windmill answers as the job's result: the value, or {error: {...}} for a failure."""
        return self.result if self.status == "success" else {"error": self.error}

    def cancel(self, by: str, reason: str) -> None:
        """Mark it to be canceled: it ends canceled once its process is gone (at once when it waits)."""
        self.canceled_by, self.canceled_reason = by, reason

    def end_canceled(self) -> None:
        self.status, self.ended_at = "canceled", self.ended_at or time.time()
        if self.canceled_by == "timeout":
            self.error = {"error": "job_timeout", "message": f"Job canceled: timeout after {self.timeout_s:g} s",
                          "hint": "its limit is the request's timeout, else the script's (.script.yaml), else the "
                                  "server's (serve --job-timeout)"}
        else:
            self.error = {"error": "canceled", "message": f"Job canceled: {self.canceled_reason or 'by request'}"}

    def to_dict(self, with_result: bool = False) -> dict[str, Any]:
        end = self.ended_at or time.time()
        out: dict[str, Any] = {
            "id": self.id, "type": "CompletedJob" if self.completed else "QueuedJob", "script_path": self.path,
            "status": self.status, "running": self.status == "running", "success": self.status == "success",
            "canceled": self.status == "canceled", "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at), "ended_at": _iso(self.ended_at),
            "duration_ms": round((end - self.started_at) * 1000) if self.started_at else None,
            "timeout_s": self.timeout_s,
        }
        if self.canceled_by:
            out.update(canceled_by=self.canceled_by, canceled_reason=self.canceled_reason)
        if self.callback_url:
            out["callback"] = self.callback or {"url": self.callback_url, "state": "pending"}
        if with_result and self.completed:
            out["result"] = self.outcome()
        return out

    def row(self) -> dict[str, Any]:
        """Its record in the job store."""
        return {"id": self.id, "path": self.path, "status": self.status, "owner": self.owner, "pid": self.pid,
                "created_at": self.created_at, "started_at": self.started_at, "ended_at": self.ended_at,
                "timeout_s": self.timeout_s, "idempotency_key": self.idempotency_key, "fingerprint": self.fingerprint,
                "callback_url": self.callback_url, "callback": self.callback, "canceled_by": self.canceled_by,
                "canceled_reason": self.canceled_reason, "result": self.result, "error": self.error}

    @classmethod
    def from_row(cls, row: dict[str, Any], root: Path) -> Job:
        job = cls(folder=root / row["id"], **row)
        if job.completed:
            job.done.set()
        return job


class Jobs:
    """The job queue, the job store and the worker process of one event loop."""

    def __init__(self, workspace: str = "local", max_running: int = 4, keep: int = 1000,
                 environ: dict[str, str] | None = None, limits: Limits | None = None) -> None:
        self.workspace = workspace
        server_env = dict(os.environ if environ is None else environ)
        self.env = job_environment(server_env, workspace)
        self.limits = limits or Limits.read(server_env)
        # the server's own secrets never reach a job's environment, but a job can read the server's /proc
        # environ: it masks them (secrets.mask_also)
        self.mask = sorted(v for k, v in server_env.items() if is_secret_name(k) and k not in self.env)
        self.slots = asyncio.Semaphore(max_running)
        self.keep = keep
        self.ended = 0  # jobs ended here: every PRUNE_EVERY, the oldest beyond `keep` are forgotten
        self.live: dict[str, Job] = {}  # this server's jobs, until they have ended and called back
        self.root = home() / "jobs"
        self.owner = _owner(os.getpid())
        self.store: JobStore | None = None  # opened by start()
        self.host: asyncio.subprocess.Process | None = None
        self.reader: asyncio.Task[None] | None = None
        self.tasks: set[asyncio.Task[Any]] = set()
        self.on_done: list[Any] = []  # callables(job), e.g. metrics

    async def start(self) -> None:
        """Open the job store, end the jobs of servers that are gone, start the worker."""
        if self.store is None:
            self.store = JobStore(self.root / "jobs.sqlite3")
            self._end_orphans()
            self._prune()
        await self._start_host()

    async def _start_host(self) -> None:
        self.host = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "fractal_local.jobhost", env=self.env, cwd=self.root,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, start_new_session=True)
        self.reader = asyncio.create_task(self._read_host())

    async def stop(self) -> None:
        for job in list(self.live.values()):
            if not job.completed:
                await self.cancel(job.id, "the server stopped", by="server")
        if self.host and self.host.returncode is None:
            self.host.kill()
            await self.host.wait()
        if self.reader:
            self.reader.cancel()

    def _saved(self) -> JobStore:
        if self.store is None:
            raise RuntimeError("the job runtime is not started")
        return self.store

    def _end_orphans(self) -> None:
        """The unfinished jobs of servers that are gone: a running one failed, a queued one canceled, with why."""
        for row in self._saved().unfinished():
            job = Job.from_row(row, self.root)
            if _alive(job.owner):
                continue
            if job.status == "running":
                job.status, job.ended_at = "failure", time.time()
                job.error = {"error": "job_crashed", "message": "the server stopped while the job ran; the job was "
                             "stopped with it", "hint": f"run it again; what it printed: jobs_u/get_logs/{job.id}"}
            else:
                job.cancel("server", "the server stopped before the job started")
                job.end_canceled()
            self._saved().update(job.row())

    def _prune(self) -> None:
        for old in self._saved().prune(self.keep):
            shutil.rmtree(self.root / old, ignore_errors=True)

    async def _read_host(self) -> None:
        host = self.host
        assert host and host.stdout
        async for line in host.stdout:
            message = json.loads(line)
            job = self.live.get(message["id"])
            if job is None:
                continue
            if "pid" in message:
                job.pid = message["pid"]
            elif job.exited and not job.exited.done():
                job.exited.set_result(int(message["exit"]))
        if self.host is not host:
            return
        for job in self.live.values():  # the worker is gone: its jobs are stopped and end without a result
            if job.exited and not job.exited.done():
                if job.pid:
                    signal_tree(process_tree(job.pid), signal.SIGKILL)
                job.exited.set_result(-1)

    # ------------------------------------------------------------------ submit and run

    def submit(self, path: str, args: dict[str, Any], *, callback_url: str = "", idempotency_key: str = "",
               timeout: Any = None) -> Job:
        """Queue a job; with an idempotency key already seen for the same request, the first job."""
        script = scripts().get(path)
        if script is None:
            raise NotFound(f"no script at {path}", hint="the pack's public scripts: " + ", ".join(sorted(scripts())))
        if callback_url:
            self.limits.check_callback(callback_url)
        limit = self.limits.time_limit(script.timeout, timeout)
        fingerprint = hashlib.sha256(json.dumps([path, args], sort_keys=True, default=str).encode()).hexdigest()
        first = self._first(idempotency_key, fingerprint)
        if first is not None:
            return first
        job_id = str(uuid.uuid4())
        job = Job(job_id, path, self.root / job_id, self.owner, limit, args, callback_url, idempotency_key or None,
                  fingerprint)
        try:
            self._saved().insert(job.row())
        except sqlite3.IntegrityError:  # another server on this workspace took the key a moment ago
            first = self._first(idempotency_key, fingerprint)
            if first is None:
                raise
            return first
        job.folder.mkdir(mode=0o700)
        self.live[job_id] = job
        task = asyncio.create_task(self._drive(job))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return job

    def _first(self, key: str, fingerprint: str) -> Job | None:
        """The job an idempotency key was first used for, if any; refused for another request."""
        row = self._saved().by_key(key) if key else None
        if row is None:
            return None
        if row["fingerprint"] != fingerprint:
            raise IdempotencyKeyReused("this Idempotency-Key was first used for another request",
                                       hint="use a new key for a new request; resend the same body to get the first job")
        return self.get(row["id"])

    async def _drive(self, job: Job) -> None:
        try:
            async with self.slots:
                if job.status == "queued":
                    try:
                        await self._run(job)
                    except OSError as e:  # the worker's pipe broke under us: the job fails, the next one restarts it
                        job.status, job.ended_at = "failure", time.time()
                        job.error = {"error": "job_crashed", "message": f"the job worker failed: {e}"}
                        self._save(job)
                        job.done.set()
            for hook in self.on_done:
                hook(job)
            if job.callback_url:
                await asyncio.to_thread(self._post_callback, job)
                self._save(job)
        finally:
            self.live.pop(job.id, None)
            self.ended += 1
            if self.ended % PRUNE_EVERY == 0:
                self._prune()

    async def _run(self, job: Job) -> None:
        if self.host is None or self.host.returncode is not None:
            await self._start_host()  # the worker died (e.g. killed): a new one takes the next jobs
        assert self.host and self.host.stdin
        if job.status != "queued":  # canceled while the worker started
            return
        job.status, job.started_at = "running", time.time()
        job.exited = asyncio.get_running_loop().create_future()
        self._save(job)
        env = {"WM_JOB_ID": job.id, "WM_JOB_PATH": job.path, "WM_WORKSPACE": self.workspace}
        request = {"id": job.id, "path": job.path, "args": job.args, "dir": str(job.folder), "env": env,
                   "mask": self.mask}
        self.host.stdin.write(json.dumps(request, default=str).encode() + b"\n")
        await self.host.stdin.drain()
        try:
            await asyncio.wait_for(asyncio.shield(job.exited), job.timeout_s)
        except TimeoutError:
            if not job.canceled_by:
                job.cancel("timeout", f"duration > {job.timeout_s:g} s")
                await self._stop(job)
        await job.exited
        job.ended_at, job.args = time.time(), {}
        if job.canceled_by:
            job.end_canceled()
        else:
            self._read_outcome(job)
        self._save(job)
        job.done.set()

    def _read_outcome(self, job: Job) -> None:
        try:
            outcome = json.loads((job.folder / "result.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            outcome = {"ok": False, "error": {"error": "job_crashed", "message": "the job's process ended without a result",
                                              "hint": f"see its logs: jobs_u/get_logs/{job.id}"}}
        job.status = "success" if outcome["ok"] else "failure"
        job.result, job.error = outcome.get("result"), outcome.get("error")

    def _save(self, job: Job) -> None:
        self._saved().update(job.row())

    async def wait(self, job: Job) -> Job:
        """The job once it has ended (a job of another server on this workspace: polled from the store)."""
        while job.id not in self.live and not job.completed:
            await asyncio.sleep(0.5)
            job = self.get(job.id)
        await job.done.wait()
        return job

    # ------------------------------------------------------------------ follow and cancel

    def get(self, job_id: str) -> Job:
        job = self.live.get(job_id)
        if job is None:
            row = self._saved().get(job_id)
            if row is None:
                raise NotFound(f"no job {job_id[:40]}", hint=f"jobs are kept in {self.root} (the last {self.keep} ended)")
            job = Job.from_row(row, self.root)
        return job

    def list(self, script_path: str = "", status: str = "", created_after: float | None = None,
             created_before: float | None = None, limit: int = 100) -> list[Job]:
        """Newest first, filtered by script, status and creation time; without results (get has them)."""
        if status and status not in STATUSES:
            raise InvalidInput(f"bad status {status[:40]!r}", hint=f"one of: {', '.join(STATUSES)}")
        rows = self._saved().find(script_path, status, created_after, created_before, limit)
        return [self.live.get(row["id"]) or Job.from_row(row, self.root) for row in rows]

    def logs(self, job_id: str) -> str:
        log = self.get(job_id).folder / "log"
        return log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""

    async def cancel(self, job_id: str, reason: str = "", by: str = "request") -> Job:
        job = self.get(job_id)
        if job.completed:
            return job
        if job.id not in self.live:
            raise Conflict(f"job {job_id[:40]} is run by another server process on this workspace",
                           hint="cancel it through that server")
        if job.canceled_by:  # already being stopped
            await job.done.wait()
            return job
        job.cancel(by, reason)
        if job.status == "queued":
            job.end_canceled()
            self._save(job)
            job.done.set()
            return job
        await self._stop(job)
        await job.done.wait()
        return job

    async def _stop(self, job: Job) -> None:
        """Stop a running job's process tree: SIGTERM, then SIGKILL after KILL_AFTER_S."""
        assert job.exited
        while job.pid is None and not job.exited.done():  # the worker has not said the pid yet
            await asyncio.sleep(0.01)
        tree = process_tree(job.pid) if job.pid else []  # before the first signal orphans them
        for sig, delay in ((signal.SIGTERM, KILL_AFTER_S), (signal.SIGKILL, None)):
            signal_tree(tree, sig)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(job.exited), delay)
            if job.exited.done():
                return

    # ------------------------------------------------------------------ callback

    def _post_callback(self, job: Job) -> None:
        """POST the final status to the job's callback URL, retried with back-off; a redirect is not followed."""
        body = json.dumps({"workspace": self.workspace, **job.to_dict(with_result=True)}, default=str).encode()
        state: dict[str, Any] = {"url": job.callback_url, "state": "failed", "attempts": 0}
        for attempt in range(1, CALLBACK_TRIES + 1):
            state["attempts"] = attempt
            request = urllib.request.Request(job.callback_url, data=body, method="POST",  # noqa: S310 (checked at submit)
                                             headers={"Content-Type": "application/json", "X-Fractal-Job-Id": job.id})
            try:
                with _NO_REDIRECTS.open(request, timeout=10) as response:
                    state.update(state="delivered", status=response.status)
                    break
            except urllib.error.HTTPError as e:
                state["last_error"] = f"HTTP {e.code}" + (" (redirects are not followed)" if 300 <= e.code < 400 else "")
                if e.code < 500 and e.code not in _RETRIED:
                    break
            except (OSError, ValueError) as e:
                state["last_error"] = str(e)[:200]
            if attempt < CALLBACK_TRIES:
                time.sleep(0.2 * 2 ** attempt)
        job.callback = state


class _Refuse(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the callback's host was checked, a redirect's is not: the 3xx is the answer


_NO_REDIRECTS = urllib.request.build_opener(_Refuse)
