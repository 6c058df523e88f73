#!/usr/bin/env python
"""Audit benchmark (issue 15): audit time on a repository of a few hundred commits; figures and ratios, not a test.

Builds the planted repository of tests/audit (a key committed then removed, a root Dockerfile, …) and
adds `--commits` small commits, then measures, each beside a raw-Git baseline in the same run:

  history scan     every blob of the history searched for secrets | `git log --all -p` (reading it all)
  audit (pack)     clone + history + the pack's rules + structure + score | `git clone` of the same repo
  audit (all)      the same with the external scanners (once; each scanner's own seconds shown)

Run: PYTHONPATH=.:scripts .venv/bin/python bench/bench_audit.py [--quick] [--commits N] [--no-scanners]
Everything lives in a temp dir removed at the end.
"""

from __future__ import annotations

import argparse
import json
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
for _p in (str(ROOT / "tests"), str(ROOT / "scripts"), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from support import audit_repos  # noqa: E402  (the test repositories' builder)

import f.fractal.audit.history as history  # noqa: E402
from f.fractal.audit.audit import audit  # noqa: E402


def median_s(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="50 commits, one run")
    parser.add_argument("--no-scanners", action="store_true")
    args = parser.parse_args()
    commits, runs = (50, 1) if args.quick else (args.commits, args.runs)
    tmp = Path(tempfile.mkdtemp(prefix="fractal-bench-audit-"))
    try:
        repo, secrets, _leaked = audit_repos.planted(tmp)
        audit_repos.with_history(repo, commits)
        total = int(subprocess.run(["git", "-C", str(repo), "rev-list", "--count", "HEAD"], capture_output=True, text=True,
                                   check=True).stdout)
        clone_dir = tmp / "clone"

        def raw_clone() -> None:
            shutil.rmtree(clone_dir, ignore_errors=True)
            subprocess.run(["git", "clone", "-q", "--no-tags", repo.as_uri(), str(clone_dir)], check=True)

        rows: list[dict[str, Any]] = []
        log_s = median_s(lambda: subprocess.run(["git", "-C", str(repo), "log", "--all", "-p"], capture_output=True,
                                                check=True), runs)
        scan_s = median_s(lambda: history.scan_history(repo), runs)
        found, blobs = history.scan_history(repo)
        rows.append({"measure": "history scan", "seconds": round(scan_s, 3), "baseline": "git log --all -p",
                     "baseline_s": round(log_s, 3), "ratio": round(scan_s / log_s, 2), "blobs": blobs,
                     "secrets_found": len(found)})
        clone_s = median_s(raw_clone, runs)
        pack_s = median_s(lambda: audit(str(repo), checks=["history", "rules"]), runs)
        rows.append({"measure": "audit (pack: history + rules + score)", "seconds": round(pack_s, 3), "baseline": "git clone",
                     "baseline_s": round(clone_s, 3), "ratio": round(pack_s / clone_s, 2)})
        if not args.no_scanners:
            started = time.perf_counter()
            report = audit(str(repo))
            full_s = time.perf_counter() - started
            per_tool = {t["tool"]: t.get("seconds", t["status"]) for t in report["tools"]}
            rows.append({"measure": "audit (all scanners)", "seconds": round(full_s, 3), "baseline": "audit (pack)",
                         "baseline_s": round(pack_s, 3), "ratio": round(full_s / pack_s, 2), "tools": per_tool,
                         "leaked_value_in_report": any(s in json.dumps(report) for s in secrets)})
        print(f"repository: {total} commits, {blobs} blobs")
        print(f"{'measure':<40} {'seconds':>8}  {'baseline':<22} {'base s':>7} {'ratio':>6}")
        for row in rows:
            print(f"{row['measure']:<40} {row['seconds']:>8}  {row['baseline']:<22} {row['baseline_s']:>7} {row['ratio']:>6}")
        print(json.dumps({"commits": total, "rows": rows}, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
