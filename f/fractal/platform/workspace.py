"""Where resources, variables and caches come from: Windmill inside a worker, files + env outside.

Outside Windmill the local workspace is `$FRACTAL_HOME` (default `.fractal/` in the checkout).
It holds resources in Windmill's own format at their Windmill paths, e.g.
`$FRACTAL_HOME/f/fractal/catalog.resource.yaml`, so the same files can be pushed to a workspace.
Variable `f/x/name` comes from env `F_X_NAME` (secrets) or `$FRACTAL_HOME/f/x/name.variable.yaml`.
"""

from __future__ import annotations

import contextlib
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from f.fractal.model.errors import ConfigError, FractalError, InvalidInput, NotFound
from f.fractal.platform.windmill import call
from f.fractal.platform.yamlio import dump, load_untrusted

PATH_RE = re.compile(r"^[fu]/[A-Za-z0-9_-]+(?:/[A-Za-z0-9_.-]+){1,6}$")
DEFAULT_CATALOG = "f/fractal/catalog"
WINDMILL_CACHE = Path("/tmp/windmill/cache")
LIST_PAGE = 1000  # Windmill's default page size for lists (its maximum is 10000)
# Secret outputs of runs (a cluster's kubeconfig): OUTPUT_STORE/<run id>/<output>, or OUTPUT_STORE/<composite run
# or root flow job>/<step run id>/<output> inside a composite, deleted when it ends. Windmill deletes any left
# behind (a flow that failed) after OUTPUT_TTL_S.
OUTPUT_STORE = "f/fractal/run_outputs"
OUTPUT_TTL_S = 7 * 86400
# A Windmill worker loads pack modules through its import hook without `__file__`: never read it at import.
_HERE = globals().get("__file__")


def in_windmill() -> bool:
    """True inside a Windmill job (a worker sets the job token and base URL)."""
    return bool(os.environ.get("WM_TOKEN")) and bool(os.environ.get("BASE_INTERNAL_URL") or os.environ.get("WM_BASE_URL"))


def home() -> Path:
    """The local workspace: $FRACTAL_HOME, else `.fractal/` in the checkout (f/fractal/platform/ is 3 levels down)."""
    checkout = Path(_HERE).resolve().parents[3] if _HERE else Path.cwd()
    return Path(os.environ.get("FRACTAL_HOME") or checkout / ".fractal").resolve()


def cache_dir(*parts: str) -> Path:
    """A persistent cache folder: Windmill's worker cache inside a job, the local workspace outside."""
    base = WINDMILL_CACHE / "fractal" if in_windmill() else home() / "cache"
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_path(path: Any, what: str = "resource path") -> str:
    if not isinstance(path, str) or not PATH_RE.match(path) or ".." in path:
        raise InvalidInput(f"bad {what} {path!r:.80}", hint="use a Windmill path such as f/fractal/catalog")
    return path


def env_name(path: str) -> str:
    """The environment variable that holds variable `path` locally: f/fractal/api_key → F_FRACTAL_API_KEY."""
    return re.sub(r"[^A-Za-z0-9]", "_", path).upper()


def get_variable(path: str) -> str:
    check_path(path, "variable path")
    if in_windmill():
        import wmill

        return str(wmill.get_variable(path))
    if env_name(path) in os.environ:
        return os.environ[env_name(path)]
    file = home() / f"{path}.variable.yaml"
    if file.is_file():
        return str((load_untrusted(file.read_text(encoding="utf-8"), what=str(file)) or {}).get("value", ""))
    raise ConfigError(f"variable {path} is not set", hint=f"export {env_name(path)}=… or create it in Windmill")


def set_variable(path: str, value: str, *, secret: bool = False, description: str = "", ttl_s: int = 0) -> str:
    """Create or replace a variable; returns the `$var:<path>` reference that get_variable resolves.
    Inside Windmill through its REST API (`variables/create`, else `variables/update`), with `expires_at` when
    `ttl_s` is given: Windmill's monitor deletes an expired variable itself. Locally a file under $FRACTAL_HOME
    (0600 when secret; no expiry)."""
    check_path(path, "variable path")
    if in_windmill():
        body: dict[str, Any] = {"path": path, "value": value, "is_secret": secret, "description": description}
        if ttl_s:
            body["expires_at"] = (datetime.now(UTC) + timedelta(seconds=ttl_s)).isoformat(timespec="seconds")
        try:
            call("POST", "variables/create", body)
        except FractalError as e:
            if e.data.get("status") != 400 or "already exists" not in str(e.data.get("message")):
                raise
            call("POST", f"variables/update/{path}", {"value": value, "description": description})
        return f"$var:{path}"
    file = home() / f"{path}.variable.yaml"
    file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(dump({"description": description, "is_secret": secret, "value": value}))
    return f"$var:{path}"


def set_secret_variable(path: str, value: str, description: str = "", ttl_s: int = 0) -> str:
    """Store a secret variable (Windmill's secret store; locally a 0600 file under $FRACTAL_HOME)."""
    return set_variable(path, value, secret=True, description=description, ttl_s=ttl_s)


def list_variables(prefix: str) -> dict[str, str | None]:
    """{path: value} of the variables whose path starts with `prefix` (a secret's value is None, as Windmill
    lists it), by path. Inside Windmill `variables/list?path_start=…`, page by page."""
    if in_windmill():
        found: dict[str, str | None] = {}
        for page in range(1, 1000):
            rows = call("GET", f"variables/list?path_start={quote(prefix, safe='/')}&per_page={LIST_PAGE}&page={page}")
            rows = rows if isinstance(rows, list) else []
            found.update({str(r["path"]): r.get("value") for r in rows if isinstance(r, dict) and "path" in r})
            if len(rows) < LIST_PAGE:
                break
        return found
    root = home()
    folder = root / prefix.rsplit("/", 1)[0]
    out: dict[str, str | None] = {}
    for file in sorted(folder.rglob("*.variable.yaml")) if folder.is_dir() else []:
        path = file.relative_to(root).as_posix()[: -len(".variable.yaml")]
        if path.startswith(prefix):
            doc = load_untrusted(file.read_text(encoding="utf-8"), what=str(file)) or {}
            out[path] = None if doc.get("is_secret") else str(doc.get("value", ""))
    return out


def delete_variable(path: str) -> None:
    """Delete a variable (absent: nothing to do). Inside Windmill `DELETE variables/delete/<path>`."""
    check_path(path, "variable path")
    if in_windmill():
        call("DELETE", f"variables/delete/{path}")
        return
    file = home() / f"{path}.variable.yaml"
    file.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # the folders it leaves empty (never $FRACTAL_HOME/f itself)
        for parent in file.parents:
            if parent == home() / path.split("/", 1)[0] or any(parent.iterdir()):
                break
            parent.rmdir()


def flow_root() -> str:
    """Inside a Windmill flow, the id of the flow job that started it all (a member flow's steps share it):
    WM_ROOT_JOB_ID, else WM_ROOT_FLOW_JOB_ID (older workers), else the encapsulating flow's; '' outside a flow."""
    if not os.environ.get("WM_FLOW_JOB_ID"):
        return ""
    return (os.environ.get("WM_ROOT_JOB_ID") or os.environ.get("WM_ROOT_FLOW_JOB_ID")
            or os.environ["WM_FLOW_JOB_ID"])


def forget_outputs(prefix: str) -> list[str]:
    """Delete the secret outputs stored under `prefix` (OUTPUT_STORE/<scope>/…); returns their paths."""
    gone = list(list_variables(prefix))
    for path in gone:
        delete_variable(path)
    return gone


def _interpolate(value: Any) -> Any:
    """Resolve `$var:path` strings the way Windmill does for resource values."""
    if isinstance(value, str) and value.startswith("$var:"):
        return get_variable(value[5:])
    if isinstance(value, dict):
        return {k: _interpolate(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v) for v in value]
    return value


def resource_file(path: str) -> Path:
    return home() / f"{path}.resource.yaml"


def get_resource(path: str) -> dict[str, Any]:
    check_path(path)
    if in_windmill():
        try:
            value = call("GET", f"resources/get_value_interpolated/{path}")
        except FractalError as e:
            if e.data.get("status") == 404:  # missing, as locally: NotFound (wmill would raise a bare Exception)
                raise NotFound(f"resource {path} does not exist", hint="create it in the Windmill workspace") from None
            raise
        if not isinstance(value, dict):
            raise ConfigError(f"resource {path} is not an object")
        return value
    file = resource_file(path)
    if not file.is_file():
        raise NotFound(f"resource {path} does not exist", hint=f"create {file} (see README: local workspace)")

    doc = load_untrusted(file.read_text(encoding="utf-8"), what=str(file)) or {}
    value = doc.get("value")
    if not isinstance(value, dict):
        raise ConfigError(f"{file} has no 'value' mapping")
    return dict(_interpolate(value))


def resource_type(path: str) -> str:
    """The resource type of a local resource ('' inside Windmill, where the server checks it)."""
    if in_windmill():
        return ""

    file = resource_file(check_path(path))
    return str((load_untrusted(file.read_text(encoding="utf-8")) or {}).get("resource_type", "")) if file.is_file() else ""


def list_resources(resource_type: str) -> list[dict[str, str]]:
    """The workspace's resources of one type, [{path, description}] by path: what a picker offers (never a value)."""
    if in_windmill():
        import wmill

        rows = wmill.Windmill().list_resources(resource_type=resource_type, per_page=1000)
        found = [{"path": str(r["path"]), "description": str(r.get("description") or "")} for r in rows]
        return sorted(found, key=lambda r: r["path"])
    found = []
    for file in sorted(home().glob("[fu]/**/*.resource.yaml")):
        doc = load_untrusted(file.read_text(encoding="utf-8"), what=str(file)) or {}
        if doc.get("resource_type") == resource_type:
            found.append({"path": str(file.relative_to(home())).removesuffix(".resource.yaml"),
                          "description": str(doc.get("description") or "")})
    return found


def write_resource(path: str, resource_type: str, value: dict[str, Any], description: str = "") -> Path:
    """Create a local resource file (outside Windmill only)."""
    file = resource_file(check_path(path))
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(dump({"description": description, "resource_type": resource_type, "value": value}), encoding="utf-8")
    return file


def actor() -> str:
    """Who is acting: the Windmill user, $FRACTAL_ACTOR, or the local user."""
    return os.environ.get("WM_EMAIL") or os.environ.get("FRACTAL_ACTOR") or f"{os.environ.get('USER', 'local')}@localhost"
