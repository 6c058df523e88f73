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

"""Fractal: the providers a launch can choose, with whether each fits the item and has its credentials."""

from typing import Any

from f.fractal.catalog.items import get, resolver
from f.fractal.model.composite import fits_of, slots_field, stored_slots
from f.fractal.model.providers import PROVIDERS, Provider
from f.fractal.platform.credentials import status


def main(ref: str | None = None, targets: list[str] | None = None) -> dict[str, Any]:
    fits: list[str] | None = None
    fixed: str | None = None
    tool: str | None = None
    resolved_ref: str | None = None
    slots: list[dict[str, Any]] | None = None
    if ref:
        resolved = get(ref, targets)
        item, resolved_ref = resolved["item"], resolved["ref"]
        fits, fixed = _fits(item, targets)
        tool = item["spec"].get("tool")
        slots = None if item["kind"] == "Entity" else slots_field(stored_slots(item))
    rows = [_row(p, fits) for p in PROVIDERS.values()]
    choices = [r["name"] for r in rows if r["fits"]]
    return {"ref": resolved_ref, "tool": tool, "fixed": fixed, "choices": choices, "providers": rows, "slots": slots}


def _fits(item: dict[str, Any], targets: list[str] | None) -> tuple[list[str], str | None]:
    """Providers that fit every member of an item (model.composite.fits_of), and the one it
    fixes (None = chosen at launch)."""
    names = fits_of(item, resolver(targets))
    spec = item["spec"]
    if item["kind"] != "Entity":
        return names, spec.get("provider") or None
    declared = spec.get("providers") or []
    return names, declared[0] if len(declared) == 1 and declared == names else None


def _row(provider: Provider, fits: list[str] | None) -> dict[str, Any]:
    ok = fits is None or provider.name in fits
    return {
        "name": provider.name, "title": provider.title, "tools": list(provider.tools), "fits": ok,
        "credentials": status(provider),
        "credential": None if provider.credential is None else {
            "resource_type": provider.credential.resource_type, "path": provider.credential.default_path,
            "env": sorted(provider.credential.env),
        },
    }
