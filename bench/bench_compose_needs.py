#!/usr/bin/env python
"""Composition quality (issue 12): the offline composer over the 30-need table, scored — not a test.

The catalog (tests/support/composition_needs.py: 44 entities, 10 pipelines) is saved into a real bare Git
repo, then each need is composed offline (no provider given: the composer reads it from the need)
and compared with its row: exact members, their order, the expected wires, false gaps (a part the
catalog covers reported as missing), missed gaps, the tool each gap names, and whether the draft
passes the save checks. Totals first, then one line per need that is not fully right; then the same
for the held-out needs (HELD_OUT), scored apart.

Run: PYTHONPATH=.:scripts .venv/bin/python bench/bench_compose_needs.py [--all] [--keep]   (or bench/run compose_needs)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _p in (str(ROOT / "tests"), str(ROOT / "scripts"), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def _catalog(base: Path) -> list[str]:
    from support.composition_needs import save_catalog

    import f.fractal.platform.workspace as workspace

    remote = base / "catalog.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    workspace.write_resource("f/fractal/needs", "git_repository", {"url": str(remote), "branch": "main"})
    targets = ["f/fractal/needs"]
    save_catalog(targets)
    return targets


def _compose(text: str, kind: str, targets: list[str]) -> dict[str, Any]:
    import f.fractal.composition.composer as compose

    try:
        return compose.compose(compose.Request(need=text, kind=kind, targets=targets))
    except Exception as e:  # a crash scores as nothing composed
        return {"draft": {}, "gaps": [], "checks": {"ok": False, "errors": [f"{type(e).__name__}: {e}"]}}


def _table(needs: list[Any], targets: list[str], everything: bool) -> None:
    """Compose each need and print the totals, then one line per need that is not fully right."""
    from support.composition_needs import score

    rows = []
    t1 = time.perf_counter()
    for need in needs:
        rows.append((need, score(need, _compose(need.text, need.kind, targets))))
    elapsed = time.perf_counter() - t1
    total = {k: sum(int(r[k]) for _, r in rows) for k in
             ("members", "order", "wires", "wires_expected", "false_gaps", "missed_gaps", "gap_tools", "checks")}
    wiring = [r for n, r in rows if n.wires]
    wired_ok = sum(r["wires"] == r["wires_expected"] for r in wiring)
    gap_needs = [r for n, r in rows if n.gaps]
    n = len(rows)
    print(f"  exact members      {total['members']}/{n}")
    print(f"  right order        {total['order']}/{n}")
    wires = f"{total['wires']}/{total['wires_expected']} wires"
    print(f"  wiring             {wired_ok}/{len(wiring)} needs fully wired ({wires})")
    print(f"  false gaps         {total['false_gaps']} (missed gaps {total['missed_gaps']})")
    print(f"  gap tools right    {sum(r['gap_tools'] for r in gap_needs)}/{len(gap_needs)} needs with real gaps")
    print(f"  passes the checks  {total['checks']}/{n}")
    print(f"  offline compose: {elapsed / n * 1000:.0f} ms a need")
    for need, r in rows:
        perfect = (r["members"] and r["order"] and r["wires"] == r["wires_expected"] and not r["false_gaps"]
                   and not r["missed_gaps"] and r["gap_tools"] and r["checks"])
        if perfect and not everything:
            continue
        flags = " ".join(f for f, bad in (("members", not r["members"]), ("order", not r["order"]),
                                          ("wires", r["wires"] != r["wires_expected"]), ("false-gap", r["false_gaps"]),
                                          ("missed-gap", r["missed_gaps"]), ("gap-tool", not r["gap_tools"]),
                                          ("checks", not r["checks"])) if bad) or "ok"
        print(f"  [{need.lang}] {need.text[:70]!r}: {flags}; got {r['got']} gaps {r['gaps_got']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="one line per need, right or not")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--quick", action="store_true", help="(same run: the table is small)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="fractal-bench-needs-"))
    os.environ["FRACTAL_HOME"] = str(base / "home")
    os.environ.setdefault("FRACTAL_ACTOR", "bench <bench@localhost>")
    for var in ("WM_TOKEN", "BASE_INTERNAL_URL", "WM_BASE_URL", "FRACTAL_LLM_MODEL", "FRACTAL_DEFAULT_TARGETS"):
        os.environ.pop(var, None)
    from support.composition_needs import HELD_OUT, NEEDS

    try:
        t0 = time.perf_counter()
        targets = _catalog(base)
        print(f"Composition table: {len(NEEDS)} needs ({sum(n.lang == 'fr' for n in NEEDS)} in French); "
              f"catalog saved in {time.perf_counter() - t0:.1f}s (setup, not measured)")
        _table(NEEDS, targets, args.all)
        print(f"Held-out needs (never tuned on): {len(HELD_OUT)} ({sum(n.lang == 'fr' for n in HELD_OUT)} in French)")
        _table(HELD_OUT, targets, args.all)
    finally:
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
