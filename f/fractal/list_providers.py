"""Fractal: the providers a launch can choose, with whether each fits the item and has its credentials."""

from typing import Any

from f.fractal import credentials, providers


def main(ref: str | None = None, targets: list[str] | None = None) -> dict[str, Any]:
    fits: list[str] | None = None
    fixed: str | None = None
    tool: str | None = None
    resolved_ref: str | None = None
    if ref:
        from f.fractal import catalog

        resolved = catalog.get(ref, targets)
        item, resolved_ref = resolved["item"], resolved["ref"]
        fits, fixed = _fits(item, targets)
        tool = item["spec"].get("tool")
    rows = [_row(p, fits) for p in providers.PROVIDERS.values()]
    choices = [r["name"] for r in rows if r["fits"]]
    return {"ref": resolved_ref, "tool": tool, "fixed": fixed, "choices": choices, "providers": rows}


def _fits(item: dict[str, Any], targets: list[str] | None) -> tuple[list[str], str | None]:
    """Providers that fit every member of an item (f.fractal.composite.fits_of), and the one it
    fixes (None = chosen at launch)."""
    from f.fractal import composite

    names = composite.fits_of(item, composite.Resolver(targets))
    spec = item["spec"]
    if item["kind"] != "Entity":
        return names, spec.get("provider") or None
    declared = spec.get("providers") or []
    return names, declared[0] if len(declared) == 1 and declared == names else None


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
