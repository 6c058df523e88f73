"""Smith a sanitized solution into a Rune: a parametrised entity template stored in the knowledge catalog.

The values that belong to one use become inputs, with the submitted values as defaults:
- Ansible: hosts, addresses, URLs and ports inside task arguments (`pool ntp.example.org iburst` →
  `pool {{ pool }} iburst`, the input named after the word before it; `Port 2222` → `Port {{ port }}`),
  paths of `dest`/`path`/`src`, `port` and `version` arguments; play `vars` become inputs with their values as defaults.
- Terraform: literal attributes of resources, data sources and modules become variables
  (`zone = "ch-gva-2"` → `zone = var.zone`, declared in variables.tf with its default).
- Kubernetes manifests and secret bindings have no templating: they are kept as they are, no inputs.

An Orb is the same for a pipeline (or meta-pipeline): every literal a step binds (`zone: ch-gva-2`)
becomes an input of the Orb with that default (`zone: {from: inputs.zone}`); wiring between steps stays.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from f.fractal.model.composite import literal_type
from f.fractal.model.errors import InvalidInput
from f.fractal.model.item import NAME_RE
from f.fractal.platform.text import name_slug
from f.fractal.platform.yamlio import dump, load_untrusted

RUNE_TAG = "rune"
ORB_TAG = "orb"
NAME_STOP = frozenset({"a", "an", "the", "and", "with", "on", "of", "to", "for", "install", "configure", "set", "up",
                       "un", "une", "le", "la", "les", "de", "des", "et", "avec", "sur", "installer", "configurer"})
TASK_KEYWORDS = frozenset({"name", "when", "become", "become_user", "register", "notify", "tags", "loop", "with_items",
                           "vars", "args", "changed_when", "failed_when", "ignore_errors", "delegate_to", "environment",
                           "block", "rescue", "always", "listen", "retries", "delay", "until", "no_log", "check_mode"})
_HOST = re.compile(r"\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,24})\b|\b(?:\d{1,3}\.){3}\d{1,3}\b")
_URL = re.compile(r"\bhttps?://[^\s\"']+")
_PORT_IN_TEXT = re.compile(r"(?i)\b(?:port|listen)\s*[=:]?\s*(\d{2,5})\b")  # `Port 2222`, `listen 8080;`
_PATH_KEYS = ("dest", "path", "src")
_VALUE_KEYS = ("port", "version")
_HCL_ATTR = re.compile(r"^(\s+)([a-z_][a-z0-9_]*)(\s*=\s*)(\"[^\"$]*\"|-?\d+(?:\.\d+)?)(\s*(?:#.*)?)$")
_HCL_BLOCK = re.compile(r'^(resource|data|module)\s+"')
_HCL_SKIP = frozenset({"source", "count", "for_each", "depends_on", "provider", "type", "lifecycle"})


class Params:
    """The inputs a Rune gets, named once each."""

    def __init__(self) -> None:
        self.defaults: dict[str, Any] = {}

    def add(self, base: str, default: Any) -> str:
        base = re.sub(r"[^a-z0-9_]", "_", base.lower()).strip("_") or "value"
        base = base if base[0].isalpha() else f"v_{base}"
        for name in (base, *(f"{base}_{i}" for i in range(2, 100))):
            if name not in self.defaults or self.defaults[name] == default:
                self.defaults[name] = default
                return name
        raise InvalidInput("the solution has too many values to parametrise", hint="submit a smaller solution")


# ------------------------------------------------------------------ Ansible


def _word_before(text: str, start: int) -> str:
    m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\W*$", text[:start])
    return m.group(1) if m else ""


def _template_string(key: str, value: str, params: Params) -> str:
    if "{{" in value:
        return value
    if key in _PATH_KEYS and value.startswith("/"):
        return "{{ " + params.add(key, value) + " }}"
    spans: list[tuple[int, int, str, Any]] = [  # (start, end, input name, default)
        (m.start(), m.end(), _word_before(value, m.start()) or ("url" if m.group(0).startswith("http") else "host"), m.group(0))
        for m in [*_URL.finditer(value), *_HOST.finditer(value)]]
    spans += [(m.start(1), m.end(1), "port", int(m.group(1))) for m in _PORT_IN_TEXT.finditer(value)]
    out, last = [], 0
    for start, end, base, default in sorted(spans):
        if start < last:
            continue
        out += [value[last:start], "{{ " + params.add(base, default) + " }}"]
        last = end
    return "".join(out) + value[last:] if out else value


def _template_args(args: dict[str, Any], params: Params) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in args.items():
        if isinstance(value, bool) or value is None:
            out[key] = value
        elif isinstance(value, int) and key in _VALUE_KEYS:
            out[key] = "{{ " + params.add(key, value) + " }}"
        elif isinstance(value, str):
            out[key] = "{{ " + params.add(key, value) + " }}" if key in _VALUE_KEYS else _template_string(key, value, params)
        else:
            out[key] = value
    return out


def map_tasks(tasks: Any, fn: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    """An Ansible task list with every task (inside block, rescue and always too, innermost first) through fn."""
    if not isinstance(tasks, list):
        return tasks
    out = []
    for task in tasks:
        if isinstance(task, dict):
            task = fn({**task, **{k: map_tasks(task[k], fn) for k in ("block", "rescue", "always") if k in task}})
        out.append(task)
    return out


def _template_task(task: dict[str, Any], params: Params) -> dict[str, Any]:
    for key, value in list(task.items()):
        if key not in TASK_KEYWORDS and isinstance(value, dict):
            task[key] = _template_args(value, params)
        elif key not in TASK_KEYWORDS and isinstance(value, str):
            task[key] = _template_string(key, value, params)
    return task


def _template_tasks(tasks: Any, params: Params) -> Any:
    return map_tasks(tasks, lambda task: _template_task(task, params))


def _ansible(files: dict[str, str], params: Params) -> dict[str, str]:
    out = dict(files)
    for path, text in files.items():
        if "/" in path or not path.endswith((".yml", ".yaml")):
            continue
        plays = load_untrusted(text, what=path)
        if not isinstance(plays, list):
            continue
        for play in plays:
            if not isinstance(play, dict):
                continue
            for name, value in (play.get("vars") or {}).items():
                if isinstance(value, (str, int, float)) and not (isinstance(value, str) and "{{" in value):
                    params.add(str(name), value)
            for section in ("tasks", "pre_tasks", "post_tasks", "handlers"):
                if section in play:
                    play[section] = _template_tasks(play[section], params)
        out[path] = dump(plays, indent_lists=True)
    return out


# ------------------------------------------------------------------ Terraform


def _terraform(files: dict[str, str], params: Params) -> dict[str, str]:
    out = dict(files)
    added: list[str] = []
    for path, text in files.items():
        if not path.endswith(".tf") or path == "variables.tf":
            continue
        lines, depth, block = [], 0, ""
        for line in text.splitlines():
            if depth == 0:
                m = _HCL_BLOCK.match(line)
                block = m.group(1) if m else ""
            attr = _HCL_ATTR.match(line)
            if block and depth == 1 and attr and attr.group(2) not in _HCL_SKIP:
                raw = attr.group(4)
                default: Any = raw[1:-1] if raw.startswith('"') else (float(raw) if "." in raw else int(raw))
                name = params.add(attr.group(2), default)
                if name not in added:
                    added.append(name)
                line = f"{attr.group(1)}{attr.group(2)}{attr.group(3)}var.{name}{attr.group(5)}"
            depth += line.count("{") - line.count("}")
            lines.append(line)
        out[path] = "\n".join(lines) + "\n"
    if added:
        blocks = [f'variable "{n}" {{\n  description = "{n.replace("_", " ")} (learned from the solution)"\n'
                  f"  default     = {_hcl(params.defaults[n])}\n}}\n" for n in added]
        before = files.get("variables.tf", "").rstrip()
        out["variables.tf"] = (before + "\n\n" if before else "") + "\n".join(blocks)
    return out


def _hcl(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


# ------------------------------------------------------------------ the Rune


def rune(task: str, tool: str, files: dict[str, str], secret_inputs: list[str], *, providers: list[str], tags: list[str],
         name: str = "") -> dict[str, Any]:
    """The Rune (an Entity item tagged `rune`) for a sanitized solution."""
    params = Params()
    smiths = {"ansible": _ansible, "terraform": _terraform}
    templated = smiths[tool](files, params) if tool in smiths else dict(files)
    props: dict[str, Any] = {n: {"type": literal_type(v), "description": f"{n.replace('_', ' ')} (learned default)", "default": v}
                             for n, v in params.defaults.items()}
    for secret in secret_inputs:
        props[secret] = {"type": "string", "format": "password", "description": f"{secret}: a secret, give it at run time"}
    if tool == "terraform" and secret_inputs:
        templated["variables.tf"] = templated.get("variables.tf", "") + "".join(
            f'\nvariable "{s}" {{\n  type      = string\n  sensitive = true\n}}\n' for s in secret_inputs)
    rune_name = name or name_slug(task, stop=NAME_STOP, fallback="learned", limit=50)
    if not NAME_RE.match(rune_name):
        raise InvalidInput(f"bad name {rune_name!r:.60}", hint="lowercase letters, digits and dashes")
    return {
        "apiVersion": "fractal/v1", "kind": "Entity",
        "metadata": {"name": rune_name, "description": task, "tags": list(dict.fromkeys([RUNE_TAG, tool, *tags]))},
        "spec": {"tool": tool, "providers": providers,
                 "inputs": {"type": "object", "properties": props, "required": list(secret_inputs)},
                 "outputs": {}, "files": templated},
    }


# ------------------------------------------------------------------ the Orb


def orb(task: str, item: dict[str, Any], secret_inputs: list[str], *, tags: list[str], name: str = "") -> dict[str, Any]:
    """The Orb (a composite tagged `orb`) for a sanitized pipeline: its steps' literals become its inputs."""
    spec: dict[str, Any] = item.get("spec") or {}
    inputs: dict[str, Any] = spec["inputs"] if isinstance(spec.get("inputs"), dict) else {}
    props: dict[str, Any] = dict(inputs.get("properties") or {})
    required = [r for r in inputs.get("required") or [] if isinstance(r, str)]
    params, docs = Params(), dict[str, str]()
    params.defaults.update({n: object() for n in props})  # a literal never takes the name of an input already there
    steps = []
    if not isinstance(spec.get("steps"), list) or not spec["steps"]:
        raise InvalidInput("a pipeline solution needs spec.steps, a non-empty list of {id, ref, inputs}")
    for step in spec["steps"]:
        if not isinstance(step, dict) or not isinstance(step.get("inputs") or {}, dict):
            raise InvalidInput("every step of a pipeline solution is an object {id, ref, inputs?: {name: value}}")
        bound: dict[str, Any] = {}
        for key, value in (step.get("inputs") or {}).items():
            if isinstance(value, dict) and "from" in value:
                bound[key] = value
                continue
            param = params.add(str(key), value)
            docs.setdefault(param, f"{str(key).replace('_', ' ')} of step {step.get('id')} (learned default)")
            bound[key] = {"from": f"inputs.{param}"}
        steps.append({**{k: v for k, v in step.items() if k != "inputs"}, **({"inputs": bound} if bound else {})})
    for param, description in docs.items():
        default = params.defaults[param]
        props[param] = {"type": literal_type(default), "description": description, "default": default}
    for secret in secret_inputs:
        props[secret] = {"type": "string", "format": "password", "description": f"{secret}: a secret, give it at run time"}
        required += [secret] if secret not in required else []
    orb_name = name or name_slug(task, stop=NAME_STOP, fallback="learned", limit=50)
    if not NAME_RE.match(orb_name):
        raise InvalidInput(f"bad name {orb_name!r:.60}", hint="lowercase letters, digits and dashes")
    return {
        "apiVersion": "fractal/v1", "kind": item["kind"],
        "metadata": {"name": orb_name, "description": task, "tags": list(dict.fromkeys([ORB_TAG, *tags]))},
        "spec": {"provider": spec.get("provider"), "steps": steps,
                 "inputs": {"type": "object", "properties": props, "required": required},
                 **({"outputs": spec["outputs"]} if spec.get("outputs") else {})},
    }
