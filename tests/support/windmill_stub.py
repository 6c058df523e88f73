"""A stand-in for Windmill's REST API on 127.0.0.1 (there is no Windmill server in the test suite).

It answers the endpoints the pack and the `wmill` client call exactly as Windmill's source does
(backend/windmill-api: flows.rs, folders.rs, scripts.rs, resources.rs, variables.rs, jobs.rs;
windmill-common error.rs), checked against windmill-labs/windmill and wmill 1.850.0:
- handlers returning a `String` answer `text/plain; charset=utf-8`; creates answer 201 with the
  path (flows, resources), "variable <path> created" (variables), the new hash (scripts) or the job
  UUID (jobs/run/…); `flows/update/{path}` answers 200 with the path; `folders/create` 200 "Created
  folder <name>"; `DELETE variables/delete/{path}` 200 "variable <path> deleted" (absent or not);
- handlers returning `Json` answer `application/json` (exists → a bare `true`/`false`,
  `variables/get_value` → a JSON string, `get_result_maybe` → {completed, result, success, started};
  `variables/list` (variables.rs) → the ListableVariable rows the caller can see under `path_start`, ordered
  by path, paginated by `page` (from 1) and `per_page` (default 1000, at most 10000), a secret's value null,
  the caller's own `secret_arg/` ones left out; a variable may carry `expires_at` (Windmill's monitor
  deletes it once expired: `expire()` plays that part);
- errors are `text/plain` "<Kind>: <message>": 404 "Not found: …", 400 "Bad request: …",
  403 "Permission denied: …" (deploy rules), 401 for a wrong token;
- a non-admin cannot write into a folder that does not exist (row-level security: 400 "SqlErr: …").
What `wmill sync push` calls is answered too (windmill-cli 1.819.0 against resources.rs, apps.rs,
windmill-trigger handler.rs, workspaces_export.rs): resource types are looked up in the workspace *and*
the instance's `admins` workspace (where the hub's types live) but created and updated in the workspace
only; raw apps arrive as multipart (`app` JSON, `js`, `css`), answered 201 with the path; the shared
`ui/` folder goes to `PUT shared_ui` (shapes from Windmill's OpenAPI); the tarball the CLI diffs against is
a zip of the workspace (only an empty workspace is exported here: anything else is refused with 501,
never answered wrongly).
State lives in plain dicts the test can read and seed. Jobs stay queued until `complete()` is called,
or run at once through `runner` when a test sets one (a scripted worker, never a real one).
"""

from __future__ import annotations

import io
import json
import re
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TIMEOUT_S = 10
VERSION = "CE v1.850.0"


@dataclass
class Job:
    id: str
    kind: str  # "script" or "flow"
    path: str
    args: dict[str, Any]
    completed: bool = False
    success: bool = False
    result: Any = None
    modules: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Answer:
    status: int
    body: Any
    text: bool  # text/plain (a Rust `String` handler or an error) rather than JSON
    binary: bool = False  # bytes as they are (application/octet-stream: the workspace tarball)

    def encode(self) -> bytes:
        if self.binary:
            return bytes(self.body)
        return (str(self.body) if self.text else json.dumps(self.body)).encode()

    @property
    def content_type(self) -> str:
        return "application/octet-stream" if self.binary else "text/plain; charset=utf-8" if self.text else "application/json"


def text(body: str, status: int = 200) -> Answer:
    return Answer(status, body, True)


def js(body: Any, status: int = 200) -> Answer:
    return Answer(status, body, False)


def not_found(what: str) -> Answer:
    return text(f"Not found: {what}", 404)


def bad_request(what: str) -> Answer:
    return text(f"Bad request: {what}", 400)


Runner = Callable[[Job], tuple[bool, Any]]


class WindmillStub:
    """Windmill's REST API for one workspace. `admin=False` is a plain user: no writes into missing folders."""

    def __init__(self, workspace: str = "demo", token: str = "job-token-123", *, admin: bool = True) -> None:
        self.workspace, self.token, self.admin = workspace, token, admin
        self.scripts: dict[str, dict[str, Any]] = {}
        self.flows: dict[str, dict[str, Any]] = {}
        self.folders: dict[str, dict[str, Any]] = {}
        self.resources: dict[str, dict[str, Any]] = {}
        self.variables: dict[str, dict[str, Any]] = {}
        self.resource_types: dict[str, dict[str, Any]] = {}  # the workspace's own
        self.hub_types: dict[str, dict[str, Any]] = {}  # the `admins` workspace's: the hub types of the instance
        self.apps: dict[str, dict[str, Any]] = {}
        self.http_triggers: dict[str, dict[str, Any]] = {}
        self.shared_ui: dict[str, str] = {}  # the workspace's shared UI folder (ui/ of a checkout), by relative path
        self.jobs: dict[str, Job] = {}
        self.requests: list[dict[str, Any]] = []
        self.folder_refusal = ""  # set → folders/create answers 403 "Permission denied: <it>" (deploy rules)
        self.runner: Runner | None = None
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- seeding and reading -------------------------------------------------------------------
    def add_script(self, path: str, content: str, language: str = "python3", **metadata: Any) -> str:
        digest = uuid.uuid5(uuid.NAMESPACE_URL, path + content + json.dumps(metadata, sort_keys=True)).hex[:16]
        self.scripts[path] = {"summary": "", "description": "", "schema": None, "lock": None, "kind": "script",
                              **metadata, "path": path, "content": content, "language": language, "hash": digest,
                              "archived": False}
        self._folder_of(path, create=True)
        return digest

    def add_resource(self, path: str, value: Any, resource_type: str = "any") -> None:
        self.resources[path] = {"path": path, "value": value, "resource_type": resource_type, "description": ""}

    def add_variable(self, path: str, value: str, is_secret: bool = True, description: str = "",
                     expires_at: str | None = None) -> None:
        self.variables[path] = {"path": path, "value": value, "is_secret": is_secret, "description": description,
                                "expires_at": expires_at}

    def expire(self, now: str) -> list[str]:
        """What Windmill's monitor does: delete the variables whose expires_at (RFC 3339, UTC) is before `now`."""
        gone = [p for p, v in self.variables.items() if v.get("expires_at") and v["expires_at"] < now]
        for path in gone:
            del self.variables[path]
        return gone

    def complete(self, job_id: str, result: Any, success: bool = True, modules: list[dict[str, Any]] | None = None) -> None:
        job = self.jobs[job_id]
        job.completed, job.success, job.result, job.modules = True, success, result, modules or []

    def calls(self, method: str, prefix: str) -> list[dict[str, Any]]:
        """The recorded requests of this method whose workspace-relative path starts with `prefix`."""
        base = f"/api/w/{self.workspace}/"
        return [r for r in self.requests if r["method"] == method and r["path"].startswith(base + prefix)]

    # -- routing ---------------------------------------------------------------------------------
    def answer(self, method: str, path: str, body: Any, auth: str | None, query: str = "") -> Answer:
        if path == "/api/version":
            return text(VERSION)
        if auth != f"Bearer {self.token}":
            return text("Not authorized: Could not find token", 401)
        if path == "/api/users/whoami":  # GlobalUserInfo
            return js({"email": "admin@windmill.dev", "login_type": "password", "super_admin": False, "verified": True,
                       "name": "Admin", "username": "admin"})
        if path == "/api/workspaces/users":  # UserWorkspaceList
            return js({"email": "admin@windmill.dev", "workspaces": [
                {"id": self.workspace, "name": self.workspace, "username": "admin", "color": None,
                 "operator_settings": None, "parent_workspace_id": None}]})
        base = f"/api/w/{self.workspace}/"
        if not path.startswith(base):
            return not_found(f"workspace of {path}")
        rest = path[len(base) :]
        for pattern, handler in self._routes(parse_qs(query)):
            m = re.fullmatch(pattern, f"{method} {rest}")
            if m:
                with self._lock:
                    return handler(body, *m.groups())
        return not_found(f"no route {method} {path}")  # axum answers an unknown route with an empty 404

    def _routes(self, query: dict[str, list[str]]) -> list[tuple[str, Callable[..., Answer]]]:
        return [
            (r"GET users/whoami", lambda _b: js(self._user())),
            (r"GET workspaces/list_ws_specific", lambda _b: js([])),
            (r"GET workspaces/tarball", self._tarball),
            (r"GET scripts/raw/p/(.+)\.py", self._script_raw),
            (r"GET scripts/get/p/(.+)", self._script_get),
            (r"GET scripts/exists/p/(.+)", lambda _b, p: js(p in self.scripts)),
            (r"GET scripts/list_paths", lambda _b: js(sorted(self.scripts))),
            (r"POST scripts/create", self._script_create),
            (r"GET flows/exists/(.+)", lambda _b, p: js(p in self.flows)),
            (r"GET flows/get/(.+)", lambda _b, p: js(self.flows[p]) if p in self.flows else not_found(f"Flow {p} not found")),
            (r"POST flows/create", self._flow_create),
            (r"POST flows/update/(.+)", self._flow_update),
            (r"GET folders/exists/([^/]+)", lambda _b, n: js(n in self.folders)),
            (r"GET folders/get/([^/]+)", lambda _b, n: js(self.folders[n]) if n in self.folders else not_found(f"Folder {n}")),
            (r"POST folders/create", self._folder_create),
            (r"POST folders/update/([^/]+)", self._folder_update),
            (r"GET resources/file_resource_type_to_file_ext_map", lambda _b: js({
                n: t["format_extension"] for n, t in {**self.hub_types, **self.resource_types}.items()
                if t.get("format_extension")})),
            (r"GET resources/type/get/([^/]+)", self._type_get),
            (r"GET resources/type/exists/([^/]+)", lambda _b, n: js(n in self.resource_types or n in self.hub_types)),
            (r"POST resources/type/create", self._type_create),
            (r"POST resources/type/update/([^/]+)", self._type_update),
            (r"POST resources/update/(.+)", self._resource_edit),
            (r"GET apps/get/p/(.+)", lambda _b, p: js(self.apps[p]) if p in self.apps
             else not_found(f"App not found at name {p}")),
            (r"GET apps/exists/(.+)", lambda _b, p: js(p in self.apps)),
            (r"POST apps/create_raw", self._app_create),
            (r"POST apps/update_raw/(.+)", self._app_update),
            (r"GET http_triggers/get/(.+)", lambda _b, p: js(self.http_triggers[p]) if p in self.http_triggers
             else not_found(f"Trigger not found at path: {p}")),
            (r"GET http_triggers/exists/(.+)", lambda _b, p: js(p in self.http_triggers)),
            (r"POST http_triggers/create", self._trigger_create),
            (r"POST http_triggers/update/(.+)", self._trigger_update),
            # shapes from Windmill's OpenAPI (GetSharedUi200Response; updateSharedUi returns a string)
            (r"GET shared_ui/get", lambda _b: js({"files": self.shared_ui, "version": len(self.requests),
                                                 "edited_at": "2026-01-01T00:00:00Z", "edited_by": "admin"})),
            (r"PUT shared_ui", self._shared_ui_update),
            (r"GET resources/get_value_interpolated/(.+)", self._resource_value),
            (r"GET resources/get_value/(.+)", self._resource_value),
            (r"GET resources/get/(.+)", lambda _b, p: js(self.resources[p]) if p in self.resources else self._no_resource(p)),
            (r"GET resources/exists/(.+)", lambda _b, p: js(p in self.resources)),
            (r"POST resources/create", self._resource_create),
            (r"POST resources/update_value/(.+)", self._resource_update),
            (r"GET variables/list", lambda _b: self._variable_list(query)),
            (r"GET variables/get_value/(.+)", self._variable_value),
            (r"GET variables/get/(.+)", self._variable_get),
            (r"GET variables/exists/(.+)", lambda _b, p: js(p in self.variables)),
            (r"POST variables/create", self._variable_create),
            (r"POST variables/update/(.+)", self._variable_update),
            (r"DELETE variables/delete/(.+)", self._variable_delete),
            (r"POST jobs/run/p/(.+)", lambda b, p: self._run("script", p, b)),
            (r"POST jobs/run/f/(.+)", lambda b, p: self._run("flow", p, b)),
            (r"GET jobs_u/completed/get_result_maybe/([0-9a-f-]+)", self._result_maybe),
            (r"GET jobs_u/completed/get_result/([0-9a-f-]+)", self._result),
            (r"GET jobs_u/get/([0-9a-f-]+)", self._job),
            # the CLI's check for lock (dependency) jobs after a push; the stand-in resolves no locks, runs none
            (r"GET jobs/(?:queue|completed)/list", lambda _b: js([])),
        ]

    # -- folders: f/<folder>/… must exist for a non-admin to write ----------------------------------
    def _folder_of(self, path: str, table: str = "", *, create: bool = False) -> Answer | None:
        parts = path.split("/")
        if parts[0] != "f" or len(parts) < 3:
            return None
        if parts[1] not in self.folders:
            if create or self.admin:
                self.folders[parts[1]] = self._new_folder(parts[1])
                return None
            return text(f'SqlErr: error returned from database: new row violates row-level security policy for table "{table}"',
                        400)
        return None

    def _new_folder(self, name: str) -> dict[str, Any]:
        return {"workspace_id": self.workspace, "name": name, "display_name": name, "owners": ["u/admin"],
                "extra_perms": {"u/admin": True}, "summary": None}

    def _folder_create(self, body: Any, *_: str) -> Answer:
        if self.folder_refusal:
            return text(f"Permission denied: {self.folder_refusal}", 403)
        name = (body or {}).get("name", "")
        if not re.fullmatch(r"[a-zA-Z_0-9-]+", name):
            return bad_request("Folder name can only contain alphanumeric characters, underscores, and hyphens")
        if name in self.folders:
            return bad_request(f"Folder {name} already exists")
        self.folders[name] = {**self._new_folder(name), "summary": body.get("summary")}
        return text(f"Created folder {name}")

    # -- scripts -----------------------------------------------------------------------------------
    def _script_raw(self, _body: Any, path: str) -> Answer:
        script = self.scripts.get(path)
        return text(script["content"]) if script else not_found(f"Script not found at name {path}")

    def _script_get(self, _body: Any, path: str) -> Answer:
        script = self.scripts.get(path)
        return js(script) if script else not_found(f"Script not found at name {path}")

    def _script_create(self, body: Any, *_: str) -> Answer:
        path = body.get("path", "")
        refused = self._folder_of(path, "script")
        if refused:
            return refused
        old = self.scripts.get(path)
        if old and body.get("parent_hash") != old["hash"]:
            return bad_request(f"Path conflict for {path} with non-archived hash {old['hash']}")
        metadata = {k: body[k] for k in ("summary", "description", "schema", "lock", "kind") if body.get(k) is not None}
        return text(self.add_script(path, body.get("content", ""), body.get("language", "python3"), **metadata), 201)

    # -- flows -------------------------------------------------------------------------------------
    def _flow_create(self, body: Any, *_: str) -> Answer:
        path = body.get("path", "")
        if path in self.flows:
            return bad_request(f"Flow {path} already exists")
        refused = self._folder_of(path, "flow")
        if refused:
            return refused
        self.flows[path] = body
        return text(path, 201)

    def _flow_update(self, body: Any, path: str) -> Answer:
        if path not in self.flows:
            return not_found(f"Flow {path} not found")
        self.flows[path] = {**body, "path": body.get("path", path)}
        return text(path)

    # -- resources and variables -------------------------------------------------------------------
    def _no_resource(self, path: str) -> Answer:
        return not_found(f"resource #{path} not found")

    def _resource_value(self, _body: Any, path: str) -> Answer:
        res = self.resources.get(path)
        return js(res["value"]) if res else self._no_resource(path)

    def _resource_create(self, body: Any, *_: str) -> Answer:
        path = body.get("path", "")
        if path in self.resources:
            return bad_request(f"A resource with path {path} already exists")
        refused = self._folder_of(path, "resource")
        if refused:
            return refused
        self.add_resource(path, body.get("value"), body.get("resource_type", "any"))
        return text(path, 201)

    def _resource_update(self, body: Any, path: str) -> Answer:
        if path not in self.resources:
            return self._no_resource(path)
        self.resources[path]["value"] = (body or {}).get("value")
        return text(f"value of resource {path} updated")

    def _variable_value(self, _body: Any, path: str) -> Answer:
        var = self.variables.get(path)
        return js(var["value"]) if var else not_found(f"Variable {path} not found")

    def _variable_list(self, query: dict[str, list[str]]) -> Answer:
        """variables.rs list_variables: SELECT … CASE WHEN is_secret THEN null ELSE value END … WHERE path LIKE
        path_start || '%' ORDER BY path, LIMIT per_page OFFSET (page - 1) * per_page (windmill-common
        utils::paginate)."""
        start = (query.get("path_start") or [""])[0]
        per_page = min(max(int((query.get("per_page") or ["1000"])[0]), 1), 10000)
        page = max(int((query.get("page") or ["1"])[0]), 1)
        rows = [{"workspace_id": self.workspace, "path": path, "value": None if v["is_secret"] else v["value"],
                 "is_secret": v["is_secret"], "description": v["description"], "extra_perms": {}, "account": None,
                 "is_oauth": False, "is_expired": None, "is_refreshed": None, "refresh_error": None,
                 "is_linked": path in self.resources, "expires_at": v.get("expires_at")}
                for path, v in sorted(self.variables.items())
                if path.startswith(start) and not path.startswith("u/admin/secret_arg/")]
        return js(rows[(page - 1) * per_page: page * per_page])

    def _variable_get(self, _body: Any, path: str) -> Answer:
        var = self.variables.get(path)
        if not var:
            return not_found(f"Variable {path} not found")
        return js({**var, "value": None if var["is_secret"] else var["value"]})

    def _variable_create(self, body: Any, *_: str) -> Answer:
        path = body.get("path", "")
        if path in self.variables:
            return bad_request(f"A variable with path {path} already exists")
        self.add_variable(path, body.get("value", ""), bool(body.get("is_secret")), body.get("description", ""),
                          body.get("expires_at"))
        return text(f"variable {path} created", 201)

    def _variable_update(self, body: Any, path: str) -> Answer:
        if path not in self.variables:
            return not_found(f"Variable {path} not found")
        for key in ("value", "description"):
            if (body or {}).get(key) is not None:
                self.variables[path][key] = body[key]
        return text(f"variable {path} updated")

    # -- what `wmill sync push` adds: the user, the tarball, resource types, apps, HTTP triggers ------
    def _user(self) -> dict[str, Any]:
        return {"workspace_id": self.workspace, "email": "admin@windmill.dev", "username": "admin",
                "is_admin": self.admin, "is_super_admin": False, "operator": False, "disabled": False,
                "groups": [], "folders": [], "folders_owners": []}

    def _tarball(self, _body: Any) -> Answer:
        if any((self.scripts, self.flows, self.apps, self.resources, self.variables, self.resource_types,
                self.http_triggers, self.folders, self.shared_ui)):
            return text("Not implemented: this stand-in exports only an empty workspace", 501)
        buffer = io.BytesIO()
        zipfile.ZipFile(buffer, "w").close()  # workspaces_export.rs: one entry per item, none here
        return Answer(200, buffer.getvalue(), text=False, binary=True)

    def _folder_update(self, body: Any, name: str) -> Answer:
        if name not in self.folders:
            return not_found(f"Folder {name} not found")
        self.folders[name].update({k: v for k, v in (body or {}).items() if k in ("summary", "owners", "extra_perms")})
        return text(f"Folder {name} updated")

    def _type_get(self, _body: Any, name: str) -> Answer:
        found = self.resource_types.get(name) or self.hub_types.get(name)
        return js(found) if found else not_found(f"ResourceType not found at name {name}")

    def _type_create(self, body: Any, *_: str) -> Answer:
        name = (body or {}).get("name", "")
        if name in self.resource_types:  # check_rt_path_conflict looks in the workspace only
            return bad_request(f"Resource type {name} already exists")
        self.resource_types[name] = {"workspace_id": self.workspace, "name": name, "schema": body.get("schema"),
                                     "description": body.get("description"), "created_by": "admin",
                                     "format_extension": body.get("format_extension")}
        return text(f"resource_type {name} created", 201)

    def _type_update(self, body: Any, name: str) -> Answer:
        # UPDATE resource_type … WHERE name = $1 AND workspace_id = $2: a hub type (workspace `admins`) is not
        # touched, and the answer is the same (only a push into `admins` itself would change the hub's type)
        if name in self.resource_types:
            self.resource_types[name].update({k: body[k] for k in ("schema", "description") if k in (body or {})})
        return text(f"resource_type {name} updated")

    def _resource_edit(self, body: Any, path: str) -> Answer:
        if path not in self.resources:
            return not_found(f"Resource not found at name {path}")
        self.resources[path].update({k: body[k] for k in ("value", "description") if k in (body or {})})
        return text(f"resource {path} updated (npath: {path!r})")

    def _app_create(self, form: Any, *_: str) -> Answer:
        app = (form or {}).get("app") or {}
        path = app.get("path", "")
        if path in self.apps:
            return bad_request(f"App with path {path} already exists")
        refused = self._folder_of(path, "app")
        if refused:
            return refused
        self.apps[path] = {"path": path, "summary": app.get("summary", ""), "value": app.get("value"),
                           "policy": app.get("policy"), "raw_app": True, "js": form.get("js", ""), "css": form.get("css", "")}
        return text(path, 201)

    def _app_update(self, form: Any, path: str) -> Answer:
        if path not in self.apps:
            return not_found(f"App not found at name {path}")
        app = (form or {}).get("app") or {}
        self.apps[path].update(summary=app.get("summary", ""), value=app.get("value"), policy=app.get("policy"),
                               js=form.get("js", ""), css=form.get("css", ""))
        return text(f"app {path} updated")

    def _trigger_create(self, body: Any, *_: str) -> Answer:
        path = (body or {}).get("path", "")
        if path in self.http_triggers:
            return bad_request(f"http trigger with path {path} already exists")
        self.http_triggers[path] = {**body, "workspace_id": self.workspace, "edited_by": "admin",
                                    "email": "admin@windmill.dev", "extra_perms": {}}
        return text(path, 201)

    def _trigger_update(self, body: Any, path: str) -> Answer:
        if path not in self.http_triggers:
            return not_found(f"Trigger not found at path: {path}")
        self.http_triggers.pop(path)
        self.http_triggers[body.get("path", path)] = {**body, "workspace_id": self.workspace}
        return text(f"Trigger '{path}' updated")

    def _shared_ui_update(self, body: Any) -> Answer:
        files = (body or {}).get("files")
        if not isinstance(files, dict):
            return bad_request("files must be an object of relative paths to contents")
        self.shared_ui = dict(files)
        return text("shared ui updated")

    def _variable_delete(self, _body: Any, path: str) -> Answer:
        self.variables.pop(path, None)
        return text(f"variable {path} deleted")

    # -- jobs --------------------------------------------------------------------------------------
    def _run(self, kind: str, path: str, args: Any) -> Answer:
        known = self.flows if kind == "flow" else self.scripts
        if path not in known:
            return not_found(f"{kind} not found at name {path}")
        job = Job(str(uuid.uuid4()), kind, path, dict(args or {}))
        self.jobs[job.id] = job
        if self.runner:
            success, result = self.runner(job)
            self.complete(job.id, result, success, job.modules)
        return text(job.id, 201)

    def _result_maybe(self, _body: Any, job_id: str) -> Answer:
        job = self.jobs.get(job_id)
        if not job:
            return not_found(f"Job {job_id} not found")
        return js({"completed": job.completed, "result": job.result if job.completed else None,
                   "success": job.success if job.completed else None, "started": job.completed})

    def _result(self, _body: Any, job_id: str) -> Answer:
        job = self.jobs.get(job_id)
        if not job or not job.completed:
            return not_found(f"Job {job_id} not found or not completed")
        return js(job.result)

    def _job(self, _body: Any, job_id: str) -> Answer:
        job = self.jobs.get(job_id)
        if not job:
            return not_found(f"Job {job_id} not found")
        shape: dict[str, Any] = {"id": job.id, "type": "CompletedJob" if job.completed else "QueuedJob",
                                 "running": False, "job_kind": job.kind, "args": job.args,
                                 ("flow_path" if job.kind == "flow" else "script_path"): job.path}
        if job.completed:
            shape.update(success=job.success, result=job.result)
        if job.kind == "flow":
            shape["flow_status"] = {"step": len(job.modules), "modules": job.modules,
                                    "failure_module": {"type": "WaitingForPriorSteps"}}
        return js(shape)

    # -- HTTP --------------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            timeout = TIMEOUT_S  # a client that stops sending fails the request, not the suite

            def log_message(self, *args: Any) -> None:
                pass

            def _do(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                ctype = self.headers.get("Content-Type") or ""
                try:
                    body = _form(raw, ctype) if ctype.startswith("multipart/form-data") else json.loads(raw) if raw else None
                except ValueError:
                    body = None
                path = unquote(urlsplit(self.path).path)
                if method == "GET" and urlsplit(self.path).query:  # a GET's query parameters are what it is given
                    body = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
                auth = self.headers.get("Authorization")
                record = {"method": method, "path": path, "body": body, "auth": auth, "query": urlsplit(self.path).query}
                stub.requests.append(record)
                if raw and body is None:
                    ans = text("Failed to parse the request body as JSON", 400)
                else:
                    ans = stub.answer(method, path, body, auth, record["query"])
                record["status"] = ans.status
                data = ans.encode()
                self.send_response(ans.status)
                self.send_header("Content-Type", ans.content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._do("GET")

            def do_POST(self) -> None:
                self._do("POST")

            def do_PUT(self) -> None:
                self._do("PUT")

            def do_DELETE(self) -> None:
                self._do("DELETE")

        return Handler


def _form(raw: bytes, content_type: str) -> dict[str, Any]:
    """A multipart/form-data body as {name: text}; the `app` part (JSON) decoded."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    parts: dict[str, Any] = {}
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        parts[str(part.get_param("name", header="content-disposition"))] = (payload or b"").decode()
    if "app" in parts:
        parts["app"] = json.loads(parts["app"])
    return parts


@contextmanager
def running(**kwargs: Any) -> Iterator[WindmillStub]:
    stub = WindmillStub(**kwargs)
    try:
        yield stub
    finally:
        stub.close()


def job_env(stub: WindmillStub, job_path: str = "f/fractal/test") -> dict[str, str]:
    """The variables a Windmill worker gives a Python job (windmill-common contextual variables, §4.4)."""
    return {
        "BASE_INTERNAL_URL": stub.url, "WM_BASE_URL": stub.url, "WM_TOKEN": stub.token, "WM_WORKSPACE": stub.workspace,
        "WM_JOB_ID": str(uuid.uuid4()), "WM_JOB_PATH": job_path, "WM_EMAIL": "admin@windmill.dev",
        "WM_USERNAME": "admin", "WM_PERMISSIONED_AS": "u/admin", "WM_WORKER_GROUP": "default",
    }
