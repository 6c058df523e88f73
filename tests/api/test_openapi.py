"""OpenAPI 3.1: generated from the scripts' .script.yaml, valid, in step with the routes, not drifted from the repo file."""

from __future__ import annotations

import json
import re

from fractal_local import openapi
from fractal_local.contracts import scripts
from fractal_local.server import build_app
from openapi_spec_validator import validate
from starlette.routing import Match, Route

METHODS = {"get", "post", "put", "patch", "delete"}


def _operations(doc: dict) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(method.upper(), path) for path, item in doc["paths"].items() for method in item if method in METHODS}


def test_the_document_is_valid_openapi_and_the_repo_file_is_current() -> None:
    doc = openapi.document()
    validate(doc)  # openapi-spec-validator: the OpenAPI 3.1 schema and the JSON Schema dialect
    assert doc["openapi"] == "3.1.0"
    assert json.loads(openapi.FILE.read_text()) == doc, "resources/openapi.json drifted: run scripts/fractal openapi"


def test_every_operation_is_answered_by_a_route_and_every_route_is_documented() -> None:
    app = build_app()
    routes = [r for r in app.routes if isinstance(r, Route)]
    covered: set[str] = set()
    for method, path in _operations(openapi.document()):
        concrete = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path).replace(
            "/api/w/00000000-0000-0000-0000-000000000000/", "/api/w/local/")
        scope = {"type": "http", "method": method, "path": concrete, "root_path": ""}
        full = [r for r in routes if r.matches(scope)[0] == Match.FULL]
        assert full, f"{method} {path} is documented but no route answers it"
        covered.add(full[0].path)
    assert {r.path for r in routes} == covered, "routes missing from the OpenAPI document"


def test_each_script_is_an_operation_with_its_schema_and_errors() -> None:
    doc = openapi.document()
    for script in scripts().values():
        op = doc["paths"][f"/api/w/{{workspace}}/jobs/run_wait_result/p/{script.path}"]["post"]
        assert op["requestBody"]["content"]["application/json"]["schema"] == script.schema
        assert {"200", "400", "401", "404"} <= set(op["responses"])
        if script.route:
            assert doc["paths"][f"/api/r/{script.route}"]["post"]["operationId"] == script.name
    save = doc["paths"]["/api/r/fractal/items/save"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert save["properties"]["expected_version"]["type"] == ["string", "null"]  # Windmill's nullable, as JSON Schema
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
