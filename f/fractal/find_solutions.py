# Worker requirements, generated from requirements.txt by scripts/worker_requirements.py (do not edit):
# requirements:
#ansible-core==2.19.14
#ansible-lint==26.10.1
#ansible-runner==2.4.3
#detect-secrets==1.5.0
#fastjsonschema==2.22.3
#lark==1.3.1
#python-hcl2==8.1.4
#PyYAML==6.0.3
#requests==2.34.2
#wmill==1.850.0

"""Fractal: the learned templates (Runes, Orbs) that best match a need, with their score, uses and why, for agents
and people."""

from typing import Any

from f.fractal.learning.knowledge import find
from f.fractal.learning.ledger import template_key, uses, weight

KINDS = ("Entity", "Pipeline", "MetaPipeline")


def main(query: str, tool: str = "", provider: str = "", limit: int = 5, targets: list[str] | None = None) -> dict[str, Any]:
    hits = find(query, tool=tool or None, provider=provider or None, limit=limit, targets=targets or None,
                kinds=("Entity",) if tool else KINDS)
    counts = uses()
    out = []
    for h in hits:
        used = counts.get(template_key(h.row["ref"]))
        said = f"; used {sum(used.values())}x, {used['success']} succeeded" if used else ""
        out.append({"ref": h.row["ref"], "kind": "rune" if h.row["kind"] == "Entity" else "orb", "name": h.row["name"],
                    "tool": h.row.get("tool"), "providers": h.row.get("providers") or [],
                    "description": h.row.get("description", ""), "inputs": h.row.get("inputs") or [], "score": h.score,
                    "coverage": h.coverage, "weight": round(weight(used), 3),
                    "uses": {"success": used["success"], "failed": used["failed"]} if used else {"success": 0, "failed": 0},
                    "why": f"matches {', '.join(h.matched)}{said}"})
    return {"query": query, "solutions": out}
