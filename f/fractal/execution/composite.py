"""Running a pipeline or meta-pipeline: locally through the flow interpreter, or as a Windmill flow job.

`run_composite` is the composite branch of `f/fractal/run_item`: everything is resolved and checked
before any step runs (members, provider, inputs); each `run_item` step runs an entity through
`execution.entity`; secret inputs are masked in the result and in every progress line.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from f.fractal.catalog.items import resolver
from f.fractal.execution.entity import check_mode, masked, run_entity, secret_inputs
from f.fractal.flows.compile import RUN_SCRIPT, flow_path
from f.fractal.flows.interpreter import FlowRunner, count_scripts, own_time
from f.fractal.flows.plan import flow_of, flows_for, plan
from f.fractal.model.composite import Resolver, fits_of, member_slots, refuse_unknown_inputs
from f.fractal.model.errors import ConfigError, InvalidInput
from f.fractal.model.providers import PROVIDERS
from f.fractal.model.records import Found
from f.fractal.platform.secrets import redact
from f.fractal.platform.windmill import call, push_flow, windmill_api
from f.fractal.platform.workspace import in_windmill
from f.fractal.tools.runs import mask_forms, strings


def _stderr_line(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def launch_providers(resolved: Found, members: Resolver, provider: str | None,
                     inputs: dict[str, Any] | None) -> dict[str, str]:
    """{slot: provider} for a launch. `provider` fills every slot it fits (with one slot it must fit);
    a slot can also be given by name in the inputs (`provider_<step>`); a slot with one choice takes it.
    Steps fixed to a provider keep theirs: a provider asked for a composite with no slot is refused."""
    ref, given, slots = resolved["ref"], inputs or {}, member_slots(resolved["item"], members)
    if provider is not None and not isinstance(provider, str):
        raise InvalidInput(f"provider must be a provider name, got {type(provider).__name__}")
    if provider and provider not in PROVIDERS:
        raise InvalidInput(f"unknown provider {provider!r:.40}", hint=f"use one of {', '.join(PROVIDERS)}")
    if provider and not slots:
        fixed = fits_of(resolved["item"], members)
        if fixed != [provider]:
            raise InvalidInput(f"{ref} fixes the provider of every step ({', '.join(fixed)}); {provider} was asked",
                               hint="omit provider")
    chosen: dict[str, str] = {}
    for slot in slots:
        who = "its steps" if slot.name == "provider" else f"steps {', '.join(dict.fromkeys(s for s, _ in slot.steps))}"
        value = given.get(slot.name) if slot.name != "provider" else None
        if not value and provider and (provider in slot.choices or len(slots) == 1):
            value = provider
        if not value and len(slot.choices) == 1:
            value = slot.choices[0]
        if not value:
            hint = f"pass provider{'' if slot.name == 'provider' else f' or inputs.{slot.name}'}, one of: "
            raise InvalidInput(f"{ref} does not fix a provider for {who}: choose one",
                               hint=hint + (", ".join(slot.choices) or "(none fits)"),
                               data={"choices": slot.choices, "slot": slot.name})
        if value not in slot.choices:
            raise InvalidInput(f"provider {value} does not fit {who} of {ref}",
                               hint=f"use one of: {', '.join(slot.choices) or '(none fits)'}",
                               data={"choices": slot.choices, "slot": slot.name})
        chosen[slot.name] = str(value)
    return chosen


def _reported(chosen: dict[str, str], resolved: Found) -> Any:
    """The provider a result reports: the one slot's, {slot: provider} for several, else the fixed one."""
    if list(chosen) == ["provider"]:
        return chosen["provider"]
    return chosen or resolved["item"]["spec"].get("provider") or None


def run_composite(
    resolved: Found,
    provider: str | None = None,
    inputs: dict[str, Any] | None = None,
    mode: str = "apply",
    targets: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run a pipeline or meta-pipeline (what catalog.get returned) through its flow, locally.

    Progress lines (a step starts, ends) go to `progress`, by default stderr (the CLI, a job log).
    Refused before anything runs: a member that does not resolve, a provider that does not fit,
    a missing required input, an input the composite does not declare."""
    if in_windmill():
        return run_in_windmill(resolved, provider, inputs, check_mode(mode), targets)
    t0 = time.perf_counter()
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    members = resolver(targets)
    members.seed(resolved)
    flow = flow_of(resolved, members)
    prepared = plan(flow, members)
    chosen = launch_providers(resolved, members, provider, inputs)
    props = (flow.get("schema") or {}).get("properties") or {}
    refuse_unknown_inputs(resolved["ref"], inputs, set(props) - {"provider", "mode", "targets"})
    args = {**(inputs or {}), "mode": check_mode(mode), "targets": list(targets or []), **chosen}
    hidden, forms = secret_forms(resolved["item"], inputs or {})
    say = progress or _stderr_line

    def run_step(ref: str, provider: str | None = None, inputs: dict[str, Any] | None = None,
                 mode: str = "apply", targets: list[str] | None = None) -> dict[str, Any]:
        found = prepared.entities.get(ref) or members.get(ref)
        return run_entity(found, provider, inputs, mode, progress=None)

    runner = FlowRunner(scripts={RUN_SCRIPT: run_step}, flows=prepared.flows.__getitem__,
                        on_event=lambda line: say(scrub(line, forms)))
    t1 = time.perf_counter()
    out = runner.run(flow, args, name=resolved["ref"])
    total = time.perf_counter() - t0
    final = out["result"] if isinstance(out["result"], dict) else {}
    own = own_time(out["steps"])
    meta = resolved["item"]["metadata"]
    result: dict[str, Any] = {
        "status": "success" if out["status"] in ("ok", "stopped") and final.get("status") == "success" else "failed",
        "ref": resolved["ref"], "kind": resolved["item"]["kind"], "name": meta["name"], "version": meta.get("version", ""),
        "commit": resolved.get("commit", ""), "target": resolved.get("target", ""),
        "provider": _reported(chosen, resolved), "mode": mode,
        "inputs": {k: masked(v) if k in hidden else v for k, v in (inputs or {}).items()},
        "outputs": final.get("outputs", {}),
        "steps": [r.to_dict() for r in out["steps"]],
        "error": out.get("error", ""), "failed_step": out.get("failed_step", ""),
        "log": "\n".join(runner.log), "started": started, "ended": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "duration_s": round(total, 3),
        "timings": {"prepare_s": round(t1 - t0, 4), "steps_own_s": round(own, 4), "scripts": count_scripts(out["steps"]),
                    "runner_overhead_s": round(out["duration_s"] - own, 4)},
    }
    return dict(scrub(result, forms))


def secret_forms(item: dict[str, Any], inputs: dict[str, Any]) -> tuple[set[str], list[str]]:
    """The composite's secret inputs (execute.secret_inputs: flagged in its schema or secret-named) and
    every form their values can take in a result or a log line."""
    hidden = set(secret_inputs(item, inputs))
    return hidden, [form for name in sorted(hidden) for value in strings(inputs[name]) for form in mask_forms(value)]


def scrub(value: Any, forms: list[str]) -> Any:
    """The value with every secret form masked in every string at any depth (unchanged without secrets)."""
    if not forms:
        return value
    if isinstance(value, str):
        return redact(value, forms)
    if isinstance(value, dict):
        return {k: scrub(v, forms) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, forms) for v in value]
    return value


def run_in_windmill(
    resolved: Found, provider: str | None, inputs: dict[str, Any] | None, mode: str, targets: list[str] | None,
) -> dict[str, Any]:
    """Inside Windmill: deploy the composite's flows, start its flow job, wait for it (FRACTAL_FLOW_WAIT_S,
    default 3600; 0 = return at once with the job id). The steps are Windmill's own flow status."""
    wait_s = flow_wait_s()
    members = resolver(targets)
    members.seed(resolved)
    chosen = launch_providers(resolved, members, provider, inputs)
    pinned, flows = resolved["ref"], flows_for(resolved, members)
    _hidden, forms = secret_forms(resolved["item"], inputs or {})
    for path, flow in flows.items():
        push_flow(path, flow, f"fractal: run {pinned}")
    path = flow_path(pinned)
    args = {**(inputs or {}), "mode": mode, "targets": list(targets or []), **chosen}
    base, token, ws = windmill_api()
    job = str(call("POST", f"{base}/api/w/{ws}/jobs/run/f/{path}", token, args)).strip().strip('"')
    out: dict[str, Any] = {"status": "started", "ref": pinned, "kind": resolved["item"]["kind"],
                           "provider": _reported(chosen, resolved), "mode": mode, "flow_path": path, "job_id": job,
                           "outputs": {}, "steps": []}
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        polled = call("GET", f"{base}/api/w/{ws}/jobs_u/completed/get_result_maybe/{job}", token)
        if isinstance(polled, dict) and polled.get("completed"):
            result: dict[str, Any] = polled["result"] if isinstance(polled.get("result"), dict) else {}
            status = call("GET", f"{base}/api/w/{ws}/jobs_u/get/{job}", token)
            flow_status = status.get("flow_status") if isinstance(status, dict) else None
            modules = (flow_status or {}).get("modules") or []
            out.update(status="success" if polled.get("success") and result.get("status") == "success" else "failed",
                       outputs=result.get("outputs", {}), error="" if polled.get("success") else str(polled.get("result"))[:2000],
                       steps=[{"id": m.get("id"), "status": m.get("type"), "job": m.get("job")} for m in modules])
            return dict(scrub(out, forms))
        time.sleep(1)
    return out


def flow_wait_s() -> float:
    """FRACTAL_FLOW_WAIT_S: seconds to wait for a composite's flow job (default 3600; 0 = do not wait)."""
    raw = os.environ.get("FRACTAL_FLOW_WAIT_S", "3600")
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"FRACTAL_FLOW_WAIT_S must be a number of seconds, got {raw!r:.40}",
                          hint="set it to 0 (return the job id at once) or more, e.g. 3600; or unset it")
    return value
