#!/usr/bin/env python
"""Composition benchmark (issue 5, item 9; DESIGN §7): figures and ratios, not a test.

  retrieval    a catalog of N entities (10,000 by default) written into a real Git repo: reading
               its rows through list_items (cold clone, then warm), building the BM25 index, and
               searching it (English and French needs); the offline composer end to end on it
  compilation  composite checks + OpenFlow compilation of a 10-step pipeline and of a
               10-member meta-pipeline (members already resolved: no Git in the loop)
  runner       the local flow runner's own cost per step on 200 trivial script steps, and in a
               real run of a 3-entity pipeline on the `local` provider (real Ansible), the
               runner's overhead per step beside the steps' own run time — same run — with
               run_item's own overhead (prepare + finish) beside the tool's time

Run: PYTHONPATH=.:scripts .venv/bin/python bench/bench_compose.py [--entities N | --quick] [--keep]   (or bench/run compose)
Everything lives in a temp dir (FRACTAL_HOME included), removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _p in (str(ROOT / "scripts"), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ["PATH"] = f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}"

THINGS = ["cluster", "instance", "volume", "network", "bucket", "database", "firewall", "load balancer", "dns zone", "gpu pod",
          "namespace", "ingress", "cache", "queue", "backup", "monitoring", "log shipping", "certificate", "vpn", "registry"]
ADJ = ["managed", "private", "public", "encrypted", "replicated", "small", "large", "regional", "ha", "spot"]
FR = {"cluster": "grappe", "instance": "machine", "volume": "disque", "network": "réseau", "database": "base de données",
      "backup": "sauvegarde", "monitoring": "supervision", "certificate": "certificat"}
PROVIDERS = ["exoscale", "vastai", "runpod", "k3s", "local"]
TOOLS = ["terraform", "ansible", "kubernetes", "secret"]


def _timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _synthetic(i: int, rng: random.Random) -> dict[str, Any]:
    thing, adj, provider, tool = rng.choice(THINGS), rng.choice(ADJ), rng.choice(PROVIDERS), rng.choice(TOOLS)
    words = thing.replace(" ", "-")
    description = f"A {adj} {thing} on {provider}" if i % 3 else f"Un(e) {FR.get(thing, thing)} {adj} sur {provider}"
    return {"apiVersion": "fractal/v1", "kind": "Entity",
            "metadata": {"name": f"{adj}-{words}-{provider}-{i}", "version": "1.0.0", "description": description,
                         "tags": [tool, provider], "owner": "bench"},
            "spec": {"tool": tool, "providers": [provider], "files": {"main.tf": f"# {i}\n"},
                     "inputs": {"type": "object", "properties": {"region": {"type": "string"}}, "required": []},
                     "outputs": {f"{words.replace('-', '_')}_id": {"type": "string"}}}}


def build_catalog(base: Path, n: int) -> list[str]:
    import f.fractal.catalog.layout as layout
    import f.fractal.platform.workspace as workspace
    from f.fractal.catalog.store import git

    remote, work = base / "remote.git", base / "work"
    git(None, "init", "-q", "--bare", "-b", "main", str(remote))
    git(None, "clone", "-q", str(remote), str(work))
    rng = random.Random(5)
    for i in range(n):
        item = _synthetic(i, rng)
        layout.write_item(work, layout.item_dir("", "Entity", item["metadata"]["name"]), item)
    git(work, "add", "-A")
    git(work, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q", "-m", f"fractal: bench {n} entities")
    git(work, "push", "-q", "origin", "HEAD:main")
    workspace.write_resource("f/fractal/bench", "git_repository", {"url": str(remote), "branch": "main"})
    return ["f/fractal/bench"]


def _paged(targets: list[str]) -> int:
    from f.fractal.catalog.items import list_items

    total, offset = 0, 0
    while True:
        page = list_items(targets, kind="entity", limit=1000, offset=offset)
        total += len(page["items"])
        offset += 1000
        if offset >= page["total"]:
            return total


def bench_retrieval(base: Path, n: int) -> None:
    import f.fractal.catalog.items as catalog
    import f.fractal.catalog.search as retrieval
    import f.fractal.composition.composer as compose

    t0 = time.perf_counter()
    targets = build_catalog(base, n)
    print(f"  catalog of {n} entities written and pushed in {time.perf_counter() - t0:.1f}s (setup, not measured)")
    cold, rows = _timed(lambda: catalog.catalog_rows(targets, "entity"))
    warm, rows = _timed(lambda: catalog.catalog_rows(targets, "entity"), 3)
    paged, _ = _timed(lambda: _paged(targets))
    build, index = _timed(lambda: retrieval.Index.build(rows), 3)
    retrieval.index_for(rows)

    def reload() -> Any:
        retrieval._CACHE.clear()  # a new job process: the index comes back from the worker's cache file
        return retrieval.index_for(rows)

    loaded, _ = _timed(reload, 3)
    queries = ["a managed kubernetes cluster on exoscale", "une grappe privée sur exoscale", "encrypted backup bucket",
               "gpu pod on runpod with a large volume", "supervision et journaux", "public dns zone", "spot instance vastai"]
    lat = [_timed(lambda q=q: index.search(q, 10), 20)[0] for q in queries]
    print(f"  catalog rows (one fetch + the clone's derived index): cold {cold * 1000:.0f} ms (clone + index), "
          f"warm {warm * 1000:.0f} ms for {len(rows)} rows | paging list_items 1,000 at a time: {paged * 1000:.0f} ms")
    print(f"  BM25 index build: {build * 1000:.0f} ms ({len(index.postings)} terms); reloaded from the cache file "
          f"(next job, same catalog state): {loaded * 1000:.0f} ms")
    median, worst = statistics.median(lat) * 1000, max(lat) * 1000
    print(f"  search top-10: median {median:.2f} ms, max {worst:.2f} ms over {len(queries)} EN/FR needs")
    need = "a managed cluster on exoscale, then an encrypted backup bucket"
    first, result = _timed(lambda: (retrieval._CACHE.clear(), compose.compose(compose.Request(need=need, targets=targets)))[1])
    again, _ = _timed(lambda: compose.compose(compose.Request(need=need, targets=targets)), 3)
    print(f"  offline compose over {n} entities (rows + index + choice + member reads + checks + flow): "
          f"new process {first * 1000:.0f} ms, warm {again * 1000:.0f} ms "
          f"({len(result['draft']['spec']['steps'])} steps, {len(result['gaps'])} gaps)")


def bench_compilation() -> None:
    import f.fractal.flows.compile as flowgen
    from f.fractal.catalog.items import resolver as catalog_resolver
    from f.fractal.model.composite import Slot
    from f.fractal.model.item import normalize_item

    entity = {"apiVersion": "fractal/v1", "kind": "Entity", "metadata": {"name": "e", "version": "1.0.0"},
              "spec": {"tool": "ansible", "providers": ["local"],
                       "inputs": {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]},
                       "outputs": {"x": {"type": "string"}}}}
    resolver = catalog_resolver(None)
    for i in range(10):
        resolver.seed({"ref": f"entity:e{i}@1.0.0", "item": {**entity, "metadata": {"name": f"e{i}", "version": "1.0.0"}}})
    steps = [{"id": f"s{i}", "ref": f"entity:e{i}@1.0.0",
              "inputs": {"x": {"from": f"steps.s{i - 1}.outputs.x"} if i else "start"}} for i in range(10)]
    pipe = normalize_item({"apiVersion": "fractal/v1", "kind": "Pipeline", "metadata": {"name": "p"},
                           "spec": {"steps": steps, "outputs": {"x": {"from": "steps.s9.outputs.x"}}}})
    pipe["metadata"].pop("version")
    t_pipe, prepared = _timed(lambda: flowgen.prepare(pipe, resolver), 50)
    for i in range(10):
        resolver.seed({"ref": f"pipeline:p{i}@1.0.0", "item": {**prepared, "metadata": {"name": f"p{i}", "version": "1.0.0"}}})
    msteps = [{"id": f"m{i}", "ref": f"pipeline:p{i}@1.0.0"} for i in range(10)]
    meta = normalize_item({"apiVersion": "fractal/v1", "kind": "MetaPipeline", "metadata": {"name": "m"},
                           "spec": {"steps": msteps}})
    meta["metadata"].pop("version")
    t_meta, _ = _timed(lambda: flowgen.prepare(meta, resolver), 50)
    members = {s["ref"]: resolver.get(s["ref"])["item"] for s in prepared["spec"]["steps"]}
    slots = [Slot("provider", ["local"], [(s["id"], "") for s in prepared["spec"]["steps"]])]
    t_flow, _ = _timed(lambda: flowgen.compile_flow(prepared, members, slots), 200)
    print(f"  10-step pipeline: checks + compile + YAML {t_pipe * 1000:.2f} ms (compile alone {t_flow * 1000:.2f} ms)")
    print(f"  10-member meta-pipeline (100 entities below): checks (cycles, providers at every depth) + compile "
          f"{t_meta * 1000:.2f} ms")


def bench_runner_trivial() -> None:
    from f.fractal.flows.interpreter import FlowRunner

    n = 200
    modules = [{"id": f"s{i}", "value": {"type": "script", "path": "f/bench/noop", "input_transforms": {
        "value": {"type": "javascript", "expr": f"({{n: {i}, prev: results.s{i - 1} ?? null}})" if i else "({n: 0})"}}}}
        for i in range(n)]
    runner = FlowRunner(scripts={"f/bench/noop": lambda value: {"status": "success", "n": value["n"]}})
    total, _out = _timed(lambda: runner.run({"summary": "b", "value": {"modules": modules}}, {}), 3)
    print(f"  {n} trivial script steps (a JS transform reading the previous result each): "
          f"{total * 1000:.0f} ms, {total / n * 1e6:.0f} µs a step")


def bench_runner_real(base: Path) -> None:
    import f.fractal.catalog.items as catalog
    import f.fractal.platform.workspace as workspace
    import f.fractal.platform.yamlio as yamlio
    from f.fractal.catalog.store import git
    from f.fractal.execution.composite import run_composite

    remote = base / "real.git"
    git(None, "init", "-q", "--bare", "-b", "main", str(remote))
    workspace.write_resource("f/fractal/real", "git_repository", {"url": str(remote), "branch": "main"})
    targets = ["f/fractal/real"]
    for name in ("app-workdir", "app-config", "file-checksum"):
        path = ROOT / "resources" / "samples" / "composition" / f"{name}.yaml"
        catalog.save(yamlio.load_untrusted(path.read_text()), targets)
    catalog.save({"apiVersion": "fractal/v1", "kind": "Pipeline", "metadata": {"name": "app-setup"}, "spec": {
        "inputs": {"type": "object", "properties": {"base_dir": {"type": "string"}}, "required": ["base_dir"]},
        "steps": [
            {"id": "workdir", "ref": "entity:app-workdir@1.0.0", "inputs": {"base_dir": {"from": "inputs.base_dir"}}},
            {"id": "config", "ref": "entity:app-config@1.0.0", "inputs": {"workdir": {"from": "steps.workdir.outputs.workdir"}}},
            {"id": "sum", "ref": "entity:file-checksum@1.0.0",
             "inputs": {"config_path": {"from": "steps.config.outputs.config_path"}}}]}},
        targets)
    found = catalog.get("pipeline:app-setup", targets)
    (base / "apps").mkdir()
    t0 = time.perf_counter()
    result = run_composite(found, "local", {"base_dir": str(base / "apps")}, "apply", targets)
    wall = time.perf_counter() - t0
    assert result["status"] == "success", result["error"]
    timings = result["timings"]
    entity_steps = [s["result"] for s in result["steps"] if s["type"] == "script" and s["result"].get("kind") == "Entity"]
    tool = sum(r["timings"]["tool_s"] for r in entity_steps)
    pack = sum(r["timings"]["prepare_s"] + r["timings"]["finish_s"] for r in entity_steps)
    steps = timings["scripts"]
    print(f"  real run, 3 Ansible entities + 1 result step on local: wall {wall:.2f}s; resolve + plan before any step "
          f"{timings['prepare_s'] * 1000:.0f} ms")
    print(f"  steps' own run time {timings['steps_own_s']:.2f}s, of which the tool (ansible-runner) {tool:.2f}s")
    overhead = timings["runner_overhead_s"]
    print(f"  local flow runner overhead: {overhead * 1000:.1f} ms total, {overhead / steps * 1000:.1f} ms a step "
          f"({overhead / timings['steps_own_s'] * 100:.2f}% of the steps' own time)")
    print(f"  run_item's own overhead (checks, credentials, result): {pack / len(entity_steps) * 1000:.1f} ms an entity step; "
          f"pack total per step (runner + run_item + plan) "
          f"{(timings['runner_overhead_s'] + pack + timings['prepare_s']) / len(entity_steps) * 1000:.1f} ms (target ≤ 50 ms)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="smoke-run size: 1,000 entities")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.entities = min(args.entities, 1_000)
    base = Path(tempfile.mkdtemp(prefix="fractal-bench-compose-"))
    os.environ["FRACTAL_HOME"] = str(base / "home")
    os.environ.setdefault("FRACTAL_ACTOR", "bench <bench@localhost>")
    for var in ("WM_TOKEN", "BASE_INTERNAL_URL", "WM_BASE_URL", "FRACTAL_LLM_MODEL"):
        os.environ.pop(var, None)
    try:
        git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
        print(f"Fractal composition benchmark ({git_version}, {os.cpu_count()} cores)")
        print("\nRetrieval")
        bench_retrieval(base, args.entities)
        print("\nCompilation")
        bench_compilation()
        print("\nLocal flow runner")
        bench_runner_trivial()
        bench_runner_real(base)
    finally:
        if args.keep:
            print(f"\nkept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
