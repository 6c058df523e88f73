"""Ansible entities: YAML parsed, plays checked, then `ansible-playbook --syntax-check` and `ansible-lint --offline`.

Both binaries come from the worker's Python environment (next to sys.executable) or PATH; a missing
one is a ConfigError. They run in a temporary folder with a scrubbed environment (no credential
variables). ansible-lint findings of severity major and above are errors, minor/info warnings.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

from f.fractal.model.errors import InvalidInput
from f.fractal.platform.files import write_files
from f.fractal.platform.yamlio import load_untrusted
from f.fractal.tools.ansible.files import playbook_name
from f.fractal.tools.checks import Report, require_binary, run_tool

DEFAULT_FILE = "site.yml"
RULES = (
    "Write an Ansible playbook site.yml (a YAML list of plays; roles under roles/<name>/tasks/main.yml if any).",
    "It must pass ansible-playbook --syntax-check and ansible-lint (production profile): name every play and task "
    "(capitalised), use fully qualified module names (ansible.builtin.copy), quote octal modes (\"0644\"), "
    "indent lists under their key, give command/shell tasks changed_when or creates.",
    "Use only ansible.builtin modules (no collections are installed).",
    "Put tunable values in play vars with defaults; they become the entity's inputs.",
    "Credentials come from the environment: \"{{ lookup('ansible.builtin.env', 'RUNPOD_API_KEY') }}\", never a literal; "
    "mark tasks that handle them no_log: true.",
)

_LINE = re.compile(r"line (\d+)")
_ORIGIN = re.compile(r"Origin: (\S+?\.ya?ml):(\d+)")
_ERROR_SEVERITIES = ("major", "critical", "blocker")
ENV = {"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_RETRY_FILES_ENABLED": "0"}


def _yaml_files(files: dict[str, str]) -> dict[str, str]:
    return {p: t for p, t in files.items() if p.endswith((".yml", ".yaml"))}


def _playbooks(parsed: dict[str, Any]) -> list[str]:
    """Top-level YAML files that are lists of plays."""
    def is_play(x: Any) -> bool:
        return isinstance(x, dict) and ("hosts" in x or "import_playbook" in x)

    return sorted(p for p, doc in parsed.items() if "/" not in p and isinstance(doc, list) and doc and all(map(is_play, doc)))


def check(files: dict[str, str], report: Report) -> None:
    report.ran("yaml parse")
    parsed: dict[str, Any] = {}
    for path, text in _yaml_files(files).items():
        try:
            parsed[path] = load_untrusted(text, what=path)
        except InvalidInput as e:
            m = _LINE.search(e.message)
            report.error(path, " ".join(e.message.split())[:400], int(m.group(1)) if m else None)
    if report.errors:
        return
    playbooks = _playbooks(parsed)
    if not playbooks:
        report.error(DEFAULT_FILE, "no playbook: write site.yml as a YAML list of plays, each with name, hosts and tasks")
        return
    try:
        entry = playbook_name(files, "apply")
    except InvalidInput as e:  # the runner would refuse it: say so now
        report.error("", f"{e.message}: {e.hint}")
        return
    if entry not in playbooks:
        report.error(entry, f"{entry} is the entry playbook a run starts from, but it is not a list of plays")
        return
    report.ran("plays")
    for path in playbooks:
        for i, play in enumerate(parsed[path]):
            if "hosts" in play and not any(k in play for k in ("tasks", "roles", "pre_tasks", "post_tasks", "handlers")):
                report.error(path, f"play {i + 1} ({play.get('name', 'unnamed')}) has no tasks or roles")
    if not report.errors:
        _run_checkers(files, playbooks, report)


def _run_checkers(files: dict[str, str], playbooks: list[str], report: Report) -> None:
    playbook_bin = require_binary("ansible-playbook", "ansible-core")
    lint_bin = require_binary("ansible-lint", "ansible-lint")
    with tempfile.TemporaryDirectory(prefix="fractal-ansible-") as tmp:
        root = Path(tmp)
        write_files(root, files)
        env = {**ENV, "ANSIBLE_HOME": str(root / ".ansible"), "ANSIBLE_LOCAL_TEMP": str(root / ".ansible" / "tmp")}
        report.ran("ansible-playbook --syntax-check")
        syntax = run_tool([playbook_bin, "--syntax-check", "-i", "localhost,", *playbooks], root, 120, env)
        if syntax.returncode != 0:
            _syntax_errors(syntax.stderr or syntax.stdout, root, playbooks, report)
            return
        report.ran("ansible-lint --offline")
        argv = [lint_bin, "--offline", "--nocolor", "-q", "-f", "codeclimate", *sorted(_yaml_files(files))]
        lint = run_tool(argv, root, 180, env)
        _lint_findings(lint.stdout, lint.stderr, lint.returncode, report)


def _syntax_errors(output: str, root: Path, playbooks: list[str], report: Report) -> None:
    text = "\n".join(line for line in output.splitlines() if line.strip() and not line.startswith("[WARNING]"))
    text = text.replace(f"{root}/", "")
    origin = _ORIGIN.search(text)
    line = _LINE.search(text)
    file = origin.group(1) if origin else next((p for p in playbooks if p in text), playbooks[0])
    number = int(origin.group(2)) if origin else int(line.group(1)) if line else None
    report.error(file, f"ansible-playbook --syntax-check: {' '.join(text.split())[:400]}", number)


def _lint_findings(stdout: str, stderr: str, rc: int, report: Report) -> None:
    try:
        findings = json.loads(stdout or "[]")
    except json.JSONDecodeError:
        findings = None
    if not isinstance(findings, list):
        report.error("", f"ansible-lint failed (rc {rc}): {(stderr or stdout).strip()[-300:]}")
        return
    for f in findings:
        location = f.get("location") or {}
        lines = location.get("lines") or {}
        line = lines.get("begin") or ((location.get("positions") or {}).get("begin") or {}).get("line")
        body = (f.get("content") or {}).get("body", "")
        message = f"ansible-lint {f.get('check_name', '')}: {f.get('description', '')}" + (f" ({body})" if body else "")
        add = report.error if f.get("severity") in _ERROR_SEVERITIES else report.warn
        add(location.get("path", ""), message, line)
    if rc != 0 and not findings:
        report.error("", f"ansible-lint failed (rc {rc}): {stderr.strip()[-300:]}")
