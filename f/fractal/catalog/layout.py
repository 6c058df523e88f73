"""How items look on disk: a folder per item, its YAML, its tool files, READMEs and Mermaid graphs.

    <folder>/README.md                       index: counts and links (catalog.pages)
    <folder>/entities/README.md              one row per entity, or a list of pages by name prefix
    <folder>/entities/_pages/<prefix>.md     one page (≤ pages.PAGE_ROWS rows) when the kind is large
    <folder>/pipelines/README.md             one Mermaid graph per pipeline (paged the same way)
    <folder>/entities/<name>/fractal.yaml    the item (without spec.files)
    <folder>/entities/<name>/README.md       generated
    <folder>/entities/<name>/main.tf …       the tool files, in the tool's own layout

Pure functions over dicts: no Git, no I/O beyond the paths they are given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import f.fractal.platform.yamlio as yamlio
from f.fractal.model.composite import step_deps
from f.fractal.model.item import KIND_FOLDERS, KIND_SLUGS, RESERVED_FILES, member_refs
from f.fractal.platform.files import write_files

ITEM_FILE = "fractal.yaml"


def item_dir(folder: str, kind: str, name: str) -> str:
    """Repository-relative folder of an item."""
    return "/".join(p for p in (folder, KIND_FOLDERS[kind], name) if p)


def split_files(item: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The item YAML without inline files, and the files."""
    spec = dict(item["spec"])
    files = spec.pop("files", None) or {}
    return {**item, "spec": spec}, files


def write_item(root: Path, rel_dir: str, item: dict[str, Any]) -> None:
    """Replace the item's folder with its YAML, README and tool files."""
    target = root / rel_dir
    if target.exists():
        _remove_tree(target)
    doc, files = split_files(item)
    target.mkdir(parents=True)
    (target / ITEM_FILE).write_text(yamlio.dump(doc), encoding="utf-8")
    (target / "README.md").write_text(item_readme(item), encoding="utf-8")
    write_files(target, files)


def read_item(directory: Path) -> dict[str, Any]:
    """Load an item folder back into the API shape (files inline under spec.files)."""
    item: dict[str, Any] = yamlio.load_trusted((directory / ITEM_FILE).read_text(encoding="utf-8"))
    files = {
        str(p.relative_to(directory)): p.read_text(encoding="utf-8", errors="replace")
        for p in sorted(directory.rglob("*"))
        if p.is_file() and str(p.relative_to(directory)) not in RESERVED_FILES
    }
    if files:
        item["spec"]["files"] = files
    return item


def remove_item(root: Path, rel_dir: str) -> None:
    """Delete an item's folder from the working tree (the commit stages the removal)."""
    _remove_tree(root / rel_dir)


def _remove_tree(path: Path) -> None:
    for child in sorted(path.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        child.rmdir() if child.is_dir() and not child.is_symlink() else child.unlink()
    path.rmdir()


def mermaid(item: dict[str, Any]) -> str:
    """A Mermaid flowchart of a composite's steps, edges from `needs` and wires (composite.step_deps)."""
    steps = item["spec"].get("steps", [])
    lines = ["```mermaid", "flowchart LR"]
    for step, ref in zip(steps, member_refs(item), strict=True):
        lines.append(f'  {step["id"]}["{step["id"]}<br/>{ref}"]')
    for sid, deps in step_deps(steps).items():
        lines.extend(f"  {dep} --> {sid}" for dep in deps)
    lines.append("```")
    return "\n".join(lines)


def table(rows: list[list[str]], header: list[str]) -> str:
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out.extend("| " + " | ".join(cell(c) for c in row) + " |" for row in rows)
    return "\n".join(out)


def item_readme(item: dict[str, Any]) -> str:
    meta, spec = item["metadata"], item["spec"]
    slug = KIND_SLUGS[item["kind"]]
    parts = [f"# {meta['name']}", "", meta.get("description") or "_No description._", ""]
    facts = [f"- Ref: `{slug}:{meta['name']}@{meta.get('version', '')}`"]
    if item["kind"] == "Entity":
        facts.append(f"- Tool: {spec.get('tool')}")
        facts.append(f"- Providers: {', '.join(spec.get('providers') or []) or 'any'}")
        if spec.get("credentials"):
            facts.append(f"- Credentials: {', '.join(spec['credentials'])}")
    else:
        facts.append(f"- Provider: {spec.get('provider') or 'chosen at launch'}")
        if spec.get("providers"):
            facts.append(f"- Providers that fit every member: {', '.join(spec['providers'])}")
    if meta.get("tags"):
        facts.append(f"- Tags: {', '.join(meta['tags'])}")
    if meta.get("owner"):
        facts.append(f"- Owner: {meta['owner']}")
    parts += [*facts, ""]
    inputs = spec.get("inputs") or {}
    props = inputs.get("properties") or {}
    if props:
        required = set(inputs.get("required") or [])
        rows = [
            [k, str(v.get("type", "")), "yes" if k in required else "", str(v.get("description", ""))] for k, v in props.items()
        ]
        parts += ["## Inputs", "", table(rows, ["name", "type", "required", "description"]), ""]
    outputs = spec.get("outputs") or {}
    if outputs:
        rows = [[k, str(v.get("description", ""))] for k, v in outputs.items()]
        parts += ["## Outputs", "", table(rows, ["name", "description"]), ""]
    if item["kind"] != "Entity":
        steps = spec.get("steps", [])
        parts += ["## Steps", "", mermaid(item), ""]
        parts += [table([[s["id"], f"`{s['ref']}`", s.get("summary", "")] for s in steps], ["step", "member", "summary"]), ""]
    allowed = [[f"`{a.get('rule', '')}`", str(a.get("reason", ""))] for a in spec.get("allow") or [] if isinstance(a, dict)]
    if allowed:
        parts += ["## Policy allowances", "", "Dangerous constructs this item uses on purpose, each reviewed:", "",
                  table(allowed, ["rule", "reason"]), ""]
    forced = (item.get("provenance") or {}).get("forced")
    if isinstance(forced, dict):
        parts += ["## Saved despite failed checks", "", f"Forced by {forced.get('by', '?')}; the errors then:", "",
                  *[f"- {e.get('file') or 'item'}: {e.get('message', '')}" for e in forced.get("errors") or []], ""]
    files = sorted(spec.get("files") or {})
    if files:
        parts += ["## Files", ""] + [f"- [{f}]({f})" for f in files] + [""]
    parts.append("_Generated by Fractal; edit the item, not this file._")
    return "\n".join(parts) + "\n"
