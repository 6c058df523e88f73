"""The secret detector's cost (issue 10), each figure beside a baseline measured in the same run.

- start: a fresh process's `import` + first scan, with detect-secrets' patterns read from the worker cache
  and with detect-secrets imported (a cold cache), beside a bare `import git, yaml` (DESIGN §8's baseline);
- scan: one entity (the offline k3s-on-Exoscale draft) scanned, beside `normalize_item` of the same item;
- mask: a 20,000-character run log masked with 20 known values, beside `str.replace` of the raw values.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
FIRST_SCAN = ("import time; t = time.perf_counter(); import f.fractal.platform.secrets as s; s.scan_text('password: x1y2z3w4');"
              " print(time.perf_counter() - t)")
BASELINE = "import time; t = time.perf_counter(); import git, yaml; print(time.perf_counter() - t)"


def _process(code: str, env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    return float(out.stdout.strip())


def _best(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return median(times)


def main() -> None:
    runs = 3 if "--quick" in sys.argv else 9
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "FRACTAL_HOME": home, "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}"}
        cache = Path(home) / "cache" / "secrets" / "detect-secrets-patterns.json"
        baseline = median(_process(BASELINE, env) for _ in range(runs))
        cold = []
        for _ in range(runs):
            cache.unlink(missing_ok=True)
            cold.append(_process(FIRST_SCAN, env))
        warm = median(_process(FIRST_SCAN, env) for _ in range(runs))
        print(f"start: import git, yaml {baseline * 1000:.0f} ms · secrets + first scan, patterns cached "
              f"{warm * 1000:.0f} ms ({warm / baseline:.2f}×) · detect-secrets imported {median(cold) * 1000:.0f} ms "
              f"({median(cold) / baseline:.2f}×)")
        os.environ["FRACTAL_HOME"] = home
        sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
        import f.fractal.platform.secrets as secrets
        from f.fractal.generation.generator import generate
        from f.fractal.model.item import normalize_item

        item = generate("a 3-node K3s cluster on Exoscale in ch-gva-2", llm="offline")["draft"]
        scan, normalize = _best(lambda: secrets.scan(item), runs), _best(lambda: normalize_item(item), runs)
        print(f"scan: one entity ({sum(map(len, item['spec']['files'].values()))} characters of files) "
              f"{scan * 1000:.1f} ms · normalize_item {normalize * 1000:.1f} ms ({scan / normalize:.1f}×)")
        known = [f"value-{i:02d}-Zk4Pw8Ns2Qd6Lm" for i in range(20)]
        log = ("TASK [x] ok: [localhost] => {\"changed\": false, \"msg\": \"all good here\"}\n" * 300)[:20_000]
        masked = _best(lambda: secrets.mask(log, known), runs)
        replaced = _best(lambda: [log.replace(v, "***") for v in known], runs)
        print(f"mask: a 20,000-character log, 20 known values {masked * 1000:.1f} ms · str.replace of the raw values "
              f"{replaced * 1000:.2f} ms ({masked / replaced:.0f}×)")


if __name__ == "__main__":
    main()
