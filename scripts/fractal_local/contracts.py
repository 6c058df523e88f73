"""The pack's public scripts as an API: their `.script.yaml` schemas, HTTP routes, and the argument check.

One source for the CLI, the local server, OpenAPI and MCP. `check_args` is what every local call goes
through before `main` runs: types, enums, patterns, ranges and required arguments, against the script's
own schema, refused as `invalid_input` naming the argument (issue 10, item 5).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastjsonschema
import yaml

from f.fractal.model.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "f" / "fractal"
# Windmill-only keys that are not JSON Schema keywords.
_WINDMILL_KEYS = {"order", "nullable", "$schema"}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Script:
    """A public script: Windmill path, summary, description, JSON Schema of its arguments, HTTP route, and
    Windmill's `timeout` (seconds a job of it may run; None: the runtime's default)."""

    path: str
    summary: str
    description: str
    schema: dict[str, Any]
    route: str = ""
    required: tuple[str, ...] = field(default=())
    timeout: float | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[1]


def json_schema(windmill: dict[str, Any]) -> dict[str, Any]:
    """A Windmill argument schema as plain JSON Schema 2020-12: `nullable: true` becomes a `null` type."""
    out: dict[str, Any] = {}
    for key, value in windmill.items():
        if key in _WINDMILL_KEYS:
            continue
        if key == "properties":
            out[key] = {name: json_schema(prop) for name, prop in value.items()}
        elif key == "items" and isinstance(value, dict):
            out[key] = json_schema(value)
        else:
            out[key] = value
    if windmill.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def _route_of(root: Path) -> dict[str, str]:
    routes = {}
    for file in sorted((root / "f").rglob("*.http_trigger.yaml")):
        spec = _meta(file)
        if not spec.get("is_flow"):
            routes[spec["script_path"]] = spec["route_path"].strip("/")
    return routes


def _has_main(meta: Path) -> bool:
    source = meta.with_name(meta.name.removesuffix(".script.yaml") + ".py")
    return source.is_file() and re.search(r"^def main\(", source.read_text(encoding="utf-8"), re.M) is not None


def _meta(file: Path) -> dict[str, Any]:
    return yaml.load(file.read_text(encoding="utf-8"), Loader=_Loader) or {}  # noqa: S506 - the C SafeLoader


@functools.cache
def schema_of(path: str, root: Path = ROOT) -> dict[str, Any] | None:
    """One script's arguments as JSON Schema, read from its own `.script.yaml` only: what a call pays."""
    file = root / f"{path}.script.yaml"
    return json_schema(_meta(file).get("schema") or {}) if file.is_file() else None


@functools.cache
def scripts(root: Path = ROOT) -> dict[str, Script]:
    """Every script of the pack with arguments (a `main`), by Windmill path, in name order."""
    routes = _route_of(root)
    found = {}
    for file in sorted((root / "f").rglob("*.script.yaml")):
        meta = _meta(file)
        schema = meta.get("schema") or {}
        if not schema.get("properties") and not _has_main(file):
            continue  # a library module: no main, no arguments (a main without arguments is still a script)
        path = str(file.relative_to(root)).removesuffix(".script.yaml")
        summary = str(meta.get("summary", "")).removeprefix("Fractal: ")
        found[path] = Script(path, summary, str(meta.get("description", "")).strip(), json_schema(schema),
                             routes.get(path, ""), tuple(schema.get("required") or ()),
                             float(meta["timeout"]) if meta.get("timeout") else None)
    return found


def routes(root: Path = ROOT) -> dict[str, str]:
    """{route_path: script path} of the pack's HTTP triggers."""
    return {s.route: s.path for s in scripts(root).values() if s.route}


@functools.cache
def validator(path: str) -> Callable[[Any], Any]:
    """The compiled check of a script's arguments (~25 ms to compile: the job worker compiles them once)."""
    schema = schema_of(path) or {}
    return fastjsonschema.compile({**schema, "properties": schema.get("properties", {})})


def _unencodable(value: Any, where: str) -> str | None:
    """The argument path of the first string that is not valid Unicode (a lone surrogate), if any."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where
    elif isinstance(value, dict):
        for key, item in value.items():
            found = _unencodable(key, where) or _unencodable(item, f"{where}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _unencodable(item, f"{where}[{i}]")
            if found:
                return found
    return None


def check_args(path: str, args: dict[str, Any]) -> dict[str, Any]:
    """The arguments to pass to `path`'s main, checked against its schema (unknown scripts pass unchanged).

    A null for an optional argument means its default, as an omitted one does.
    """
    schema = schema_of(path)
    if schema is None:
        return args
    required = tuple(schema.get("required") or ())
    kept = {k: v for k, v in args.items() if v is not None or k in required}
    bad = _unencodable(kept, "arguments")
    if bad:
        name = bad.removeprefix("arguments.")
        raise InvalidInput(f"{path}: {name} holds text that is not valid Unicode",
                           hint="send UTF-8 text (a lone surrogate cannot be stored)", data={"argument": name.split(".")[0]})
    try:
        validator(path)(kept)
    except fastjsonschema.JsonSchemaValueException as e:
        name = str(e.path[1]) if isinstance(e.path, list) and len(e.path) > 1 else ""
        message = str(e.message).replace("data.", "", 1).replace("data ", "the arguments ", 1)
        if e.rule == "required" and not name:
            name = next(n for n in required if n not in kept)
            message = f"{name} is required"
        prop = schema.get("properties", {}).get(name, {})
        hint = str(prop.get("description", ""))[:300] or f"see the schema of {path}"
        raise InvalidInput(f"{path}: {message}", hint=hint, data={"argument": name, "rule": e.rule}) from None
    return kept
