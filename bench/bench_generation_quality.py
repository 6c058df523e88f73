"""Generation quality: the offline generator's score on the quality table (tests/generation/quality_needs.yaml).

    PYTHONPATH=.:scripts .venv/bin/python bench/bench_generation_quality.py [--verbose] [--quick]

Every need of the table goes through `generate_entity.main(need, llm="offline")` (the real validators
included; --quick skips the Ansible needs, whose checks take seconds each) and is judged by
tests/support/quality.py: exact / honest (what it did not carry is listed) / refused (a clear
no_template for a need a template covers) / silent-wrong / broken. Prints the counts, per language
too, and with --verbose one line per need. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts"), str(ROOT / "tests")]
os.environ["FRACTAL_HOME"] = tempfile.mkdtemp(prefix="fractal-bench-quality-")
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
for var in ("FRACTAL_LLM_MODEL", "FRACTAL_LLM_API_BASE", "FRACTAL_LLM_API_KEY", "WM_TOKEN"):
    os.environ.pop(var, None)

from support.quality import VERDICTS, Need, Verdict, judge, load  # noqa: E402

import f.fractal.generate_entity as generate_entity  # noqa: E402
from f.fractal.model.errors import FractalError  # noqa: E402


def run(need: Need) -> Verdict:
    try:
        result = generate_entity.main(need.need, llm="offline")
    except FractalError as e:
        return judge(need, error=e)
    return judge(need, draft=result["draft"], unused=result["report"].get("unused", []))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--verbose", action="store_true", help="one line per need")
    parser.add_argument("--quick", action="store_true", help="skip the Ansible needs (seconds of checks each)")
    args = parser.parse_args()
    needs = [n for n in load() if not (args.quick and n.tool == "ansible")]
    started = time.perf_counter()
    totals: Counter[str] = Counter()
    by_lang: dict[str, Counter[str]] = {"en": Counter(), "fr": Counter()}
    for need in needs:
        verdict = run(need)
        totals[verdict.verdict] += 1
        by_lang[need.lang][verdict.verdict] += 1
        if args.verbose or verdict.verdict in ("silent-wrong", "broken"):
            print(f"  {verdict.verdict:<12} {need.need[:70]!r:<74} {verdict.why[:110]}")
    uncovered = sum(n.template is None for n in needs)
    print(f"\nOffline generator on {len(needs)} needs ({uncovered} no template covers), "
          f"{time.perf_counter() - started:.0f} s")
    print("  " + "  ".join(f"{v} {totals[v]}" for v in VERDICTS))
    for lang, counts in by_lang.items():
        print(f"  {lang}: " + "  ".join(f"{v} {counts[v]}" for v in VERDICTS))
    trusted = totals["exact"] + totals["honest"] + totals["refused"]
    print(f"  trustworthy (exact + honest + refused): {trusted}/{len(needs)}; exact {totals['exact']}/{len(needs)}")


if __name__ == "__main__":
    main()
