"""The jobs' record: one SQLite file, `$FRACTAL_HOME/jobs/jobs.sqlite3`, so jobs and idempotency keys outlive the server.

One row a job, rewritten at each change of its state (queued, running, ended, called back); its log stays
in `$FRACTAL_HOME/jobs/<id>/log`. Arguments are not kept (a job's input may be sensitive): a job that had
not started when its server died is not run again, it is recorded as canceled. Each row names its owner,
the server process (pid and start time), so several local servers (HTTP, stdio MCP) can share one
workspace and a server that starts ends only the jobs of owners that are gone.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

_JSON = ("callback", "result", "error")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, path TEXT NOT NULL, status TEXT NOT NULL, owner TEXT NOT NULL, pid INTEGER,
    created_at REAL NOT NULL, started_at REAL, ended_at REAL, timeout_s REAL NOT NULL,
    idempotency_key TEXT UNIQUE, fingerprint TEXT NOT NULL, callback_url TEXT NOT NULL, callback TEXT,
    canceled_by TEXT NOT NULL, canceled_reason TEXT NOT NULL, result TEXT, error TEXT);
CREATE INDEX IF NOT EXISTS jobs_by_creation ON jobs (created_at);
"""
_INSERT = """INSERT INTO jobs VALUES (:id, :path, :status, :owner, :pid, :created_at, :started_at, :ended_at,
    :timeout_s, :idempotency_key, :fingerprint, :callback_url, :callback, :canceled_by, :canceled_reason, :result, :error)"""
_UPDATE = """UPDATE jobs SET status = :status, pid = :pid, started_at = :started_at, ended_at = :ended_at,
    callback = :callback, canceled_by = :canceled_by, canceled_reason = :canceled_reason, result = :result,
    error = :error WHERE id = :id"""
_LIST = """SELECT id, path, status, owner, pid, created_at, started_at, ended_at, timeout_s, idempotency_key,
    fingerprint, callback_url, callback, canceled_by, canceled_reason, NULL AS result, error FROM jobs
    WHERE (:path = '' OR path = :path) AND (:status = '' OR status = :status)
    AND created_at >= :after AND created_at <= :before ORDER BY created_at DESC LIMIT :limit"""
_OLD = """SELECT id FROM jobs WHERE status NOT IN ('queued', 'running') ORDER BY created_at DESC LIMIT -1 OFFSET :keep"""


class JobStore:
    """The jobs table of one workspace (WAL: readers never wait on the writer; other servers may write too)."""

    def __init__(self, file: Path) -> None:
        file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.db = sqlite3.connect(file, timeout=10, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")  # a power cut may lose the last writes, never corrupt
        self.db.executescript(_SCHEMA)
        os.chmod(file, 0o600)

    def insert(self, row: dict[str, Any]) -> None:
        """A new job; sqlite3.IntegrityError when its idempotency key is already taken."""
        self.db.execute(_INSERT, _encode(row))

    def update(self, row: dict[str, Any]) -> None:
        self.db.execute(_UPDATE, _encode(row))

    def get(self, job_id: str) -> dict[str, Any] | None:
        return _decode(self.db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())

    def by_key(self, key: str) -> dict[str, Any] | None:
        return _decode(self.db.execute("SELECT * FROM jobs WHERE idempotency_key = ?", (key,)).fetchone())

    def find(self, path: str, status: str, after: float | None, before: float | None, limit: int) -> list[dict[str, Any]]:
        """Newest first, without their results (a listing does not show them)."""
        rows = self.db.execute(_LIST, {"path": path, "status": status, "after": after or 0.0,
                                       "before": before or float("inf"), "limit": limit})
        return [r for r in map(_decode, rows) if r]

    def unfinished(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT * FROM jobs WHERE status IN ('queued', 'running')")
        return [r for r in map(_decode, rows) if r]

    def prune(self, keep: int) -> list[str]:
        """Forget the ended jobs beyond the newest `keep` (their keys with them); their ids, to remove their logs."""
        old = [row[0] for row in self.db.execute(_OLD, {"keep": keep})]
        self.db.executemany("DELETE FROM jobs WHERE id = ?", [(i,) for i in old])
        return old


def _encode(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, **{k: None if row[k] is None else json.dumps(row[k], default=str, ensure_ascii=False)
                      for k in _JSON}}


def _decode(row: sqlite3.Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    found = dict(row)
    return {**found, **{k: None if found[k] is None else json.loads(found[k]) for k in _JSON}}
