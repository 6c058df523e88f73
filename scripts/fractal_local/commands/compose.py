"""Composition commands: compose (pipelines, --meta for meta-pipelines) and flows (export compiled flows)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from fractal_local.cli import FAILED, described, emit
from fractal_local.commands.catalog import _targets, add_targets
from fractal_local.runner import call


def _print_draft(result: dict[str, Any]) -> None:
    draft = result.get("draft") or {}
    spec = draft.get("spec") or {}
    kind = draft.get("kind", "draft")
    print(f"{kind} {draft.get('metadata', {}).get('name', '?')} — provider: {spec.get('provider') or 'chosen at launch'}"
          + (f" (fits: {', '.join(spec['providers'])})" if spec.get("providers") else ""))
    for step in spec.get("steps", []):
        wires = ", ".join(f"{k}←{v['from']}" if isinstance(v, dict) and "from" in v else f"{k}={v!r}"
                          for k, v in (step.get("inputs") or {}).items())
        print(f"  {step['id']:<28} {step['ref']:<44} {wires}")
    inputs = (spec.get("inputs") or {}).get("properties") or {}
    if inputs:
        required = set((spec.get("inputs") or {}).get("required") or [])
        print("inputs: " + ", ".join(f"{n}{'*' if n in required else ''}" for n in inputs))
    if spec.get("outputs"):
        print("outputs: " + ", ".join(spec["outputs"]))
    print(f"\n{result.get('explanation', '')}")
    for gap in result.get("gaps", []):
        request = gap.get("generate_entity") or gap.get("compose_pipeline")
        verb = "generate_entity" if "generate_entity" in gap else "compose_pipeline"
        print(f"GAP: {gap['need']!r} — {gap.get('reason', '')}\n     fill it: {verb} {json.dumps(request, ensure_ascii=False)}")
    checks = result.get("checks", {})
    print("checks: " + ("ok" if checks.get("ok") else "; ".join(checks.get("errors", [])) or "not run"))
    if result.get("saved"):
        print(f"saved {result['saved']['ref']} to {', '.join(t['target'] for t in result['saved']['targets'])}")


def cmd_compose(args: argparse.Namespace) -> int:
    conversation = json.loads(Path(args.conversation).read_text()).get("conversation", []) if args.conversation else None
    refs_key = "pipeline_refs" if args.meta else "entity_refs"
    result = call("f/fractal/compose_meta_pipeline" if args.meta else "f/fractal/compose_pipeline", {
        "need": args.need, refs_key: args.ref or None, "provider": args.provider, "name": args.name or "",
        "conversation": conversation, "llm": args.llm or "", "targets": _targets(args), "save": args.save,
    })
    if args.export and result.get("draft", {}).get("spec", {}).get("files", {}).get("flow.yaml"):
        import f.fractal.flows.compile as flowgen
        import f.fractal.platform.yamlio as yamlio
        from f.fractal.model.item import Ref

        draft = result["draft"]
        ref = result["saved"]["ref"] if result.get("saved") else str(Ref(draft["kind"], draft["metadata"]["name"]))
        flow = yamlio.load_trusted(draft["spec"]["files"]["flow.yaml"])
        path = flowgen.flow_path(ref)
        result["exported"] = flowgen.write_flows({path: flow}, args.export)
    if args.json:
        emit(result)
    else:
        _print_draft(result)
        for path in result.get("exported", []):
            print(f"flow written: {path}")
    return 0 if result["checks"]["ok"] and not result["gaps"] else FAILED


def cmd_flows(args: argparse.Namespace) -> int:
    """Export a saved composite's flow and every member flow, for `wmill lint` / `wmill sync push`."""
    import f.fractal.flows.compile as flowgen
    from f.fractal.deploy_flow import flows_of
    from f.fractal.model.item import parse_ref

    pinned, flows = flows_of(args.ref, _targets(args))
    flows[flowgen.flow_path(parse_ref(pinned).pinned("latest"))] = flows[flowgen.flow_path(pinned)]
    for path in flowgen.write_flows(flows, args.out):
        print(path)
    return 0


def register(sub: Any) -> None:
    p = described(sub, "compose", "compose a pipeline (or --meta: a meta-pipeline) from a need in plain words",
                  'scripts/fractal compose "an instance on Exoscale, then nginx on it" --save',
                  'scripts/fractal compose "staging then production" --meta --json')
    p.add_argument("need", help="the need in plain words (English or French)")
    p.add_argument("--meta", action="store_true", help="compose a meta-pipeline of pipelines (and meta-pipelines)")
    p.add_argument("--ref", action="append", help="a member to start from (repeat)")
    p.add_argument("--provider", help="fix the provider (local, k3s, exoscale, vastai, runpod)")
    p.add_argument("--name", help="kebab-case name (default: from the need)")
    p.add_argument("--llm", help="fractal_llm resource path, or 'offline' (default: env, f/fractal/llm, else offline)")
    p.add_argument("--conversation", metavar="FILE", help="a previous --json result: refine that draft with this message")
    p.add_argument("--save", action="store_true", help="save the draft to the targets when it has no gap and passes the checks")
    p.add_argument("--export", metavar="DIR", help="write the draft's flow under DIR in windmill-cli's layout")
    p.add_argument("--json", action="store_true", help="print the whole result as JSON")
    add_targets(p)
    p.set_defaults(func=cmd_compose)

    p = described(sub, "flows", "export a saved composite's flows (and its members') for wmill lint / sync push",
                  "scripts/fractal flows pipeline:site --out .")
    p.add_argument("ref", help="pipeline:name[@version] or meta-pipeline:name[@version]")
    p.add_argument("--out", required=True, help="folder to write f/fractal_flows/<name>__flow/flow.yaml into")
    add_targets(p)
    p.set_defaults(func=cmd_flows)
