"""Ansible through ansible-runner, in a fresh private data dir per run.

- Playbook: `site.yml` (or `site.yaml`, `playbook.yml`, `main.yml`, or the only top-level YAML
  file); `destroy` runs `destroy.yml` and is refused when the entity has none.
- Inventory: provider `local`, or plays that all target `localhost` (a provider's API or CLI driven from
  the worker, e.g. Vast.ai's) → `localhost` with `ansible_connection=local` and this Python as
  interpreter; any other provider → the hosts given in the input `hosts` (a list, or a
  comma-separated string; an earlier pipeline step can produce it). An input `ssh_private_key`
  is written to a 0600 file for the run and never passed as a variable.
- Inputs are extra vars (from a 0600 file, `-e @file`, never on the command line), plus
  `fractal_mode` and `fractal_provider`. `plan`/`check` run with `--check --diff`.
- Outputs: a play exposes output `x` (declared in `spec.outputs`) by setting a fact named `x`
  (`ansible.builtin.set_fact: {x: …}`) on any host; the last value set wins. An output declared
  with `from: <variable>[.<field>…]` (a registered variable, a fact) is read by a short play the
  runner appends after the entity's own plays.
- Environment: like Terraform's and kubectl's, the worker's allowlisted variables (plus
  `PYTHONPATH`, which a Windmill job needs to import Ansible, and the worker's `ANSIBLE_*`
  settings), the provider's credential variables, and what ansible-runner itself sets; nothing
  else of the worker's (no `WM_TOKEN`) reaches the plays.
- Events stream to the run log as they arrive; a failed task is named in the outcome.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from f.fractal.model.errors import ConfigError, InvalidInput
from f.fractal.platform.files import write_files
from f.fractal.platform.yamlio import load_untrusted
from f.fractal.tools.ansible.files import playbook_name
from f.fractal.tools.checks import find_binary
from f.fractal.tools.runs import Outcome, Run, last_lines, tool_env, write_private

RESERVED_INPUTS = ("ssh_private_key",)
FROM_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$")
_STATUS = {"successful": "success", "failed": "failed", "timeout": "timeout", "canceled": "canceled"}
PASSTHROUGH = ("PYTHONPATH", "VIRTUAL_ENV")  # beyond base.ENV_ALLOWLIST: how the job's Python finds Ansible
INSTALL_HINT = "install ansible-core on the worker (pip install ansible-core==2.19.14, pinned in requirements.txt)"


def playbook(run: Run) -> str:
    return playbook_name(run.files, run.mode, run.ref)


def on_controller(run: Run) -> bool:
    """Every play targets localhost: a play that drives a provider's API or CLI runs on the worker itself."""
    try:
        plays = load_untrusted(run.files[playbook(run)], what=playbook(run))
    except InvalidInput:
        return False
    return isinstance(plays, list) and bool(plays) and all(isinstance(p, dict) and p.get("hosts") == "localhost" for p in plays)


def hosts(run: Run) -> list[str]:
    if run.provider.name == "local" or ("hosts" not in run.inputs and on_controller(run)):
        return ["localhost"]
    raw = run.inputs.get("hosts")
    names = [h.strip() for h in raw.split(",")] if isinstance(raw, str) else raw
    if not isinstance(names, list) or not names or not all(isinstance(h, str) and h.strip() for h in names):
        raise InvalidInput(
            f"provider {run.provider.name} runs Ansible on the hosts you give: input 'hosts' is missing",
            hint="pass inputs.hosts as a list of host names/addresses (or wire it from an earlier step's output)",
        )
    return [h.strip() for h in names]


def bin_dir() -> Path:
    """The folder holding ansible-playbook: the pack's own launchers over its pinned ansible-core first (a
    worker image's Ansible may be another version, with another Python), then beside this Python, then PATH."""
    found = find_binary("ansible-playbook")
    if found is None:
        raise ConfigError("ansible-playbook is not installed on this worker", hint=INSTALL_HINT)
    return Path(found).parent


def _from_outputs(run: Run) -> dict[str, str]:
    found = {}
    for name, decl in run.outputs_declared.items():
        source = str((decl or {}).get("from") or "")
        if source:
            if not FROM_RE.match(source):
                raise InvalidInput(f"output {name}: 'from' must be a variable path like result.stdout, got {source!r:.60}")
            found[name] = source
    return found


def preflight(run: Run) -> None:
    playbook(run)
    hosts(run)
    _from_outputs(run)
    bin_dir()
    if importlib.util.find_spec("ansible_runner") is None:
        raise ConfigError("ansible-runner is not installed on this worker", hint="pip install ansible-runner==2.4.3")


def _outputs_play(entry: str, sources: dict[str, str]) -> str:
    facts = {name: "{{ " + src + " | default(None) }}" for name, src in sources.items()}
    plays = [
        {"import_playbook": entry},
        {"name": "Fractal outputs", "hosts": "all", "gather_facts": False,
         "tasks": [{"name": "Fractal outputs", "ansible.builtin.set_fact": facts}]},
    ]
    return json.dumps(plays, indent=1)


def _inventory(run: Run) -> dict[str, Any]:
    if run.provider.name == "local" or (hosts(run) == ["localhost"] and on_controller(run)):
        return {"all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}
    return {"all": {"hosts": {h: {} for h in hosts(run)}}}


def _prepare_dir(run: Run, workdir: Path) -> tuple[str, dict[str, Any]]:
    project = workdir / "project"
    write_files(project, run.files)
    entry = playbook(run)
    sources = _from_outputs(run)
    if sources:
        entry = "_fractal_site.yml"
        (project / entry).write_text(_outputs_play(playbook(run), sources))
    extravars = {k: v for k, v in run.inputs.items() if k not in RESERVED_INPUTS}
    extravars.update(fractal_mode=run.mode, fractal_provider=run.provider.name)
    (workdir / "env").mkdir()
    write_private(workdir / "env" / "extravars", json.dumps(extravars))
    inventory = _inventory(run)
    key = run.inputs.get("ssh_private_key")
    if isinstance(key, str) and key:
        path = write_private(workdir / "ssh_key", key if key.endswith("\n") else key + "\n")
        inventory["all"]["vars"] = {"ansible_ssh_private_key_file": str(path)}
    return entry, inventory


class _Events:
    """Collects what the run needs from ansible-runner's events while streaming them to the log."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.wanted = set(run.outputs_declared)
        self.outputs: dict[str, Any] = {}
        self.failed: dict[str, Any] | None = None

    def __call__(self, event: dict[str, Any]) -> bool:
        self.run.say(event.get("stdout") or "")
        data = event.get("event_data") or {}
        kind = event.get("event")
        if kind == "runner_on_ok":
            facts = (data.get("res") or {}).get("ansible_facts") or {}
            for name in self.wanted.intersection(facts):
                if facts[name] is not None:
                    self.outputs[name] = facts[name]
        elif kind in ("runner_on_failed", "runner_on_unreachable") and not data.get("ignore_errors") and self.failed is None:
            res = data.get("res") or {}
            message = str(res.get("msg") or res.get("stderr") or res.get("stdout") or kind)
            self.failed = {"task": data.get("task") or "", "host": data.get("host") or "",
                           "message": message[:1000], "unreachable": kind == "runner_on_unreachable"}
        return False  # ansible-runner need not keep the event on disk


def play_env(prepared: dict[str, str], ours: dict[str, str]) -> dict[str, str]:
    """The plays' environment: ansible-runner's prepared one (it starts from the whole worker
    environment) reduced to what ansible-runner set or changed, the worker's ANSIBLE_* settings,
    the allowlisted variables and ours."""
    worker = os.environ
    kept = {k: v for k, v in prepared.items() if worker.get(k) != v or k.startswith("ANSIBLE_")}
    kept.update({k: worker[k] for k in PASSTHROUGH if k in worker})
    return {**kept, **tool_env(ours)}


def execute(run: Run, workdir: Path) -> Outcome:
    from ansible_runner.interface import init_runner  # deferred: only Ansible runs pay for it

    entry, inventory = _prepare_dir(run, workdir)
    events = _Events(run)
    env = {**run.env, "PATH": f"{bin_dir()}{os.pathsep}{os.environ.get('PATH', '')}",
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_RETRY_FILES_ENABLED": "0"}
    result = init_runner(
        private_data_dir=str(workdir), playbook=entry, inventory=inventory, envvars=env,
        cmdline="--check --diff" if run.mode in ("plan", "check") else None,
        event_handler=events, quiet=True, suppress_env_files=True,
    )
    result.config.env = play_env(result.config.env, env)
    result.run()
    status = _STATUS.get(str(result.status), str(result.status))
    rc = int(result.rc if result.rc is not None else -1)
    if rc == 0 and status == "success":
        return _success(run, events)
    error = ""
    if events.failed:
        f = events.failed
        error = f"task '{f['task']}' failed on {f['host']}: {f['message']}"
    elif run.log:
        error = last_lines(run.log.tail())
    return Outcome("failed" if status == "success" else status, rc, events.outputs, error, events.failed)


def _success(run: Run, events: _Events) -> Outcome:
    missing = sorted(set(run.outputs_declared) - set(events.outputs))
    warnings = [f"output '{n}' is declared but the play did not set it (set_fact: {{{n}: …}})" for n in missing]
    return Outcome("success", 0, events.outputs, warnings=warnings)
