"""The fractal item model: one shape (`apiVersion/kind/metadata/spec/provenance`) at every level.

| level | kind         | ref prefix     | members                      |
| 0     | Entity       | entity:        | tool files                   |
| 1     | Pipeline     | pipeline:      | entity refs                  |
| 2+    | MetaPipeline | meta-pipeline: | pipeline / meta-pipeline refs |

The JSON Schemas below are the source of truth; `scripts/fractal schemas` publishes them to
`resources/schemas/`. `normalize_item` validates a payload and returns it in canonical key order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from f.fractal.model.errors import InvalidInput

API_VERSION = "fractal/v1"
KIND_SLUGS: dict[str, str] = {"Entity": "entity", "Pipeline": "pipeline", "MetaPipeline": "meta-pipeline"}
SLUG_KINDS: dict[str, str] = {v: k for k, v in KIND_SLUGS.items()}
KIND_FOLDERS: dict[str, str] = {"Entity": "entities", "Pipeline": "pipelines", "MetaPipeline": "meta-pipelines"}
TOOLS = ("terraform", "ansible", "secret", "kubernetes", "kustomize", "helm", "argocd", "dockerfile", "github-actions")

NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
VERSION_RE = re.compile(r"^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$")
REF_RE = re.compile(r"^(entity|pipeline|meta-pipeline):([a-z0-9][a-z0-9-]{0,62})(?:@([^\s@]+))?$")
STEP_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
FILE_PATH_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*){0,7}$")
RESERVED_FILES = frozenset({"fractal.yaml", "README.md"})
MAX_FILES = 200
MAX_FILE_BYTES = 512 * 1024
MAX_TOTAL_FILE_BYTES = 2 * 1024 * 1024

# ---------------------------------------------------------------- refs and versions


@dataclass(frozen=True)
class Ref:
    """`entity:k3s-cluster@1.2.0`; version `latest` (the default) resolves to the newest."""

    kind: str  # Entity | Pipeline | MetaPipeline
    name: str
    version: str = "latest"

    @property
    def slug(self) -> str:
        return KIND_SLUGS[self.kind]

    def __str__(self) -> str:
        return f"{self.slug}:{self.name}@{self.version}"

    def pinned(self, version: str) -> Ref:
        return Ref(self.kind, self.name, version)


def parse_ref(text: Any) -> Ref:
    if not isinstance(text, str) or len(text) > 200:
        raise InvalidInput(f"ref must be a string like 'entity:name@1.0.0', got {text!r:.80}")
    m = REF_RE.match(text.strip())
    if not m or not NAME_RE.match(m.group(2)):
        raise InvalidInput(
            f"bad ref {text!r:.80}",
            hint="write <entity|pipeline|meta-pipeline>:<kebab-name>[@<major.minor.patch>|@latest]",
        )
    version = m.group(3) or "latest"
    if version != "latest" and not VERSION_RE.match(version):
        raise InvalidInput(f"bad version {version!r} in ref {text!r}", hint="use major.minor.patch, e.g. 1.2.0, or latest")
    return Ref(SLUG_KINDS[m.group(1)], m.group(2), version)


def version_key(version: str) -> tuple[int, int, int]:
    m = VERSION_RE.match(version)
    if not m:
        raise InvalidInput(f"bad version {version!r}", hint="use major.minor.patch, e.g. 1.2.0")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def bump(version: str, part: str = "patch") -> str:
    major, minor, patch = version_key(version)
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    if part == "patch":
        return f"{major}.{minor}.{patch + 1}"
    raise InvalidInput(f"bad bump {part!r}", hint="use patch, minor or major")


# ---------------------------------------------------------------- JSON Schemas

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"  # input and output names: they become variables in flows and plays
_INPUT_SCHEMA = {
    "description": "JSON Schema (type object) of the item's inputs, as Windmill shows them in a form.",
    "type": "object",
    "properties": {
        "type": {"const": "object"},
        "properties": {"type": "object", "propertyNames": {"pattern": IDENTIFIER}},
        "required": {"type": "array", "items": {"type": "string", "pattern": IDENTIFIER}},
    },
}
_OUTPUTS = {
    "description": "Outputs the item produces, by name.",
    "type": "object",
    "propertyNames": {"pattern": IDENTIFIER},
    "additionalProperties": {
        "type": "object",
        "properties": {"description": {"type": "string"}, "type": {"type": "string"}, "from": {"type": "string"}},
    },
}
_FILES = {
    "description": "Tool files inline, {relative path: text}; on disk they are real files beside the item YAML.",
    "type": "object",
    "maxProperties": MAX_FILES,
    "propertyNames": {"pattern": FILE_PATH_RE.pattern},
    "additionalProperties": {"type": "string"},
}
_METADATA = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": NAME_RE.pattern, "description": "kebab-case, unique per kind"},
        "version": {"type": "string", "pattern": VERSION_RE.pattern, "description": "semver; bumped on save"},
        "description": {"type": "string", "maxLength": 4000},
        "tags": {"type": "array", "maxItems": 30, "items": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9._-]{0,39}$"}},
        "owner": {"type": "string", "maxLength": 200},
    },
}
_STEP: dict[str, Any] = {
    "type": "object",
    "required": ["id", "ref"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": STEP_ID_RE.pattern},
        "ref": {"type": "string", "pattern": REF_RE.pattern},
        "summary": {"type": "string", "maxLength": 500},
        "needs": {"type": "array", "items": {"type": "string", "pattern": STEP_ID_RE.pattern}},
        "provider": {"type": "string", "description": "this step's provider; absent = the composite's, or chosen at launch"},
        "inputs": {
            "description": "literal values, or {from: 'inputs.<name>' | 'steps.<id>.outputs.<name>'} to wire",
            "type": "object",
        },
    },
}


def _composite_spec(member_kinds: list[str]) -> dict[str, Any]:
    ref = {"type": "string", "pattern": rf"^({'|'.join(member_kinds)}):[a-z0-9][a-z0-9-]{{0,62}}@"}
    step = {**_STEP, "properties": {**_STEP["properties"], "ref": ref}}
    return {
        "type": "object",
        "required": ["steps"],
        "properties": {
            "provider": {"type": ["string", "null"], "description": "fixed provider; null = chosen at launch"},
            "inputs": _INPUT_SCHEMA,
            "outputs": _OUTPUTS,
            "steps": {"type": "array", "minItems": 1, "maxItems": 100, "items": step},
            "files": _FILES,
        },
    }


_ENTITY_SPEC = {
    "type": "object",
    "required": ["tool"],
    "properties": {
        "tool": {"enum": list(TOOLS)},
        "providers": {
            "type": "array",
            "items": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]{0,39}$"},
            "description": "providers the entity fits; empty = any",
        },
        "inputs": _INPUT_SCHEMA,
        "outputs": _OUTPUTS,
        "credentials": {"type": "array", "items": {"type": "string"}, "description": "credential names it needs"},
        "files": _FILES,
        "allow": {
            "type": "array",
            "maxItems": 20,
            "description": "reviewed exceptions to the policy for dangerous constructs (tools.policy), shown in the README",
            "items": {
                "type": "object",
                "required": ["rule", "reason"],
                "additionalProperties": False,
                "properties": {
                    "rule": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]{2,62}$"},
                    "reason": {"type": "string", "minLength": 10, "maxLength": 500},
                },
            },
        },
    },
}


def schema_for(kind: str) -> dict[str, Any]:
    """The published JSON Schema of one kind."""
    spec = (
        _ENTITY_SPEC if kind == "Entity" else _composite_spec(["entity"] if kind == "Pipeline" else ["pipeline", "meta-pipeline"])
    )
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": f"https://fractal.dev/schemas/{KIND_SLUGS[kind]}.schema.json",
        "title": f"fractal/v1 {kind}",
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": API_VERSION},
            "kind": {"const": kind},
            "metadata": _METADATA,
            "spec": spec,
            "provenance": {"type": "object", "description": "who or what made it: prompt, model, attempts, time"},
        },
    }


# ---------------------------------------------------------------- validation

_validators: dict[str, Any] = {}


def _validate(kind: str, raw: dict[str, Any]) -> None:
    if kind not in _validators:
        import fastjsonschema  # deferred: only saves validate; compiles the schema to Python once

        _validators[kind] = fastjsonschema.compile(schema_for(kind))
    try:
        _validators[kind](raw)
    except Exception as e:  # fastjsonschema.JsonSchemaValueException
        where = str(getattr(e, "name", "item")).replace("data", "item", 1)
        raise InvalidInput(
            f"invalid {kind}: {where}: {getattr(e, 'message', e)}"[:500],
            hint=f"see resources/schemas/{KIND_SLUGS[kind]}.schema.json",
        ) from None


def normalize_item(raw: Any) -> dict[str, Any]:
    """Validate an item payload and return it in canonical key order. Raises InvalidInput."""
    if not isinstance(raw, dict):
        raise InvalidInput("an item must be a mapping with apiVersion, kind, metadata and spec")
    kind = raw.get("kind")
    if kind not in KIND_SLUGS:
        raise InvalidInput(f"unknown kind {kind!r:.40}", hint=f"use one of {', '.join(KIND_SLUGS)}")
    if isinstance(raw.get("metadata"), dict) and raw["metadata"].get("version") == "":
        raw = {**raw, "metadata": {k: v for k, v in raw["metadata"].items() if k != "version"}}  # "" = not set yet
    _validate(kind, raw)
    spec = raw["spec"]
    _check_files(spec.get("files") or {})
    if kind != "Entity":
        _check_steps(spec["steps"])
    meta = raw["metadata"]
    item: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": {
            "name": meta["name"],
            "version": meta.get("version", ""),
            "description": meta.get("description", ""),
            "tags": list(meta.get("tags") or []),
            "owner": meta.get("owner", ""),
        },
        "spec": spec,
    }
    if raw.get("provenance"):
        item["provenance"] = raw["provenance"]
    return item


def _check_files(files: dict[str, str]) -> None:
    folders = {path.rsplit("/", n)[0] for path in files for n in range(1, path.count("/") + 1)}
    clash = sorted(folders.intersection(files))
    if clash:
        raise InvalidInput(f"the item's files hold {clash[0]!r:.80} both as a file and as the folder of another file",
                           hint="rename the file or the folder", data={"argument": "item"})
    total = 0
    for path, text in files.items():
        if path in RESERVED_FILES or ".." in path.split("/") or path.startswith(".git"):
            raise InvalidInput(f"file path {path!r:.80} is reserved or unsafe", hint="use a plain relative path")
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_FILE_BYTES:
            raise InvalidInput(f"file {path} is {size} bytes, over {MAX_FILE_BYTES}", hint="keep large data out of Git")
        total += size
    if total > MAX_TOTAL_FILE_BYTES:
        raise InvalidInput(f"files total {total} bytes, over {MAX_TOTAL_FILE_BYTES}", hint="split the item")


def _check_steps(steps: list[dict[str, Any]]) -> None:
    ids = [s["id"] for s in steps]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise InvalidInput(f"duplicate step ids: {', '.join(dupes)}", hint="give each step a unique id")
    for step in steps:
        parse_ref(step["ref"])
        for need in step.get("needs") or []:
            if need not in ids:
                raise InvalidInput(f"step {step['id']} needs unknown step {need!r}", hint=f"known steps: {', '.join(ids)}")


def member_refs(item: dict[str, Any]) -> list[Ref]:
    """The refs a composite's steps name (empty for an entity)."""
    if item["kind"] == "Entity":
        return []
    return [parse_ref(s["ref"]) for s in item["spec"].get("steps", [])]


def summary(item: dict[str, Any]) -> dict[str, Any]:
    """The index row of an item: what list/search return without reading the item's files."""
    meta, spec = item["metadata"], item["spec"]
    row: dict[str, Any] = {
        "ref": f"{KIND_SLUGS[item['kind']]}:{meta['name']}@{meta.get('version', '')}",
        "kind": item["kind"],
        "name": meta["name"],
        "version": meta.get("version", ""),
        "description": meta.get("description", ""),
        "tags": meta.get("tags", []),
        "owner": meta.get("owner", ""),
    }
    if item["kind"] == "Entity":
        row["tool"] = spec.get("tool", "")
        row["providers"] = spec.get("providers") or []
    else:
        row["provider"] = spec.get("provider")
        row["providers"] = spec.get("providers") or []  # every provider it runs on (computed at save)
        row["steps"] = [{k: s[k] for k in ("id", "ref", "needs") if k in s} for s in spec.get("steps", [])]
    row["inputs"] = sorted((spec.get("inputs") or {}).get("properties", {}))
    row["outputs"] = sorted(spec.get("outputs") or {})
    return row
