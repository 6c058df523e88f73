"""Sanitize a task/solution pair before it becomes knowledge: no secret, no personal or account data.

- A literal value under a secret-named key (`password: hunter22`, `api_token = "…"`) is replaced by a
  reference to an input with no default (the value is never stored); a secret anywhere else (inside a
  command line, a URL) refuses the pair, naming the file and the rule.
- Emails become `ops@example.com`, IPv4 addresses the documentation range (192.0.2.x), 12-digit account
  ids `000000000000`: the template keeps the shape, not the person or the account.
- The task text is normalised (one line of words) and refused when it holds a secret.
- A pipeline: a literal step input under a secret name becomes an input of the pipeline with no default,
  a secret-named input loses its default, other literals are generalised like file text.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from f.fractal.model.errors import InvalidInput
from f.fractal.platform.secrets import is_secret_name, scan

MAX_TASK = 2000
_YAML_SECRET = re.compile(  # key: literal value (not a {{ reference }}, a $var:, or a block scalar)
    r"(?m)^([ \t]*-?[ \t]*)([A-Za-z_][A-Za-z0-9_]*)([ \t]*:[ \t]*)"
    r"(?![\"']?\{\{|[\"']?\$|\||>)([\"']?)([^\s\"'#][^\"'#\n]*?)\4([ \t]*(?:#.*)?)$"
)
_HCL_SECRET = re.compile(r"(?m)^([ \t]*)([A-Za-z_][A-Za-z0-9_]*)([ \t]*=[ \t]*)\"([^\"$]+)\"([ \t]*)$")
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_IPV4 = re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b")
_ACCOUNT = re.compile(r"(?<![\d.])\d{12}(?![\d.])")
_KEEP_IPS = ("0.0.0.0", "127.0.0.1")  # noqa: S104 - meanings, not hosts


@dataclass
class Sanitized:
    task: str
    files: dict[str, str]
    secret_inputs: list[str] = field(default_factory=list)  # inputs that replace removed secret values
    changes: list[dict[str, str]] = field(default_factory=list)  # {file, kind, what}: never the value itself

    def report(self) -> dict[str, Any]:
        return {"secret_inputs": self.secret_inputs, "changes": self.changes}


def normalize_task(task: Any) -> str:
    if not isinstance(task, str) or not task.strip():
        raise InvalidInput("task must say in words what the solution does",
                           hint='e.g. "install chrony with pool ntp.example.org"')
    text = " ".join(task.split())
    if len(text) > MAX_TASK:
        raise InvalidInput(f"task is {len(text)} characters; keep it under {MAX_TASK}")
    if scan(text, "task"):
        raise InvalidInput("the task text holds a secret", hint="describe the task in words; secrets never become knowledge")
    return text


def sanitize(task: Any, tool: str, files: dict[str, str]) -> Sanitized:
    """The pair made safe to store, with what was changed; InvalidInput when a secret cannot be taken out."""
    out = Sanitized(normalize_task(task), {})
    for path, text in files.items():
        text = _remove_secrets(path, text, tool, out)
        text = _generalise(path, text, out)
        out.files[path] = text
    left = scan(out.files, "files")
    if left:
        where = ", ".join(f"{f.why} ({f.rule}) in {f.where().removeprefix('files.')}" for f in left[:5])
        raise InvalidInput(f"the solution holds a secret that cannot be taken out safely: {where}",
                           hint="reference it from a Windmill variable or resource ($var:f/…) and submit again",
                           data={"findings": [f.to_dict() for f in left]})
    return out


def _secret_input(name: str, out: Sanitized) -> str:
    input_name = re.sub(r"[^a-z0-9_]", "_", name.lower()).strip("_") or "secret"
    if input_name not in out.secret_inputs:
        out.secret_inputs.append(input_name)
    return input_name


def _remove_secrets(path: str, text: str, tool: str, out: Sanitized) -> str:
    def yaml_repl(m: re.Match[str]) -> str:
        if not is_secret_name(m.group(2)):
            return m.group(0)
        # Ansible's vault_ convention: `db_password: "{{ db_password }}"` in a vars block would refer to itself
        name = _secret_input(f"vault_{m.group(2)}", out)
        out.changes.append({"file": path, "kind": "secret", "what": f"{m.group(2)} now reads input {name}"})
        return f'{m.group(1)}{m.group(2)}{m.group(3)}"{{{{ {name} }}}}"{m.group(6)}'

    def hcl_repl(m: re.Match[str]) -> str:
        if not is_secret_name(m.group(2)):
            return m.group(0)
        name = _secret_input(m.group(2), out)
        out.changes.append({"file": path, "kind": "secret", "what": f"{m.group(2)} now reads var.{name}"})
        return f"{m.group(1)}{m.group(2)}{m.group(3)}var.{name}{m.group(5)}"

    if path.endswith((".yml", ".yaml")) and tool == "ansible":
        return _YAML_SECRET.sub(yaml_repl, text)
    if path.endswith(".tf"):
        return _HCL_SECRET.sub(hcl_repl, text)
    return text


def _generalise(path: str, text: str, out: Sanitized) -> str:
    def counted(kind: str, repl: str) -> Any:
        def sub(m: re.Match[str]) -> str:
            if (kind == "ip" and m.group(0) in _KEEP_IPS) or (kind == "email" and m.group(0).endswith("@example.com")):
                return m.group(0)
            out.changes.append({"file": path, "kind": kind, "what": f"a {kind} generalised to {repl}"})
            return repl

        return sub

    text = _EMAIL.sub(counted("email", "ops@example.com"), text)
    ips: dict[str, str] = {}

    def ip(m: re.Match[str]) -> str:
        if m.group(0) in _KEEP_IPS or m.group(0).startswith("192.0.2.") or "/" in text[m.end():m.end() + 1]:
            return m.group(0)  # loopback, any-address, documentation hosts and CIDR ranges stay
        ips.setdefault(m.group(0), f"192.0.2.{len(ips) + 10}")
        out.changes.append({"file": path, "kind": "ip", "what": f"an address generalised to {ips[m.group(0)]}"})
        return ips[m.group(0)]

    text = _IPV4.sub(ip, text)
    return _ACCOUNT.sub(counted("account id", "000000000000"), text)


def sanitize_composite(task: Any, item: dict[str, Any]) -> tuple[dict[str, Any], Sanitized]:
    """A submitted pipeline (or meta-pipeline) made safe to store, with what was changed (see the module doc)."""
    out = Sanitized(normalize_task(task), {})
    spec: dict[str, Any] = copy.deepcopy(item["spec"]) if isinstance(item.get("spec"), dict) else {}
    for step in spec.get("steps") or []:
        bound: Any = step.get("inputs") if isinstance(step, dict) else None
        if not isinstance(bound, dict):
            continue
        for key, value in bound.items():
            where = f"steps.{step.get('id')}.inputs.{key}"
            if isinstance(value, dict) and "from" in value:
                continue
            if is_secret_name(key) and value not in (None, ""):
                name = _secret_input(key, out)
                bound[key] = {"from": f"inputs.{name}"}
                out.changes.append({"file": where, "kind": "secret", "what": f"{key} now reads input {name}"})
            elif isinstance(value, str):
                bound[key] = _generalise(where, value, out)
    inputs = spec.get("inputs")
    props = inputs.get("properties") if isinstance(inputs, dict) else None
    for name, prop in props.items() if isinstance(props, dict) else ():
        if isinstance(prop, dict) and is_secret_name(name) and prop.pop("default", None) is not None:
            out.changes.append({"file": f"inputs.{name}", "kind": "secret", "what": f"the default of {name} removed"})
        elif isinstance(prop, dict) and isinstance(prop.get("default"), str):
            prop["default"] = _generalise(f"inputs.{name}", prop["default"], out)
    left = scan(spec, "spec")
    if left:
        where = ", ".join(f"{f.why} ({f.rule}) in {f.where()}" for f in left[:5])
        raise InvalidInput(f"the pipeline holds a secret that cannot be taken out safely: {where}",
                           hint="bind it from a secret entity's output or a pipeline input, then submit again",
                           data={"findings": [f.to_dict() for f in left]})
    return {**item, "spec": spec}, out
