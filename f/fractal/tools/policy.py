"""The policy for dangerous constructs in an entity's files, checked at generation, at save and before a run.

A finding names the rule, the file, the line and why it is dangerous. Every rule blocks unless the
item carries an explicit, reviewable allowance for it in its spec (shown in its catalog README):

    spec:
      allow:
        - rule: terraform-local-exec
          reason: runs the vendor's installer on the new VM; reviewed by the platform team

    findings(item)          → [Finding]  every finding, allowed ones marked
    ensure_allowed(item)    raises PolicyViolation listing the blocking findings (nothing runs, nothing is written)

The generator's loop gets the blocking findings as validation errors, so a model fixes them like any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from f.fractal.model.errors import PolicyViolation
from f.fractal.model.providers import PROVIDERS
from f.fractal.tools.runs import ENV_ALLOWLIST


@dataclass(frozen=True)
class Rule:
    id: str
    tool: str  # the tool whose files it reads ("*": any)
    why: str


@dataclass(frozen=True)
class Finding:
    rule: str
    file: str
    line: int
    why: str
    allowed: bool = False

    def message(self) -> str:
        if self.allowed:
            return f"policy {self.rule}: {self.why} (allowed by spec.allow)"
        return f"policy {self.rule}: {self.why} (remove it, or after review add spec.allow: [{{rule: {self.rule}, reason: …}}])"

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "file": self.file, "line": self.line, "why": self.why, "allowed": self.allowed}


RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("terraform-local-exec", "terraform", "a local-exec provisioner runs any command on the worker during apply"),
    Rule("terraform-remote-exec", "terraform", "a remote-exec provisioner runs commands on the created host outside the plan"),
    Rule("terraform-external-data", "terraform", "the external data source runs a program on the worker during plan"),
    Rule("ansible-pipe-to-shell", "ansible", "a download piped to a shell runs unreviewed code; download it "
         "(get_url with a checksum) and run it in a separate task"),
    Rule("ansible-proc-environ", "*", "reads process environments (/proc/*/environ): other jobs' credentials"),
    Rule("ansible-worker-file", "ansible", "reads a file of the worker outside the run directory (lookups, src: and "
         "include_vars run on the worker)"),
    Rule("ansible-worker-command", "ansible", "the pipe lookup runs a command on the worker"),
    Rule("ansible-workspace-read", "*", "reads the workspace's resources, variables or caches (where credentials live)"),
    Rule("ansible-env-lookup", "ansible", "reads a worker environment variable that is not on the allowlist (only the "
         "allowlisted ones and the credential variables of the entity's providers are passed)"),
    Rule("kubernetes-privileged", "*", "a privileged container has full access to its node"),
    Rule("kubernetes-host-namespace", "*", "hostNetwork/hostPID/hostIPC shares the node's network or processes"),
    Rule("kubernetes-host-path", "*", "a hostPath volume mounts the node's filesystem"),
)}

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("terraform-local-exec", re.compile(r'provisioner\s+"?local-exec"?')),
    ("terraform-remote-exec", re.compile(r'provisioner\s+"?remote-exec"?')),
    ("terraform-external-data", re.compile(r'data\s+"?external"?\s+"')),
    ("ansible-pipe-to-shell", re.compile(
        r"\b(?:curl|wget|fetch)\b[^\n|;]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+)?(?:\w+=\S*\s+)*(?:/usr)?(?:/bin/)?(?:ba|z|da|k|fi|c)?sh\b")),
    ("ansible-proc-environ", re.compile(r"/proc\b[^\n]*\benviron\b|\benviron\b[^\n]*/proc\b")),
    ("ansible-workspace-read", re.compile(r"FRACTAL_HOME|\.fractal/|/tmp/windmill|\.(?:resource|variable)\.ya?ml\b")),
    ("kubernetes-privileged", re.compile(r"(?m)^\s*privileged\s*=\s*true")),
    ("kubernetes-host-namespace", re.compile(r"(?m)^\s*host_(?:network|pid|ipc)\s*=\s*true")),
    ("kubernetes-host-path", re.compile(r"(?m)^\s*host_path\s*\{")),
)
_LOOKUP = re.compile(r"""\b(?:lookup|query|q)\(\s*['"](?:ansible\.builtin\.)?(?P<plugin>\w+)['"]\s*(?P<args>(?:,[^)]*)?)\)""")
_FILE_PLUGINS = frozenset({"file", "template", "fileglob", "first_found", "ini", "csvfile", "lines", "unvault", "together"})
_SRC = re.compile(r"""(?m)^\s*(?:src|file|dir)\s*[:=]\s*['"]?(?P<path>[^\s'"]+)""")
_QUOTED = re.compile(r"""['"]([^'"]*)['"]""")
_HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


def _outside(path: str) -> bool:
    """A path that leaves the run directory: absolute, home-relative, or climbing out with .."""
    return path.startswith(("/", "~")) or ".." in path.split("/")


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def allowed_env(item: dict[str, Any]) -> frozenset[str]:
    """Environment variables a play may read: the worker's allowlist and the credential variables of the
    entity's providers and credentials."""
    spec = item.get("spec") or {}
    names = set(ENV_ALLOWLIST)
    for name in [*(spec.get("providers") or []), *(spec.get("credentials") or [])]:
        provider = PROVIDERS.get(str(name))
        if provider and provider.credential:
            names.update(provider.credential.env)
    return frozenset(names)


def _text_findings(path: str, text: str, tool: str, env_ok: frozenset[str]) -> Iterator[tuple[str, int]]:
    for rule_id, pattern in _PATTERNS:
        if RULES[rule_id].tool in (tool, "*"):
            for m in pattern.finditer(text):
                yield rule_id, _line(text, m.start())
    if tool != "ansible":
        return
    for m in _LOOKUP.finditer(text):
        plugin, args = m.group("plugin"), _QUOTED.findall(m.group("args"))
        if plugin == "env" and (not args or any(name not in env_ok for name in args)):
            yield "ansible-env-lookup", _line(text, m.start())
        elif plugin == "pipe":
            yield "ansible-worker-command", _line(text, m.start())
        elif plugin in _FILE_PLUGINS and (not args or any(_outside(a) for a in args)):
            yield "ansible-worker-file", _line(text, m.start())
    for m in _SRC.finditer(text):
        if _outside(m.group("path")) and "{{" not in m.group("path"):
            yield "ansible-worker-file", _line(text, m.start("path"))


def _manifest_findings(text: str) -> Iterator[tuple[str, int]]:
    """Privileged pods, host namespaces and hostPath volumes in any YAML document (manifests, Ansible k8s tasks)."""
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return
    stack = [n for n in nodes if n is not None]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else ""
                true = isinstance(value, yaml.ScalarNode) and value.value.lower() == "true"
                if name == "privileged" and true:
                    yield "kubernetes-privileged", key.start_mark.line + 1
                elif name in _HOST_NAMESPACES and true:
                    yield "kubernetes-host-namespace", key.start_mark.line + 1
                elif name == "hostPath" and isinstance(value, (yaml.MappingNode, yaml.ScalarNode)):
                    yield "kubernetes-host-path", key.start_mark.line + 1
                stack.append(value)


def allowances(item: dict[str, Any]) -> dict[str, str]:
    """{rule: reason} of the item's spec.allow (its shape is checked by the model)."""
    return {str(a.get("rule")): str(a.get("reason")) for a in (item.get("spec") or {}).get("allow") or [] if isinstance(a, dict)}


def findings(item: dict[str, Any]) -> list[Finding]:
    """Every dangerous construct in the entity's files, allowed ones marked; unknown allowances are findings too."""
    spec = item.get("spec") or {}
    tool = str(spec.get("tool") or "")
    allowed = allowances(item)
    env_ok = allowed_env(item)
    found: dict[tuple[str, str, int], Finding] = {}
    for path, text in sorted((spec.get("files") or {}).items()):
        if not isinstance(text, str):
            continue
        hits = list(_text_findings(path, text, tool, env_ok))
        if path.endswith((".yml", ".yaml", ".json")):
            hits.extend(_manifest_findings(text))
        for rule_id, line in hits:
            found.setdefault((path, rule_id, line), Finding(rule_id, path, line, RULES[rule_id].why, rule_id in allowed))
    unknown = [
        Finding(rule, "fractal.yaml", 0, f"spec.allow names no policy rule; known rules: {', '.join(RULES)}")
        for rule in allowed if rule not in RULES
    ]
    return [*unknown, *sorted(found.values(), key=lambda f: (f.file, f.line, f.rule))]


def blocking(item: dict[str, Any]) -> list[Finding]:
    return [f for f in findings(item) if not f.allowed]


def ensure_allowed(item: dict[str, Any], ref: str = "the entity") -> None:
    """Refuse an entity with a blocking finding: each one with its rule, file, line and why."""
    found = blocking(item)
    if found:
        shown = "; ".join(f"{f.file}{f' line {f.line}' if f.line else ''}: {f.message()}" for f in found[:5])
        raise PolicyViolation(
            f"{ref} uses {len(found)} dangerous construct{'s' if len(found) > 1 else ''}: {shown}",
            hint="remove them, or, after review, add spec.allow: [{rule: <rule>, reason: <why it is needed>}] to the item",
            data={"findings": [f.to_dict() for f in found]},
        )
