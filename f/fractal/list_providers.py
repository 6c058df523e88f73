"""Fractal: the providers a launch can choose, with whether each fits the item and has its credentials."""

from typing import Any

from f.fractal import credentials, providers
from f.fractal.errors import InvalidInput

MAX_DEPTH = 8


def main(ref: str | None = None, targets: list[str] | None = None) -> dict[str, Any]:
    fits: list[str] | None = None
    fixed: str | None = None
    tool: str | None = None
    resolved_ref: str | None = None
    if ref:
        from f.fractal import catalog

        resolved = catalog.get(ref, targets)
        item, resolved_ref = resolved["item"], resolved["ref"]
        fits, fixed = _fits(item, targets, 0)
        tool = item["spec"].get("tool")
    rows = [_row(p, fits) for p in providers.PROVIDERS.values()]
    choices = [r["name"] for r in rows if r["fits"]]
    return {"ref": resolved_ref, "tool": tool, "fixed": fixed, "choices": choices, "providers": rows}


def _fits(item: dict[str, Any], targets: list[str] | None, depth: int) -> tuple[list[str], str | None]:
    """Providers that fit every member of an item, and the one it fixes (None = chosen at launch)."""
    spec = item["spec"]
    if item["kind"] == "Entity":
        declared = spec.get("providers") or []
        names = providers.fitting(declared, spec.get("tool"))
        return names, declared[0] if len(declared) == 1 and declared == names else None
    if depth >= MAX_DEPTH:
        raise InvalidInput(f"composites nested deeper than {MAX_DEPTH} levels")
    from f.fractal import catalog

    names = list(providers.PROVIDERS)
    for step in spec.get("steps") or []:
        member = catalog.get(step["ref"], targets)["item"]
        allowed, _ = _fits(member, targets, depth + 1)
        names = [n for n in names if n in allowed]
    fixed = spec.get("provider")
    if fixed:
        names = [n for n in names if n == fixed]
    return names, fixed or None


def _row(provider: providers.Provider, fits: list[str] | None) -> dict[str, Any]:
    ok = fits is None or provider.name in fits
    return {
        "name": provider.name, "title": provider.title, "tools": list(provider.tools), "fits": ok,
        "credentials": credentials.status(provider),
        "credential": None if provider.credential is None else {
            "resource_type": provider.credential.resource_type, "path": provider.credential.default_path,
            "env": sorted(provider.credential.env),
        },
    }
