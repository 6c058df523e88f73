"""Terraform entities: HCL parsed with python-hcl2 plus structural rules; `terraform fmt`/`validate` when present.

Rules: every file parses; every declared variable is used and every used one declared; every
provider the files use is pinned in `terraform { required_providers { x = { source, version } } }`;
no credential is written as a literal (providers read them from the environment). Variables and
outputs without a description are warnings. With the `terraform` binary on the worker, `fmt -check`
runs (a warning when files are not canonical); `validate` runs when the `tf_plugin_dir` setting holds
the providers (a filesystem mirror), since `init` would otherwise download them.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import f.fractal.platform.settings as settings
import f.fractal.tools.terraform.schema_exoscale as exoscale_schema
from f.fractal.model.providers import PROVIDERS
from f.fractal.platform.files import write_files
from f.fractal.platform.secrets import is_reference, is_secret_name
from f.fractal.tools.checks import Report, find_binary, run_tool

DEFAULT_FILE = "main.tf"
RULES = (
    "Write Terraform (HCL2) in the standard module layout: main.tf, variables.tf, outputs.tf, versions.tf.",
    "versions.tf pins every provider used: terraform { required_providers { name = { source = \"…\", version = \"~> x.y\" } } }.",
    "Every variable has a type and a description, and is used; every output has a description.",
    "Never write a credential (key, secret, token, password) in HCL: providers read them from environment variables.",
    "Put every tunable value (counts, sizes, zones, names, images) in a variable with a sensible default.",
    "Write canonical formatting (as terraform fmt would): two-space indent, aligned equals signs.",
)

_VAR_REF = re.compile(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)")
_BUILTIN_TYPES = ("terraform_data", "terraform_remote_state")
_OPTIONS: Any = None


def _options() -> Any:
    global _OPTIONS
    if _OPTIONS is None:
        from hcl2 import SerializationOptions

        _OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
    return _OPTIONS


def parse(text: str) -> dict[str, Any]:
    """One .tf file as python-hcl2's classic dict shape; raises ValueError(line, message).

    A draft's files are parsed once for its interface and its checks: the parse of a text is
    remembered (a few recent ones) and each caller gets its own copy.
    """
    return copy.deepcopy(_parse_cached(text))


@functools.lru_cache(maxsize=16)
def _parse_cached(text: str) -> dict[str, Any]:
    import hcl2
    from lark.exceptions import LarkError

    try:
        parsed: dict[str, Any] = hcl2.loads(text, serialization_options=_options())
        return parsed
    except LarkError as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ValueError(getattr(e, "line", None), f"invalid HCL: {first}") from None
    except Exception as e:  # python-hcl2 raises plain errors for some malformed input
        raise ValueError(None, f"invalid HCL: {type(e).__name__}: {str(e)[:200]}") from None


def _blocks(docs: dict[str, dict[str, Any]], kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(file, block) for every top-level block of a kind: `variable`, `resource`, …"""
    return [(file, block) for file, doc in docs.items() for block in doc.get(kind, []) if isinstance(block, dict)]


def _named(docs: dict[str, dict[str, Any]], kind: str) -> dict[str, tuple[str, dict[str, Any]]]:
    found = {}
    for file, block in _blocks(docs, kind):
        for name, body in block.items():
            found[name] = (file, body if isinstance(body, dict) else {})
    return found


def check(files: dict[str, str], report: Report) -> None:
    tf = {path: text for path, text in files.items() if path.endswith(".tf")}
    if not tf:
        report.error("", "a Terraform entity needs .tf files (main.tf, variables.tf, outputs.tf, versions.tf)")
        return
    report.ran("hcl2 parse")
    docs: dict[str, dict[str, Any]] = {}
    for path, text in tf.items():
        try:
            docs[path] = parse(text)
        except ValueError as e:
            line, message = e.args
            report.error(path, message, line)
    broken = sorted(set(tf) - set(docs))
    report.ran("terraform structure")
    _check_credentials(docs, report)
    for name, (file, body) in _named(docs, "output").items():
        if not body.get("description"):
            report.warn(file, f"output {name} has no description")
    if broken:  # what spans files (variables, pinned providers) and the binary need every file
        why = f"{', '.join(broken)} does not parse"
        for check in ("variables declared and used", "providers pinned", "terraform fmt", "terraform validate"):
            report.skipped(check, why)
        return
    _check_variables(tf, docs, report)
    _check_providers(docs, report)
    _check_schema(docs, report)
    _run_binary(tf, report)


def _check_variables(tf: dict[str, str], docs: dict[str, dict[str, Any]], report: Report) -> None:
    declared = _named(docs, "variable")
    used: dict[str, str] = {}
    for path, text in tf.items():
        for m in _VAR_REF.finditer(text):
            used.setdefault(m.group(1), path)
    for name, (file, body) in declared.items():
        if name not in used:
            report.error(file, f"variable {name} is declared but never used: use it (var.{name}) or remove it")
        if not body.get("description"):
            report.warn(file, f"variable {name} has no description")
        if "type" not in body:
            report.warn(file, f"variable {name} has no type")
    for name, file in used.items():
        if name not in declared:
            report.error(file, f'var.{name} is used but not declared: declare variable "{name}" in variables.tf')


def _used_providers(docs: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Provider local name → a file that uses it (resources, data sources, provider blocks)."""
    used: dict[str, str] = {}
    for kind in ("resource", "data"):
        for file, block in _blocks(docs, kind):
            for rtype in block:
                if rtype not in _BUILTIN_TYPES:
                    used.setdefault(rtype.split("_", 1)[0], file)
    for file, block in _blocks(docs, "provider"):
        for name in block:
            used.setdefault(name, file)
    return used


def _required(docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    pinned: dict[str, Any] = {}
    for _file, block in _blocks(docs, "terraform"):
        for group in block.get("required_providers") or []:
            if isinstance(group, dict):
                pinned.update(group)
    return pinned


def _check_providers(docs: dict[str, dict[str, Any]], report: Report) -> None:
    sources = {p.terraform_source.split("/")[-1]: (p.terraform_source, p.terraform_version)
               for p in PROVIDERS.values() if p.terraform_source}
    pinned = _required(docs)
    for name, file in sorted(_used_providers(docs).items()):
        spec = pinned.get(name)
        source, version = sources.get(name, (f"hashicorp/{name}", "~> x.y"))
        fix = f'add {name} = {{ source = "{source}", version = "{version}" }} to required_providers in versions.tf'
        if not isinstance(spec, dict):
            report.error(file, f"provider {name} is used but not pinned in required_providers: {fix}")
        elif not spec.get("version") or not spec.get("source"):
            report.error("versions.tf", f"provider {name} needs both source and version in required_providers: {fix}")


Types = dict[str, tuple[str, str]]  # type → (its arguments separated by spaces, its replacement when deprecated)
Blocks = dict[str, str]  # "<type>.<block>[.<block>…]" → the nested block's arguments separated by spaces
SCHEMAS: dict[str, tuple[Types, Types, str, Blocks]] = {
    "exoscale": (exoscale_schema.RESOURCES, exoscale_schema.DATA, exoscale_schema.SOURCE, exoscale_schema.BLOCKS),
}
META_ARGUMENTS = frozenset(("count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection",
                            "timeouts"))


def _argument(key: str, allowed: set[str] | frozenset[str]) -> str | None:
    """The schema's name for an argument as written: list blocks are plural in the snapshot (healthcheck → healthchecks)."""
    plural = f"{key[:-1]}ies" if key.endswith("y") else f"{key}s"
    return next((name for name in (key, plural) if name in allowed), None)


def _unknown(body: Any, allowed: set[str] | frozenset[str]) -> list[str]:
    return [k for k in (body if isinstance(body, dict) else {}) if _argument(k, allowed) is None]


def _check_blocks(report: Report, file: str, where: str, path: str, body: Any, allowed: set[str], blocks: Blocks) -> None:
    """The arguments of the nested blocks in a body (recursively), against the snapshot's BLOCKS."""
    for key, value in (body.items() if isinstance(body, dict) else []):
        nested = f"{path}.{_argument(key, allowed)}"
        if nested not in blocks or not isinstance(value, list):
            continue
        inner_allowed = set(blocks[nested].split())
        for inner in (v for v in value if isinstance(v, dict)):
            unknown = _unknown(inner, inner_allowed | {"dynamic"})
            if unknown:
                report.error(file, f"{where} block {key}: unknown argument {', '.join(unknown)} "
                                   f"(it takes {', '.join(sorted(inner_allowed))})")
            _check_blocks(report, file, where, nested, inner, inner_allowed, blocks)


def _check_schema(docs: dict[str, dict[str, Any]], report: Report) -> None:
    """Types and arguments (nested blocks too) of providers with a schema snapshot: unknown or deprecated ones are errors."""
    report.ran("provider schema")
    for kind, index in (("resource", 0), ("data", 1)):
        for file, block in _blocks(docs, kind):
            for rtype, named in block.items():
                prefix = rtype.split("_", 1)[0]
                if prefix not in SCHEMAS:
                    continue
                resources, data, source, nested = SCHEMAS[prefix]
                table = data if index else resources
                if rtype not in table:
                    close = difflib.get_close_matches(rtype, list(table), 3, 0.6)
                    report.error(file, f"{kind} type {rtype} does not exist in the {prefix} provider ({source})"
                                 + (f": did you mean {' or '.join(close)}?" if close else ""))
                    continue
                arguments, replacement = table[rtype]
                if replacement:
                    report.error(file, f"{rtype} is deprecated and being removed from the {prefix} provider: use {replacement}")
                allowed = set(arguments.split()) | META_ARGUMENTS
                for label, body in (named.items() if isinstance(named, dict) else []):
                    unknown = _unknown(body, allowed)
                    if unknown:
                        report.error(file, f'{kind} "{rtype}" "{label}": unknown argument {", ".join(unknown)} '
                                           f"(it takes {', '.join(sorted(allowed - META_ARGUMENTS))})")
                    if not index:
                        _check_blocks(report, file, f'{kind} "{rtype}" "{label}"', rtype, body, allowed, nested)


def _literal_credentials(body: Any, where: str, strict: bool) -> list[str]:
    """Attribute paths holding a literal credential (strict: any literal in a provider block)."""
    found: list[str] = []
    if isinstance(body, dict):
        for key, value in body.items():
            # a provider's bare `key` is its credential (exoscale: key/secret), though elsewhere `key` names no secret
            secret_name = is_secret_name(key) or (strict and key.lower() == "key")
            if isinstance(value, str) and secret_name and value and "${" not in value:
                if strict or not is_reference(value):
                    found.append(f"{where}.{key}")
            else:
                found += _literal_credentials(value, f"{where}.{key}", strict)
    elif isinstance(body, list):
        for i, value in enumerate(body):
            found += _literal_credentials(value, f"{where}[{i}]", strict)
    return found


def _check_credentials(docs: dict[str, dict[str, Any]], report: Report) -> None:
    report.ran("no hard-coded credentials")
    for kind in ("provider", "resource", "data", "locals", "module"):
        for file, block in _blocks(docs, kind):
            for where in _literal_credentials(block, kind, strict=kind == "provider"):
                report.error(file, f"{where} is a hard-coded credential: read it from the provider's environment variable "
                                   "or a sensitive variable, never a literal")


def _run_binary(tf: dict[str, str], report: Report) -> None:
    binary = find_binary("terraform")
    if binary is None:
        report.skipped("terraform fmt", "the terraform binary is not on this worker")
        report.skipped("terraform validate", "the terraform binary is not on this worker")
        return
    env = {"CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_CLI_CONFIG_FILE": os.devnull}
    with tempfile.TemporaryDirectory(prefix="fractal-tf-") as tmp:
        root = Path(tmp)
        write_files(root, tf)
        report.ran("terraform fmt")
        fmt = run_tool([binary, "fmt", "-check", "-list=true", "-no-color", "-recursive"], root, 60, env)
        for path in fmt.stdout.split():
            report.warn(path, "not in canonical format (terraform fmt would rewrite it)")
        if fmt.returncode not in (0, 3) and not fmt.stdout.strip():
            report.error("", f"terraform fmt failed: {fmt.stderr.strip()[:300]}")
        _validate(binary, root, env, report)


def _validate(binary: str, root: Path, env: dict[str, str], report: Report) -> None:
    plugins = settings.load().tf_plugin_dir
    if not plugins or not Path(plugins).is_dir():
        report.skipped("terraform validate", "needs the providers offline: set tf_plugin_dir in f/fractal/fractal_settings "
                                             "(locally FRACTAL_TF_PLUGIN_DIR) to a provider mirror")
        return
    init = run_tool([binary, "init", "-backend=false", "-input=false", "-no-color", f"-plugin-dir={plugins}"], root, 120, env)
    if init.returncode != 0:
        report.skipped("terraform validate", f"terraform init failed: {init.stderr.strip()[:200]}")
        return
    report.ran("terraform validate")
    result = run_tool([binary, "validate", "-json", "-no-color"], root, 120, env)
    try:
        diagnostics = json.loads(result.stdout).get("diagnostics", [])
    except json.JSONDecodeError:
        diagnostics = [{"severity": "error", "summary": result.stderr.strip()[:300] or "terraform validate failed"}]
    for d in diagnostics:
        rng = d.get("range") or {}
        message = f"{d.get('summary', '')}: {d.get('detail', '')}".strip(": ")
        add = report.error if d.get("severity") == "error" else report.warn
        add(rng.get("filename", ""), message, (rng.get("start") or {}).get("line"))


# ------------------------------------------------------------------ the entity's interface

_JSON_TYPES = {"string": "string", "number": "number", "bool": "boolean"}


def _json_type(tf_type: Any) -> str:
    text = str(tf_type or "string").replace("${", "").replace("}", "")
    if text in _JSON_TYPES:
        return _JSON_TYPES[text]
    return "array" if text.startswith(("list", "set", "tuple")) else "object" if text.startswith(("map", "object")) else "string"


def interface(files: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The entity's inputs (JSON Schema) and outputs, read from its variables and outputs."""
    docs = {p: parse(t) for p, t in files.items() if p.endswith(".tf")}
    props: dict[str, Any] = {}
    required = []
    for name, (_file, body) in _named(docs, "variable").items():
        prop: dict[str, Any] = {"type": _json_type(body.get("type")), "description": str(body.get("description", ""))}
        if "default" in body:
            prop["default"] = body["default"]
        else:
            required.append(name)
        props[name] = prop
    outputs = {name: {"description": str(body.get("description", ""))} for name, (_f, body) in _named(docs, "output").items()}
    return {"type": "object", "properties": props, "required": required}, outputs
