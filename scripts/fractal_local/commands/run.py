"""Execution commands: run, runs, providers, playbook.

`scripts/fractal run <ref> [--provider P] [--input k=v …] [--mode M] [--target T]` runs an item through
f/fractal/run_item exactly as Windmill would, streaming the tool's output (with elapsed time) to
stderr and printing the JSON result on stdout. Without --provider, an item that does not fix one
asks for it when stdin is a terminal, and is refused (with the choices) otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from typing import Any, TextIO

from f.fractal.model.errors import InvalidInput
from fractal_local.cli import FAILED, add_json, described, emit, human_wanted
from fractal_local.commands.catalog import _targets, add_targets
from fractal_local.runner import call

HEARTBEAT_S = 15.0


def parse_inputs(pairs: list[str] | None, raw: str | None) -> dict[str, Any]:
    """--inputs JSON, then each --input k=v (v parsed as JSON when it is valid JSON, else text)."""
    inputs: dict[str, Any] = {}
    if raw:
        try:
            loaded = json.loads(raw)
        except ValueError as e:
            hint = """quote the object for the shell: --inputs '{"name": "value"}', or use --input name=value"""
            raise InvalidInput(f"--inputs is not valid JSON: {e}"[:300], hint=hint) from None
        if not isinstance(loaded, dict):
            raise InvalidInput("--inputs must be a JSON object", hint="""e.g. --inputs '{"name": "value"}'""")
        inputs.update(loaded)
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"bad --input {pair!r:.60}", hint="write --input name=value")
        try:
            inputs[key.strip()] = json.loads(value)
        except ValueError:
            inputs[key.strip()] = value
    return inputs


class Progress:
    """Wraps stderr: prefixes each line with the elapsed time; a heartbeat line while the tool is quiet."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.start = self.last = time.monotonic()
        self._stop = threading.Event()
        self._at_line_start = True

    def write(self, text: str) -> int:
        with_time = []
        for piece in text.splitlines(keepends=True):
            if self._at_line_start:
                with_time.append(f"[{time.monotonic() - self.start:7.1f}s] ")
            with_time.append(piece)
            self._at_line_start = piece.endswith("\n")
        self.out.write("".join(with_time))
        self.out.flush()
        self.last = time.monotonic()
        return len(text)

    def flush(self) -> None:
        self.out.flush()

    def heartbeat(self) -> None:
        while not self._stop.wait(1.0):
            if time.monotonic() - self.last >= HEARTBEAT_S:
                self.write(("" if self._at_line_start else "\n") + "… still running\n")

    def __enter__(self) -> Progress:
        threading.Thread(target=self.heartbeat, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()


def choose_provider(ref: str, targets: list[str] | None) -> str | None:
    """The provider to pass: None when the item fixes one; asked on a terminal; refused otherwise."""
    listing = call("f/fractal/list_providers", {"ref": ref, "targets": targets})
    slots = listing.get("slots")
    if listing["fixed"] or (slots is not None and all(len(s["choices"]) == 1 for s in slots)):
        return None  # fixed, or every launch slot has a single choice (its default)
    choices = [row for row in listing["providers"] if row["fits"]]
    if not choices:
        raise InvalidInput(f"no provider fits {listing['ref']}")
    if not sys.stdin.isatty():
        raise InvalidInput(
            f"{listing['ref']} does not fix a provider: choose one with --provider",
            hint=f"one of: {', '.join(r['name'] for r in choices)}", data={"choices": [r["name"] for r in choices]},
        )
    print(f"{listing['ref']} runs on a provider chosen now:", file=sys.stderr)
    for i, row in enumerate(choices, 1):
        state = row["credentials"]
        creds = "credentials present" if state["present"] else f"credentials missing: {state.get('hint', '')}"
        print(f"  {i}. {row['name']:<10} {row['title']:<20} {creds}", file=sys.stderr)
    while True:
        print(f"provider [1-{len(choices)} or name]: ", end="", file=sys.stderr, flush=True)
        line = sys.stdin.readline()
        if not line:
            raise InvalidInput("no provider chosen", hint="pass --provider")
        answer = line.strip()
        if answer.isdigit() and 1 <= int(answer) <= len(choices):
            return str(choices[int(answer) - 1]["name"])
        if answer in [r["name"] for r in choices]:
            return answer


def _credential_pick(text: str) -> str:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"{text!r}: use TYPE=PATH, e.g. exoscale=u/me/exoscale_prod")
    return text


def cmd_run(args: argparse.Namespace) -> int:
    targets = _targets(args)
    inputs = parse_inputs(args.input, args.inputs)
    provider = args.provider or choose_provider(args.ref, targets)
    real_stderr = sys.stderr
    with Progress(real_stderr) as progress:
        sys.stderr = progress  # the pack streams the tool's output to stderr
        try:
            result = call("f/fractal/run_item", {"ref": args.ref, "provider": provider, "inputs": inputs,
                                                 "mode": args.mode, "targets": targets,
                                                 "credentials": dict(c.split("=", 1) for c in args.credential or [])})
        finally:
            sys.stderr = real_stderr
    if not human_wanted(args):
        emit(result)
    elif result.get("outputs"):
        print("\n".join(f"{name} = {json.dumps(value, ensure_ascii=False)}" for name, value in result["outputs"].items()))
    summary = f"{result.get('status')} in {result.get('duration_s', '?')}s"
    if result.get("run_id"):
        summary += f"; record: fractal runs {result['run_id']}"
    if result.get("log_file"):
        summary += f"; full log: {result['log_file']}"
    if result.get("error"):
        summary += f"\nerror: {result['error']}"
    print(summary, file=sys.stderr)
    return 0 if result.get("status") == "success" else FAILED


def cmd_runs(args: argparse.Namespace) -> int:
    if args.run_id:
        emit(call("f/fractal/get_run", {"run_id": args.run_id}))
        return 0
    result = call("f/fractal/list_runs", {"ref": args.ref or "", "status": args.status or "", "limit": args.limit})
    if args.json:
        emit(result)
        return 0
    for row in result["runs"]:
        providers = ", ".join(f"{k}={v}" if k else str(v) for k, v in (row.get("providers") or {}).items())
        print(f"{row['id']:<48} {row['status']:<8} {row['mode']:<8} {row['ref']:<40} {providers}")
    print(f"{len(result['runs'])} of {result['total']} runs", file=sys.stderr)
    return 0


def cmd_providers(args: argparse.Namespace) -> int:
    result = call("f/fractal/list_providers", {"ref": args.ref, "targets": _targets(args)})
    if args.json:
        emit(result)
        return 0
    if result["ref"]:
        how = f"fixed to {result['fixed']}" if result["fixed"] else "provider chosen at launch"
        print(f"{result['ref']} ({result['tool'] or 'composite'}): {how}")
    for row in result["providers"]:
        creds = row["credentials"]
        state = "no credentials needed" if not creds["required"] else (
            f"credentials present ({creds['source']})" if creds["present"] else f"credentials missing: {creds.get('hint', '')}")
        print(f"{'✓' if row['fits'] else '·'} {row['name']:<10} {row['title']:<20} {state}")
    return 0


def cmd_playbook(args: argparse.Namespace) -> int:
    result = call("f/fractal/compile_playbook", {"ref": args.ref, "targets": _targets(args), "script_path": args.path or "",
                                                 "deploy": args.deploy})
    if args.out:
        from pathlib import Path

        out = Path(args.out)
        for rel, text in result["files"].items():
            dest = out / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text)
            print(dest, file=sys.stderr)
    emit(result if args.json or not args.out else {k: v for k, v in result.items() if k != "files"})
    return 0


def register(sub: Any) -> None:
    p = described(sub, "run", "run a catalog item on a provider, streaming the tool's output to stderr",
                  "scripts/fractal run entity:local-motd --input motd_dir=/tmp/x",
                  "scripts/fractal run pipeline:site --provider exoscale --mode plan --json")
    p.add_argument("ref", help="the item to run: kind:name[@version]")
    p.add_argument("--provider", "-p", help="provider to run on (asked for, or refused, when the item fixes none)")
    p.add_argument("--input", "-i", action="append", metavar="NAME=VALUE",
                   help="an input (VALUE parsed as JSON when valid); repeat")
    p.add_argument("--inputs", metavar="JSON", help="all inputs as one JSON object")
    p.add_argument("--mode", "-m", choices=["plan", "check", "apply", "destroy"], default="apply",
                   help="plan/check = dry run, apply (default), or destroy")
    p.add_argument("--credential", "-c", action="append", metavar="TYPE=PATH", type=_credential_pick,
                   help="the resource to use for a credential type instead of its default (e.g. exoscale=u/me/exo); repeat")
    add_json(p)
    add_targets(p)
    p.set_defaults(func=cmd_run)

    p = described(sub, "runs", "run records: every run's refs, commits, providers per step, status and times",
                  "scripts/fractal runs", "scripts/fractal runs --ref pipeline:web --status failed",
                  "scripts/fractal runs <run id>")
    p.add_argument("run_id", nargs="?", help="a run id: show its record")
    p.add_argument("--ref", help="only runs of this item or of composites holding it")
    p.add_argument("--status", choices=["success", "failed", "started"], help="only runs that ended so")
    p.add_argument("--limit", type=int, default=50, help="how many runs to list (default 50)")
    add_json(p)
    p.set_defaults(func=cmd_runs)

    p = described(sub, "providers", "the providers, whether each fits an item and has its credentials",
                  "scripts/fractal providers", "scripts/fractal providers entity:k3s-cluster")
    p.add_argument("ref", nargs="?", help="optional item to check the providers against")
    add_json(p)
    add_targets(p)
    p.set_defaults(func=cmd_providers)

    p = described(sub, "playbook", "compile an Ansible entity into a Windmill .playbook.yml script",
                  "scripts/fractal playbook entity:local-motd --out .")
    p.add_argument("ref", help="the Ansible entity: entity:name[@version]")
    p.add_argument("--path", help="Windmill script path (default f/fractal_playbooks/<name>)")
    p.add_argument("--out", help="write the script files under this folder (e.g. the repo root to sync them)")
    p.add_argument("--deploy", action="store_true", help="inside Windmill: create the script; locally: write it to $FRACTAL_HOME")
    add_json(p)
    add_targets(p)
    p.set_defaults(func=cmd_playbook)
