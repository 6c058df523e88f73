"""Secret entities: check that the credential they describe exists, or create it from run-time values.

A secret entity holds `secret.yaml` (never a value):

    resource_type: exoscale          # the Windmill resource type
    path: f/fractal/exoscale         # where the credential lives
    env: {EXOSCALE_API_KEY: api_key, EXOSCALE_API_SECRET: api_secret}   # env var → field
    description: …

- `plan`/`check`, or `apply` without values: is it there? Inside Windmill the resource at `path`;
  outside, the environment variables of `env`, else the local workspace resource file. Missing →
  a failed result naming the variables to set.
- `apply` with `inputs.values` (`{field: value}` for every field of `env`): creates or replaces it
  (Windmill: `wmill.set_resource`; outside: a 0600 resource file in `$FRACTAL_HOME`, never Git).
  The values are masked in the log and the result; they are never written anywhere else.
- `destroy`: deletes the local resource file; inside Windmill delete it in the workspace (refused).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import f.fractal.platform.credentials as credentials
import f.fractal.platform.workspace as workspace
import f.fractal.platform.yamlio as yamlio
from f.fractal.model.errors import FractalError, InvalidInput
from f.fractal.model.providers import Credential
from f.fractal.tools.runs import Outcome, Run
from f.fractal.tools.secret.files import binding_file


def describe(run: Run) -> Credential:
    """The credential the entity describes, from its secret.yaml (checked, no value allowed)."""
    name = binding_file(run.files, run.ref)
    doc = yamlio.load_untrusted(run.files[name], what=name) or {}
    env = doc.get("env") if isinstance(doc, dict) else None
    if not isinstance(env, dict) or not env or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise InvalidInput(f"{run.ref}: secret.yaml needs env: {{ENV_VAR: field, …}}")
    return Credential(
        resource_type=str(doc.get("resource_type") or "any"),
        default_path=workspace.check_path(doc.get("path"), "secret path"),
        env=dict(env), description=str(doc.get("description") or ""),
    )


def _values(run: Run, cred: Credential) -> dict[str, Any] | None:
    values = run.inputs.get("values")
    if values in (None, {}):
        return None
    if not isinstance(values, dict):
        raise InvalidInput("inputs.values must be an object {field: value}")
    missing = sorted(set(cred.env.values()) - set(values))
    if missing:
        every = ", ".join(sorted(cred.env.values()))
        raise InvalidInput(f"inputs.values lacks {', '.join(missing)}", hint=f"give every field: {every}")
    return values


def preflight(run: Run) -> None:
    cred = describe(run)
    values = _values(run, cred)
    if values is not None and run.mode != "apply":
        raise InvalidInput("values are only used by mode apply", hint="drop inputs.values to check, or use mode apply")
    if run.mode == "destroy" and workspace.in_windmill():
        raise InvalidInput(f"delete the resource {cred.default_path} in the Windmill workspace",
                           hint="Fractal never deletes Windmill secrets")


def _outputs(cred: Credential, present: bool, source: str, created: bool) -> dict[str, Any]:
    return {"path": cred.default_path, "resource_type": cred.resource_type, "present": present, "source": source,
            "created": created, "env": sorted(cred.env)}


def _create(cred: Credential, values: dict[str, Any]) -> str:
    if workspace.in_windmill():
        import wmill

        wmill.set_resource(cred.default_path, values, cred.resource_type)
        return "windmill"
    file = workspace.write_resource(cred.default_path, cred.resource_type, values, cred.description)
    os.chmod(file, 0o600)
    return "workspace"


def execute(run: Run, workdir: Path) -> Outcome:
    cred = describe(run)
    values = _values(run, cred)
    if run.mode == "destroy":
        file = workspace.resource_file(cred.default_path)
        existed = file.is_file()
        file.unlink(missing_ok=True)
        run.say(f"{'deleted' if existed else 'no'} local resource {cred.default_path}")
        return Outcome("success", 0, _outputs(cred, False, "workspace", False))
    if values is not None:
        source = _create(cred, values)
        run.say(f"stored {cred.resource_type} credential at {cred.default_path} ({source})")
        return Outcome("success", 0, _outputs(cred, True, source, True))
    try:
        found = credentials.find(cred)
    except FractalError as e:
        run.say(f"missing: {e.message}")
        return Outcome("failed", 1, _outputs(cred, False, "none", False), error=e.message,
                       failed_task={"task": "check credential", "host": "", "message": e.hint})
    run.secrets.extend(found.secrets)
    run.say(f"present: {cred.default_path} ({found.source})")
    return Outcome("success", 0, _outputs(cred, True, found.source, False))
