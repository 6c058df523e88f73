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
from f.fractal.model.errors import ConfigError, FractalError, InvalidInput, NotFound
from f.fractal.model.providers import Credential, Provider


@dataclass
class Found:
    """A credential's tool environment, where it came from, and the values to redact."""

    env: dict[str, str] = field(default_factory=dict)
    source: str = "none"  # none | env | workspace | windmill | chosen (a resource the run named)
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


def chosen(cred: Credential, path: str) -> Found:
    """The credential read from the resource the operator chose for this run (instead of its default path)."""
    workspace.check_path(path, f"{cred.resource_type} credential resource path")
    kind = workspace.resource_type(path)  # '' inside Windmill: the resource is read as the job's user
    if kind and kind != cred.resource_type:
        raise InvalidInput(f"resource {path} is of type {kind}, not {cred.resource_type}",
                           hint=f"choose a resource of type {cred.resource_type}")
    try:
        value = workspace.get_resource(path)
    except NotFound:
        raise ConfigError(f"credential resource {path} is missing",
                          hint=f"create it (type {cred.resource_type}) or choose another") from None
    except FractalError:
        raise
    except Exception as e:  # wmill raises plain exceptions for a missing resource
        raise ConfigError(f"credential resource {path} could not be read", hint="check that it exists and you may read it") from e
    return _from_resource(Credential(cred.resource_type, path, cred.env, cred.description), value, "chosen")


def find(cred: Credential, path: str | None = None) -> Found:
    """The credential's values (from `path` when the run names its resource), or ConfigError naming the
    variables to set / resource to create."""
    if path:
        return chosen(cred, path)
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


def for_provider(provider: Provider, picks: dict[str, str] | None = None) -> Found:
    """The provider's credential; `picks` ({resource type: resource path}) names the resource a run chose."""
    if provider.credential is None:
        return Found()
    return find(provider.credential, (picks or {}).get(provider.credential.resource_type))


def status(provider: Provider) -> dict[str, Any]:
    """Whether the provider's credential is present, without revealing any value."""
    if provider.credential is None:
        return {"required": False, "present": True, "source": "none"}
    try:
        found = find(provider.credential)
    except FractalError as e:
        return {"required": True, "present": False, "message": e.message, "hint": e.hint, **e.data}
    return {"required": True, "present": True, "source": found.source}
