"""Generation benchmark: the pack's own time per LLM attempt, and offline generation end to end.

    PYTHONPATH=.:scripts .venv/bin/python bench/bench_generate.py [--runs N]

The LLM is the scripted OpenAI-compatible server of the test suite (tests/support/llm_server.py) on
127.0.0.1: its answer is instant, so what a generation costs beyond a bare litellm round-trip to the
same server is the pack's own work (prompt, guard, parse, validate). Prints figures and ratios;
asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts"), str(ROOT / "tests")]
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ["FRACTAL_HOME"] = tempfile.mkdtemp(prefix="fractal-bench-gen-")
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
for var in ("FRACTAL_LLM_MODEL", "WM_TOKEN"):
    os.environ.pop(var, None)

TF = {
    "main.tf": 'resource "local_file" "motd" {\n  filename = var.path\n  content  = "hello"\n}\n',
    "variables.tf": 'variable "path" {\n  type        = string\n  description = "Where"\n  default     = "/tmp/motd"\n}\n',
    "versions.tf": 'terraform {\n  required_providers {\n    local = {\n      source  = "hashicorp/local"\n'
                   '      version = "~> 2.5"\n    }\n  }\n}\n',
}
K8S = {"namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n"}
PLAYBOOK = {"site.yml": "- name: Motd\n  hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
                        "    - name: Write\n      ansible.builtin.copy:\n        dest: /tmp/motd\n        content: hi\n"
                        "        mode: \"0644\"\n"}
OFFLINE_NEEDS = {
    "terraform": "a 3-node K3s cluster on Exoscale in ch-gva-2",
    "kubernetes": "déployer nginx avec 3 répliques sur k3s",
    "secret": "la clé API Vast.ai",
    "ansible": "install git and htop on this machine",
}


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:8.1f} ms  (min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f})"


def answer(tool: str, files: dict[str, str], provider: str) -> str:
    return json.dumps({"name": "bench", "description": "bench", "tool": tool, "providers": [provider], "files": files})


def bench_llm(runs: int) -> None:
    from support.llm_server import ScriptedLLM

    import f.fractal.platform.llm as llm
    from f.fractal.generation.generator import generate
    from f.fractal.tools.validate import validate_entity

    start = time.perf_counter()
    litellm = llm._litellm()
    print(f"litellm import (once per process): {(time.perf_counter() - start) * 1000:.0f} ms")
    cases = [("terraform", TF, "local"), ("kubernetes", K8S, "k3s"), ("ansible", PLAYBOOK, "local")]
    for tool, files, provider in cases:
        reply = answer(tool, files, provider)
        with ScriptedLLM([reply]) as server:
            raw = partial(litellm.completion, model="openai/scripted", messages=[{"role": "user", "content": "hello"}],
                          api_base=server.url, api_key="x")
            raw()  # warm the client
            n = runs if tool != "ansible" else max(2, runs // 4)
            raw_times = timed(raw, n)
            one = partial(generate, "a motd file", tool=tool, provider=provider, llm=server.config)
            draft = one()["draft"]
            gen_times = timed(one, n)
        checks = timed(partial(validate_entity, draft, tool=tool), n)
        own = statistics.median(gen_times) - statistics.median(raw_times)
        ratio = statistics.median(gen_times) / statistics.median(raw_times)
        print(f"\n[{tool}] one attempt, scripted answer ({n} runs)")
        print(f"  bare litellm round-trip    {ms(raw_times)}")
        print(f"  generate(), 1 attempt      {ms(gen_times)}")
        print(f"  pack's own time / attempt  {own * 1000:8.1f} ms  ({ratio:.1f}× the round-trip)")
        print(f"    of which tool checkers   {ms(checks)}")
        print(f"    the rest (prompt, guard, parse, build)  {(own - statistics.median(checks)) * 1000:.1f} ms")
    broken = answer("terraform", {**TF, "main.tf": 'resource "local_file" "m" {\n  x = \n}\n'}, "local")
    with ScriptedLLM([broken, answer("terraform", TF, "local")] * (runs + 1)) as server:
        two = timed(lambda: generate("a motd file", tool="terraform", provider="local", llm=server.config), max(3, runs // 2))
    print(f"\n[terraform] repaired on the 2nd attempt: {ms(two)}  → {statistics.median(two) / 2 * 1000:.1f} ms per attempt")


def bench_offline(runs: int) -> None:
    from f.fractal.generation.generator import generate

    print("\nOffline generation end to end (match + fill + render + validate)")
    for tool, need in OFFLINE_NEEDS.items():
        n = runs if tool != "ansible" else max(2, runs // 4)
        values = timed(lambda need=need: generate(need, llm="offline"), n)
        print(f"  {tool:<11} {ms(values)}   {need!r}")
    from f.fractal.generation.offline import pick

    match = timed(lambda: pick("un cluster K3s de 5 nœuds sur Exoscale à de-fra-1"), runs * 20)
    print(f"  matching alone            {ms(match)}")


def bench_process() -> None:
    """A Windmill job is a fresh process: start-to-result of an offline generation vs a bare import."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}"}
    bare = [sys.executable, "-c", "import git, yaml"]
    job = [sys.executable, "-c", "from f.fractal.generate_entity import main; main('la clé API Exoscale', llm='offline')"]
    base = timed(lambda: subprocess.run(bare, env=env, check=True), 3)
    gen = timed(lambda: subprocess.run(job, env=env, check=True), 3)
    print("\nProcess start-to-result (what a Windmill job pays)")
    print(f"  python -c 'import git, yaml'          {ms(base)}")
    print(f"  generate_entity (offline, secret)     {ms(gen)}  ({statistics.median(gen) / statistics.median(base):.1f}×)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=8)
    args = parser.parse_args()
    bench_llm(args.runs)
    bench_offline(args.runs)
    bench_process()


if __name__ == "__main__":
    main()
