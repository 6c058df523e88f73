"""Every list of tools and providers derives from, or equals, the one registry (issue 8)."""

from __future__ import annotations

import yaml
from support.paths import ROOT

from f.fractal.model.item import TOOLS as ITEM_TOOLS
from f.fractal.model.providers import PROVIDERS
from f.fractal.tools.registry import TOOLS

PACK = ROOT / "f" / "fractal"


def _enum(script: str, arg: str) -> list[str]:
    schema = yaml.safe_load((PACK / f"{script}.script.yaml").read_text())["schema"]
    prop = schema["properties"][arg]
    return list(prop.get("enum") or prop.get("items", {}).get("enum") or [])


def test_every_registered_tool_is_a_tool_the_item_schema_accepts() -> None:
    assert set(TOOLS) <= set(ITEM_TOOLS)


def test_script_enums_equal_the_registries() -> None:
    for meta in sorted(PACK.glob("*.script.yaml")):
        props = yaml.safe_load(meta.read_text())["schema"].get("properties") or {}
        if "enum" in (props.get("tool") or {}):
            assert [t for t in props["tool"]["enum"] if t] == list(TOOLS), f"{meta.name} tool enum drifted from the registry"
    for script in ("compose_pipeline", "compose_meta_pipeline"):
        assert _enum(script, "provider") == list(PROVIDERS), f"{script}.script.yaml provider enum drifted from PROVIDERS"


def test_every_provider_names_only_tools_the_model_knows() -> None:
    for provider in PROVIDERS.values():  # helm/argocd are named ahead of their registry entries (issue 15)
        assert set(provider.tools) <= set(ITEM_TOOLS), f"{provider.name} names an unknown tool"


def test_each_tool_is_one_folder_with_check_run_and_tool() -> None:
    for name in TOOLS:
        folder = PACK / "tools" / name.replace("-", "_")  # a Python package name: github-actions → github_actions
        assert {"check.py", "run.py", "tool.py"} <= {p.name for p in folder.glob("*.py")}, f"tools/{name}/ is incomplete"


def test_cli_tool_choices_come_from_the_registry() -> None:
    source = (ROOT / "scripts" / "fractal_local" / "commands" / "generate.py").read_text()
    assert '"terraform", "ansible"' not in source, "the CLI lists tools by hand: use f.fractal.tools.registry.TOOLS"
