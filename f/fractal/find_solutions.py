"""Fractal: the learned templates (Runes) that best match a need, with their score and why, for agents and people."""

from typing import Any

from f.fractal.learning.knowledge import find


def main(query: str, tool: str = "", provider: str = "", limit: int = 5, targets: list[str] | None = None) -> dict[str, Any]:
    hits = find(query, tool=tool or None, provider=provider or None, limit=limit, targets=targets or None)
    return {"query": query, "solutions": [
        {"ref": h.row["ref"], "name": h.row["name"], "tool": h.row.get("tool"), "providers": h.row.get("providers") or [],
         "description": h.row.get("description", ""), "inputs": h.row.get("inputs") or [], "score": h.score,
         "coverage": h.coverage, "why": f"matches {', '.join(h.matched)}"} for h in hits]}
