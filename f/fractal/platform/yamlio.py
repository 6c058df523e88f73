"""YAML in and out: a guarded loader for untrusted text and a stable, diff-friendly dumper."""

from __future__ import annotations

from typing import Any

import yaml

from f.fractal.model.errors import InvalidInput

MAX_YAML_BYTES = 2 * 1024 * 1024

_FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FastDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _GuardedLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors/aliases: catalog items never need them, bombs always do."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise InvalidInput(
                f"YAML aliases are not accepted (line {mark.line + 1})",
                hint="write the repeated value out in full instead of using &anchor / *alias",
            )
        return super().compose_node(parent, index)


def load_untrusted(text: str | bytes, *, what: str = "document") -> Any:
    """Parse YAML from a caller: size-capped, alias-free, errors with line and column."""
    if len(text) > MAX_YAML_BYTES:
        raise InvalidInput(
            f"{what} is {len(text)} bytes, over the {MAX_YAML_BYTES} byte limit",
            hint="split it into smaller items or move large data out of the catalog",
        )
    try:
        return yaml.load(text, Loader=_GuardedLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        raise InvalidInput(f"{what} is not valid YAML: {e}", hint="fix the syntax and retry") from e


def compose_documents(text: str) -> list[yaml.Node]:
    """Every document's node tree, with line marks (libyaml's parser when PyYAML has it), [] when the text is no
    YAML. An alias is the very node it names: a walker that visits each node once is safe from alias bombs."""
    try:
        return [node for node in yaml.compose_all(text, Loader=_FastLoader) if node is not None]
    except (yaml.YAMLError, RecursionError):
        return []


def load_trusted(text: str | bytes) -> Any:
    """Parse YAML the pack wrote itself (catalog files): the fast C loader when available."""
    return yaml.load(text, Loader=_FastLoader)  # noqa: S506 - a SafeLoader


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


class _StableDumper(_FastDumper):  # type: ignore[misc,valid-type]
    """Never writes anchors/aliases: what the pack writes, load_untrusted must read back (drafts, shown items)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_StableDumper.add_representer(str, _str_representer)


class _IndentedDumper(yaml.SafeDumper):
    """Ansible/Kubernetes style: lists indented under their key, no aliases (the pure-Python emitter)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


_IndentedDumper.add_representer(str, _str_representer)


def dump(data: Any, *, indent_lists: bool = False, width: int = 100) -> str:
    """YAML with the caller's key order, block scalars for multi-line text and a final newline.

    `indent_lists` indents a list under its key (as Ansible and Kubernetes files are written). Anchors and
    aliases are never written (a value shared twice is written twice), so the output round-trips through
    load_untrusted.
    """
    dumper = _IndentedDumper if indent_lists else _StableDumper
    out: str = yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=width)
    return out
