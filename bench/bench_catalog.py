#!/usr/bin/env python
"""Catalog benchmark (issue 2, item 8; DESIGN §7): figures and ratios, not a test.

Builds a big catalog (10,000 entities, 1,000 pipelines, 100 meta-pipelines by default) straight
into a working clone with `layout.write_item` (one bulk commit, then `--history` single-item save
commits through `git fast-import` so `git log` has a realistic depth), pushes it to bare repos in a
temp dir, then measures, each beside its raw-Git or bare-Python baseline in the same run:

  cold open        first list_items on an empty cache (clone + index build) | `git clone`
  warm reads       list / search / filtered list / get latest / get old version, in-process and
                   as a fresh `python -c` process | `python -c "import git, yaml"`
  save             one changed item to 1 and to 3 repos | raw `git add` + `commit` + `push`
  concurrency      N processes saving different items into one repo from several worker caches
  remote down      one of three remotes stopped (git daemon): 2 saved + 1 pending, then sync

Run: PYTHONPATH=.:scripts .venv/bin/python bench/bench_catalog.py [--quick] [--entities N ...]
Everything lives in a temp dir (FRACTAL_HOME included) removed at the end (unless --keep).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _p in (str(ROOT / "scripts"), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import f.fractal.catalog.items as catalog  # noqa: E402
import f.fractal.catalog.layout as layout  # noqa: E402
import f.fractal.catalog.pages as pages  # noqa: E402
import f.fractal.platform.workspace as workspace  # noqa: E402
import f.fractal.platform.yamlio as yamlio  # noqa: E402
from f.fractal.catalog.store import Clone, load_target  # noqa: E402
from f.fractal.model.item import KIND_SLUGS, normalize_item, summary  # noqa: E402

PYTHONPATH = f"{ROOT}:{ROOT / 'scripts'}"
IDENT = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
         "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@localhost"}
CALL_SNIPPET = (
    "import json, sys\nfrom fractal_local.runner import call\n"
    "print(json.dumps(call(sys.argv[1], json.loads(sys.argv[2])), default=str))"
)
SAVE_SNIPPET = (
    "import json, sys\nfrom f.fractal.catalog.items import save\n"
    "print(json.dumps(save(json.loads(sys.argv[1]), sys.argv[2].split(','))))"
)
WARM_TARGET_MS = 100.0  # DESIGN §7: "tens of milliseconds"
SAVE_RATIO_TARGET = 1.5  # DESIGN §7: save to three repos within 1.5× raw commit + pushes
PROC_TARGET_MS = 50.0  # our reading of "close to" the bare `import git, yaml` process

COMPONENTS = ["postgres", "redis", "k3s", "nginx", "vpc", "bucket", "dns", "vault", "kafka", "gpu-node",
              "mysql", "grafana", "prometheus", "loki", "minio", "traefik", "keycloak", "rabbitmq", "elastic", "jenkins"]
ROLES = ["cluster", "backup", "replica", "gateway", "network", "firewall", "monitor", "worker", "proxy", "storage"]
PROVIDERS = ["exoscale", "k3s", "runpod", "vastai", "local"]  # the pack's providers: others are refused
TAGS = ["prod", "staging", "dev", "gpu", "database", "network", "observability", "security", "storage", "ci"]
TOOLS = ["terraform"] * 5 + ["ansible"] * 3 + ["helm", "kubernetes"]


# ------------------------------------------------------------------ helpers


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def run(args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, stdin: str | bytes | None = None,
        check: bool = True, timeout: float = 600) -> str:
    """Run a command; its stdout, or a RuntimeError with its stderr."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run(args, cwd=cwd, env=env or {**os.environ, **IDENT}, input=data, capture_output=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-800:]}")
    return proc.stdout.decode(errors="replace")


def ms(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def median_ms(fn: Callable[[], Any], n: int) -> float:
    fn()  # one untimed warm-up
    return statistics.median(ms(fn) for _ in range(n))


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.2f} s" if value >= 10_000 else f"{value:.1f} ms"


@dataclass
class Row:
    section: str
    what: str
    value: float | None = None  # ms
    base_name: str = ""
    base: float | None = None  # ms
    target: str = ""
    verdict: str = ""
    text: str = ""  # a non-timing result (counts, yes/no)

    @property
    def ratio(self) -> str:
        return f"{self.value / self.base:.2f}×" if self.value and self.base else ""


class Report:
    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.notes: list[str] = []

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        shown = row.text or fmt(row.value)
        log(f"{row.section}: {row.what}: {shown}" + (f" (vs {row.base_name} {fmt(row.base)}, {row.ratio})" if row.base else ""))
        return row

    def print(self, header: str) -> None:
        cols = ["section", "measure", "fractal", "baseline", "base", "ratio", "target", "verdict"]
        table = [[r.section, r.what, r.text or fmt(r.value), r.base_name, fmt(r.base) if r.base else "", r.ratio,
                  r.target, r.verdict] for r in self.rows]
        widths = [max(len(c), *(len(t[i]) for t in table)) for i, c in enumerate(cols)]
        line = "  ".join(f"{{:<{w}}}" for w in widths)
        print(header)
        for note in self.notes:
            print(note)
        print()
        print(line.format(*cols))
        print(line.format(*("-" * w for w in widths)))
        last = ""
        for t in table:
            if t[0] != last and last:
                print()
            print(line.format(*t).rstrip())
            last = t[0]


def verdict(ok: bool) -> str:
    return "ok" if ok else "OVER"


# ------------------------------------------------------------------ the synthetic catalog


def entity_files(tool: str, name: str) -> dict[str, str]:
    ident = name.replace("-", "_")
    if tool == "terraform":
        return {
            "main.tf": f'resource "terraform_data" "{ident}" {{\n  input = {{ size = var.size, region = var.region }}\n}}\n',
            "variables.tf": 'variable "size" {\n  type    = string\n  default = "small"\n}\n\n'
                            'variable "region" {\n  type = string\n}\n',
            "outputs.tf": f'output "id" {{\n  value = terraform_data.{ident}.id\n}}\n',
            "versions.tf": 'terraform {\n  required_version = ">= 1.5"\n}\n',
        }
    if tool == "ansible":
        return {"site.yml": f"- hosts: all\n  gather_facts: false\n  tasks:\n    - name: configure {name}\n"
                            "      ansible.builtin.debug:\n        msg: \"{{{{ size }}}} in {{{{ region }}}}\"\n"}
    if tool == "helm":
        return {"Chart.yaml": f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n", "values.yaml": "size: small\nreplicas: 1\n"}
    return {"manifest.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  size: small\n"}


def make_entity(rng: random.Random, i: int) -> dict[str, Any]:
    comp, role, tool = rng.choice(COMPONENTS), rng.choice(ROLES), rng.choice(TOOLS)
    name = f"{comp}-{role}-{i:05d}"
    providers = [] if rng.random() < 0.1 else sorted(rng.sample(PROVIDERS, rng.randint(1, 2)))
    return {
        "apiVersion": "fractal/v1", "kind": "Entity",
        "metadata": {"name": name, "description": f"{comp} {role} on {', '.join(providers) or 'any provider'} (variant {i})",
                     "tags": sorted(rng.sample(TAGS, rng.randint(1, 3))), "owner": "platform@localhost"},
        "spec": {
            "tool": tool, "providers": providers,
            "inputs": {"type": "object", "required": ["size"], "properties": {
                "size": {"type": "string", "description": "instance size"},
                "region": {"type": "string", "description": "where it runs"}}},
            "outputs": {"id": {"description": "the resource id"}},
            "files": entity_files(tool, name),
        },
    }


def make_composite(rng: random.Random, kind: str, name: str, members: list[str], slug: str) -> dict[str, Any]:
    picked = rng.sample(members, min(len(members), rng.randint(2, 5)))
    steps = [{"id": f"s{j}", "ref": f"{slug}:{m}@1.0.0", "summary": f"step {j}: {m}"} for j, m in enumerate(picked)]
    return {
        "apiVersion": "fractal/v1", "kind": kind,
        "metadata": {"name": name, "description": f"{name}: {len(steps)} {slug}s wired in order",
                     "tags": sorted(rng.sample(TAGS, 2)), "owner": "platform@localhost"},
        "spec": {"provider": rng.choice([*PROVIDERS, None]), "steps": steps,
                 "inputs": {"type": "object", "properties": {"region": {"type": "string", "description": "where"}}}},
    }


def versioned(item: dict[str, Any], version: str) -> dict[str, Any]:
    return {**item, "metadata": {**item["metadata"], "version": version}}


@dataclass
class Catalog:
    items: dict[str, dict[str, Any]]  # 'Kind/name' -> item (API shape, version set)
    rows: dict[str, dict[str, Any]]  # 'Kind/name' -> index row
    entities: list[str]
    history_entity: str  # saved 1.0.0 (bulk), 1.0.1 (deep in the history), 1.0.2 (at the tip)
    deep_entity: str  # only in the bulk commit: `git log -- <it>` walks the whole history
    commits: int


def generate(n_ent: int, n_pipe: int, n_meta: int, seed: int) -> dict[str, dict[str, Any]]:
    rng = random.Random(seed)
    items: dict[str, dict[str, Any]] = {}
    ents = [make_entity(rng, i) for i in range(n_ent)]
    names = [e["metadata"]["name"] for e in ents]
    pipes = [make_composite(rng, "Pipeline", f"{rng.choice(COMPONENTS)}-stack-{i:04d}", names, "entity") for i in range(n_pipe)]
    pnames = [p["metadata"]["name"] for p in pipes]
    metas = [make_composite(rng, "MetaPipeline", f"platform-{i:03d}", pnames, "pipeline") for i in range(n_meta)]
    for raw in (*ents, *pipes, *metas):
        item = versioned(normalize_item(raw), "1.0.0")
        items[f"{item['kind']}/{item['metadata']['name']}"] = item
    return items


def fast_import_history(work: Path, cat_items: dict[str, dict[str, Any]], rows: dict[str, dict[str, Any]],
                        chosen: list[str], history_entity: str) -> int:
    """Append one save commit per chosen entity (v1.0.1, with its tag), framed by two saves of
    history_entity (1.0.1 first, 1.0.2 last), then one commit with the index READMEs in step."""
    out: list[bytes] = []

    def data(text: str) -> None:
        raw = text.encode()
        out.append(b"data %d\n" % len(raw) + raw + b"\n")

    plan = [(history_entity, "1.0.1"), *((n, "1.0.1") for n in chosen), (history_entity, "1.0.2")]
    stamp = int(time.time()) - len(plan) - 10
    for mark, (name, version) in enumerate(plan, 1):
        key = f"Entity/{name}"
        item = versioned(cat_items[key], version)
        cat_items[key], rows[key] = item, summary(item)
        rel = layout.item_dir("", "Entity", name)
        doc, _ = layout.split_files(item)
        out.append(b"commit refs/heads/main\nmark :%d\n" % mark)
        who = b"Bench <bench@localhost> %d +0000\n" % (stamp + mark)
        out.append(b"author " + who + b"committer " + who)
        data(f"fractal: save entity:{name}@{version}\n\nby Bench <bench@localhost>")
        if mark == 1:
            out.append(b"from refs/heads/main^0\n")
        for file, text in ((layout.ITEM_FILE, yamlio.dump(doc)), ("README.md", layout.item_readme(item))):
            out.append(f"M 100644 inline {rel}/{file}\n".encode())
            data(text)
        out.append(b"\n")
        out.append(f"reset refs/tags/entity/{name}/v{version}\nfrom :{mark}\n\n".encode())
    out.append(b"commit refs/heads/main\n")
    out.append(b"committer Bench <bench@localhost> %d +0000\n" % (stamp + len(plan) + 1))
    data("fractal: reindex")
    for rel, text in pages.all_readmes("", list(rows.values())).items():
        out.append(f"M 100644 inline {rel}\n".encode())
        data(text)
    out.append(b"\n")
    run(["git", "fast-import", "--quiet"], cwd=work, stdin=b"".join(out))
    return len(plan) + 1


def build(base: Path, args: argparse.Namespace, report: Report) -> tuple[Path, Catalog]:
    """Write the catalog into a working clone, commit, tag, add the history, push to a bare repo."""
    t0 = time.perf_counter()
    items = generate(args.entities, args.pipelines, args.metas, args.seed)
    t_gen = time.perf_counter()
    work = base / "build"
    run(["git", "init", "-q", "-b", "main", str(work)])
    run(["git", "config", "gc.auto", "0"], cwd=work)
    rows = {}
    for key, item in items.items():
        layout.write_item(work, layout.item_dir("", item["kind"], item["metadata"]["name"]), item)
        rows[key] = summary(item)
    for rel, text in pages.all_readmes("", list(rows.values())).items():
        (work / rel).write_text(text)
    t_write = time.perf_counter()
    run(["git", "add", "-A"], cwd=work)
    when = f"@{int(time.time()) - args.history - 100} +0000"  # before the history commits that follow
    run(["git", "commit", "-q", "--no-verify", "-m", f"fractal: import {len(items)} items (bench)"], cwd=work,
        env={**os.environ, **IDENT, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when})
    head = run(["git", "rev-parse", "HEAD"], cwd=work).strip()
    tags = "".join(f"create refs/tags/{KIND_SLUGS[i['kind']]}/{i['metadata']['name']}/v1.0.0 {head}\n" for i in items.values())
    run(["git", "update-ref", "--stdin"], cwd=work, stdin=tags)
    t_commit = time.perf_counter()
    entities = [k.split("/", 1)[1] for k in items if k.startswith("Entity/")]
    rng = random.Random(args.seed + 1)
    history_entity, deep_entity = entities[len(entities) // 2], entities[len(entities) // 4]
    pool = [n for n in entities if n not in (history_entity, deep_entity)]
    chosen = rng.sample(pool, min(len(pool), args.history))
    commits = 1 + fast_import_history(work, items, rows, chosen, history_entity)
    t_hist = time.perf_counter()
    remote = base / "remotes" / "a.git"
    run(["git", "init", "-q", "--bare", "-b", "main", str(remote)])
    run(["git", "push", "-q", f"file://{remote}", "refs/heads/main:refs/heads/main", "refs/tags/*:refs/tags/*"], cwd=work)
    run(["git", "pack-refs", "--all"], cwd=remote)  # as a server's gc does: 12k loose tags make every push ~4× slower
    t_push = time.perf_counter()
    files = int(run(["git", "ls-files"], cwd=work).count("\n"))
    size = run(["git", "count-objects", "-vH"], cwd=remote)
    pack = next((ln.split(":", 1)[1].strip() for ln in size.splitlines() if ln.startswith("size-pack")), "?")
    shutil.rmtree(work)
    s = "build"
    note = (f"catalog: {args.entities} entities, {args.pipelines} pipelines, {args.metas} meta-pipelines; {files} files, "
            f"{commits} commits, {len(items) + len(chosen) + 2} tags, pack {pack}")
    report.notes.append(note)
    log(note)
    report.add(Row(s, "generate + validate items", (t_gen - t0) * 1000))
    report.add(Row(s, "write folders (layout.write_item) + index", (t_write - t_gen) * 1000))
    report.add(Row(s, "git add + commit + tags", (t_commit - t_write) * 1000))
    report.add(Row(s, f"history: {commits - 2} save commits (fast-import)", (t_hist - t_commit) * 1000))
    report.add(Row(s, "push to the bare repo", (t_push - t_hist) * 1000))
    report.add(Row(s, "build total", (t_push - t0) * 1000))
    return remote, Catalog(items, rows, entities, history_entity, deep_entity, commits)


# ------------------------------------------------------------------ workspace, remotes, raw clones


def make_home(path: Path, urls: dict[str, str]) -> Path:
    """A FRACTAL_HOME holding one git_repository resource per url (f/fractal/bench_<name>)."""
    path.mkdir(parents=True, exist_ok=True)
    saved = os.environ.get("FRACTAL_HOME")
    os.environ["FRACTAL_HOME"] = str(path)
    try:
        for name, url in urls.items():
            workspace.write_resource(f"f/fractal/bench_{name}", "git_repository", {"url": url, "branch": "main"})
    finally:
        if saved is not None:
            os.environ["FRACTAL_HOME"] = saved
    return path


def target(name: str) -> str:
    return f"f/fractal/bench_{name}"


def mirror(src: Path, dst: Path) -> Path:
    """Another bare repo with the same catalog (a local clone: hard-linked objects, all refs)."""
    run(["git", "clone", "-q", "--mirror", str(src), str(dst)])
    return dst


class RawClone:
    """A plain working clone for the raw-Git baseline of a save."""

    def __init__(self, remote: Path, work: Path) -> None:
        self.remote, self.dir = remote, work

    def clone(self) -> float:
        return ms(lambda: run(["git", "clone", "-q", f"file://{self.remote}", str(self.dir)]))

    def prepare(self, item: dict[str, Any], rows: dict[str, dict[str, Any]]) -> list[str]:
        """Write the same files a fractal save writes (untimed); the repo-relative paths."""
        rel = layout.item_dir("", item["kind"], item["metadata"]["name"])
        layout.write_item(self.dir, rel, item)
        paths = [rel]
        for path, text in pages.all_readmes("", list(rows.values())).items():
            file = self.dir / path
            if file.read_text() != text:
                file.write_text(text)
                paths.append(path)
        return paths

    def commit_push(self, paths: list[str], message: str, tag: str) -> float:
        """The timed raw part: git add + git commit + git push (branch and tag, atomically)."""
        def go() -> None:
            run(["git", "add", "-A", "--", *paths], cwd=self.dir)
            run(["git", "commit", "-q", "--no-verify", "-m", message], cwd=self.dir)
            run(["git", "push", "-q", "--atomic", "origin", "HEAD:refs/heads/main", f"HEAD:refs/tags/{tag}"], cwd=self.dir)
        return ms(go)


class Daemon:
    """`git daemon` on 127.0.0.1 serving a folder of bare repos, pushes allowed; stop() = remote down."""

    def __init__(self, base: Path) -> None:
        self.base = base
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}.git"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["git", "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack", f"--base-path={self.base}",
             "--listen=127.0.0.1", f"--port={self.port}", str(self.base)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("git daemon did not start")

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


# ------------------------------------------------------------------ sections


def bench_cold(cat: Catalog, raws: list[RawClone], names: list[str], report: Report) -> None:
    """Cold opens of the three fractal targets, interleaved with raw clones of identical repos."""
    s = "cold open"
    fractal, raw = [], []
    for rc, name in zip(raws, names, strict=True):
        raw.append(rc.clone())
        fractal.append(ms(lambda n=name: catalog.list_items(targets=[target(n)], limit=50)))
    report.add(Row(s, "first list_items (clone + checkout + index), median of 3", statistics.median(fractal),
                   "git clone", statistics.median(raw)))
    (Clone(load_target(target(names[0]))).dir / ".git" / "fractal-index.sqlite").unlink()
    rebuild = ms(lambda: catalog.list_items(targets=[target(names[0])], limit=50))
    report.add(Row(s, "index rebuild only (derived index dropped)", rebuild))
    total = catalog.list_items(targets=[target(names[0])], limit=1)["total"]
    report.add(Row(s, "items listed", text=str(total), target=str(len(cat.items)), verdict=verdict(total == len(cat.items))))


def bench_warm(cat: Catalog, args: argparse.Namespace, report: Report) -> None:
    """Warm reads in-process (median of N) and as fresh processes beside bare interpreter starts."""
    t = [target("a")]
    deep, hist = f"entity:{cat.deep_entity}", f"entity:{cat.history_entity}"
    reads: list[tuple[str, str, dict[str, Any], Callable[[], Any]]] = [
        ("list (no filter, limit 50)", "f/fractal/list_items", {"targets": t},
         lambda: catalog.list_items(targets=t, limit=50)),
        ("search 'postgres backup'", "f/fractal/list_items", {"targets": t, "query": "postgres backup"},
         lambda: catalog.list_items(targets=t, query="postgres backup")),
        ("filter kind+tool+provider", "f/fractal/list_items",
         {"targets": t, "kind": "entity", "tool": "terraform", "provider": "exoscale"},
         lambda: catalog.list_items(targets=t, kind="entity", tool="terraform", provider="exoscale")),
        ("get latest, item saved at the tip", "f/fractal/get_item", {"targets": t, "ref": hist},
         lambda: catalog.get(hist, t)),
        (f"get latest, item {cat.commits} commits deep", "f/fractal/get_item", {"targets": t, "ref": deep},
         lambda: catalog.get(deep, t)),
        ("get old version (@1.0.1)", "f/fractal/get_item", {"targets": t, "ref": f"{hist}@1.0.1"},
         lambda: catalog.get(f"{hist}@1.0.1", t)),
    ]
    if catalog.get(f"{hist}@1.0.1", t)["item"]["metadata"]["version"] != "1.0.1":
        raise RuntimeError("set-up: the old version is not readable")
    for label, _, _, fn in reads:
        value = median_ms(fn, args.runs)
        report.add(Row("warm, in-process", label, value, target=f"≤ {WARM_TARGET_MS:.0f} ms",
                       verdict=verdict(value <= WARM_TARGET_MS)))

    env = {**os.environ, "PYTHONPATH": PYTHONPATH}
    py = sys.executable

    def proc(argv: list[str]) -> float:
        return median_ms(lambda: run([py, *argv], env=env), args.proc_runs)

    base = proc(["-c", "import git, yaml"])
    report.add(Row("warm, fresh process", "python -c pass", proc(["-c", "pass"])))
    report.add(Row("warm, fresh process", "python -c 'import git, yaml' (baseline)", base))
    for label, path, call_args, _ in reads:
        value = proc(["-c", CALL_SNIPPET, path, json.dumps(call_args)])
        report.add(Row("warm, fresh process", label, value, "import git,yaml", base,
                       target=f"≤ base + {PROC_TARGET_MS:.0f} ms", verdict=verdict(value <= base + PROC_TARGET_MS)))


def changed(item: dict[str, Any], k: int) -> dict[str, Any]:
    """The item with a new description (the version is left for the save to bump)."""
    meta = {k2: v for k2, v in item["metadata"].items() if k2 != "version"}
    meta["description"] = f"{meta['description'].split(' [rev')[0]} [rev {k}]"
    return {**item, "metadata": meta}


def bench_save(cat: Catalog, raws: list[RawClone], args: argparse.Namespace, report: Report) -> None:
    """A changed item saved by fractal to 1 and 3 repos, interleaved with the raw Git of the same change."""
    s = "save"
    for n_repos in (1, 3):
        name = cat.entities[1 if n_repos == 1 else 2]
        key = f"Entity/{name}"
        names = ["a", "b", "c"][:n_repos]
        fractal_ms, raw_ms, attempts = [], [], []
        raw_item = cat.items[key]
        for k in range(args.save_runs + 1):  # run 0 is an untimed warm-up
            item = changed(cat.items[key], k)
            t0 = time.perf_counter()
            result = catalog.save(item, [target(n) for n in names])
            elapsed = (time.perf_counter() - t0) * 1000
            if not result["ok"] or any(r["status"] != "saved" for r in result["targets"]):
                raise RuntimeError(f"save failed: {json.dumps(result)[:600]}")
            attempts.extend(r.get("attempts", 1) for r in result["targets"])
            # The raw baseline: the same files in plain clones, then add + commit + push in each.
            raw_item = versioned(item, result["version"])
            rows = {**cat.rows, key: summary(raw_item)}
            raw_total = 0.0
            for rc in raws[:n_repos]:
                paths = rc.prepare(raw_item, rows)
                raw_total += rc.commit_push(paths, f"fractal: save entity:{name}@{result['version']}",
                                            f"entity/{name}/v{result['version']}")
            if k:
                fractal_ms.append(elapsed)
                raw_ms.append(raw_total)
        cat.items[key], cat.rows[key] = raw_item, summary(raw_item)
        f_med, r_med = statistics.median(fractal_ms), statistics.median(raw_ms)
        label = "to 1 repo" if n_repos == 1 else "to 3 repos (parallel)"
        raw_label = "raw add+commit+push" if n_repos == 1 else "3× raw add+commit+push"
        report.add(Row(s, f"changed item {label}, median of {args.save_runs}", f_med, raw_label, r_med,
                       target=f"≤ {SAVE_RATIO_TARGET}×", verdict=verdict(f_med <= SAVE_RATIO_TARGET * r_med)))
        if max(attempts) > 1:
            report.add(Row(s, f"push attempts {label}", text=f"max {max(attempts)}"))
    new = changed(cat.items[f"Entity/{cat.entities[3]}"], 0)
    new["metadata"] = {**new["metadata"], "name": "brand-new-entity"}
    report.add(Row(s, "new item to 1 repo (one run)", ms(lambda: catalog.save(new, [target("a")]))))


def bench_concurrent(cat: Catalog, base: Path, urls: dict[str, str], args: argparse.Namespace, report: Report) -> None:
    """N separate processes saving N different new items into repo a, spread over worker caches."""
    s = "concurrency"
    homes = [Path(os.environ["FRACTAL_HOME"])]
    main_clone = Clone(load_target(target("a"))).dir
    for w in range(1, args.workers):
        home = make_home(base / f"worker{w}", urls)
        homes.append(home)
        saved = os.environ["FRACTAL_HOME"]
        os.environ["FRACTAL_HOME"] = str(home)
        try:  # another worker with a warm cache: a copy of ours (cold opens are measured above)
            shutil.copytree(main_clone, Clone(load_target(target("a"))).dir, symlinks=True)
        finally:
            os.environ["FRACTAL_HOME"] = saved
    template = cat.items[f"Entity/{cat.entities[4]}"]
    names = [f"concurrent-{i:03d}" for i in range(args.concurrent)]
    procs = []
    t0 = time.perf_counter()
    for i, name in enumerate(names):
        item = changed(template, i)
        item["metadata"] = {**item["metadata"], "name": name}
        env = {**os.environ, "PYTHONPATH": PYTHONPATH, "FRACTAL_HOME": str(homes[i % len(homes)])}
        procs.append(subprocess.Popen([sys.executable, "-c", SAVE_SNIPPET, json.dumps(item), target("a")], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    results = []
    for p in procs:
        out, err = p.communicate(timeout=900)
        try:
            results.append(json.loads(out) if p.returncode == 0 else {"error": err.decode()[-300:]})
        except json.JSONDecodeError:
            results.append({"error": out.decode()[-300:]})
    wall = (time.perf_counter() - t0) * 1000
    saved_ok = sum(1 for r in results if r.get("ok"))
    attempts = [t.get("attempts", 1) for r in results for t in r.get("targets", [])]
    remote = base / "remotes" / "a.git"
    tree = run(["git", "ls-tree", "--name-only", "main", "entities/"], cwd=remote).split()
    present = sum(1 for n in names if f"entities/{n}" in tree)
    tags = run(["git", "for-each-ref", "--format=%(refname)", "refs/tags/entity/"], cwd=remote)
    tagged = sum(1 for n in names if f"refs/tags/entity/{n}/v1.0.0" in tags)
    report.add(Row(s, f"{args.concurrent} processes ({len(homes)} worker caches) saving new items into one repo: wall", wall))
    report.add(Row(s, "per save (wall / N)", wall / max(1, args.concurrent)))
    report.add(Row(s, "saves reporting ok", text=f"{saved_ok}/{args.concurrent}", target="all",
                   verdict=verdict(saved_ok == args.concurrent)))
    report.add(Row(s, "items present in the remote / tagged", text=f"{present}/{tagged} of {args.concurrent}", target="all",
                   verdict=verdict(present == tagged == args.concurrent)))
    report.add(Row(s, "push attempts per save", text=f"max {max(attempts, default=0)}, total {sum(attempts)}"))
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        log(f"first concurrent error: {errors[0]}")


def bench_down(cat: Catalog, base: Path, report: Report) -> None:
    """Three remotes, the git:// one stopped: 2 saved + 1 pending; restarted: sync pushes it."""
    s = "remote down"
    served = base / "served"
    served.mkdir()
    mirror(base / "remotes" / "c.git", served / "d.git")
    daemon = Daemon(served)
    daemon.start()
    try:
        workspace.write_resource(target("d"), "git_repository", {"url": daemon.url("d"), "branch": "main"})
        report.add(Row(s, "cold open over git:// (127.0.0.1)", ms(lambda: catalog.list_items(targets=[target("d")], limit=1))))
        raw_dir = base / "raw-d"
        report.add(Row(s, "git clone over git:// (127.0.0.1)",
                       ms(lambda: run(["git", "clone", "-q", daemon.url("d"), str(raw_dir)]))))
        shutil.rmtree(raw_dir)
        daemon.stop()
        item = changed(cat.items[f"Entity/{cat.entities[5]}"], 0)
        item["metadata"] = {**item["metadata"], "name": "survives-an-outage"}
        t0 = time.perf_counter()
        result = catalog.save(item, [target("b"), target("c"), target("d")])
        report.add(Row(s, "save to b, c and d (d down)", (time.perf_counter() - t0) * 1000))
        statuses = sorted(r["status"] for r in result["targets"])
        report.add(Row(s, "save result", text=f"{statuses.count('saved')} saved + {statuses.count('pending')} pending",
                       target="2 saved + 1 pending", verdict=verdict(statuses == ["pending", "saved", "saved"])))
        daemon.start()
        t0 = time.perf_counter()
        synced = catalog.sync([target("d")])
        report.add(Row(s, "sync after the remote is back", (time.perf_counter() - t0) * 1000))
        version = result["version"]
        versions, tags = [], []
        for repo in (base / "remotes" / "b.git", base / "remotes" / "c.git", served / "d.git"):
            text = run(["git", "show", f"main:entities/survives-an-outage/{layout.ITEM_FILE}"], cwd=repo, check=False)
            versions.append(((yamlio.load_trusted(text) or {}).get("metadata") or {}).get("version"))
            tags.append(run(["git", "rev-parse", "-q", "--verify", f"refs/tags/entity/survives-an-outage/v{version}"], cwd=repo,
                            check=False).strip())
        waiting = catalog.pending(load_target(target("d")))
        lost = not (synced["ok"] and all(tags) and versions == [version] * 3 and not waiting)
        report.add(Row(s, "item in b / c / d after sync", text=" / ".join(str(v) for v in versions) + f"; outbox {len(waiting)}"))
        report.add(Row(s, "nothing lost", text="no" if lost else "yes", target="yes", verdict=verdict(not lost)))
    finally:
        daemon.stop()


# ------------------------------------------------------------------ main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--quick", action="store_true", help="a smoke run: 1,000/100/10 items, fewer runs")
    p.add_argument("--entities", type=int, default=None, help="entities (default 10000, quick 1000)")
    p.add_argument("--pipelines", type=int, default=None, help="pipelines (default 1000, quick 100)")
    p.add_argument("--metas", type=int, default=None, help="meta-pipelines (default 100, quick 10)")
    p.add_argument("--history", type=int, default=None, help="extra single-item save commits (default 1000, quick 100)")
    p.add_argument("--runs", type=int, default=None, help="in-process runs per warm read (default 10, quick 5)")
    p.add_argument("--proc-runs", type=int, default=None, help="fresh processes per read (default 5, quick 3)")
    p.add_argument("--save-runs", type=int, default=None, help="saves per case (default 5, quick 2)")
    p.add_argument("--concurrent", type=int, default=None, help="concurrent saving processes (default 50, quick 10)")
    p.add_argument("--workers", type=int, default=2, help="worker caches the concurrent saves spread over (default 2)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--keep", action="store_true", help="keep the temp dir (printed) for profiling")
    args = p.parse_args(argv)
    full = {"entities": 10_000, "pipelines": 1_000, "metas": 100, "history": 1_000, "runs": 10, "proc_runs": 5,
            "save_runs": 5, "concurrent": 50}
    quick = {"entities": 1_000, "pipelines": 100, "metas": 10, "history": 100, "runs": 5, "proc_runs": 3,
             "save_runs": 2, "concurrent": 10}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.entities < 10 or args.pipelines < 2 or args.metas < 1 or args.history < 0 or args.workers < 1:
        p.error("need at least 10 entities, 2 pipelines, 1 meta-pipeline, 1 worker and history ≥ 0")
    args.concurrent = max(1, min(args.concurrent, 200))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="fractal-bench-"))
    for var in ("WM_TOKEN", "WM_BASE_URL", "BASE_INTERNAL_URL", "FRACTAL_DEFAULT_TARGETS"):
        os.environ.pop(var, None)
    os.environ["FRACTAL_ACTOR"] = "Bench <bench@localhost>"
    report = Report()
    started = time.perf_counter()
    log(f"temp dir {base}")
    try:
        remote_a, cat = build(base, args, report)
        remotes = {"a": remote_a}
        for name in ("b", "c", "r1", "r2", "r3"):
            remotes[name] = mirror(remote_a, base / "remotes" / f"{name}.git")
        urls = {n: f"file://{p}" for n, p in remotes.items() if not n.startswith("r")}
        os.environ["FRACTAL_HOME"] = str(make_home(base / "home", urls))
        raws = [RawClone(remotes[f"r{i}"], base / f"raw{i}") for i in (1, 2, 3)]
        bench_cold(cat, raws, ["a", "b", "c"], report)
        bench_warm(cat, args, report)
        bench_save(cat, raws, args, report)
        bench_concurrent(cat, base, urls, args, report)
        bench_down(cat, base, report)
    finally:
        if args.keep:
            log(f"kept {base} (FRACTAL_HOME={base / 'home'})")
        else:
            shutil.rmtree(base, ignore_errors=True)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    sha = run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=False).strip() or "?"
    dirty = run(["git", "status", "--porcelain", "--", "f/fractal"], cwd=ROOT, check=False).strip()
    report.notes.insert(0, f"code: {sha}{' + uncommitted changes in f/fractal' if dirty else ''}")
    header = (f"\nFractal catalog bench — {when}, {os.cpu_count()} CPUs, {run(['git', '--version']).strip()}, "
              f"Python {sys.version.split()[0]}; total {time.perf_counter() - started:.0f} s")
    report.print(header)
    return 0


if __name__ == "__main__":
    sys.exit(main())
