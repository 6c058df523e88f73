"""The credentials a run needs, found before anything runs, and the values to redact everywhere.

A provider's credential (f.fractal.providers: resource type, default path, env mapping) is read

- inside Windmill: from the resource at its default path (`wmill.get_resource`);
- outside Windmill: from the environment when every variable of its env mapping is set
  (`EXOSCALE_API_KEY`, `EXOSCALE_API_SECRET`, …), else from the local workspace resource
  `$FRACTAL_HOME/<default path>.resource.yaml` (see f.fractal.workspace).

The tools receive the values as the provider's environment variables, never as files in Git or
arguments on a command line. Every value found is returned in `secrets`, for redaction.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import f.fractal.platform.workspace as workspace
from f.fractal.model.errors import ConfigError, FractalError
from f.fractal.model.providers import Credential, Provider


@dataclass
class Found:
    """A credential's tool environment, where it came from, and the values to redact."""

    env: dict[str, str] = field(default_factory=dict)
    source: str = "none"  # none | env | workspace | windmill
    secrets: list[str] = field(default_factory=list)


def _hint(cred: Credential) -> str:
    if workspace.in_windmill():
        return f"create the Windmill resource {cred.default_path} (type {cred.resource_type}): {cred.description}"
    exports = " ".join(f"{name}=…" for name in cred.env)
    return f"export {exports}, or create {workspace.resource_file(cred.default_path)} (resource_type: {cred.resource_type})"


def _from_resource(cred: Credential, value: dict[str, Any], source: str) -> Found:
    missing = [f for f in cred.env.values() if not value.get(f)]
    if missing:
        raise ConfigError(
            f"credential {cred.default_path} ({cred.resource_type}) lacks {', '.join(missing)}",
            hint=_hint(cred), data={"resource": cred.default_path, "missing_fields": missing},
        )
    env = {name: str(value[f]) for name, f in cred.env.items()}
    return Found(env, source, [str(v) for v in value.values() if isinstance(v, str)])


def find(cred: Credential) -> Found:
    """The credential's values, or ConfigError naming the variables to set / resource to create."""
    if workspace.in_windmill():
        try:
            return _from_resource(cred, workspace.get_resource(cred.default_path), "windmill")
        except ConfigError:
            raise
        except Exception as e:  # wmill raises plain exceptions for a missing resource
            raise ConfigError(f"credential resource {cred.default_path} is missing", hint=_hint(cred)) from e
    env = {name: os.environ.get(name, "") for name in cred.env}
    if all(env.values()):
        return Found(env, "env", list(env.values()))
    if workspace.resource_file(cred.default_path).is_file():
        return _from_resource(cred, workspace.get_resource(cred.default_path), "workspace")
    missing = [name for name, v in env.items() if not v]
    raise ConfigError(
        f"missing credentials: set {', '.join(missing)} (or the local resource {cred.default_path})",
        hint=_hint(cred), data={"missing_env": missing, "resource": cred.default_path},
    )


def for_provider(provider: Provider) -> Found:
    return Found() if provider.credential is None else find(provider.credential)


def status(provider: Provider) -> dict[str, Any]:
    """Whether the provider's credential is present, without revealing any value."""
    if provider.credential is None:
        return {"required": False, "present": True, "source": "none"}
    try:
        found = find(provider.credential)
    except FractalError as e:
        return {"required": True, "present": False, "message": e.message, "hint": e.hint, **e.data}
    return {"required": True, "present": True, "source": found.source}
