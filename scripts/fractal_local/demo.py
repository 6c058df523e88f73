"""`scripts/fractal demo`: the whole fractal chain with embedded defaults, in a fresh local workspace.

    needs → entities → pipelines → a meta-pipeline of two pipelines → saved to two local Git repos
    → its flows compiled (and `wmill lint`-ed when windmill-cli is installed) → run on the `local`
    provider (real Ansible on this machine) → a readable summary of every step at every level.

Entities come from the offline generator (f.fractal.generate, no LLM) where its templates fit, and
from the sample library (resources/samples/composition/) for the steps that declare outputs the
next step consumes. Everything is written under the workspace folder; nothing else is touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import f.fractal.platform.workspace as workspace
import f.fractal.platform.yamlio as yamlio
from f.fractal.catalog.store import git
from fractal_local import apps
from fractal_local.runner import call

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "resources" / "samples" / "composition"
TARGETS = ["f/fractal/catalog", "f/fractal/catalog_mirror"]
# need → where its entity comes from: ("generate", name) = the offline generator, ("sample", file) = the library
NEEDS: list[tuple[str, str, str]] = [
    ("create an application folder on this machine", "sample", "app-workdir"),
    ("write the application's configuration file into it", "sample", "app-config"),
    ("compute the checksum of the configuration file", "sample", "file-checksum"),
    ("write a report of that checksum", "sample", "checksum-report"),
    ("a message of the day on this machine", "generate", "welcome-motd"),
]
PIPELINES: list[tuple[str, str]] = [
    ("create the application folder, then write its configuration file, then compute its checksum", "app-setup"),
    ("write a checksum report, then a message of the day", "app-report"),
]
META = ("set up the application, then report its checksum", "app-platform")


def _say(text: str = "") -> None:
    print(text, flush=True)


def setup_workspace(home: Path) -> list[str]:
    """Point FRACTAL_HOME at `home` and create two bare repos as catalog targets."""
    os.environ["FRACTAL_HOME"] = str(home)
    for path in TARGETS:
        repo = home / "repos" / f"{path.rsplit('/', 1)[1]}.git"
        if not repo.exists():
            repo.parent.mkdir(parents=True, exist_ok=True)
            git(None, "init", "-q", "--bare", "-b", "main", str(repo))
        workspace.write_resource(path, "git_repository", {"url": str(repo), "branch": "main"}, "demo catalog")
    return TARGETS


def _entity(need: str, source: str, name: str) -> tuple[dict[str, Any], str]:
    if source == "generate":
        result = call("f/fractal/generate_entity", {"need": need, "name": name, "provider": "local", "llm": "offline"})
        return result["draft"], "offline generator"
    path = SAMPLES / f"{name}.yaml"
    return yamlio.load_untrusted(path.read_text(), what=path.name), "sample library"


def _steps_table(steps: list[dict[str, Any]], depth: int = 0) -> list[str]:
    lines = []
    for step in steps:
        if step["type"] in ("branch", "iteration"):
            lines += _steps_table(step.get("steps", []), depth)
            continue
        raw = step.get("result")
        result: dict[str, Any] = raw if isinstance(raw, dict) else {}
        what = str(result.get("ref") or step.get("summary") or step.get("path", ""))
        shown = result.get("outputs") if result.get("kind") == "Entity" else None
        outputs = ", ".join(f"{k}={str(v)[:40]}" for k, v in (shown or {}).items())
        mark = {"ok": "✓", "failed": "✗", "skipped": "-", "stopped": "■"}.get(step["status"], "?")
        lines.append(f"{'   ' * depth}{mark} {step['id']:<16} {what[:44]:<44} {step['duration_s']:6.2f}s  {outputs}")
        lines += _steps_table(step.get("steps", []), depth + 1)
    return lines


def _wires(draft: dict[str, Any]) -> None:
    for step in draft["spec"]["steps"]:
        for key, value in (step.get("inputs") or {}).items():
            if isinstance(value, dict) and str(value.get("from", "")).startswith("steps."):
                _say(f"       wired {step['id']}.{key} ← {value['from']}")


def _lint(ref: str, targets: list[str], out: Path) -> str:
    import f.fractal.flows.compile as flowgen
    from f.fractal.deploy_flow import flows_of

    _pinned, flows = flows_of(ref, targets)
    flowgen.write_flows(flows, out)
    (out / "wmill.yaml").write_text("defaultTs: bun\nincludes:\n  - \"f/**\"\nnonDottedPaths: true\n")
    wmill = shutil.which("wmill") or str(ROOT / "node_modules" / ".bin" / "wmill")
    if not Path(wmill).exists():
        return f"{len(flows)} flows written to {out} (windmill-cli not installed: not linted)"
    proc = subprocess.run([wmill, "lint", "."], cwd=out, capture_output=True, text=True, timeout=120)
    return f"{len(flows)} flows written to {out}; wmill lint: {'passed' if proc.returncode == 0 else 'FAILED'}"


def run_demo(home: Path | None = None) -> int:
    home = home or Path(tempfile.mkdtemp(prefix="fractal-demo-"))
    started = time.perf_counter()
    targets = setup_workspace(home)
    _say(f"Local workspace: {home}\nCatalogs (two local Git repos): {', '.join(targets)}\n")

    _say("1. Needs → entities")
    for need, source, name in NEEDS:
        item, origin = _entity(need, source, name)
        saved = call("f/fractal/save_item", {"item": item, "targets": targets})
        _say(f"   «{need}» → {saved['ref']}  ({origin}; saved to {len(saved['targets'])} repos)")

    _say("\n2. Needs → pipelines (offline composer: retrieval + input/output matching)")
    for need, name in PIPELINES:
        args = {"need": need, "name": name, "llm": "offline", "targets": targets, "save": True}
        result = call("f/fractal/compose_pipeline", args)
        steps = " → ".join(s["ref"] for s in result["draft"]["spec"]["steps"])
        _say(f"   «{need}»\n     = {result['saved']['ref']}: {steps}")
        _wires(result["draft"])

    need, name = META
    args = {"need": need, "name": name, "llm": "offline", "targets": targets, "save": True}
    meta = call("f/fractal/compose_meta_pipeline", args)
    ref = meta["saved"]["ref"]
    _say(f"\n3. A need → a meta-pipeline of two pipelines\n   «{need}»\n     = {ref}: "
         + " → ".join(s["ref"] for s in meta["draft"]["spec"]["steps"]))
    _wires(meta["draft"])
    _say(f"   providers that fit every member: {', '.join(meta['draft']['spec']['providers'])}")
    _say(f"   {_lint(ref, targets, home / 'flows')}")

    run_dir = home / "run"
    inputs = {"base_dir": str(run_dir / "apps"), "report_dir": str(run_dir / "reports"), "path": str(run_dir / "motd")}
    _say(f"\n4. Run {ref} on the local provider (real Ansible on this machine)")
    result = call("f/fractal/run_item", {"ref": ref, "provider": "local", "inputs": inputs, "targets": targets})
    _say("\n".join("   " + line for line in _steps_table(result["steps"])))

    _say(f"\nResult: {result['status']} in {result['duration_s']:.1f}s"
         + (f" — failed at {result['failed_step']}: {result['error']}" if result["failed_step"] else ""))
    for key, value in result["outputs"].items():
        _say(f"   {key} = {value}")
    timings = result["timings"]
    overhead_ms = timings["runner_overhead_s"] * 1000
    _say(f"   the local flow runner's own overhead: {overhead_ms:.0f} ms for {timings['scripts']} script steps")
    if (run_dir / "reports" / "report.txt").exists():
        _say(f"   {run_dir / 'reports' / 'report.txt'}: {(run_dir / 'reports' / 'report.txt').read_text().strip()}")
    _say(f"\nBrowse a catalog: git clone {home / 'repos' / 'catalog.git'}  (meta-pipelines/{name}/README.md has the graph)")
    _say(f"Demo done in {time.perf_counter() - started:.1f}s.")
    _say(f"\nOperator UIs on this catalog (`scripts/fractal demo --ui` serves them; or FRACTAL_HOME={home} scripts/fractal ui):")
    _say("\n".join(f"   {url}" for url in apps.urls("http://127.0.0.1:8765")))
    return 0 if result["status"] == "success" else 1
