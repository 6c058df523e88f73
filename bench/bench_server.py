"""Local server benchmark (issue 13): requests per second and p50/p99 under concurrency, errors, slow clients.

    PYTHONPATH=.:scripts .venv/bin/python bench/bench_server.py [--quick] [--requests N]

The server is `scripts/fractal serve` in its own process on 127.0.0.1 (4 job slots), over a bare Git
catalog of 20 entities in a temp dir. The load comes from threads of this process, one keep-alive
connection each, bounded in count (N requests per level) and time (60 s timeouts). Baselines measured
in the same run: the script called in-process (`runner.call`, what a job costs without the server), the
same calls from 4 warm processes (the ceiling for 4 job slots), `GET /api/version` (HTTP, no job), and
a job's writes to the job store (SQLite) alone.
Then 200 `list_items` at concurrency 50 (the case that reset 54 connections on the old http.server),
and 100 silent clients holding connections open while the load runs. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts"), str(ROOT / "tests")]
HOME = Path(tempfile.mkdtemp(prefix="fractal-bench-server-"))
os.environ.update(FRACTAL_HOME=str(HOME / "home"), FRACTAL_ACTOR="Bench <bench@localhost>",
                  LITELLM_LOCAL_MODEL_COST_MAP="True")
os.environ.pop("WM_TOKEN", None)
TOKEN = "bench-token"


def _catalog(entities: int) -> str:
    from support.items import entity

    import f.fractal.catalog.items as catalog
    import f.fractal.platform.workspace as workspace

    bare = HOME / "catalog.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    workspace.write_resource("f/fractal/catalog", "git_repository", {"url": str(bare), "branch": "main", "folder": ""})
    for i in range(entities):
        catalog.save(entity(f"web-{i}"))
    return "f/fractal/catalog"


def _start_server() -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {**os.environ, "FRACTAL_API_TOKEN": TOKEN, "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}"}
    proc = subprocess.Popen([sys.executable, "-m", "fractal_local", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if _request(port, "GET", "/health")[0] in (200, 503):
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def _request(port: int, method: str, path: str, body: dict[str, object] | None = None,
             conn: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {TOKEN}", **({"Content-Type": "application/json"} if data else {})}
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()


def load(port: int, method: str, path: str, body: dict[str, object] | None, concurrency: int,
         requests: int) -> dict[str, float]:
    """`requests` calls from `concurrency` threads, each on its own keep-alive connection."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    todo = iter(range(requests))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in iter(lambda: next(todo, None), None):
            start = time.perf_counter()
            try:
                status, _ = _request(port, method, path, body, conn)
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            with lock:
                latencies.append(time.perf_counter() - start)
                errors[0] += status != 200
        conn.close()

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(worker)
    wall = time.perf_counter() - start
    latencies.sort()
    return {"rps": len(latencies) / wall, "p50": statistics.median(latencies) * 1000,
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, "errors": errors[0],
            "n": len(latencies)}


def row(name: str, c: int, r: dict[str, float]) -> None:
    print(f"| {name:<32} | {c:>3} | {r['n']:>5.0f} | {r['rps']:>8.1f} | {r['p50']:>8.1f} | {r['p99']:>8.1f} | "
          f"{r['errors']:>6.0f} |")


def _call(job: tuple[str, dict[str, object]]) -> None:
    from fractal_local.runner import call

    call(*job)


def pool_rps(path: str, args: dict[str, object], n: int) -> float:
    """The same calls without the server: 4 forked processes (as many as the server's job slots), warm."""
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.map(_call, [(path, args)] * 4)
        start = time.perf_counter()
        pool.map(_call, [(path, args)] * n, chunksize=1)
        return n / (time.perf_counter() - start)


def in_process(fn: Callable[[], object], runs: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(runs):
        fn()
    return (time.perf_counter() - start) / runs * 1000


def store_cost(jobs: int, result: object) -> float:
    """ms a job spends in the job store (SQLite under $FRACTAL_HOME/jobs): its insert, its start, its end."""
    import uuid

    from fractal_local.jobs import Job
    from fractal_local.jobstore import JobStore

    store = JobStore(HOME / "store" / "jobs.sqlite3")
    start = time.perf_counter()
    for _ in range(jobs):
        job = Job(str(uuid.uuid4()), "f/fractal/list_items", HOME, "0:0", 300.0, fingerprint="0" * 64)
        store.insert(job.row())
        job.status, job.started_at = "running", time.time()
        store.update(job.row())
        job.status, job.result = "success", result
        store.update(job.row())
    return (time.perf_counter() - start) / jobs * 1000


def silent_clients(port: int, count: int) -> list[socket.socket]:
    """Connections that send half a request head and then nothing."""
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(b"POST /api/r/fractal/items/list HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    return socks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: 24 requests per level")
    parser.add_argument("--requests", type=int, default=0, help="requests per level (default 128, --quick 24)")
    opts = parser.parse_args()
    n = opts.requests or (24 if opts.quick else 128)
    target = _catalog(20)
    from fractal_local.runner import call

    list_args: dict[str, object] = {"targets": [target]}
    get_args: dict[str, object] = {"ref": "entity:web-7", "targets": [target]}
    base_list = in_process(lambda: call("f/fractal/list_items", list_args), 10)
    base_get = in_process(lambda: call("f/fractal/get_item", get_args), 10)
    print(f"baseline, in-process runner.call: list_items {base_list:.1f} ms, get_item {base_get:.1f} ms")
    stored = store_cost(n, call("f/fractal/list_items", list_args))
    print(f"job store, a job's three writes (list_items' result): {stored:.2f} ms")
    pooled = {name: pool_rps(f"f/fractal/{name}", args, n) for name, args in (("list_items", list_args),
                                                                                ("get_item", get_args))}
    print(f"baseline, 4 warm processes calling runner.call, no server: list_items {pooled['list_items']:.1f} req/s, "
          f"get_item {pooled['get_item']:.1f} req/s")
    proc, port = _start_server()
    try:
        print(f"\nserver: scripts/fractal serve on 127.0.0.1:{port}, 4 job slots, {n} requests per level\n")
        print("| request                          |   c |     n |    req/s |  p50 ms  |  p99 ms  | errors |")
        print("|---|---|---|---|---|---|---|")
        for c in (1, 8, 32, 64):
            row("GET /api/version (no job)", c, load(port, "GET", "/api/version", None, c, n))
        for c in (1, 8, 32, 64):
            row("POST /api/r/fractal/items/list", c, load(port, "POST", "/api/r/fractal/items/list", list_args, c, n))
        for c in (1, 8, 32, 64):
            row("POST /api/r/fractal/items/get", c, load(port, "POST", "/api/r/fractal/items/get", get_args, c, n))
        row("list_items, 200 at c=50", 50, load(port, "POST", "/api/r/fractal/items/list", list_args, 50, 200))
        socks = silent_clients(port, 100)
        row("list_items, 100 silent clients", 8, load(port, "POST", "/api/r/fractal/items/list", list_args, 8, n))
        start = time.monotonic()
        dropped = 0
        for s in socks:
            try:
                dropped += s.recv(1) == b""
            except OSError:
                dropped += 1
            s.close()
        print(f"\nsilent clients: {dropped} of {len(socks)} dropped by the server within "
              f"{time.monotonic() - start:.1f} s after the load (header timeout 15 s from connect)")
        deep = b"[" * 5000 + b"]" * 5000
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/api/r/fractal/items/list", body=deep,
                     headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        print(f"5,000-deep JSON body: HTTP {conn.getresponse().status}")
        conn.close()
    finally:
        proc.terminate()
        proc.wait(20)
        subprocess.run(["rm", "-rf", str(HOME)], check=False)


if __name__ == "__main__":
    main()
