#!/usr/bin/env python
"""Catalog at scale (issue 17): each figure at 1k, 10k and 30k entities, with the 10k/1k ratio.

Figures, not a test: nothing is asserted. Each is measured beside its baseline in the same run,
alternated (baseline, command, baseline, …) so load from other jobs falls on both:

  cold open     first `scripts/fractal call f/fractal/list_items` on an empty cache | `git clone`
  warm          list / search / filter / get / retrieval search, in-process (median) | target 50 ms
  fresh process `scripts/fractal call` of get_item, list_items (plain and query), offline
                compose_pipeline | `python -c "import git, yaml"`: get/list ≤ 1.5×, compose ≤ 3×
  save          one changed entity saved to 3 repos | one `git add` + `commit`, then 3 `git push`
                (branch + tag, atomic) of the same files: ≤ 1.5×
  contention    (smallest size ≥ 1,000) 50 processes saving new items into one repo from 5 caches:
                push attempts per save (the retry cap is catalog.MAX_PUSH_ATTEMPTS)

Catalogs: N entities, N/10 pipelines, N/100 meta-pipelines from bench_catalog's generator, written
with the pack's layout, one commit, one tag per item, `git pack-refs --all`. The bare repo is cached
under $FRACTAL_BENCH_CACHE (default /tmp/fractal-bench-scale), keyed by size and FIXTURE_FORMAT,
because a 30k catalog takes minutes to build. Everything else lives in a temp dir removed at the end.

Run: PYTHONPATH=.:scripts .venv/bin/python bench/bench_scale.py [--sizes 1000,10000,30000] [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
for _p in (str(ROOT / "bench"), str(ROOT / "scripts"), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from bench_catalog import IDENT, generate, make_home, run  # noqa: E402
from fractal_local.runner import call  # noqa: E402

import f.fractal.catalog.layout as layout  # noqa: E402
import f.fractal.catalog.pages as pages  # noqa: E402
from f.fractal.model.item import KIND_SLUGS, summary  # noqa: E402

FIXTURE_FORMAT = "3"  # bump when the on-disk layout of a catalog changes
CACHE = Path(os.environ.get("FRACTAL_BENCH_CACHE", "/tmp/fractal-bench-scale"))
PY = str(ROOT / ".venv" / "bin" / "python")
FRACTAL = str(ROOT / "scripts" / "fractal")
WARM_MS = 50.0  # DESIGN §8 "tens of milliseconds", read as ≤ 50 ms (issue 17)
PROC_RATIO, COMPOSE_RATIO, SAVE_RATIO, SCALE_RATIO = 1.5, 3.0, 1.5, 1.25
NEED = "a postgres cluster with its backup and monitoring"


def log(msg: str) -> None:
    print(f"[scale] {msg}", file=sys.stderr, flush=True)


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def cpu(fn: Callable[[], Any]) -> float:
    """This process's CPU time for fn, in ms (children and waits excluded)."""
    t0 = time.process_time()
    fn()
    return (time.process_time() - t0) * 1000


# ------------------------------------------------------------------ fixtures


def fixture(n: int) -> Path:
    """The cached bare repo of an n-entity catalog (built once)."""
    repo = CACHE / f"v{FIXTURE_FORMAT}-{n}.git"
    if repo.is_dir():
        return repo
    CACHE.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    items = generate(n, n // 10, n // 100, seed=7)
    work = Path(tempfile.mkdtemp(prefix="scale-build-", dir=CACHE))
    try:
        run(["git", "init", "-q", "-b", "main", str(work / "w")])
        rows = []
        for item in items.values():
            layout.write_item(work / "w", layout.item_dir("", item["kind"], item["metadata"]["name"]), item)
            rows.append(summary(item))
        for rel, text in pages.all_readmes("", rows).items():
            (work / "w" / rel).parent.mkdir(parents=True, exist_ok=True)
            (work / "w" / rel).write_text(text)
        run(["git", "add", "-A"], cwd=work / "w")
        run(["git", "commit", "-q", "--no-verify", "-m", f"fractal: import {len(items)} items (bench)"], cwd=work / "w")
        head = run(["git", "rev-parse", "HEAD"], cwd=work / "w").strip()
        tags = "".join(f"create refs/tags/{KIND_SLUGS[i['kind']]}/{i['metadata']['name']}/v1.0.0 {head}\n"
                       for i in items.values())
        run(["git", "update-ref", "--stdin"], cwd=work / "w", stdin=tags)
        bare = work / "bare.git"
        run(["git", "init", "-q", "--bare", "-b", "main", str(bare)])
        run(["git", "push", "-q", f"file://{bare}", "refs/heads/main:refs/heads/main", "refs/tags/*:refs/tags/*"], cwd=work / "w")
        run(["git", "pack-refs", "--all"], cwd=bare)
        run(["git", "gc", "-q"], cwd=bare)
        os.replace(bare, repo)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log(f"built the {n}-entity fixture in {time.perf_counter() - t0:.0f} s: {repo}")
    return repo


def mirror(src: Path, dst: Path) -> Path:
    run(["git", "clone", "-q", "--mirror", str(src), str(dst)])
    return dst


def home_with(path: Path, remotes: dict[str, Path]) -> Path:
    """A FRACTAL_HOME with one git_repository resource per remote (f/fractal/bench_<name>)."""
    return make_home(path, {name: f"file://{remote}" for name, remote in remotes.items()})


def t(name: str) -> str:
    return f"f/fractal/bench_{name}"


# ------------------------------------------------------------------ measures


class Figures:
    """figures[measure][size] = (fractal ms, baseline ms or None)."""

    def __init__(self) -> None:
        self.data: dict[str, dict[int, tuple[float, float | None]]] = {}
        self.targets: dict[str, str] = {}

    def add(self, measure: str, size: int, value: float, base: float | None = None, target: str = "") -> None:
        self.data.setdefault(measure, {})[size] = (value, base)
        if target:
            self.targets[measure] = target
        ratio = f" = {value / base:.2f}× baseline {base:.0f} ms" if base else ""
        log(f"{size}: {measure}: {value:.1f} ms{ratio}")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def fresh(args: list[str], env: dict[str, str], spent: list[float] | None = None) -> float:
    """Wall time of one fresh process (it must succeed); its CPU time (with its own children) appended to `spent`."""
    before = children_cpu()

    def go() -> None:
        proc = subprocess.run(args, env=env, capture_output=True, timeout=600)
        if proc.returncode:
            raise RuntimeError(f"{' '.join(args[:4])}: {proc.stderr.decode(errors='replace')[-600:]}")
    wall = timed(go)
    if spent is not None:
        spent.append(children_cpu() - before)
    return wall


Medians = tuple[float, dict[str, float]]


def alternated(commands: dict[str, list[str]], env: dict[str, str], runs: int) -> tuple[Medians, Medians]:
    """Medians of the baseline and of each command, run in turn baseline, command, baseline, …: wall times,
    then CPU times (the process and its children: what a shared machine's load does not inflate as much)."""
    base_args = [PY, "-c", "import git, yaml"]
    base: list[float] = []
    base_cpu: list[float] = []
    got: dict[str, list[float]] = {name: [] for name in commands}
    got_cpu: dict[str, list[float]] = {name: [] for name in commands}
    for args in commands.values():  # warm-up: disk cache, clone freshness
        fresh(args, env)
    for _ in range(runs):
        for name, args in commands.items():
            base.append(fresh(base_args, env, base_cpu))
            got[name].append(fresh(args, env, got_cpu[name]))
    return ((statistics.median(base), {name: statistics.median(v) for name, v in got.items()}),
            (statistics.median(base_cpu), {name: statistics.median(v) for name, v in got_cpu.items()}))


def measure_size(n: int, runs: int, figs: Figures, tmp: Path, contention: bool) -> None:
    src = fixture(n)
    remotes = {name: mirror(src, tmp / f"{name}.git") for name in ("a", "s1", "s2", "s3", "x1", "x2", "x3")}
    home = home_with(tmp / "home", {k: v for k, v in remotes.items() if not k.startswith("x")})
    os.environ["FRACTAL_HOME"] = str(home)
    os.environ.setdefault("FRACTAL_ACTOR", "Bench <bench@localhost>")
    env = {**os.environ, **IDENT}
    entity = f"postgres-cluster-{n // 2:05d}"
    probe = call("f/fractal/list_items", {"targets": [t("a")], "kind": "entity", "limit": 1, "offset": n // 2})["items"]
    if probe:
        entity = probe[0]["name"]
    # cold open: empty cache vs git clone, alternated
    cold, clone = [], []
    for i in range(1 if n >= 10_000 else 2):
        cold_home = home_with(tmp / f"cold{i}", {"a": remotes["a"]})
        cold.append(fresh([FRACTAL, "call", "f/fractal/list_items", json.dumps({"targets": [t("a")], "limit": 1})],
                          {**env, "FRACTAL_HOME": str(cold_home)}))
        clone.append(fresh(["git", "clone", "-q", f"file://{remotes['a']}", str(tmp / f"clone{i}")], env))
    figs.add("cold open: first list (clone + index) vs git clone", n, statistics.median(cold), statistics.median(clone))
    # warm, in-process
    reads: dict[str, Callable[[], Any]] = {
        "warm list (limit 50)": lambda: call("f/fractal/list_items", {"targets": [t("a")]}),
        "warm search (list query)": lambda: call("f/fractal/list_items", {"targets": [t("a")], "query": "postgres backup"}),
        "warm filter kind+tool+provider": lambda: call(
            "f/fractal/list_items", {"targets": [t("a")], "kind": "entity", "tool": "terraform", "provider": "exoscale"}),
        "warm get latest": lambda: call("f/fractal/get_item", {"ref": f"entity:{entity}", "targets": [t("a")]}),
    }
    for ttl in ("2", "0"):
        os.environ["FRACTAL_FETCH_TTL_S"] = ttl
        for what, fn in reads.items():
            fn()
            label = what if ttl != "0" else f"{what}, fetch every call"
            figs.add(label, n, statistics.median(timed(fn) for _ in range(runs)), target=f"≤ {WARM_MS:.0f} ms")
            if ttl != "0":  # this process's CPU alone: what the read costs when the machine is not shared
                figs.add(f"{what} (CPU time)", n, statistics.median(cpu(fn) for _ in range(runs)))
    os.environ.pop("FRACTAL_FETCH_TTL_S")
    # fresh processes, alternated with the bare-Python baseline
    commands = {
        "process: get_item": [FRACTAL, "call", "f/fractal/get_item",
                              json.dumps({"ref": f"entity:{entity}", "targets": [t("a")]})],
        "process: list_items": [FRACTAL, "call", "f/fractal/list_items", json.dumps({"targets": [t("a")]})],
        "process: list_items query": [FRACTAL, "call", "f/fractal/list_items",
                                      json.dumps({"targets": [t("a")], "query": "postgres backup"})],
        "process: compose_pipeline offline": [FRACTAL, "call", "f/fractal/compose_pipeline",
                                              json.dumps({"need": NEED, "targets": [t("a")]})],
    }
    (base, got), (base_cpu, got_cpu) = alternated(commands, env, runs)
    for what, value in got.items():
        ratio = COMPOSE_RATIO if "compose" in what else PROC_RATIO
        figs.add(what, n, value, base, target=f"≤ {ratio}× python -c 'import git, yaml'")
        figs.add(f"{what} (CPU time)", n, got_cpu[what], base_cpu)
    measure_save(n, runs, figs, tmp, remotes, entity, env)
    if contention:
        measure_contention(n, figs, tmp, remotes["s1"], env)


def measure_save(n: int, runs: int, figs: Figures, tmp: Path, remotes: dict[str, Path], entity: str,
                 env: dict[str, str]) -> None:
    """One changed entity to s1..s3 (fractal, threads) vs one commit pushed to x1..x3 (raw git), alternated."""
    raw = tmp / "raw"
    run(["git", "clone", "-q", f"file://{remotes['x1']}", str(raw)])
    for name in ("x2", "x3"):
        run(["git", "remote", "add", name, f"file://{remotes[name]}"], cwd=raw)
        run(["git", "fetch", "-q", name], cwd=raw)
    targets = [t("s1"), t("s2"), t("s3")]
    item = call("f/fractal/get_item", {"ref": f"entity:{entity}", "targets": targets})["item"]
    mine, theirs = [], []
    for i in range(runs + 1):
        item["metadata"]["description"] = f"{item['metadata']['description'].split(' #')[0]} #{i}"
        spent = timed(lambda: call("f/fractal/save_item", {"item": item, "targets": targets}))
        result = call("f/fractal/get_item", {"ref": f"entity:{entity}", "targets": [t("s1")]})
        commit, version = result["commit"], result["item"]["metadata"]["version"]
        clone = remotes["s1"]
        paths = run(["git", "diff-tree", "-r", "--name-only", "--no-commit-id", commit], cwd=clone).split()
        for path in paths:  # the same files, written untimed
            shown = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=clone, capture_output=True)
            if shown.returncode:
                (raw / path).unlink(missing_ok=True)
            else:
                (raw / path).parent.mkdir(parents=True, exist_ok=True)
                (raw / path).write_bytes(shown.stdout)
        t0 = time.perf_counter()
        raw_save(raw, paths, f"entity:{entity}@{version}", f"refs/tags/entity/{entity}/v{version}", env)
        base = (time.perf_counter() - t0) * 1000
        if i:  # the first round warms both sides up
            mine.append(spent)
            theirs.append(base)
    figs.add("save one entity to 3 repos vs 1 commit + 3 pushes", n, statistics.median(mine), statistics.median(theirs),
             target=f"≤ {SAVE_RATIO}×")


def raw_save(raw: Path, paths: list[str], ref: str, tag: str, env: dict[str, str]) -> None:
    """The raw baseline: one git add + commit, pushed (branch and tag, atomically) to three remotes."""
    run(["git", "add", "-A", "--", *paths], cwd=raw, env=env)
    run(["git", "commit", "-q", "--no-verify", "-m", f"fractal: save {ref}"], cwd=raw, env=env)
    for remote in ("origin", "x2", "x3"):
        run(["git", "push", "-q", "--atomic", remote, "HEAD:refs/heads/main", f"HEAD:{tag}"], cwd=raw, env=env)


SAVE_SNIPPET = (
    "import json, sys\nfrom fractal_local.runner import call\n"
    "r = call('f/fractal/save_item', {'item': json.loads(sys.argv[1]), 'targets': [sys.argv[2]]})\n"
    "print(json.dumps(r['targets'][0]))"
)


def measure_contention(n: int, figs: Figures, tmp: Path, remote: Path, env: dict[str, str]) -> None:
    """50 processes, 5 caches, one repo: every save lands; push attempts per save."""
    homes = [home_with(tmp / f"worker{w}", {"s1": remote}) for w in range(5)]
    for home in homes:  # each cache cloned first: the figure is about the races, not the clones
        subprocess.run([PY, "-c", "from fractal_local.runner import call; call('f/fractal/list_items', {'limit': 1,"
                        f" 'targets': ['{t('s1')}']}})"], env={**env, "FRACTAL_HOME": str(home)}, check=True)
    procs = []
    t0 = time.perf_counter()
    for i in range(50):
        item = {"apiVersion": "fractal/v1", "kind": "Entity",
                "metadata": {"name": f"contention-{i:02d}", "description": "a concurrent save"},
                "spec": {"tool": "ansible", "files": {"site.yml": "- hosts: all\n  tasks: []\n"}}}
        procs.append(subprocess.Popen([PY, "-c", SAVE_SNIPPET, json.dumps(item), t("s1")], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, env={**env, "FRACTAL_HOME": str(homes[i % 5])}))
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        results.append(json.loads(out) if proc.returncode == 0 else {"status": "error", "error": err.decode()[-300:]})
    wall = (time.perf_counter() - t0) * 1000
    attempts = [r.get("attempts", 0) for r in results]
    saved = sum(r.get("status") == "saved" for r in results)
    present = run(["git", "ls-tree", "--name-only", "main", "entities/"], cwd=remote).count("entities/contention-")
    figs.add(f"contention: 50 saves, 5 caches ({saved} saved, {present} present; push attempts max {max(attempts)}, "
             f"total {sum(attempts)})", n, wall)


# ------------------------------------------------------------------ report


def report(figs: Figures, sizes: list[int]) -> str:
    head = ["measure", *(f"{s // 1000}k" if s >= 1000 else str(s) for s in sizes)]
    ratio = 1000 in sizes and 10_000 in sizes
    if ratio:
        head.append("10k/1k")
    head += ["target"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for measure, by_size in figs.data.items():
        cells = [measure]
        for size in sizes:
            value, base = by_size.get(size, (None, None)) if size in by_size else (None, None)
            if value is None:
                cells.append("")
            elif base:
                cells.append(f"{value:.0f} ms ({value / base:.2f}× {base:.0f})")
            else:
                cells.append(f"{value:.1f} ms" if value < 1000 else f"{value / 1000:.2f} s")
        if ratio:
            one, ten = by_size.get(1000), by_size.get(10_000)
            cells.append(f"{ten[0] / one[0]:.2f}×" if one and ten else "")
        cells.append(figs.targets.get(measure, ""))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,30000", help="entity counts, comma-separated")
    parser.add_argument("--runs", type=int, default=7, help="repetitions of each timed figure")
    parser.add_argument("--quick", action="store_true", help="smoke run: 300 and 1000 entities, 3 runs")
    parser.add_argument("--contention-only", type=int, metavar="N", help="only the contention figure, at N entities")
    args = parser.parse_args()
    if args.contention_only:
        figs = Figures()
        with tempfile.TemporaryDirectory(prefix="scale-contention-") as tmp:
            repo = mirror(fixture(args.contention_only), Path(tmp) / "s1.git")
            measure_contention(args.contention_only, figs, Path(tmp), repo, {**os.environ, **IDENT})
        print(report(figs, [args.contention_only]))
        return
    sizes = [300, 1000] if args.quick else [int(s) for s in args.sizes.split(",")]
    runs = 3 if args.quick else args.runs
    figs = Figures()
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix=f"scale-{n}-") as tmp:
            measure_size(n, runs, figs, Path(tmp), contention=n == min(sizes, key=lambda s: (s < 1000, s)))
    print(f"\nbench_scale: sizes {sizes}, {runs} runs, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print(report(figs, sizes))


if __name__ == "__main__":
    main()
