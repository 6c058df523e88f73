"""The secret detector's cost (issue 10), each figure beside a baseline measured in the same run.

- start: a fresh process's `import` + first scan, with detect-secrets' patterns read from the worker cache
  and with detect-secrets imported (a cold cache), beside a bare `import git, yaml` (DESIGN §8's baseline);
- scan: one entity (the offline k3s-on-Exoscale draft) scanned, beside `normalize_item` of the same item;
- mask: a 20,000-character run log masked with 20 known values, beside `str.replace` of the raw values;
- large texts (issue 10: the prefilter), each beside one plain `re` pass over the same text (a GitHub-token regex):
  a ~1 MB run log masked whole and line by line (as RunLog writes it), and a ~800 KB save scanned.
"""

from __future__ import annotations

import hashlib
import os
import re
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
ONE_PASS = re.compile(r"\bghp_[A-Za-z0-9]{36,}")  # the baseline: one plain regex pass over the same text


def run_log(chars: int) -> str:
    """A run log as the runners write it: Ansible task banners and JSON results (paths, checksums), Terraform
    progress and plan lines, with two secrets in it."""
    lines: list[str] = []
    i = 0
    while sum(map(len, lines)) < chars:
        i += 1
        digest = hashlib.sha256(str(i).encode()).hexdigest()
        lines += [
            f"TASK [Install package {i}] " + "*" * 50,
            f'ok: [localhost] => {{"changed": false, "cmd": ["/usr/bin/apt-get", "install", "-y", "pkg{i}"], "rc": 0, '
            f'"stdout": "Reading package lists...\\nBuilding dependency tree...", "delta": "0:00:00.{i % 999:06d}"}}',
            f'changed: [localhost] => {{"checksum": "{digest[:40]}", "dest": "/etc/app/conf{i}.yaml", "mode": "0644", '
            f'"src": "/root/.ansible/tmp/ansible-tmp-{i}/source", "path": "/usr/lib/python3/dist-packages/x{i}.py"}}',
            f"exoscale_compute_instance.agent[{i % 3}]: Still creating... [{i}s elapsed]",
            f'  + image_digest = "sha256:{digest}"',
        ]
    lines[len(lines) // 2] += ' "password": "hunter2-Zq8"'
    lines[len(lines) // 3] += " token ghp_" + "a1B2" * 9
    return "\n".join(lines)[:chars]


def big_save() -> dict[str, object]:
    """An entity near the size limits: ~400 KB of Terraform and ~400 KB of Ansible YAML."""
    tf = "".join(f'resource "exoscale_compute_instance" "vm{i}" {{\n  name = "vm-{i}"\n  zone = var.zone\n'
                 f'  template_id = data.exoscale_template.debian.id\n  labels = {{ role = "web", index = "{i}" }}\n}}\n'
                 for i in range(2600))
    play = "- name: Configure\n  hosts: all\n  tasks:\n" + "".join(
        f"    - name: Line {i}\n      ansible.builtin.lineinfile:\n        path: /etc/app/app.conf\n"
        f"        line: \"option_{i} = value-{i}\"\n        mode: \"0644\"\n" for i in range(3400))
    return {"apiVersion": "fractal/v1", "kind": "Entity", "metadata": {"name": "big", "description": "a big save"},
            "spec": {"tool": "terraform", "providers": ["exoscale"], "files": {"main.tf": tf, "site.yml": play}}}


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
        big = run_log(200_000 if "--quick" in sys.argv else 1_000_000)
        lines = big.splitlines(keepends=True)
        save = big_save()
        files = "".join(save["spec"]["files"].values())  # type: ignore[index]
        for what, work, base in (
            (f"mask a {len(big):,}-character run log", lambda: secrets.mask(big, known), lambda: ONE_PASS.sub("***", big)),
            (f"mask it line by line ({len(lines):,} lines)", lambda: [secrets.mask(ln, known) for ln in lines],
             lambda: [ONE_PASS.sub("***", ln) for ln in lines]),
            (f"scan a {len(files):,}-character save", lambda: secrets.scan(save), lambda: ONE_PASS.sub("***", files)),
        ):
            took, one = _best(work, max(3, runs // 3)), _best(base, runs)
            print(f"{what}: {took * 1000:.0f} ms · one re pass {one * 1000:.1f} ms ({took / one:.1f}×)")


if __name__ == "__main__":
    main()
