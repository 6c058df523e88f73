"""Recording stand-ins for `terraform` and `kubectl`: a tiny script put on PATH that appends its argv,
working directory, environment and the files it was given to a JSON-lines file, and prints canned
output (`terraform output -json` prints the outputs given; `kubectl diff` reports a difference). They
check the exact commands and environment the real binary would receive, never the tool's behaviour."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from typing import Any

STAND_IN = """#!{python}
# Recording stand-in for {tool}: records how it was called, prints canned output. Not the tool.
import json, os, sys
from pathlib import Path
cwd = Path.cwd()
files = {{}}
for arg in sys.argv[1:]:
    for cand in (arg.split("=", 1)[-1], arg):
        p = Path(cand) if os.path.isabs(cand) else cwd / cand
        if p.is_file() and p.stat().st_size < 100000:
            files[cand] = {{"text": p.read_text(), "mode": oct(p.stat().st_mode & 0o777)}}
record = {{"argv": sys.argv[1:], "cwd": str(cwd), "env": dict(os.environ), "files": files}}
with open({log!r}, "a") as f:
    f.write(json.dumps(record) + "\\n")
if sys.argv[1:2] == ["output"]:
    print({outputs!r})
elif sys.argv[1:2] == ["diff"]:
    print("diff -u namespace/team-a"); sys.exit(1)
elif sys.argv[1:2] in (["apply"], ["delete"]) and {tool!r} == "kubectl":
    print("namespace/team-a serverside-applied")
else:
    print("{tool} stand-in: ok")
"""


def stand_in(folder: Path, tool: str, outputs: dict[str, Any] | None = None) -> Path:
    """Put a recording stand-in for `tool` on PATH; returns the JSON-lines file it records to."""
    log = folder.parent / f"{tool}-calls.jsonl"
    script = folder / tool
    script.write_text(STAND_IN.format(python=sys.executable, tool=tool, log=str(log), outputs=json.dumps(outputs or {})))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return log


def calls(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
