"""An Ansible entity compiled into a Windmill-native `.playbook.yml` script (see f/fractal/compile_playbook).

The script is one YAML stream: a Windmill header (extra_vars from the entity's input schema; an
`ansible_inventory` resource argument for non-local providers; the provider's credential as a
static resource, exported to the plays as the provider's environment variables) and then the
entity's plays, followed by a play that writes the declared outputs to `result.json` (Windmill's
result).
"""

from __future__ import annotations

from typing import Any

import yaml

from f.fractal.model.errors import InvalidInput
from f.fractal.model.providers import PROVIDERS
from f.fractal.model.records import Found
from f.fractal.tools.ansible.files import DESTROY_NAMES, playbook_name
from f.fractal.tools.ansible.run import FROM_RE

_TYPES = ("string", "integer", "number", "boolean", "object", "array")


def compile_entity(resolved: Found) -> str:
    """The `.playbook.yml` text of an Ansible entity (refused when it needs more than one file)."""
    item = resolved["item"]
    spec = item["spec"]
    entry = playbook_name(spec.get("files") or {}, "apply")
    skip = (entry, *DESTROY_NAMES)
    others = sorted(n for n in (spec.get("files") or {}) if n not in skip and not n.endswith(".md"))
    if others:
        raise InvalidInput(f"{resolved['ref']} has files beside its playbook ({', '.join(others[:5])})",
                           hint="a .playbook.yml script holds one playbook: run this entity with f/fractal/run_item")
    plays = yaml.safe_load(spec["files"][entry]) or []
    if not isinstance(plays, list):
        raise InvalidInput(f"{entry} is not a list of plays")
    header, env = _header(resolved)
    for play in plays:
        if isinstance(play, dict) and "hosts" in play and env:
            play["environment"] = {**env, **(play.get("environment") or {})}
    plays.append(_outputs_play(spec.get("outputs") or {}))
    note = f"# Compiled by Fractal from {resolved['ref']} (commit {resolved['commit'][:12]}). Recompile, do not edit.\n"
    dump = yaml.safe_dump
    return note + "---\n" + dump(header, sort_keys=False) + "---\n" + dump(plays, sort_keys=False, width=120)


def _header(resolved: Found) -> tuple[dict[str, Any], dict[str, str]]:
    spec = resolved["item"]["spec"]
    schema = spec.get("inputs") or {}
    required = set(schema.get("required") or [])
    extra: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        arg = {k: prop[k] for k in ("type", "description", "default", "format", "items", "properties") if k in prop}
        if arg.get("type") not in _TYPES:
            arg["type"] = "string" if name in required else "object"
        extra[name] = arg
    header: dict[str, Any] = {"extra_vars": extra}
    declared = spec.get("providers") or []
    env: dict[str, str] = {}
    if declared != ["local"]:
        header["inventory"] = [{"resource_type": "ansible_inventory"}]
    creds = [PROVIDERS[n].credential for n in declared if n in PROVIDERS]
    if len(declared) == 1 and creds and creds[0] is not None:
        cred = creds[0]
        extra["fractal_credential"] = {"type": "windmill_resource", "resource": cred.default_path}
        env = {var: "{{ fractal_credential." + field + " }}" for var, field in cred.env.items()}
    return header, env


def _source(name: str, decl: dict[str, Any] | None) -> str:
    """The variable an output is read from, checked like the runner does (it is pasted into Jinja)."""
    attr = str((decl or {}).get("from") or name)
    if not FROM_RE.match(attr):
        raise InvalidInput(f"output {name}: 'from' must be a variable path like result.stdout, got {attr!r:.60}",
                           hint="name a registered variable or fact, with .field parts; no expressions")
    return attr


def _outputs_play(outputs: dict[str, Any]) -> dict[str, Any]:
    """A last play writing the declared outputs, from any host that set them, to result.json."""
    parts = []
    for name, decl in outputs.items():
        attr = _source(name, decl)
        parts.append(f"'{name}': (groups['all'] | union(['localhost']) | map('extract', hostvars)"
                     f" | selectattr('{attr}', 'defined') | map(attribute='{attr}') | list | last | default(none))")
    content = "{{ {" + ", ".join(parts) + "} | to_json }}"
    return {"name": "Fractal outputs", "hosts": "localhost", "connection": "local", "gather_facts": False,
            "tasks": [{"name": "Write result.json (the Windmill result)",
                       "ansible.builtin.copy": {"dest": "result.json", "content": content, "mode": "0644"}}]}


def script_meta(resolved: Found, content: str) -> dict[str, Any]:
    """The .script.yaml of the compiled script: its form is the header's extra_vars."""
    header = next(yaml.safe_load_all(content))
    args = header["extra_vars"].items()
    props = {n: {k: v for k, v in a.items() if k != "resource"} for n, a in args if a["type"] != "windmill_resource"}
    required = [n for n in (resolved["item"]["spec"].get("inputs") or {}).get("required") or [] if n in props]
    meta = resolved["item"]["metadata"]
    return {
        "summary": f"Fractal playbook: {meta['name']}@{meta['version']}",
        "description": f"{meta.get('description', '')}\n\nCompiled from {resolved['ref']} (commit {resolved['commit']}, "
                       f"target {resolved['target']}) by f/fractal/compile_playbook.",
        "lock": "", "kind": "script",
        "schema": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "order": list(props),
                   "properties": props, "required": required},
    }
