"""The improvement curve of the learning loop: generation scored after 0, 5, 10 and 20 task/solution pairs learned.

    PYTHONPATH=.:scripts:tests .venv/bin/python bench/bench_learning.py [--quick] [--verbose]

Ten topics (seven Ansible, three Terraform), three pairs each, written as three engineers would: two go to
the training pool (20 pairs, learned in a fixed order that covers each topic once in the first ten), the
third is held out — its task is the need, its solution the reference. A need's own pair is never learned.
After 0, 5, 10 and 20 pairs learned (through submit_solution, into a real bare Git repo), every held-out
need is generated twice and scored:
- offline (`llm="offline"`): **valid** (a draft that passes the tool's checks) and **specifics honoured**
  (every value the need states is in the draft, and the reference's key names — its packages, resource
  types — too: a valid draft of something else is not counted);
- with the scripted LLM (tests/support/llm_server.py, a stand-in: it answers with the first example its
  prompt shows, as a model imitating it would, and with a bare placeholder play without one), one attempt:
  **first-attempt pass** (the answer passes the checks and the need's conformance, with the reference's
  key names). It measures whether the prompt carries a learned example that fits, not a model's skill.
--quick keeps the Terraform topics only (the Ansible checks take seconds each). Prints the curve as a
Markdown table. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts"), str(ROOT / "tests")]
HOME = tempfile.mkdtemp(prefix="fractal-bench-learning-")
os.environ["FRACTAL_HOME"] = HOME
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
os.environ["FRACTAL_KNOWLEDGE_TARGETS"] = "f/fractal/knowledge"
for var in ("FRACTAL_LLM_MODEL", "FRACTAL_LLM_API_BASE", "FRACTAL_LLM_API_KEY", "WM_TOKEN", "FRACTAL_DEFAULT_TARGETS"):
    os.environ.pop(var, None)

from support.git import init_bare  # noqa: E402
from support.llm_server import ScriptedLLM  # noqa: E402

import f.fractal.platform.workspace as workspace  # noqa: E402
from f.fractal.generation.generator import generate  # noqa: E402
from f.fractal.model.errors import FractalError  # noqa: E402
from f.fractal.submit_solution import main as submit_solution  # noqa: E402

LEVELS = (0, 5, 10, 20)


def service(title: str, package: str, path: str, line: str, regexp: str, service_name: str) -> dict[str, Any]:
    play = f"""- name: {title}
  hosts: all
  become: true
  tasks:
    - name: Install {package}
      ansible.builtin.package:
        name: {package}
        state: present
    - name: Configure {package}
      ansible.builtin.lineinfile:
        path: {path}
        regexp: '{regexp}'
        line: '{line}'
        create: true
        mode: "0644"
    - name: Run {service_name}
      ansible.builtin.service:
        name: {service_name}
        state: started
        enabled: true
"""
    return {"tool": "ansible", "files": {"site.yml": play}}


def exoscale(resource: str, body: str) -> dict[str, Any]:
    versions = ('terraform {\n  required_providers {\n    exoscale = {\n      source  = "exoscale/exoscale"\n'
                '      version = "~> 0.62"\n    }\n  }\n}\n')
    return {"tool": "terraform", "providers": ["exoscale"],
            "files": {"main.tf": f'resource "{resource}" "this" {{\n{body}}}\n', "versions.tf": versions}}


def chrony(pool: str) -> dict[str, Any]:
    return service("Time sync", "chrony", "/etc/chrony/chrony.conf", f"pool {pool} iburst", "^pool ", "chrony")


def redis(port: int) -> dict[str, Any]:
    return service("Redis", "redis-server", "/etc/redis/redis.conf", f"port {port}", "^port ", "redis-server")


def memcached(port: int) -> dict[str, Any]:
    return service("Memcached", "memcached", "/etc/memcached.conf", f"-p {port}", "^-p ", "memcached")


def sshd(port: int) -> dict[str, Any]:
    return service("SSH server", "openssh-server", "/etc/ssh/sshd_config", f"Port {port}", "^Port ", "ssh")


def postfix(relay: str) -> dict[str, Any]:
    return service("Mail relay", "postfix", "/etc/postfix/main.cf", f"relayhost = [{relay}]", "^relayhost", "postfix")


def rsyslog(host: str) -> dict[str, Any]:
    return service("Log forwarding", "rsyslog", "/etc/rsyslog.d/90-forward.conf", f"*.* @@{host}:514", "^\\*\\.\\*", "rsyslog")


def nginx(port: int) -> dict[str, Any]:
    return service("Web server", "nginx", "/etc/nginx/conf.d/site.conf", f"listen {port};", "listen", "nginx")


def network(zone: str, name: str) -> dict[str, Any]:
    return exoscale("exoscale_private_network", f'  zone = "{zone}"\n  name = "{name}"\n')


def bucket_sg(name: str) -> dict[str, Any]:
    return exoscale("exoscale_security_group", f'  name        = "{name}"\n  description = "managed by terraform"\n')


def eip(zone: str) -> dict[str, Any]:
    return exoscale("exoscale_elastic_ip", f'  zone        = "{zone}"\n  description = "service address"\n')


@dataclass
class Pair:
    topic: str
    task: str
    solution: dict[str, Any]
    keys: tuple[str, ...]  # names a right draft carries (from the reference solution)


TOPICS: list[tuple[str, tuple[str, ...], list[tuple[str, dict[str, Any]]]]] = [  # topic, keys, 3 pairs (2 pool, 1 held out)
    ("chrony", ("chrony",), [
        ("install and configure chrony with pool ntp.example.org", chrony("ntp.example.org")),
        ("chrony time synchronisation using the pool 0.debian.pool.ntp.org", chrony("0.debian.pool.ntp.org")),
        ("configure chrony to use the pool time.example.net", chrony("time.example.net"))]),
    ("redis", ("redis-server",), [
        ("install redis listening on port 6380", redis(6380)),
        ("redis server on port 6390 for the cache", redis(6390)),
        ("set up a redis server on port 6400", redis(6400))]),
    ("network", ("exoscale_private_network",), [
        ("an exoscale private network in ch-gva-2", network("ch-gva-2", "lab")),
        ("private network on exoscale in at-vie-1 for the backends", network("at-vie-1", "backends")),
        ("a private network on exoscale in de-fra-1", network("de-fra-1", "shop"))]),
    ("sshd", ("openssh-server",), [
        ("configure the ssh server to listen on port 2222", sshd(2222)),
        ("move sshd to port 2200", sshd(2200)),
        ("ssh server on port 2022", sshd(2022))]),
    ("rsyslog", ("rsyslog",), [
        ("forward all logs with rsyslog to logs.example.com", rsyslog("logs.example.com")),
        ("rsyslog forwarding to the collector syslog.example.org", rsyslog("syslog.example.org")),
        ("forward logs with rsyslog to collector.example.net", rsyslog("collector.example.net"))]),
    ("memcached", ("memcached",), [
        ("install memcached on port 11212", memcached(11212)),
        ("memcached cache listening on port 11311", memcached(11311)),
        ("memcached on port 11411", memcached(11411))]),
    ("security-group", ("exoscale_security_group",), [
        ("an exoscale security group named web", bucket_sg("web")),
        ("security group on exoscale called db", bucket_sg("db")),
        ("create an exoscale security group named cache", bucket_sg("cache"))]),
    ("postfix", ("postfix",), [
        ("postfix relaying mail through smtp.example.com", postfix("smtp.example.com")),
        ("configure postfix with the relay host mail.example.org", postfix("mail.example.org")),
        ("postfix sending through the relay relay.example.net", postfix("relay.example.net"))]),
    ("nginx", ("nginx",), [
        ("nginx web server listening on port 8080", nginx(8080)),
        ("install nginx and serve on port 8081", nginx(8081)),
        ("an nginx site on port 8088", nginx(8088))]),
    ("elastic-ip", ("exoscale_elastic_ip",), [
        ("an exoscale elastic ip in ch-gva-2", eip("ch-gva-2")),
        ("elastic ip on exoscale in de-muc-1 for the load balancer", eip("de-muc-1")),
        ("reserve an exoscale elastic ip in at-vie-2", eip("at-vie-2"))]),
]


def dataset(quick: bool) -> tuple[list[Pair], list[Pair]]:
    """(the training pool in learning order, the held-out needs with their references)."""
    topics = [t for t in TOPICS if not quick or t[2][0][1]["tool"] == "terraform"]
    pool = [Pair(name, *topic_pairs[i], keys) for i in (0, 1) for name, keys, topic_pairs in topics]
    held = [Pair(name, *topic_pairs[2], keys) for name, keys, topic_pairs in topics]
    return pool, held


_VALUE = r"\b(?:[a-z0-9-]+\.)+[a-z]{2,}\b|\b\d{3,5}\b|\b[a-z]{2}-[a-z]{2,4}-\d\b"  # a host, a port, a zone


def stated(need: str) -> list[str]:
    """The values a need states (hosts, ports, zones): a right draft carries each."""
    return re.findall(_VALUE, need)


def honours(draft: dict[str, Any], pair: Pair) -> bool:
    text = json.dumps(draft["spec"], ensure_ascii=False)
    return all(v in text for v in stated(pair.task)) and all(k in text for k in pair.keys)


def imitate(body: dict[str, Any]) -> str:
    """The scripted model: the first example of its prompt, the need's values put where the example's were (in its
    inputs and its files), as a model imitating it would; a bare placeholder play without an example."""
    system = body["messages"][0]["content"]
    found = re.search(r"```json\n(\{.*?\})\n```", system, re.DOTALL)
    if not found:
        return json.dumps({"name": "placeholder", "tool": "ansible",
                           "files": {"site.yml": "- name: Placeholder\n  hosts: all\n  tasks: []\n"}})
    answer = found.group(1)
    example = json.loads(answer)
    values = iter(stated(body["messages"][-1]["content"].split("\n", 1)[0]))
    for prop in (example.get("inputs") or {}).get("properties", {}).values():
        default = prop.get("default")
        if isinstance(default, (str, int)) and not isinstance(default, bool) and re.fullmatch(_VALUE, str(default)):
            value = next(values, None)
            if value is not None:
                answer = answer.replace(json.dumps(default), json.dumps(int(value) if value.isdigit() else value))
                answer = answer.replace(str(default), value)
    return answer


def score(held: list[Pair], llm: ScriptedLLM, verbose: bool) -> dict[str, int]:
    totals = {"valid": 0, "honoured": 0, "first_attempt": 0}
    for pair in held:
        row = []
        try:
            out = generate(pair.task, llm="offline")
            ok, right = out["report"]["ok"], honours(out["draft"], pair)
            totals["valid"] += ok
            totals["honoured"] += ok and right
            made = "rune" if out["draft"]["provenance"].get("rune") else "template"
            row.append(f"offline {made} {'honoured' if right else 'off-target'}")
        except FractalError as e:
            row.append(f"offline {e.code}")
        try:
            out = generate(pair.task, llm=llm.config, attempts=1)
            passed = honours(out["draft"], pair)
            totals["first_attempt"] += passed
            row.append(f"llm {'pass' if passed else 'off-target'} ({len(out['draft']['provenance'].get('runes', []))} runes)")
        except FractalError as e:
            row.append(f"llm {e.code}: {e.message[:90]}")
        if verbose:
            print(f"    {pair.task[:60]!r:<64} {'; '.join(row)}")
    return totals


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="the Terraform topics only")
    parser.add_argument("--verbose", action="store_true", help="one line per need and level")
    args = parser.parse_args()
    remote = init_bare(Path(HOME) / "knowledge.git")
    workspace.write_resource("f/fractal/knowledge", "git_repository", {"url": str(remote), "branch": "main"})
    pool, held = dataset(args.quick)
    levels = [n for n in LEVELS if n <= len(pool)] if not args.quick else [0, 2, 4, len(pool)]
    rows, learned, started = [], 0, time.perf_counter()
    with ScriptedLLM([imitate]) as llm:
        for level in levels:
            for pair in pool[learned:level]:
                submit_solution(pair.task, pair.solution, author="bench")
            learned = level
            if args.verbose:
                print(f"  {level} pairs learned")
            rows.append((level, score(held, llm, args.verbose)))
    n = len(held)
    print(f"\nLearning curve: {n} held-out needs, pool of {len(pool)} pairs, {time.perf_counter() - started:.0f} s\n")
    print("| pairs learned | valid (offline) | specifics honoured (offline) | first-attempt pass (scripted LLM) |")
    print("|---:|---:|---:|---:|")
    for level, t in rows:
        print(f"| {level} | {t['valid']}/{n} | {t['honoured']}/{n} | {t['first_attempt']}/{n} |")


if __name__ == "__main__":
    main()
