"""Terraform as a process, in a fresh working directory per run.

- Commands (all `-input=false -no-color`): `init`; then `plan` + `output -json` (modes plan/check:
  the outputs of what the state holds already, so a next step can plan against an existing cluster),
  or `plan -out=fractal.tfplan` + `apply fractal.tfplan` + `output -json` (apply), or
  `destroy -auto-approve` (destroy).
- Inputs are Terraform variables, from a 0600 `fractal.tfvars.json` (`-var-file`), never `-var`.
- Credentials reach the process as the provider's environment variables (EXOSCALE_API_KEY, …);
  the process gets an allowlisted environment plus `TF_IN_AUTOMATION=1`, `TF_INPUT=0`,
  `CHECKPOINT_DISABLE=1` and a shared `TF_PLUGIN_CACHE_DIR`.
- State: an entity that declares its own `backend`/`cloud` block keeps it. Otherwise the backend of
  the `terraform_state` setting is added (tools/terraform/state.py): `local` (a file in the cache),
  `pg`, `s3` or `http`, one state per Windmill workspace, catalog target, provider and entity, so
  `destroy` finds what `apply` made and two catalogs or workspaces never share a state. The
  backend's credentials reach Terraform only through its environment, and are masked.
- Outputs: the entity's declared output names, each read from the Terraform output of the same
  name (or the one named in `from`); sensitive values are masked like every credential.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import f.fractal.platform.workspace as workspace
from f.fractal.model.errors import InvalidInput
from f.fractal.platform.files import write_files
from f.fractal.tools.runs import Outcome, Run, command, step_failed, strings, tool_env, which, write_private
from f.fractal.tools.terraform.state import BACKEND_FILE, Backend, backend_for

INSTALL_HINT = (
    "install Terraform (>= 1.10: the s3 state backend locks with a lock file) on the Windmill worker and put it on PATH: "
    "https://developer.hashicorp.com/terraform/install (e.g. the official zip into /usr/local/bin)"
)
VARS_FILE = "fractal.tfvars.json"
PLAN_FILE = "fractal.tfplan"
_BACKEND = re.compile(r"^\s*(backend\s+\"|cloud\s*\{)", re.MULTILINE)


def preflight(run: Run) -> None:
    which("terraform", INSTALL_HINT)
    if not any(name.endswith((".tf", ".tf.json")) for name in run.files):
        raise InvalidInput(f"{run.ref} has no Terraform files (*.tf)", hint="a Terraform entity needs main.tf at least")
    if not _declares_backend(run):
        backend_for(run)  # a missing or incomplete state resource is refused before anything runs


def _declares_backend(run: Run) -> bool:
    return any(_BACKEND.search(text) for name, text in run.files.items() if name.endswith(".tf"))


def _env(run: Run, backend: Backend | None) -> dict[str, str]:
    return tool_env({
        "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1",
        "TF_PLUGIN_CACHE_DIR": str(workspace.cache_dir("terraform-plugins")), **run.env, **(backend.env if backend else {}),
    })


def commands(run: Run, backend: Backend | None) -> list[list[str]]:
    """The exact commands a run executes, in order (each stops the run when it fails)."""
    tf = which("terraform", INSTALL_HINT)
    init = [tf, "init", "-input=false", "-no-color", *(backend.init_args() if backend else [])]
    var_file = f"-var-file={VARS_FILE}"
    if run.mode in ("plan", "check"):
        return [init, [tf, "plan", "-input=false", "-no-color", var_file]]
    if run.mode == "destroy":
        return [init, [tf, "destroy", "-input=false", "-no-color", "-auto-approve", var_file]]
    return [init, [tf, "plan", "-input=false", "-no-color", var_file, f"-out={PLAN_FILE}"],
            [tf, "apply", "-input=false", "-no-color", PLAN_FILE]]


def _prepare(run: Run, workdir: Path) -> Backend | None:
    """Write the files; the backend added for the state (None when the entity declares its own)."""
    write_files(workdir, run.files)
    write_private(workdir / VARS_FILE, json.dumps(run.inputs))
    if _declares_backend(run):
        return None
    backend = backend_for(run)
    run.secrets.extend(backend.env.values())
    (workdir / BACKEND_FILE).write_text(backend.block)
    return backend


def execute(run: Run, workdir: Path) -> Outcome:
    backend = _prepare(run, workdir)
    env = _env(run, backend)
    for argv in commands(run, backend):
        rc, tail = command(run, argv, cwd=workdir, env=env)
        if rc != 0:
            return step_failed(f"terraform {argv[1]}", rc, tail)
    if run.mode == "destroy":
        return Outcome("success", 0)
    return _outputs(run, workdir, env)  # plan/check: the outputs of what exists already (none before the first apply)


def _outputs(run: Run, workdir: Path, env: dict[str, str]) -> Outcome:
    argv = [which("terraform", INSTALL_HINT), "output", "-json", "-no-color"]
    rc, text = command(run, argv, cwd=workdir, env=env, capture=True)
    if rc != 0:
        return Outcome("failed", rc, error="terraform output -json failed", failed_task={"task": "terraform output"})
    try:
        found: dict[str, Any] = json.loads(text or "{}")
    except ValueError:
        return Outcome("failed", 1, error="terraform output -json did not print JSON")
    outputs: dict[str, Any] = {}
    warnings = []
    for name, decl in run.outputs_declared.items():
        source = str((decl or {}).get("from") or name)
        if source not in found:
            if run.mode == "apply":
                warnings.append(f"output '{name}' is declared but Terraform has no output '{source}'")
            continue
        if found[source].get("sensitive"):
            run.secrets.extend(strings(found[source].get("value")))
        outputs[name] = found[source].get("value")
    return Outcome("success", 0, outputs, warnings=warnings)

