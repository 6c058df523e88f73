"""The catalog API over one or more Git targets: save, get, list, delete, history, sync.

- A save goes to every target named (default: the workspace's default catalog), in parallel.
  Each target bumps the item's semver from what it holds, so targets in step stay in step.
- `expected_version` is the optimistic lock: when a target holds another version, the save is
  refused (policy `fail`) with both versions, before anything is written anywhere.
- A target that cannot be reached fails alone: its change goes to an outbox in the worker's cache,
  and `sync` replays it later (refusing, and keeping, a change whose base moved meanwhile).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from typing import Any

import f.fractal.catalog.layout as layout
import f.fractal.catalog.search as retrieval
import f.fractal.platform.settings as settings
import f.fractal.platform.workspace as workspace
from f.fractal.catalog.index import CatalogIndex
from f.fractal.catalog.resolver import Resolver
from f.fractal.catalog.search import fits_row
from f.fractal.catalog.store import COMMIT_PREFIX, Clone, Target, load_target
from f.fractal.flows.compile import prepare
from f.fractal.model.errors import Conflict, FractalError, InvalidInput, NotFound, Unreachable
from f.fractal.model.item import (
    KIND_SLUGS,
    SLUG_KINDS,
    VERSION_RE,
    Ref,
    bump,
    normalize_item,
    parse_ref,
    summary,
    version_key,
)
from f.fractal.model.providers import PROVIDERS
from f.fractal.model.records import Found
from f.fractal.platform.secrets import ensure_no_secrets
from f.fractal.tools.policy import ensure_allowed
from f.fractal.tools.validate import checked

MAX_PUSH_ATTEMPTS = 40
STYLE_ONLY = ("ansible-lint ",)  # style findings: generation fixes them, a save does not refuse an entity for them
CONFLICT_POLICIES = ("fail", "overwrite")
MAX_TARGETS = 10


# ------------------------------------------------------------------ targets


def resolve_targets(paths: list[str] | str | None) -> list[Target]:
    """Targets by resource path; all are checked before any work starts."""
    if isinstance(paths, str):
        paths = [p.strip() for p in paths.split(",") if p.strip()]
    if paths is not None and (not isinstance(paths, list) or not all(isinstance(p, str) for p in paths)):
        raise InvalidInput(f"targets must be a list of resource paths, got {paths!r:.100}", hint='e.g. ["f/fractal/catalog"]')
    paths = list(paths or settings.load().default_targets)
    if not paths or len(paths) > MAX_TARGETS or len(set(paths)) != len(paths):
        raise InvalidInput(f"targets must be 1 to {MAX_TARGETS} distinct git_repository resource paths, got {paths!r:.200}")
    return [load_target(p) for p in paths]


def _each(targets: list[Target], fn: Callable[[Target], dict[str, Any]]) -> list[dict[str, Any]]:
    """Run fn per target in parallel; a FractalError becomes that target's failed result."""

    def guarded(target: Target) -> dict[str, Any]:
        try:
            return {"target": target.path, **fn(target)}
        except FractalError as e:
            return {"target": target.path, "status": e.code, **e.to_dict()}

    if len(targets) == 1:
        return [guarded(targets[0])]
    from concurrent.futures import ThreadPoolExecutor  # deferred: reads of one target never need it

    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        return list(pool.map(guarded, targets))


# ------------------------------------------------------------------ save


def _content(item: dict[str, Any]) -> Any:
    meta = {k: v for k, v in item["metadata"].items() if k != "version"}
    return meta, item["spec"]


def _plan_version(requested: str, current: str | None, floor: str | None, part: str) -> str:
    top = max((v for v in (current, floor) if v), key=version_key, default=None)
    if requested and (top is None or version_key(requested) > version_key(top)):
        return requested
    return bump(top, part) if top else "1.0.0"


def _unsigned(target: Target) -> dict[str, Any]:
    """Commit signing (the resource's gpg_key) is not implemented yet: say so rather than stay silent."""
    return {"warnings": ["commits are not signed: gpg_key signing is not supported yet"]} if target.signing else {}


def _last_version(clone: Clone, kind: str, name: str) -> str | None:
    """The highest version ever tagged for an item that is absent now (deleted, or never saved)."""
    tagged = [v for v in clone.tagged_versions(kind, name) if VERSION_RE.match(v)]
    return max(tagged, key=version_key, default=None)


def _backoff(attempt: int, spent: float) -> None:
    """Wait before retrying a push that lost a race. Full jitter over a window that doubles with each
    loss and scales with how long an attempt takes here (`spent` seconds: a loaded machine or a big
    catalog widens it), capped at 10 s, so contending workers spread out instead of colliding again."""
    import random  # only under push contention

    time.sleep(random.uniform(0, min(10.0, max(spent, 0.05) * 2 ** min(attempt, 5))))


def _save_on(
    target: Target, item: dict[str, Any], *, expected: str | None, conflict: str, part: str, author: str,
    base: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Save on one target. `base` (a queued save's replay): the version the change was made on; a
    target now holding another version keeps the change out (Conflict with both versions)."""
    kind, name = item["kind"], item["metadata"]["name"]
    slug, key = KIND_SLUGS[kind], f"{kind}/{name}"
    clone = Clone(target)
    with clone.lock():
        for attempt in range(MAX_PUSH_ATTEMPTS):
            started = time.monotonic()
            clone.refresh()
            index = clone.catalog_index()
            held = index.row(key)
            current = held["version"] if held else None
            stored = layout.read_item(clone.item_path(kind, name)) if current else None
            if expected is not None and conflict == "fail" and current != (expected or None):
                raise Conflict(
                    f"{slug}:{name} is at {current or 'absent'} in {target.path}, not at the expected {expected or 'absent'}",
                    hint="get the item again, merge your change into it and save with its version as expected_version",
                    data={"expected_version": expected, "current_version": current, "current": stored},
                )
            if base is not None and current != base.get("version"):
                raise Conflict(
                    f"{slug}:{name} moved to {current or 'absent'} in {target.path} since the queued change was made "
                    f"on {base.get('version') or 'absent'}; the queued change was kept aside",
                    hint="merge the queued change (data.queued) into the current item (data.current) and save it",
                    data={"base": base, "current_version": current, "current": stored, "queued": item},
                )
            requested = item["metadata"]["version"]
            raises_version = bool(requested) and version_key(requested) > version_key(current or "0.0.0")
            if stored and _content(stored) == _content(item) and not raises_version:
                return {"status": "unchanged", "version": current, "commit": clone.head()}
            version = _plan_version(requested, current, None if current else _last_version(clone, kind, name), part)
            to_write = {**item, "metadata": {**item["metadata"], "version": version}}
            row = summary(to_write)
            paths = [clone.stage_item(kind, name, to_write), *clone.write_indexes(index, kind, name, row)]
            row["commit"] = commit = clone.commit(f"{COMMIT_PREFIX} save {slug}:{name}@{version}\n\nby {author}", paths, author)
            tag = target.tag(kind, name, version)
            if clone.push(tag):
                clone.settle(commit, index, key, row)
                return {
                    "status": "saved",
                    "version": version,
                    "commit": commit,
                    "tag": tag,
                    "attempts": attempt + 1,
                    **_unsigned(target),
                }
            _backoff(attempt, time.monotonic() - started)
    raise Unreachable(f"{target.path}: gave up after {MAX_PUSH_ATTEMPTS} push races", hint="retry later or run sync_catalog")


def save(
    raw: Any,
    targets: list[str] | str | None = None,
    expected_version: str | None = None,
    bump_part: str = "patch",
    conflict: str = "fail",
    force: bool = False,
    members: list[str] | None = None,
) -> dict[str, Any]:
    """Validate, refuse secrets, then save to every target. See the module doc for the rules.
    A composite's members resolve in `members` (catalog paths; default: the targets)."""
    item = normalize_item(raw)
    ensure_no_secrets(item)
    if not isinstance(force, bool):
        raise InvalidInput(f"force must be true or false, got {force!r:.40}")
    if item["kind"] == "Entity":
        item = checked_entity(item, force)
    if expected_version:
        version_key(expected_version)
    if conflict not in CONFLICT_POLICIES:
        raise InvalidInput(f"bad conflict policy {conflict!r:.40}", hint=f"use one of {', '.join(CONFLICT_POLICIES)}")
    bump("0.0.0", bump_part)
    chosen = resolve_targets(targets)
    if item["kind"] != "Entity":  # composites: refs resolve, no cycle, inputs bound, a provider fits; flow attached
        item = prepare(item, resolver(targets if members is None else members))
        ensure_no_secrets(item)  # the compiled flow too
    author = workspace.actor()
    if expected_version is not None and conflict == "fail" and len(chosen) > 1:
        _precheck(chosen, item, expected_version)

    def one(target: Target) -> dict[str, Any]:
        try:
            return _save_on(target, item, expected=expected_version, conflict=conflict, part=bump_part, author=author)
        except Unreachable as e:
            _queue(target, {"op": "save", "item": item, "expected": expected_version, "part": bump_part, "author": author,
                            "base": _base(target, item, expected_version)})
            return {"status": "pending", **e.to_dict()}

    return _summarize(item, _each(chosen, one))


def checked_entity(item: dict[str, Any], force: bool) -> dict[str, Any]:
    """The entity, once its policy and its tool's checks (the validators generation uses) pass. A blocking policy
    finding is refused whatever `force` says (only a reviewed spec.allow lifts it); a failed check is refused
    unless forced, and a forced save records the errors and who forced it in provenance.forced."""
    ref = f"entity:{item['metadata']['name']}"
    ensure_allowed(item, ref)
    report = checked(item)
    errors = [e for e in report["errors"] if not e["message"].startswith(STYLE_ONLY)]
    if not errors:
        return item
    if not force:
        first = "; ".join(f"{e.get('file') or 'item'}{' line ' + str(e['line']) if e.get('line') else ''}: {e['message']}"
                          for e in errors[:3])
        raise InvalidInput(f"{ref} does not pass its tool's checks ({len(errors)} errors): {first}"[:1500],
                           hint="fix them (data.report lists each with its file and line), or save with force: true, "
                           "which records the errors in the item's provenance",
                           data={"report": report})
    forced = {"by": workspace.actor(), "errors": errors[:20]}
    return {**item, "provenance": {**(item.get("provenance") or {}), "forced": forced}}


def _precheck(targets: list[Target], item: dict[str, Any], expected: str) -> None:
    """Refuse a stale save before writing to any target (the per-target check still guards the race)."""
    for target in targets:
        clone = Clone(target)
        try:
            with clone.lock():
                clone.refresh()
                current = clone.current_version(item["kind"], item["metadata"]["name"])
        except Unreachable:
            continue
        if current != (expected or None):
            raise Conflict(
                f"{KIND_SLUGS[item['kind']]}:{item['metadata']['name']} is at {current or 'absent'} in {target.path}, "
                f"not at the expected {expected or 'absent'}; nothing was written",
                hint="get the item again, merge your change into it and save with its version as expected_version",
                data={"expected_version": expected, "current_version": current, "target": target.path},
            )


def _summarize(item: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
    versions = sorted({r["version"] for r in results if r.get("version")}, key=version_key)
    slug, name = KIND_SLUGS[item["kind"]], item["metadata"]["name"]
    done = [r for r in results if r["status"] in ("saved", "unchanged", "deleted")]
    conflicts = [r for r in results if r["status"] == "conflict"]
    if conflicts and not done:
        first = conflicts[0]
        raise Conflict(first["message"], hint=first.get("hint", ""), data={"targets": results})
    invalid = [r for r in results if r["status"] not in ("saved", "unchanged", "deleted", "pending", "conflict")]
    if invalid and not done:
        raise FractalError(invalid[0]["message"], hint=invalid[0].get("hint", ""), data={"targets": results})
    version = versions[-1] if versions else item["metadata"].get("version", "")
    return {
        "ok": len(done) == len(results),
        "ref": f"{slug}:{name}@{version}" if version else f"{slug}:{name}",
        "version": version,
        "targets": results,
        "pending": [r["target"] for r in results if r["status"] == "pending"],
    }


# ------------------------------------------------------------------ outbox and sync


def _outbox(target: Target) -> Any:
    return workspace.cache_dir("outbox", target.key)


def _base(target: Target, item: dict[str, Any], expected: str | None = None) -> dict[str, Any]:
    """The base a queued change is made on: the caller's expected version, else the version this
    worker last saw (its clone's index), with that index's commit."""
    commit, row = Clone(target).known(f"{item['kind']}/{item['metadata']['name']}")
    version = (expected or None) if expected is not None else (row["version"] if row else None)
    return {"commit": commit, "version": version}


def _queue(target: Target, entry: dict[str, Any]) -> None:
    entry = {**entry, "target": target.path, "queued_at": time.time()}
    kind, name = entry["item"]["kind"], entry["item"]["metadata"]["name"]
    path = _outbox(target) / f"{time.time_ns()}-{os.getpid()}-{KIND_SLUGS[kind]}-{name}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(entry), encoding="utf-8")
    os.replace(tmp, path)


def pending(target: Target) -> list[dict[str, Any]]:
    """Changes waiting to be replayed on a target."""
    return [{"file": p.name, **json.loads(p.read_text(encoding="utf-8"))} for p in sorted(_outbox(target).glob("*.json"))]


def kept_aside(target: Target) -> list[dict[str, Any]]:
    """Queued changes a replay found in conflict (their base moved): kept, never replayed on their own."""
    files = sorted(_outbox(target).glob("conflicts/*.json"))
    return [{"file": str(p), **json.loads(p.read_text(encoding="utf-8"))} for p in files]


def sync(targets: list[str] | str | None = None) -> dict[str, Any]:
    """Replay each target's outbox in order, then refresh its index. A change whose base moved (the
    item changed on the target since the change was queued) is moved to the outbox's conflicts/
    folder and reported under `kept` with both versions; an unreachable target stops its replay
    until the next sync."""

    def one(target: Target) -> dict[str, Any]:
        replayed: list[str] = []
        kept: list[dict[str, Any]] = []
        for path in sorted(_outbox(target).glob("*.json")):
            entry = json.loads(path.read_text(encoding="utf-8"))
            item = entry["item"]
            label = f"{entry['op']} {KIND_SLUGS[item['kind']]}:{item['metadata']['name']}"
            try:
                if entry["op"] == "save":
                    _save_on(
                        target,
                        item,
                        expected=entry.get("expected"),
                        conflict="fail",
                        part=entry.get("part", "patch"),
                        author=entry["author"],
                        base=entry.get("base"),
                    )
                else:
                    _delete_on(target, Ref(item["kind"], item["metadata"]["name"]), force=True, author=entry["author"],
                               base=entry.get("base"))
            except NotFound:
                pass  # a delete whose item is already gone: done
            except Conflict as e:
                aside = _outbox(target) / "conflicts"
                aside.mkdir(exist_ok=True)
                os.replace(path, aside / path.name)
                kept.append({"change": label, "file": str(aside / path.name), **e.to_dict()})
                continue
            except Unreachable as e:
                return {
                    "status": "unreachable",
                    "replayed": replayed,
                    "kept": kept,
                    "waiting": len(list(_outbox(target).glob("*.json"))),
                    **e.to_dict(),
                }
            path.unlink()
            replayed.append(label)
        clone = Clone(target)
        with clone.lock():
            clone.refresh()
            head = clone.head()
            items = clone.catalog_index(head).count()
        return {
            "status": "synced" if not kept else "conflict",
            "replayed": replayed,
            "kept": kept,
            "items": items,
            "commit": head,
        }

    results = _each(resolve_targets(targets), one)
    return {"ok": all(r["status"] == "synced" for r in results), "targets": results}


# ------------------------------------------------------------------ reading


def _read(target: Target, fn: Callable[[Clone, CatalogIndex], Any]) -> tuple[Any, bool]:
    """Run a read on a fresh clone and its index; on an unreachable remote fall back to the cached state."""
    clone = Clone(target)
    with clone.reading() as stale:
        return fn(clone, clone.catalog_index(clone.fresh_commit())), stale


def get(ref: str, targets: list[str] | str | None = None) -> Found:
    """The item a ref names, from the first target that has it, with the commit it came from."""
    parsed = parse_ref(ref)
    errors = []
    for target in resolve_targets(targets):
        try:
            found, stale = _read(target, lambda c, i: _get_from(c, i, parsed))
        except Unreachable as e:
            errors.append(e.message)
            continue
        if found:
            item, commit = found
            pinned = parsed.pinned(item["metadata"]["version"])
            return {"ref": str(pinned), "item": item, "target": target.path, "commit": commit, "stale": stale}
    raise NotFound(
        f"{ref} is in none of the targets" + (f" ({'; '.join(errors)})" if errors else ""),
        hint="list_items shows what the catalog holds",
    )


def resolver(targets: list[str] | str | None) -> Resolver:
    """A resolver of composite members over these targets (what composite checks and runs read through)."""
    return Resolver(targets, lambda ref: get(ref, targets))


def _get_from(clone: Clone, index: CatalogIndex, ref: Ref) -> tuple[dict[str, Any], str] | None:
    row = index.row(f"{ref.kind}/{ref.name}")
    if row and ref.version in ("latest", row["version"]):
        return layout.read_item(clone.item_path(ref.kind, ref.name)), row["commit"]
    if ref.version == "latest":
        return None
    return clone.read_at(ref.kind, ref.name, ref.version)


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", text.lower()) if t]


def _matches(row: dict[str, Any], kind: str | None, tool: str | None, provider: str | None, tags: list[str]) -> bool:
    if kind and row["kind"] != kind:
        return False
    if tool and row.get("tool") != tool:
        return False
    if provider and not fits_row(row, provider):
        return False
    return all(t in row.get("tags", []) for t in tags)


def _score(row: dict[str, Any], words: list[str]) -> int:
    name = row["name"]
    text = " ".join(
        [
            name,
            row.get("description", ""),
            " ".join(row.get("tags", [])),
            row.get("tool", ""),
            " ".join(row.get("providers") or []),
        ]
    ).lower()
    return sum((3 if w in name else 1) for w in words if w in text)


def merged_rows(chosen: list[Target]) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]], list[str]]:
    """Every index row across the targets ('Kind/name' → row, newest version wins, in (kind, name)
    order for a single target), the targets holding each item, and the targets read from cache."""
    merged: dict[str, dict[str, Any]] = {}
    where: dict[str, list[str]] = {}
    stale: list[str] = []
    for target in chosen:
        try:
            rows, was_stale = _read(target, lambda _, index: index.all_rows())
        except Unreachable:
            stale.append(target.path)
            continue
        if was_stale:
            stale.append(target.path)
        if not merged:
            merged, where = rows, {key: [target.path] for key in rows}
            continue
        for key, row in rows.items():
            seen = merged.get(key)
            if seen is None or version_key(row["version"] or "0.0.0") > version_key(seen["version"] or "0.0.0"):
                merged[key] = row
            where.setdefault(key, []).append(target.path)
    return merged, where, stale


def catalog_rows(targets: list[str] | str | None, kind: str | None = None) -> list[dict[str, Any]]:
    """Every index row of the catalog(s), newest version first when targets differ, in (kind, name) order."""
    wanted = SLUG_KINDS.get(kind or "", kind)
    merged, _, _ = merged_rows(resolve_targets(targets))
    return [merged[k] for k in sorted(merged) if not wanted or merged[k]["kind"] == wanted]


def search_index(targets: list[str] | str | None = None) -> tuple[retrieval.Searcher, int]:
    """What the composer searches, and how many items it covers: one target's stored index (read once,
    nothing loaded), or an in-memory index of the rows merged across several targets."""
    chosen = resolve_targets(targets)
    if len(chosen) == 1:
        try:
            index, _ = _read(chosen[0], lambda _, index: index)
            return index, index.count()
        except Unreachable:
            return retrieval.Index.build([]), 0
    merged, _, _ = merged_rows(chosen)
    return retrieval.index_for([merged[k] for k in sorted(merged)]), len(merged)


def list_items(
    targets: list[str] | str | None = None,
    kind: str | None = None,
    query: str | None = None,
    tool: str | None = None,
    provider: str | None = None,
    tags: list[str] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """Index rows across targets (newest version wins), filtered, ranked by the query, paged."""
    kind = _kind_arg(kind)
    if provider and provider not in PROVIDERS:
        raise InvalidInput(f"unknown provider {provider!r:.40}", hint=f"use one of {', '.join(PROVIDERS)}")
    if not (1 <= limit <= 1000) or offset < 0:
        raise InvalidInput("limit must be 1..1000 and offset ≥ 0")
    chosen = resolve_targets(targets)
    words = _tokens(query or "")
    if len(chosen) == 1:  # one target: its index answers the page without loading every row
        path = chosen[0].path
        try:
            (total, rows), was_stale = _read(chosen[0], lambda _, index: index.page(
                kind=kind, tool=tool, provider=provider, tags=list(tags or []), words=words, limit=limit, offset=offset))
        except Unreachable:
            return {"total": 0, "offset": offset, "items": [], "stale_targets": [path]}
        items = [{**r, "targets": [path]} for r in rows]
        return {"total": total, "offset": offset, "items": items, "stale_targets": [path] if was_stale else []}
    merged, where, stale = merged_rows(chosen)
    hits = list(merged.values())  # in (kind, name) order for a single target: the index is stored sorted
    if kind or tool or provider or tags:
        hits = [r for r in hits if _matches(r, kind, tool, provider, list(tags or []))]
    if words:
        scored = [(s, r) for r in hits if (s := _score(r, words))]
        hits = [r for _, r in sorted(scored, key=lambda sr: (-sr[0], sr[1]["name"]))]
    elif len(chosen) > 1:
        hits.sort(key=lambda r: (r["kind"], r["name"]))
    page = [{**r, "targets": where[f"{r['kind']}/{r['name']}"]} for r in hits[offset : offset + limit]]
    return {"total": len(hits), "offset": offset, "items": page, "stale_targets": stale}


def _kind_arg(kind: str | None) -> str | None:
    if not kind:
        return None
    if kind in KIND_SLUGS:
        return kind
    if kind in SLUG_KINDS:
        return SLUG_KINDS[kind]
    raise InvalidInput(f"unknown kind {kind!r:.40}", hint="use entity, pipeline or meta-pipeline")


def history(ref: str, targets: list[str] | str | None = None, limit: int = 100) -> dict[str, Any]:
    """An item's versions per target, newest first (saves and deletes); NotFound when no target ever held it."""
    parsed = parse_ref(ref)
    results = _each(
        resolve_targets(targets),
        lambda t: {"status": "ok", "entries": _read(t, lambda c, _: c.history(parsed.kind, parsed.name, limit))[0]},
    )
    if all(r["status"] == "ok" and not r["entries"] for r in results):
        raise NotFound(f"{parsed.slug}:{parsed.name} was never saved in the targets", hint="list_items shows what they hold")
    return {"ref": f"{parsed.slug}:{parsed.name}", "targets": results}


# ------------------------------------------------------------------ delete


def _delete_on(target: Target, ref: Ref, *, force: bool, author: str, base: dict[str, Any] | None = None) -> dict[str, Any]:
    key = f"{ref.kind}/{ref.name}"
    clone = Clone(target)
    with clone.lock():
        for attempt in range(MAX_PUSH_ATTEMPTS):
            started = time.monotonic()
            clone.refresh()
            index = clone.catalog_index()
            held = index.row(key)
            if not held:
                raise NotFound(f"{ref.slug}:{ref.name} is not in {target.path}")
            current = held["version"]
            if base is not None and current != base.get("version"):
                raise Conflict(
                    f"{ref.slug}:{ref.name} moved to {current} in {target.path} since its deletion was queued on "
                    f"{base.get('version') or 'absent'}; the deletion was kept aside",
                    hint="get the item and delete it again if it should still go",
                    data={"base": base, "current_version": current},
                )
            users = index.users(ref.slug, ref.name)
            if users and not force:
                raise Conflict(
                    f"{ref.slug}:{ref.name} is used by {', '.join(users[:10])}",
                    hint="delete or change those first, or pass force=true (pinned versions stay readable from history)",
                    data={"used_by": users},
                )
            paths = [clone.stage_item(ref.kind, ref.name, None), *clone.write_indexes(index, ref.kind, ref.name, None)]
            commit = clone.commit(f"{COMMIT_PREFIX} delete {ref.slug}:{ref.name}@{current}\n\nby {author}", paths, author)
            if clone.push(None):
                clone.settle(commit, index, key, None)
                return {"status": "deleted", "version": current, "commit": commit, **_unsigned(target)}
            _backoff(attempt, time.monotonic() - started)
    raise Unreachable(f"{target.path}: gave up after {MAX_PUSH_ATTEMPTS} push races")


def delete(ref: str, targets: list[str] | str | None = None, force: bool = False) -> dict[str, Any]:
    parsed = parse_ref(ref)
    author = workspace.actor()
    stub = {"kind": parsed.kind, "metadata": {"name": parsed.name}}

    def one(target: Target) -> dict[str, Any]:
        try:
            return _delete_on(target, parsed, force=force, author=author)
        except Unreachable as e:
            _queue(target, {"op": "delete", "item": stub, "author": author, "base": _base(target, stub)})
            return {"status": "pending", **e.to_dict()}

    results = _each(resolve_targets(targets), one)
    if all(r["status"] == "not_found" for r in results):
        raise NotFound(f"{parsed.slug}:{parsed.name} is in none of the targets")
    blocked = [r for r in results if r["status"] == "conflict"]
    if blocked and len(blocked) == len(results):
        raise Conflict(blocked[0]["message"], hint=blocked[0].get("hint", ""), data=blocked[0].get("data"))
    return {
        "ok": all(r["status"] in ("deleted", "not_found") for r in results),
        "ref": f"{parsed.slug}:{parsed.name}",
        "targets": results,
    }
