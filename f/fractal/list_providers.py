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

"""Fractal: the providers a launch can choose, with whether each fits the item and has its credentials, and the
workspace resources a launch can pick for each credential (paths only)."""

from typing import Any

from f.fractal.catalog.items import get, resolver
from f.fractal.model.composite import fits_of, slots_field, stored_slots
from f.fractal.model.providers import PROVIDERS, Credential, Provider
from f.fractal.platform.credentials import status
from f.fractal.platform.workspace import list_resources


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
    needs = _item_credentials(item) if ref else []
    return {"ref": resolved_ref, "tool": tool, "fixed": fixed, "choices": choices, "providers": rows, "slots": slots,
            "item_credentials": needs}


def _item_credentials(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The credential types an entity names in spec.credentials (a provider's or its type), each with the
    workspace resources a launch can choose from; fixed resource paths are not a choice."""
    types = {p.credential.resource_type: p.credential for p in PROVIDERS.values() if p.credential is not None}
    named = [_type_of(str(n)) for n in item["spec"].get("credentials") or []]
    return [_credential(types[t]) for t in dict.fromkeys(named) if t in types]


def _type_of(name: str) -> str:
    """A credential an entity names: a provider's name → its credential's resource type; a type stays itself."""
    cred = PROVIDERS[name].credential if name in PROVIDERS else None
    return cred.resource_type if cred else name


def _credential(cred: Credential) -> dict[str, Any]:
    return {"resource_type": cred.resource_type, "path": cred.default_path, "env": sorted(cred.env),
            "resources": [r["path"] for r in list_resources(cred.resource_type)]}


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
        "credential": None if provider.credential is None else _credential(provider.credential),
    }
