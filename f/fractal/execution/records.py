"""Run records: every run that run_item starts (an entity or a composite, locally or in Windmill) leaves
one JSON record, listed by `list_runs` and fetched by `get_run` (scripts, CLI `fractal runs`, API).

A record holds: the run id; the item's ref, version, commit and target; every member entity's pinned
ref and commit, at every depth; the provider each step ran on; the inputs (secrets masked, as in the
result); the status, error and failed step; the start, end and duration; each step's status, time and
outputs; where the full logs are. It is built from the run's result, which is already redacted, so a
record holds no secret value, and every input, the run's and each step's, goes through the pack's one
detector again (platform.secrets) before it is kept.

Where records live: locally `$FRACTAL_HOME/cache/runs/<id>.json`, beside the runs' logs. Inside Windmill a
worker's cache is its own, so records are Windmill variables `f/fractal_runs/<id>` (JSON, not secret): every
worker, the API and the UI read the same ones, the folder's permissions say who may, and each expires after
RECORD_TTL_S (Windmill's monitor deletes it), which bounds their number. Chosen over the jobs API (a record
spans several jobs, and a job outlives no retention either) and over a catalog target (a commit per run).
The folder sits beside f/fractal_flows, outside the pack's own f/fractal/, so a `wmill sync push` of the pack
never deletes them. A composite started inside Windmill is recorded as `started` with its flow job; each of
its steps records itself with that job (`flow_job`); get_run and list_runs complete the record once the job
has ended (status, outputs, the steps' records) and delete the secret outputs it left.
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
from f.fractal.model.errors import FractalError, InvalidInput, NotFound
from f.fractal.platform.secrets import MASK, is_secret_name, mask_value
from f.fractal.platform.windmill import call, ensure_folder, result_maybe

RUN_ID_RE = re.compile(r"^\d{8}T\d{6}-[a-z0-9][a-z0-9-]{0,62}-[0-9a-f]{6}$")
MAX_LIST = 500
_SUMMARY = ("id", "ref", "kind", "mode", "status", "provider", "providers", "started", "duration_s")
RUNS_FOLDER = "fractal_runs"  # inside Windmill: variables f/fractal_runs/<id>
RECORD_TTL_S = 90 * 86400


def new_id(name: str) -> str:
    """A sortable run id: 20261203T101500-<item name>-<6 hex>."""
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{name}-{secrets.token_hex(3)}"


def _dir() -> Path:
    return workspace.cache_dir("runs")


def _checked(run_id: Any) -> str:
    if not isinstance(run_id, str) or not RUN_ID_RE.match(run_id):
        raise InvalidInput(f"bad run id {run_id!r:.80}",
                           hint="a run id looks like 20261203T101500-web-stack-a1b2c3 (see list_runs)")
    return run_id


def _file(run_id: Any) -> Path:
    return _dir() / f"{_checked(run_id)}.json"


def _variable(run_id: Any) -> str:
    return f"f/{RUNS_FOLDER}/{_checked(run_id)}"


def masked_inputs(inputs: Any) -> dict[str, Any]:
    """Inputs as a record keeps them: a secret-named input masked whatever its value, every other value through
    the detector (with its name as context); a `$var:` reference is kept (it is no secret)."""
    if not isinstance(inputs, dict):
        return {}
    return {k: MASK if is_secret_name(str(k)) and not str(v).startswith("$var:") else mask_value(v, key=str(k))
            for k, v in inputs.items()}


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
                        "inputs": masked_inputs(result.get("inputs")),
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
        "inputs": masked_inputs(result.get("inputs")), "outputs": result.get("outputs", {}),
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
    if workspace.flow_root():  # a step of a composite run inside Windmill: part of that run's record
        record["flow_job"], record["flow_step"] = workspace.flow_root(), os.environ.get("WM_FLOW_STEP_ID", "")
    return record


def save(record: dict[str, Any]) -> str:
    """Write the record (locally atomically; inside Windmill as its variable); returns its id."""
    if workspace.in_windmill():
        ensure_folder(RUNS_FOLDER)
        workspace.set_variable(_variable(record["id"]), json.dumps(record, ensure_ascii=False, default=str),
                               description=f"Fractal run of {record.get('ref', '')}: {record.get('status', '')}",
                               ttl_s=RECORD_TTL_S)
        return str(record["id"])
    file = _file(record["id"])
    tmp = file.with_name(f"{file.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1, default=str))
    os.replace(tmp, file)
    return str(record["id"])


def _missing(run_id: str) -> NotFound:
    return NotFound(f"no run {run_id}", hint="list the runs with list_runs (CLI: fractal runs)")


def get(run_id: str) -> dict[str, Any]:
    if workspace.in_windmill():
        try:
            text = call("GET", f"variables/get_value/{_variable(run_id)}")
        except FractalError as e:
            if e.data.get("status") == 404:
                raise _missing(run_id) from None
            raise
        return _completed(json.loads(text))
    try:
        data: dict[str, Any] = json.loads(_file(run_id).read_text())
    except FileNotFoundError:
        raise _missing(run_id) from None
    return data


def _stored() -> list[dict[str, Any]]:
    """Every record, newest first (a step of a composite run inside Windmill is part of its record, not listed)."""
    if workspace.in_windmill():
        texts = [v for _p, v in sorted(workspace.list_variables(f"f/{RUNS_FOLDER}/").items(), reverse=True) if v]
    else:
        texts = []
        for file in sorted(_dir().glob("*.json"), reverse=True):
            try:
                texts.append(file.read_text())
            except OSError:
                continue  # removed meanwhile
    records = []
    for text in texts:
        try:
            records.append(json.loads(text))
        except ValueError:
            continue  # being written
    return records


def _completed(record: dict[str, Any], everything: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A composite started inside Windmill, completed from its flow job once that has ended: status, outputs,
    error, its steps' records; saved so, and the secret outputs its steps left deleted."""
    job = record.get("job_id")
    if record.get("status") != "started" or not job or not workspace.in_windmill():
        return record
    polled = result_maybe(str(job))
    if not polled.get("completed"):
        return record
    result = polled["result"] if isinstance(polled.get("result"), dict) else {}
    steps = [_step_row(r) for r in reversed(everything if everything is not None else _stored())
             if r.get("flow_job") == job]
    record.update(status="success" if polled.get("success") and result.get("status") == "success" else "failed",
                  outputs=result.get("outputs", {}), steps=steps,
                  error="" if polled.get("success") else str(mask_value(polled.get("result")))[:2000],
                  failed_step=result.get("failed_step", ""), ended=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                  providers={s["path"]: s["provider"] for s in steps} or record.get("providers", {}),
                  members=list({s["ref"]: {"ref": s["ref"], "commit": s["commit"]} for s in steps}.values()),
                  logs=[s["log_file"] for s in steps if s["log_file"]])
    save(record)
    workspace.forget_outputs(f"{workspace.OUTPUT_STORE}/{job}/")
    return record


def _step_row(step: dict[str, Any]) -> dict[str, Any]:
    """A step of a composite run inside Windmill, from the record that step's own job saved."""
    return {"path": step.get("flow_step", ""), "ref": step.get("ref", ""), "commit": step.get("commit", ""),
            "provider": step.get("provider", ""), "status": step.get("status", ""), "started": step.get("started", ""),
            "duration_s": step.get("duration_s"), "inputs": step.get("inputs", {}), "outputs": step.get("outputs", {}),
            "error": step.get("error", ""), "log_file": step.get("log_file", ""), "run_id": step.get("id", ""),
            "windmill_job": step.get("windmill_job", "")}


def list_runs(ref: str | None = None, status: str | None = None, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """Run summaries, newest first; `ref` matches the item (kind:name, any version) or a member's."""
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit <= MAX_LIST:
        raise InvalidInput(f"limit must be 1..{MAX_LIST}, got {limit!r:.20}")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidInput(f"offset must be 0 or more, got {offset!r:.20}")
    wanted = ref.split("@", 1)[0] if ref else None
    everything = _stored()
    rows: list[dict[str, Any]] = []
    for record in everything:
        if record.get("flow_job"):
            continue
        record = _completed(record, everything)
        refs = [record.get("ref", ""), *(m.get("ref", "") for m in record.get("members") or []),
                *(record.get("composites") or [])]
        if wanted and not any(r.split("@", 1)[0] == wanted for r in refs):
            continue
        if status and record.get("status") != status:
            continue
        rows.append({k: record.get(k) for k in _SUMMARY})
    return {"runs": rows[offset : offset + limit], "total": len(rows)}
