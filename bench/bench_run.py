#!/usr/bin/env python
"""Execution benchmark (issue 4, item 9; DESIGN §7 "pack overhead per step ≤ 50 ms"): figures, not a test.

One Ansible entity (a localhost play writing a file and setting an output) is saved to a local
bare catalog, then, interleaved round by round in the same run:

  bare         `ansible-playbook -i inv site.yml -e @vars.json` as a process (the tool alone)
  runner       ansible_runner.run on the same play, fresh private data dir (the library we wrap)
  run_item     f/fractal/run_item main() in-process, warm (what a flow runner's step costs)
  job          `python -m fractal_local call f/fractal/run_item` as a fresh process (a Windmill job)

The pack's own overhead is everything but the tool's process: run_item − bare, split into the
part ansible-runner adds (runner − bare) and the part Fractal adds (run_item − runner: catalog
read, launch checks, credentials, work dir, log, result). Medians; no assertions.

Run: PYTHONPATH=.:scripts .venv/bin/python bench/bench_run.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _p in (str(ROOT / "scripts"), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

PLAY = """\
- name: Bench play
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Write a file
      ansible.builtin.copy:
        dest: "{{ out_dir }}/bench.txt"
        content: "{{ message }}\\n"
    - name: Expose the path
      ansible.builtin.set_fact:
        written: "{{ out_dir }}/bench.txt"
"""


def _entity() -> dict[str, Any]:
    return {"apiVersion": "fractal/v1", "kind": "Entity", "metadata": {"name": "bench-writer", "description": "bench"},
            "spec": {"tool": "ansible", "providers": ["local"], "files": {"site.yml": PLAY},
                     "inputs": {"type": "object", "required": ["out_dir"], "properties": {
                         "out_dir": {"type": "string"}, "message": {"type": "string", "default": "hello"}}},
                     "outputs": {"written": {"description": "the file"}}}}


def _setup(base: Path) -> str:
    os.environ["FRACTAL_HOME"] = str(base / "home")
    import f.fractal.catalog.items as catalog
    import f.fractal.platform.workspace as workspace

    repo = base / "catalog.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(repo)], check=True)
    workspace.write_resource("f/fractal/catalog", "git_repository", {"url": str(repo), "branch": "main", "folder": ""})
    return str(catalog.save(_entity())["ref"])


def _bare(base: Path, out: Path) -> float:
    work = base / "bare"
    work.mkdir(exist_ok=True)
    (work / "site.yml").write_text(PLAY)
    (work / "inv").write_text(f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    (work / "vars.json").write_text(json.dumps({"out_dir": str(out), "message": "hello"}))
    exe = str(Path(sys.executable).parent / "ansible-playbook")
    t = time.perf_counter()
    done = subprocess.run([exe, "-i", "inv", "site.yml", "-e", "@vars.json"], cwd=work, capture_output=True,
                          env={**os.environ, "ANSIBLE_NOCOLOR": "1"})
    elapsed = time.perf_counter() - t
    assert done.returncode == 0, done.stdout
    return elapsed


def _runner(out: Path) -> float:
    import ansible_runner

    work = Path(tempfile.mkdtemp(prefix="bench-runner-"))
    (work / "project").mkdir()
    (work / "project" / "site.yml").write_text(PLAY)
    inventory = {"all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "ANSIBLE_NOCOLOR": "1"}
    t = time.perf_counter()
    r = ansible_runner.run(private_data_dir=str(work), playbook="site.yml", inventory=inventory, envvars=env,
                           extravars={"out_dir": str(out), "message": "hello"}, quiet=True, suppress_env_files=True)
    elapsed = time.perf_counter() - t
    shutil.rmtree(work)
    assert r.status == "successful"
    return elapsed


def _run_item(ref: str, out: Path) -> tuple[float, dict[str, Any]]:
    from f.fractal.run_item import main

    t = time.perf_counter()
    result = main(ref, inputs={"out_dir": str(out)})
    elapsed = time.perf_counter() - t
    assert result["status"] == "success", result["log"]
    return elapsed, result


def _job(ref: str, out: Path) -> float:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}"}
    args = json.dumps({"ref": ref, "inputs": {"out_dir": str(out)}})
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "fractal_local", "call", "f/fractal/run_item", args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    assert done.returncode == 0, done.stderr[-2000:]
    return elapsed


def _parts(ref: str) -> dict[str, float]:
    """Fractal's own steps, timed alone (warm), many times: catalog read, launch checks."""
    import f.fractal.catalog.items as catalog
    import f.fractal.execution.entity as execute

    n = 20
    t = time.perf_counter()
    for _ in range(n):
        resolved = catalog.get(ref)
    get_s = (time.perf_counter() - t) / n
    t = time.perf_counter()
    for _ in range(n):
        run = execute.prepare(resolved, None, {"out_dir": "/tmp"}, "apply")
    prepare_s = (time.perf_counter() - t) / n
    from f.fractal.runners import ansible

    from f.fractal.tools.runs import RunLog

    t = time.perf_counter()
    for _ in range(n):
        work = Path(tempfile.mkdtemp(prefix="bench-dir-"))
        ansible._prepare_dir(run, work)
        shutil.rmtree(work)
    dir_s = (time.perf_counter() - t) / n
    lines = ["PLAY [Bench play] " + "*" * 60, "TASK [Write a file] " + "*" * 60, "changed: [localhost]"] * 4
    t = time.perf_counter()
    for _ in range(n):
        log = RunLog(Path(tempfile.mkstemp(prefix="bench-log-")[1]), ["a-secret-value"], None)
        for line in lines:
            log.write(line)
        log.close()
        log.path.unlink()
    log_s = (time.perf_counter() - t) / n
    return {"catalog.get": get_s, "launch checks (prepare)": prepare_s, "work dir + extra vars + inventory": dir_s,
            "log: 12 events redacted + written": log_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="fractal-bench-run-"))
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    try:
        ref = _setup(base)
        out = base / "out"
        out.mkdir()
        _run_item(ref, out)  # warm-up: clone cache, imports
        times: dict[str, list[float]] = {"bare": [], "runner": [], "run_item": [], "job": []}
        inner: dict[str, list[float]] = {"prepare_s": [], "tool_s": [], "finish_s": []}
        for _ in range(args.rounds):
            times["bare"].append(_bare(base, out))
            times["runner"].append(_runner(out))
            elapsed, result = _run_item(ref, out)
            times["run_item"].append(elapsed)
            for k in inner:
                inner[k].append(result["timings"][k])
            times["job"].append(_job(ref, out))
        _report(times, inner, _parts(ref), args.rounds)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


def _report(times: dict[str, list[float]], inner: dict[str, list[float]], parts: dict[str, float], rounds: int) -> None:
    med = {k: statistics.median(v) for k, v in times.items()}
    low = {k: min(v) for k, v in times.items()}
    ms = lambda s: f"{s * 1000:8.1f} ms"  # noqa: E731
    print(f"Execution benchmark: one localhost play, {rounds} interleaved rounds, medians\n")
    print(f"  {'':<37}{'median':>11}{'min':>12}   median ratio")
    names = {"bare": "bare ansible-playbook process", "runner": "ansible_runner.run (library)",
             "run_item": "run_item main(), in-process (warm)", "job": "run_item as a fresh process (job)"}
    for key, label in names.items():
        print(f"  {label:<37}{ms(med[key])}{ms(low[key])}   {med[key] / med['bare']:.2f}× bare")
    print("\nOverhead beyond the tool's own process (differences of medians | of minimums; noisy on a shared machine):")
    for label, a, b in (("run_item − bare (all of it)", "run_item", "bare"), ("  of which ansible-runner", "runner", "bare"),
                        ("  of which Fractal", "run_item", "runner"), ("job − bare (+ process start, imports)", "job", "bare")):
        print(f"  {label:<37}{ms(med[a] - med[b])}{ms(low[a] - low[b])}")
    print("\nInside run_item (its own timings, medians):")
    print(f"  launch checks, log open, work dir    {ms(statistics.median(inner['prepare_s']))}")
    print(f"  runner + tool                        {ms(statistics.median(inner['tool_s']))}")
    print(f"  result (redaction, log close)        {ms(statistics.median(inner['finish_s']))}")
    print("\nFractal steps alone (warm, mean of 20) — the pack's own per-step overhead:")
    for name, seconds in parts.items():
        print(f"  {name:<37}{ms(seconds)}")
    total = sum(parts.values()) + statistics.median(inner["finish_s"])
    print(f"  {'sum (+ result)':<37}{ms(total)}   DESIGN §7 target: ≤ 50 ms")


if __name__ == "__main__":
    sys.exit(main())
