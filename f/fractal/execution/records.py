"""Run records: every run that run_item starts (an entity or a composite, locally or in Windmill) leaves
one JSON record, listed by `list_runs` and fetched by `get_run` (scripts, CLI `fractal runs`, API).

A record holds: the run id; the item's ref, version, commit and target; every member entity's pinned
ref and commit, at every depth; the provider each step ran on; the inputs (secrets masked, as in the
result); the status, error and failed step; the start, end and duration; each step's status, time and
outputs; where the full logs are. It is built from the run's result, which is already redacted, so a
record holds no secret value. Records live in `runs/<id>.json` of the worker cache (locally
`$FRACTAL_HOME/cache/runs/`, beside the runs' logs); inside Windmill, a record also names its job.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

import f.fractal.platform.workspace as workspace
from f.fractal.flows.compile import ref_of_flow_path
from f.fractal.model.errors import InvalidInput, NotFound

RUN_ID_RE = re.compile(r"^\d{8}T\d{6}-[a-z0-9][a-z0-9-]{0,62}-[0-9a-f]{6}$")
MAX_LIST = 500
_SUMMARY = ("id", "ref", "kind", "mode", "status", "provider", "providers", "started", "duration_s")


def new_id(name: str) -> str:
    """A sortable run id: 20261203T101500-<item name>-<6 hex>."""
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{name}-{secrets.token_hex(3)}"


def _dir() -> Path:
    return workspace.cache_dir("runs")


def _file(run_id: Any) -> Path:
    if not isinstance(run_id, str) or not RUN_ID_RE.match(run_id):
        raise InvalidInput(f"bad run id {run_id!r:.80}",
                           hint="a run id looks like 20261203T101500-web-stack-a1b2c3 (see list_runs)")
    return _dir() / f"{run_id}.json"


def _steps(steps: list[dict[str, Any]], prefix: str = "") -> list[dict[str, Any]]:
    """Each entity step at any depth: its path, ref, commit, provider, status, time, outputs, log."""
    out: list[dict[str, Any]] = []
    for step in steps or []:
        path = f"{prefix}{step.get('id', '')}"
        result = step.get("result")
        if step.get("type") == "script" and isinstance(result, dict) and result.get("kind") == "Entity":
            out.append({"path": path, "ref": result.get("ref", ""), "commit": result.get("commit", ""),
                        "provider": result.get("provider", ""), "status": result.get("status", step.get("status")),
                        "started": result.get("started", ""), "duration_s": result.get("duration_s", step.get("duration_s")),
                        "outputs": result.get("outputs", {}), "error": result.get("error", ""),
                        "log_file": result.get("log_file", ""), "run_id": result.get("run_id", "")})
        out += _steps(step.get("steps") or [], f"{path}." if step.get("type") == "flow" else prefix)
    return out


def _composites(steps: list[dict[str, Any]]) -> list[str]:
    """The pinned refs of the member composites a run went through (from their flows' paths)."""
    out: list[str] = []
    for step in steps or []:
        ref = ref_of_flow_path(str(step.get("path") or "")) if step.get("type") == "flow" else None
        if ref is not None:
            out.append(str(ref))
        out += _composites(step.get("steps") or [])
    return list(dict.fromkeys(out))


def from_result(result: dict[str, Any], run_id: str = "") -> dict[str, Any]:
    """The record of a run, from run_item's (already redacted) result."""
    steps = _steps(result.get("steps") or [])
    entity = result.get("kind") == "Entity"
    record: dict[str, Any] = {
        "id": run_id or result.get("run_id") or new_id(str(result.get("name") or "run")),
        "ref": result.get("ref", ""), "kind": result.get("kind", ""), "version": result.get("version", ""),
        "commit": result.get("commit", ""), "target": result.get("target", ""), "mode": result.get("mode", ""),
        "status": result.get("status", ""), "provider": result.get("provider", ""),
        "providers": {s["path"]: s["provider"] for s in steps} if steps else {"": result.get("provider", "")},
        "members": ([{"ref": result.get("ref", ""), "commit": result.get("commit", "")}] if entity else
                    list({s["ref"]: {"ref": s["ref"], "commit": s["commit"]} for s in steps}.values())),
        "composites": _composites(result.get("steps") or []),
        "inputs": result.get("inputs", {}), "outputs": result.get("outputs", {}),
        "error": result.get("error", ""), "failed_step": result.get("failed_step", ""),
        "started": result.get("started", ""), "ended": result.get("ended", ""), "duration_s": result.get("duration_s"),
        "steps": steps, "log_file": result.get("log_file", ""),
        "logs": [s["log_file"] for s in steps if s["log_file"]] or ([result["log_file"]] if result.get("log_file") else []),
    }
    for key in ("job_id", "flow_path"):
        if result.get(key):
            record[key] = result[key]
    if os.environ.get("WM_JOB_ID"):
        record["windmill_job"] = os.environ["WM_JOB_ID"]
    return record


def save(record: dict[str, Any]) -> str:
    """Write the record (atomically); returns its id."""
    file = _file(record["id"])
    tmp = file.with_name(f"{file.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1, default=str))
    os.replace(tmp, file)
    return str(record["id"])


def get(run_id: str) -> dict[str, Any]:
    file = _file(run_id)
    try:
        data: dict[str, Any] = json.loads(file.read_text())
    except FileNotFoundError:
        raise NotFound(f"no run {run_id}", hint="list the runs with list_runs (CLI: fractal runs)") from None
    return data


def list_runs(ref: str | None = None, status: str | None = None, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """Run summaries, newest first; `ref` matches the item (kind:name, any version) or a member's."""
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit <= MAX_LIST:
        raise InvalidInput(f"limit must be 1..{MAX_LIST}, got {limit!r:.20}")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidInput(f"offset must be 0 or more, got {offset!r:.20}")
    wanted = ref.split("@", 1)[0] if ref else None
    rows: list[dict[str, Any]] = []
    for file in sorted(_dir().glob("*.json"), reverse=True):
        try:
            record = json.loads(file.read_text())
        except (OSError, ValueError):
            continue  # removed meanwhile, or being written
        refs = [record.get("ref", ""), *(m.get("ref", "") for m in record.get("members") or []),
                *(record.get("composites") or [])]
        if wanted and not any(r.split("@", 1)[0] == wanted for r in refs):
            continue
        if status and record.get("status") != status:
            continue
        rows.append({k: record.get(k) for k in _SUMMARY})
    return {"runs": rows[offset : offset + limit], "total": len(rows)}
