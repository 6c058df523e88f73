"""Catalog questions a composer asks: which composites use an item (at every level), and what changed
between two versions of an item (metadata, spec and files).

    used_by("entity:k3s-postgres", targets)   → {ref, users: [{ref, steps, pins, depth, via}]}
    diff("entity:x@1.0.0", "1.1.0", targets)  → {from, to, metadata, spec, files: {added, removed, changed}}

`used_by` reads the derived index only (each composite row lists its steps' refs): no item is read.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from f.fractal.catalog.items import get, merged_rows, resolve_targets
from f.fractal.model.errors import InvalidInput, NotFound
from f.fractal.model.item import parse_ref

MAX_DIFF_LINES = 400


def _key(ref: str) -> str:
    """kind:name of a ref, any version."""
    parsed = parse_ref(ref)
    return f"{parsed.slug}:{parsed.name}"


def used_by(ref: str, targets: list[str] | str | None = None) -> dict[str, Any]:
    """Every composite that uses the item, directly (depth 1: one of its steps) or through other
    composites (depth 2+, `via` the member that holds it), with the versions it pins."""
    wanted = _key(ref)
    rows, _where, stale = merged_rows(resolve_targets(targets))
    direct: dict[str, list[dict[str, Any]]] = {}  # member key → [{composite ref, step id, pinned ref}]
    for row in rows.values():
        for step in row.get("steps") or []:
            direct.setdefault(_key(step["ref"]), []).append({"ref": row["ref"], "step": step["id"], "pin": step["ref"]})
    known = {_key(r["ref"]) for r in rows.values()}
    if wanted not in known:
        raise NotFound(f"{ref} is in none of the catalog targets", hint="list the items with list_items")
    users: dict[str, dict[str, Any]] = {}
    frontier = [(wanted, 0, "")]
    while frontier:
        member, depth, via = frontier.pop(0)
        for use in direct.get(member, []):
            key = _key(use["ref"])
            if key in users or key == wanted:
                continue
            entry = users.setdefault(key, {"ref": use["ref"], "depth": depth + 1, "via": via, "steps": [], "pins": []})
            for other in direct[member]:
                if _key(other["ref"]) == key:
                    entry["steps"].append(other["step"])
                    entry["pins"].append(other["pin"])
            frontier.append((key, depth + 1, use["ref"]))
    ordered = sorted(users.values(), key=lambda u: (u["depth"], u["ref"]))
    return {"ref": wanted, "users": ordered, "stale_targets": stale}


def _changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """{key: {from, to}} for every top-level key whose value differs."""
    return {k: {"from": old.get(k), "to": new.get(k)} for k in sorted({*old, *new}) if old.get(k) != new.get(k)}


def diff(ref: str, other: str, targets: list[str] | str | None = None) -> dict[str, Any]:
    """What changed from `ref` to `other` (a full ref, or a version of the same item: "1.1.0", "latest")."""
    if not isinstance(other, str) or not other.strip():
        raise InvalidInput("other must be a ref or a version", hint='e.g. "1.1.0" or "entity:x@1.1.0"')
    base = parse_ref(ref)
    second = other if ":" in other else f"{base.slug}:{base.name}@{other}"
    a, b = get(ref, targets), get(second, targets)
    spec_a = {k: v for k, v in a["item"]["spec"].items() if k != "files"}
    spec_b = {k: v for k, v in b["item"]["spec"].items() if k != "files"}
    files_a, files_b = a["item"]["spec"].get("files") or {}, b["item"]["spec"].get("files") or {}
    changed = {}
    for name in sorted(set(files_a) & set(files_b)):
        if files_a[name] != files_b[name]:
            lines = list(difflib.unified_diff(files_a[name].splitlines(), files_b[name].splitlines(),
                                              f"{a['ref']}/{name}", f"{b['ref']}/{name}", lineterm=""))
            changed[name] = "\n".join(lines[:MAX_DIFF_LINES]) + ("\n… (truncated)" if len(lines) > MAX_DIFF_LINES else "")
    meta_a = {k: v for k, v in a["item"]["metadata"].items() if k != "version"}
    meta_b = {k: v for k, v in b["item"]["metadata"].items() if k != "version"}
    files = {"added": sorted(set(files_b) - set(files_a)), "removed": sorted(set(files_a) - set(files_b)),
             "changed": changed}
    metadata, spec = _changes(meta_a, meta_b), _changes(spec_a, spec_b)
    return {
        "from": {"ref": a["ref"], "commit": a.get("commit", "")}, "to": {"ref": b["ref"], "commit": b.get("commit", "")},
        "metadata": metadata, "spec": json.loads(json.dumps(spec, default=str)), "files": files,
        "same": not (metadata or spec or any(files.values())),
    }
