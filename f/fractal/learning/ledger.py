"""The loop's ledger: what the learning loop saw on this machine, one JSON line per event.

    note("received") · note("rejected", reason="secret") · note("learned", template="entity:chrony", kind="rune")
    note_run(item, result)   → a run of a draft made from a Rune or an Orb counts as a use of it
    weight("entity:chrony")  → its ranking weight from its uses · stats() → the counts /metrics shows

A template's weight is 0.5 + (1 + succeeded) / (2 + succeeded + failed): 1.0 unused, towards 1.5 as its
drafts keep succeeding, towards 0.5 as they keep failing. The ledger lives in the worker cache
(`learning/loop.jsonl`; locally `$FRACTAL_HOME/cache/learning/`), beside the run records: inside Windmill
each worker counts the runs it made. Lines are short and appended in one write, so processes never
interleave them. No secret is ever written: events hold refs, statuses and reasons only.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from typing import Any

import f.fractal.platform.workspace as workspace

EVENTS = ("received", "rejected", "learned", "use")
OUTCOMES = ("success", "failed")  # a run's final status (a composite started in Windmill has none yet)


def _file() -> Any:
    return workspace.cache_dir("learning") / "loop.jsonl"


def note(event: str, **fields: str) -> None:
    """Append one event (best effort: a full disk never fails a submission or a run)."""
    line = json.dumps({"event": event, **fields, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}) + "\n"
    try:
        fd = os.open(_file(), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
    except OSError:
        pass


def events() -> list[dict[str, Any]]:
    try:
        text = _file().read_text()
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a line cut by a crash
        if isinstance(event, dict):
            out.append(event)
    return out


def template_key(ref: str) -> str:
    """A template's identity across its versions: `entity:chrony-pool@0.0.2` → `entity:chrony-pool`."""
    return ref.split("@", 1)[0]


def learned_from(item: dict[str, Any]) -> str:
    """The template (Rune or Orb) a draft was built from, per its provenance, or ''."""
    prov = item.get("provenance") or {}
    return str(prov.get("rune") or prov.get("orb") or "")


def note_run(item: dict[str, Any], result: dict[str, Any]) -> None:
    """Count a finished run of an item made from a template as a use of that template (a destroy does not count)."""
    template = learned_from(item)
    status = str(result.get("status", ""))
    if template and status in OUTCOMES and result.get("mode") != "destroy":
        note("use", template=template_key(template), status=status, run=str(result.get("run_id", "")))


def uses(seen: list[dict[str, Any]] | None = None) -> dict[str, Counter[str]]:
    """{template: Counter(success=…, failed=…)} over the ledger."""
    out: dict[str, Counter[str]] = {}
    for e in events() if seen is None else seen:
        if e.get("event") == "use" and e.get("status") in OUTCOMES:
            out.setdefault(str(e.get("template")), Counter())[str(e["status"])] += 1
    return out


def weight(counts: Counter[str] | None) -> float:
    if not counts:
        return 1.0
    return 0.5 + (1 + counts["success"]) / (2 + counts["success"] + counts["failed"])


def stats() -> dict[str, Any]:
    """The loop's counts: pairs received, learned, rejected by reason, templates by kind, uses by outcome."""
    seen = events()
    by = Counter(e.get("event") for e in seen)
    templates = {(str(e.get("kind")), str(e.get("template"))) for e in seen if e.get("event") == "learned"}
    return {
        "received": by["received"], "learned": by["learned"],
        "rejected": dict(Counter(str(e.get("reason", "input")) for e in seen if e.get("event") == "rejected")),
        "templates": dict(Counter(kind for kind, _name in templates)),
        "uses": dict(Counter(str(e.get("status")) for e in seen if e.get("event") == "use")),
    }
