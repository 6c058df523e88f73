"""Publish the item model's JSON Schemas (the source of truth is f/fractal/model.py)."""

from __future__ import annotations

import json
from pathlib import Path

from f.fractal.model.item import KIND_SLUGS, schema_for


def render(kind: str) -> str:
    return json.dumps(schema_for(kind), indent=2) + "\n"


def write_schemas(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, slug in KIND_SLUGS.items():
        path = out / f"{slug}.schema.json"
        path.write_text(render(kind))
        written.append(path)
    return written
