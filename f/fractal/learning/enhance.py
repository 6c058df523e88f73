"""Enhance a Rune before it is stored: the production rules the generation templates follow, then the tool's fixers.

    enhance(item, secret_inputs)            → (item, changes)   # the rules (pure Python), before the checks
    fix_with_tool(item, report)             → (item, changes)   # ansible-lint --fix when the checks found lint, terraform fmt

The rules (what every offline template already does):
- Ansible: every play and task is named (a missing name is made from its module and its `name` argument,
  a lowercase one capitalised); a command/shell task says when it changes (`changed_when: true` unless it
  has creates/removes/changed_when); a task that reads a secret input is `no_log: true`.
- Terraform: every variable has a description and a type (from its default); the providers the
  resources use are pinned in versions.tf (source and version from the pack's provider table) when no
  file declares required_providers.
The fixers, where their binary is on the worker: `ansible-lint --fix` (FQCN module names, YAML format,
jinja spacing …: run only when the checks reported ansible-lint findings, then checked again) and
`terraform fmt`. Every change is reported as {file, by, what}.
"""

from __future__ import annotations

import difflib
import re
import tempfile
from pathlib import Path
from typing import Any

from f.fractal.learning.smith import TASK_KEYWORDS, map_tasks
from f.fractal.model.composite import literal_type
from f.fractal.model.errors import InvalidInput
from f.fractal.model.providers import PROVIDERS
from f.fractal.model.records import CheckReport
from f.fractal.platform.files import write_files
from f.fractal.platform.yamlio import dump, load_untrusted
from f.fractal.tools.checks import find_binary, run_tool

Change = dict[str, str]
_COMMANDS = frozenset({"command", "shell", "ansible.builtin.command", "ansible.builtin.shell",
                       "ansible.legacy.command", "ansible.legacy.shell"})
_LINT = re.compile(r"^ansible-lint (\S+):")
_VARIABLE = re.compile(r'variable\s+"([A-Za-z_][A-Za-z0-9_-]*)"\s*\{')
_TF_TYPES = {"string": "string", "integer": "number", "number": "number", "boolean": "bool", "array": "list(any)",
             "object": "map(any)"}


def enhance(item: dict[str, Any], secret_inputs: list[str]) -> tuple[dict[str, Any], list[Change]]:
    """The item with the production rules of its tool applied, and what changed."""
    spec = item["spec"]
    changes: list[Change] = []
    if spec["tool"] == "ansible":
        files = _ansible_rules(spec["files"], secret_inputs, changes)
    elif spec["tool"] == "terraform":
        files = _terraform_rules(spec["files"], spec.get("inputs") or {}, changes)
    else:
        return item, changes
    return {**item, "spec": {**spec, "files": files}}, changes


# ------------------------------------------------------------------ Ansible


def _module(task: dict[str, Any]) -> str:
    return next((k for k in task if k not in TASK_KEYWORDS), "")


def _task_name(task: dict[str, Any]) -> str:
    module = _module(task)
    args = task.get(module)
    what = args.get("name") if isinstance(args, dict) else args if isinstance(args, str) else None
    words = module.rsplit(".", 1)[-1].replace("_", " ")
    return f"{words} {what}"[:80].capitalize() if isinstance(what, str) and what else words.capitalize() or "Task"


def _ansible_tasks(tasks: Any, where: str, secrets: list[str], changes: list[Change]) -> Any:
    return map_tasks(tasks, lambda task: _ansible_task(task, where, secrets, changes))


def _ansible_task(task: dict[str, Any], where: str, secrets: list[str], changes: list[Change]) -> dict[str, Any]:
    name = task.get("name")
    if not isinstance(name, str) or not name.strip():
        task = {"name": _task_name(task), **{k: v for k, v in task.items() if k != "name"}}
        changes.append({"file": where, "by": "rules", "what": f"named the task {task['name']!r}"})
    elif name[0].islower():
        task = {**task, "name": name[0].upper() + name[1:]}
        changes.append({"file": where, "by": "rules", "what": f"capitalised the task name {task['name']!r}"})
    module = _module(task)
    args = task.get(module)
    if module in _COMMANDS and "changed_when" not in task and not (isinstance(args, dict) and
                                                                    ({"creates", "removes"} & set(args))):
        task = {**task, "changed_when": True}
        changes.append({"file": where, "by": "rules", "what": f"{task['name']!r}: changed_when: true (a command changes)"})
    text = dump(task)
    read = {n for s in secrets for n in (s, s.removeprefix("vault_"))}  # the input, or the variable set from it
    if "no_log" not in task and any(re.search(rf"\{{\{{\s*{re.escape(n)}\b", text) for n in read):
        task = {**task, "no_log": True}
        changes.append({"file": where, "by": "rules", "what": f"{task['name']!r}: no_log: true (it reads a secret)"})
    return task


def _ansible_rules(files: dict[str, str], secrets: list[str], changes: list[Change]) -> dict[str, str]:
    out = dict(files)
    for path, text in files.items():
        if not path.endswith((".yml", ".yaml")):
            continue
        try:
            doc = load_untrusted(text, what=path)
        except InvalidInput:
            continue  # the checks say what is wrong with it
        before = len(changes)
        if "/" not in path and isinstance(doc, list):  # a playbook: plays
            for i, play in enumerate(doc):
                if not isinstance(play, dict):
                    continue
                if "hosts" in play and not play.get("name"):
                    doc[i] = play = {"name": f"Play {i + 1} of {path}", **play}
                    changes.append({"file": path, "by": "rules", "what": f"named the play {play['name']!r}"})
                for section in ("tasks", "pre_tasks", "post_tasks", "handlers"):
                    if section in play:
                        play[section] = _ansible_tasks(play[section], path, secrets, changes)
        elif "/tasks/" in f"/{path}" or "/handlers/" in f"/{path}":
            doc = _ansible_tasks(doc, path, secrets, changes)
        if len(changes) > before:
            out[path] = dump(doc, indent_lists=True)
    return out


def _lint_rules(report: CheckReport) -> set[str]:
    return {m.group(1) for f in [*report["errors"], *report["warnings"]] if (m := _LINT.match(f["message"]))}


def fix_with_tool(item: dict[str, Any], report: CheckReport) -> tuple[dict[str, Any], list[Change]]:
    """The item as the tool's own fixer rewrites it (ansible-lint --fix when the report holds lint findings,
    terraform fmt), and what changed; unchanged when the binary is not on this worker."""
    spec = item["spec"]
    if spec["tool"] == "ansible" and _lint_rules(report):
        files, changes = _ansible_lint_fix(spec["files"], _lint_rules(report))
    elif spec["tool"] == "terraform":
        files, changes = _terraform_fmt(spec["files"])
    else:
        return item, []
    return {**item, "spec": {**spec, "files": files}}, changes


def _ansible_lint_fix(files: dict[str, str], found: set[str]) -> tuple[dict[str, str], list[Change]]:
    lint = find_binary("ansible-lint")
    if lint is None:
        return files, []
    with tempfile.TemporaryDirectory(prefix="fractal-enhance-") as tmp:
        root = Path(tmp)
        write_files(root, files)
        env = {"ANSIBLE_NOCOLOR": "1", "ANSIBLE_HOME": str(root / ".ansible"),
               "ANSIBLE_LOCAL_TEMP": str(root / ".ansible" / "tmp")}
        yml = sorted(p for p in files if p.endswith((".yml", ".yaml")))
        run_tool([lint, "--offline", "--nocolor", "-q", "--fix", *yml], root, 180, env)
        fixed = {p: (root / p).read_text(encoding="utf-8") if p in yml else t for p, t in files.items()}
    changes = [{"file": p, "by": "ansible-lint --fix", "what": _diff_summary(files[p], fixed[p], sorted(found))}
               for p in yml if fixed[p] != files[p]]
    return fixed, changes


# ------------------------------------------------------------------ Terraform


def _terraform_rules(files: dict[str, str], inputs: dict[str, Any], changes: list[Change]) -> dict[str, str]:
    out = dict(files)
    props = inputs.get("properties") or {}
    for path, text in files.items():
        if not path.endswith(".tf"):
            continue
        out[path] = _with_missing_var_lines(text, props, path, changes)
    tf = "\n".join(t for p, t in out.items() if p.endswith(".tf"))
    if "required_providers" not in tf:
        used = [p for p in PROVIDERS.values() if p.terraform_source and re.search(rf'(resource|data)\s+"{p.name}_', tf)]
        if used:
            pins = "".join(f'    {p.name} = {{\n      source  = "{p.terraform_source}"\n      version = "{p.terraform_version}"\n'
                           "    }\n" for p in used)
            out["versions.tf"] = out.get("versions.tf", "") + f"terraform {{\n  required_providers {{\n{pins}  }}\n}}\n"
            changes += [{"file": "versions.tf", "by": "rules", "what": f"pinned the {p.name} provider ({p.terraform_source} "
                                                                       f"{p.terraform_version})"} for p in used]
    return out


def _with_missing_var_lines(text: str, props: dict[str, Any], path: str, changes: list[Change]) -> str:
    """The file with the type and description lines its variable blocks lack (after each opening brace)."""
    return _VARIABLE.sub(lambda m: m.group(0) + _missing_var_lines(m, text, props, path, changes), text)


def _missing_var_lines(m: re.Match[str], text: str, props: dict[str, Any], path: str, changes: list[Change]) -> str:
    body = text[m.end():text.find("\n}", m.end())]
    name, lines = m.group(1), []
    if not re.search(r"(?m)^\s*description\s*=", body):
        lines.append(f'\n  description = "{name.replace("_", " ")}"')
        changes.append({"file": path, "by": "rules", "what": f"variable {name}: a description"})
    default = (props.get(name) or {}).get("default")
    if not re.search(r"(?m)^\s*type\s*=", body) and default is not None:
        lines.append(f"\n  type        = {_TF_TYPES[literal_type(default)]}")
        changes.append({"file": path, "by": "rules", "what": f"variable {name}: type {_TF_TYPES[literal_type(default)]}"})
    return "".join(lines)


def _terraform_fmt(files: dict[str, str]) -> tuple[dict[str, str], list[Change]]:
    binary = find_binary("terraform")
    tf = sorted(p for p in files if p.endswith(".tf"))
    if binary is None or not tf:
        return files, []
    with tempfile.TemporaryDirectory(prefix="fractal-enhance-") as tmp:
        root = Path(tmp)
        write_files(root, {p: files[p] for p in tf})
        done = run_tool([binary, "fmt", "-no-color", "-recursive", "."], root, 60, {"TF_IN_AUTOMATION": "1"})
        if done.returncode != 0:
            return files, []  # it does not parse: the checks say where
        out = {**files, **{p: (root / p).read_text(encoding="utf-8") for p in tf}}
    return out, [{"file": p, "by": "terraform fmt", "what": _diff_summary(files[p], out[p], [])}
                 for p in tf if out[p] != files[p]]


def _diff_summary(old: str, new: str, rules: list[str]) -> str:
    changed = [line[1:].strip() for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
               if line[:1] == "+" and not line.startswith("+++")]
    shown = "; ".join(f"`{c[:60]}`" for c in changed[:3] if c)
    return (f"rewrote {len(changed)} line(s)" + (f" for {', '.join(rules)}" if rules else "")
            + (f": {shown}" if shown else "") + (" …" if len(changed) > 3 else ""))
