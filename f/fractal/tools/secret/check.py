"""Secret entities: the binding of a credential, never its value.

`secret.yaml` holds exactly: `resource_type` (the Windmill resource type), `path` (the Windmill
resource path holding the value), `env` (environment variable → field of the resource, what the
tools read) and `description`. For the resource types the pack knows (the providers' credentials,
`git_repository`, `fractal_llm`) the env fields must exist in the type.
"""

from __future__ import annotations

import re
from typing import Any

from f.fractal.model.errors import InvalidInput
from f.fractal.model.providers import PROVIDERS
from f.fractal.platform.workspace import PATH_RE
from f.fractal.platform.yamlio import load_untrusted
from f.fractal.tools.checks import Report
from f.fractal.tools.secret.files import binding_file

DEFAULT_FILE = "secret.yaml"
RULES = (
    "A secret entity is one file secret.yaml with exactly four keys: resource_type, path, env, description.",
    "resource_type is the Windmill resource type (e.g. exoscale); path the Windmill resource path (e.g. f/fractal/exoscale).",
    "env maps each environment variable a tool reads to a field of the resource: {EXOSCALE_API_KEY: api_key}.",
    "NEVER write a value, a key, a token or a placeholder of one: the value lives only in Windmill's secret store.",
)

KEYS = ("resource_type", "path", "env", "description")
_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
_ENV_RE = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
_FIELD_RE = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")
EXTRA_TYPES: dict[str, tuple[str, ...]] = {
    "git_repository": ("url", "branch", "folder", "gpg_key", "is_github_app"),
    "fractal_llm": ("model", "api_base", "api_key", "timeout", "temperature"),
}


def known_types() -> dict[str, tuple[str, ...]]:
    """Resource type → its fields, for the types the pack defines (data from f.fractal.providers)."""
    types = dict(EXTRA_TYPES)
    for p in PROVIDERS.values():
        if p.credential:
            types[p.credential.resource_type] = tuple(sorted(set(p.credential.env.values())))
    return types


def check(files: dict[str, str], report: Report) -> None:
    report.ran("secret binding")
    try:
        path = binding_file(files)
    except InvalidInput as e:
        report.error("", f"{e.message}: {e.hint}")
        return
    if len(files) != 1:
        report.error("", f"a secret entity holds exactly one file, {DEFAULT_FILE}, got {', '.join(files)}")
        return
    text = files[path]
    try:
        doc = load_untrusted(text, what=path)
    except InvalidInput as e:
        report.error(path, e.message.split("\n")[0])
        return
    if not isinstance(doc, dict):
        report.error(path, f"{path} must be a mapping with {', '.join(KEYS)}")
        return
    for problem in binding_problems(doc):
        report.error(path, problem)


def binding_problems(doc: dict[str, Any]) -> list[str]:
    problems = [f"unexpected key {k!r:.40}: a binding holds only {', '.join(KEYS)} — never a value" for k in doc if k not in KEYS]
    problems += [f"missing {k}" for k in KEYS if k not in doc]
    rtype, path, env = doc.get("resource_type"), doc.get("path"), doc.get("env")
    if "resource_type" in doc and not (isinstance(rtype, str) and _TYPE_RE.match(rtype)):
        problems.append(f"resource_type {rtype!r:.40} must be a resource type name such as exoscale")
    if "path" in doc and not (isinstance(path, str) and PATH_RE.match(path)):
        problems.append(f"path {path!r:.60} must be a Windmill resource path such as f/fractal/exoscale")
    if "description" in doc and not (isinstance(doc["description"], str) and doc["description"].strip()):
        problems.append("description must say what the credential is for")
    if "env" in doc:
        problems += _env_problems(env, rtype if isinstance(rtype, str) else "")
    return problems


def _env_problems(env: Any, rtype: str) -> list[str]:
    if not isinstance(env, dict) or not env:
        return ["env must map at least one environment variable to a field of the resource, e.g. {API_KEY: api_key}"]
    fields = known_types().get(rtype)
    problems = []
    for name, field in env.items():
        if not isinstance(name, str) or not _ENV_RE.match(name):
            problems.append(f"env name {name!r:.40} must be an UPPER_CASE environment variable")
        if not isinstance(field, str) or not _FIELD_RE.match(field):
            problems.append(f"env {name}: its value is not a field name — a binding names the resource's field, never the value")
        elif fields is not None and field not in fields:
            problems.append(f"env {name}: resource type {rtype} has no field {field} (it has {', '.join(fields)})")
    return problems
