"""Validate an entity with its tool's own checker (tools.registry): one report shape for every tool
(tools.checks.Report). A checker that trips on a shape it did not foresee (TypeError/AttributeError)
gives a `malformed <tool> files` error, never a crash.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import f.fractal.model.providers as providers
import f.fractal.platform.workspace as workspace
from f.fractal.model.errors import InvalidInput
from f.fractal.model.item import normalize_item
from f.fractal.model.records import CheckReport
from f.fractal.platform.secrets import scan
from f.fractal.tools.checks import Report, tool_environments
from f.fractal.tools.policy import findings as policy_findings
from f.fractal.tools.registry import TOOLS, get_tool


def validate_files(tool: str, files: dict[str, str]) -> CheckReport:
    """Check a tool's files alone (no item around them)."""
    report = Report()
    _check_files(tool, files, report)
    return report.to_dict()


def _check_files(tool: str, files: dict[str, str], report: Report) -> None:
    if not files:
        report.error("", f"the entity has no files; a {tool} entity needs at least {get_tool(tool).default_file}")
        return
    try:
        get_tool(tool).check(files, report)
    except (TypeError, AttributeError) as e:  # a shape the checker did not foresee: a finding, not a crash
        report.error("", f"malformed {tool} files: {type(e).__name__}: {e}")


def validate_entity(item: Any, *, tool: str | None = None, provider: str | None = None) -> CheckReport:
    """Validate a draft Entity: the item schema, tool and providers, no secret, then the tool's checker."""
    report = Report()
    report.ran("item schema")
    try:
        item = normalize_item(item)
    except InvalidInput as e:
        report.error("fractal.yaml", e.message)
        return report.to_dict()
    if item["kind"] != "Entity":
        report.error("fractal.yaml", f"kind is {item['kind']}, expected Entity")
        return report.to_dict()
    spec = item["spec"]
    _check_tool_and_providers(spec, tool, provider, report)
    report.ran("secret scan")
    secrets = scan(spec, "spec")
    for found in secrets:
        file = found.path.removeprefix("spec.files.") if found.path.startswith("spec.files.") else "fractal.yaml"
        report.error(file, f"plaintext secret: {found.why} ({found.rule}) at {found.path}: store the value in {found.belongs}",
                     found.line or None)
    report.ran("policy")
    for finding in policy_findings(item):
        (report.warn if finding.allowed else report.error)(finding.file, finding.message(), finding.line or None)
    if spec["tool"] in TOOLS and not secrets:  # every check runs, bar tools on files holding a secret
        _check_files(spec["tool"], spec.get("files") or {}, report)
    return report.to_dict()


_checked: dict[str, CheckReport] = {}
MAX_CHECKED = 256


def _this_file() -> Path:
    """This module's file: a Windmill worker loads pack modules without `__file__`, the code object still names it."""
    return Path(globals().get("__file__") or _this_file.__code__.co_filename)


@lru_cache(maxsize=1)
def _checkers_fingerprint() -> str:
    """What a report depends on besides the spec: the checkers' code and the checking tools' versions."""
    from importlib import metadata  # ~35 ms at import: only paid when a report is computed

    digest = hashlib.sha256()
    here = _this_file()
    for file in sorted(here.parent.rglob("*.py")) if here.is_file() else []:
        digest.update(file.read_bytes())
    for package in ("ansible-core", "ansible-lint", "python-hcl2"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            digest.update(metadata.version(package).encode())
    for stamp in sorted(tool_environments().glob("*/.fractal-setup")):  # the tools' own environments (helm's Go SDK)
        digest.update(f"{stamp.parent.name}:{stamp.read_text()}".encode())
    return digest.hexdigest()


def checked(item: dict[str, Any]) -> CheckReport:
    """validate_entity's report, computed once per worker for the same spec and checkers (a draft generated then
    saved, many saves of one content at once): kept in the process and in the worker cache, under a file lock."""
    spec = json.dumps(item.get("spec"), sort_keys=True, default=str)
    key = hashlib.sha256(f"{_checkers_fingerprint()}\n{spec}".encode()).hexdigest()
    if key not in _checked:
        if len(_checked) >= MAX_CHECKED:
            _checked.pop(next(iter(_checked)))
        file = workspace.cache_dir("checks") / f"{key}.json"
        with file.with_suffix(".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                _checked[key] = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                _checked[key] = validate_entity(item)
                tmp = file.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(_checked[key]), encoding="utf-8")
                os.replace(tmp, file)
    return _checked[key]


def _check_tool_and_providers(spec: dict[str, Any], tool: str | None, provider: str | None, report: Report) -> None:
    report.ran("tool and providers")
    if tool and spec["tool"] != tool:
        report.error("fractal.yaml", f"the entity's tool is {spec['tool']}, but a {tool} entity was asked for")
    if spec["tool"] not in TOOLS:
        report.error("fractal.yaml", f"tool {spec['tool']} has no generator or validator yet; use one of {', '.join(TOOLS)}")
    names = spec.get("providers") or []
    if provider and names and provider not in names:
        report.error("fractal.yaml", f"providers are {', '.join(names)}, but the entity was asked for {provider}")
    for name in names:
        known = providers.PROVIDERS.get(name)
        if known is None:
            report.error("fractal.yaml", f"unknown provider {name}; use one of {', '.join(providers.PROVIDERS)}")
        elif spec["tool"] not in known.tools:
            supported = ", ".join(known.tools)
            report.error("fractal.yaml", f"provider {name} does not support {spec['tool']} (it supports {supported})")


