"""The scripted-LLM table: 30 needs through the LLM path, scored valid-and-conformant within 3 attempts.

    PYTHONPATH=.:scripts:tests .venv/bin/python bench/bench_generation_llm.py [--verbose]

The model is SCRIPTED (tests/support/scripted_model.py on tests/support/llm_server.ScriptedLLM, a loopback
OpenAI-compatible server): one realistic mistake per need, fixed only when the pack's feedback names it.
Prints N of 30 and, per mistake, how many attempts the repair took. Asserts nothing
(tests/generation/test_llm_table.py asserts a floor).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts"), str(ROOT / "tests")]
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ["FRACTAL_HOME"] = tempfile.mkdtemp(prefix="fractal-bench-llm-table-")
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
for var in ("FRACTAL_LLM_MODEL", "FRACTAL_LLM_API_BASE", "FRACTAL_LLM_API_KEY", "WM_TOKEN"):
    os.environ.pop(var, None)

from support.llm_server import ScriptedLLM  # noqa: E402
from support.scripted_model import TABLE, MediocreModel, score  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--verbose", action="store_true", help="one line per need")
    args = parser.parse_args()
    started = time.perf_counter()
    with ScriptedLLM([MediocreModel()]) as server:
        outcomes = score(server.config)
    passed = [o for o in outcomes if o.ok]
    print(f"Scripted-LLM table: {len(passed)} of {len(TABLE)} valid and conformant within 3 attempts "
          f"({time.perf_counter() - started:.0f} s, {len(server.requests)} model calls)")
    by_mistake: dict[str, list[int]] = defaultdict(list)
    for o in outcomes:
        by_mistake[o.mistake].append(o.attempts if o.ok else 0)
    for mistake, tries in by_mistake.items():
        fixed = [t for t in tries if t]
        print(f"  {mistake:<40} {len(fixed)}/{len(tries)} fixed" + (f", attempts {fixed}" if fixed else ""))
    for o in outcomes:
        if args.verbose or not o.ok:
            print(f"  {'ok ' if o.ok else 'NO '} {o.attempts} {o.need[:60]!r:<64} {o.mistake} {o.why[:120]}")


if __name__ == "__main__":
    main()
