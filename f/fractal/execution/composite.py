"""Running a pipeline or meta-pipeline: locally through the flow interpreter, or as a Windmill flow job.

`run_composite` is the composite branch of `f/fractal/run_item`: everything is resolved and checked
before any step runs (members, provider, inputs); each `run_item` step runs an entity through
`execution.entity`; secret inputs are masked in the result and in every progress line. The steps' secret
outputs (a cluster's kubeconfig handed to the next step) are deleted when the run ends; inside Windmill the
root flow's last step deletes them (and Windmill itself once they expire, for a flow that failed).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import f.fractal.platform.settings as settings
from f.fractal.catalog.items import resolver
from f.fractal.execution.entity import check_mode, check_picks, masked, run_entity, secret_inputs
from f.fractal.execution.records import new_id
from f.fractal.flows.compile import RUN_SCRIPT, flow_path
from f.fractal.flows.interpreter import FlowRunner, count_scripts, own_time
from f.fractal.flows.plan import flow_of, flows_for, plan
from f.fractal.model.composite import Resolver, fits_of, member_slots, refuse_unknown_inputs
from f.fractal.model.errors import InvalidInput
from f.fractal.model.providers import PROVIDERS
from f.fractal.model.records import Found
from f.fractal.platform.secrets import known_values, mask, mask_value
from f.fractal.platform.windmill import flow_steps, job_links, push_flow, result_maybe, start_flow
from f.fractal.platform.workspace import OUTPUT_STORE, forget_outputs, in_windmill
from f.fractal.tools.runs import strings


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
    picks: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run a pipeline or meta-pipeline (what catalog.get returned) through its flow, locally.
    `picks` ({credential resource type: resource path}) is the credential every step of that type uses.

    Progress lines (a step starts, ends) go to `progress`, by default stderr (the CLI, a job log).
    Refused before anything runs: a member that does not resolve, a provider that does not fit,
    a missing required input, an input the composite does not declare."""
    picks = check_picks(picks)
    if in_windmill():
        if picks:  # the compiled flow's steps read each credential at its default path
            raise InvalidInput("choosing credential resources for a pipeline run works locally only",
                               hint="inside Windmill the steps use each provider's default credential resource: "
                                    "leave credentials empty, or run the entities one by one")
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
    hidden, secrets = secret_values(resolved["item"], inputs or {})
    say = progress or _stderr_line

    run_id = new_id(resolved["item"]["metadata"]["name"])

    def run_step(ref: str, provider: str | None = None, inputs: dict[str, Any] | None = None,
                 mode: str = "apply", targets: list[str] | None = None) -> dict[str, Any]:
        found = prepared.entities.get(ref) or members.get(ref)
        return run_entity(found, provider, inputs, mode, progress=None, scope=run_id, picks=picks)

    runner = FlowRunner(scripts={RUN_SCRIPT: run_step}, flows=prepared.flows.__getitem__,
                        on_event=lambda line: say(mask(line, secrets)))
    t1 = time.perf_counter()
    try:
        out = runner.run(flow, args, name=resolved["ref"])
    finally:  # the steps' secret outputs (a kubeconfig handed over) live as long as the run
        forget_outputs(f"{OUTPUT_STORE}/{run_id}/")
    total = time.perf_counter() - t0
    final = out["result"] if isinstance(out["result"], dict) else {}
    own = own_time(out["steps"])
    meta = resolved["item"]["metadata"]
    result: dict[str, Any] = {
        "status": "success" if out["status"] in ("ok", "stopped") and final.get("status") == "success" else "failed",
        "ref": resolved["ref"], "kind": resolved["item"]["kind"], "name": meta["name"], "version": meta.get("version", ""),
        "commit": resolved.get("commit", ""), "target": resolved.get("target", ""), "run_id": run_id,
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
    return dict(mask_value(result, secrets))


def secret_values(item: dict[str, Any], inputs: dict[str, Any]) -> tuple[set[str], frozenset[str]]:
    """The composite's secret inputs (execution.entity.secret_inputs: flagged in its schema or secret-named) and
    the values to mask in its result and progress lines: theirs and every credential this worker can see."""
    hidden = set(secret_inputs(item, inputs))
    return hidden, known_values() | {value for name in hidden for value in strings(inputs[name])}


def run_in_windmill(
    resolved: Found, provider: str | None, inputs: dict[str, Any] | None, mode: str, targets: list[str] | None,
) -> dict[str, Any]:
    """Inside Windmill: deploy the composite's flows and start its flow job. By default it returns at once with
    the job id and where to follow it (status "started"): a job that waits holds its worker. The `flow_wait_s`
    setting (at most settings.MAX_FLOW_WAIT_S) opts into waiting; the steps are then Windmill's own flow status."""
    wait_s = settings.load().flow_wait_s
    members = resolver(targets)
    members.seed(resolved)
    chosen = launch_providers(resolved, members, provider, inputs)
    pinned, flows = resolved["ref"], flows_for(resolved, members)
    _hidden, secrets = secret_values(resolved["item"], inputs or {})
    for path, flow in flows.items():
        push_flow(path, flow, f"fractal: run {pinned}")
    path = flow_path(pinned)
    args = {**(inputs or {}), "mode": mode, "targets": list(targets or []), **chosen}
    job = start_flow(path, args)
    out: dict[str, Any] = {"status": "started", "ref": pinned, "kind": resolved["item"]["kind"],
                           "provider": _reported(chosen, resolved), "mode": mode, "flow_path": path, "job_id": job,
                           **job_links(job), "outputs": {}, "steps": []}
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        polled = result_maybe(job)
        if polled.get("completed"):
            result: dict[str, Any] = polled["result"] if isinstance(polled.get("result"), dict) else {}
            out.update(status="success" if polled.get("success") and result.get("status") == "success" else "failed",
                       outputs=result.get("outputs", {}), error="" if polled.get("success") else str(polled.get("result"))[:2000],
                       steps=flow_steps(job))
            break
        time.sleep(1)
    return dict(mask_value(out, secrets))
