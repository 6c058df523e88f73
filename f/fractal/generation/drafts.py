"""Drafts as files: whatever the pack writes can be read back, and existing tool folders become entities.

    read_draft(text, what)        → (item, conversation)   # generate -o, show, an item in YAML or JSON
    read_folder(path)             → item                   # an entity folder cloned from a catalog
    import_folder(path, name=…)   → item                   # an existing Terraform module or Ansible playbook folder

`show` prints an item as YAML followed by its files, each after a `--- <path>` line; read_draft
takes that form too. Files are read as UTF-8 text, hidden files, `.terraform/` and state files skipped;
the result is an Entity draft the validators check like a generated one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import f.fractal.generation.generator as generator
from f.fractal.model.composite import literal_type
from f.fractal.model.errors import InvalidInput
from f.fractal.platform.yamlio import load_untrusted
from f.fractal.tools.ansible.files import playbook_name
from f.fractal.tools.registry import TOOLS

_FILE_LINE = re.compile(r"^--- (\S+)\n", re.M)
MAX_FILES = 200
MAX_FILE_BYTES = 512 * 1024
SKIPPED = (".terraform", ".git", "__pycache__")
SKIPPED_FILES = re.compile(r"(^|/)(terraform\.tfstate(\.backup)?|\.terraform\.lock\.hcl|.*\.retry)$")


def read_draft(text: str, what: str = "draft") -> tuple[dict[str, Any], list[dict[str, str]] | None]:
    """The item (and conversation, if any) in a draft file: generate -o's {draft, conversation}, show's output, an item."""
    head, files = _split_files(text)
    doc = load_untrusted(head, what=what)
    if isinstance(doc, dict) and isinstance(doc.get("draft"), dict):
        return doc["draft"], doc.get("conversation")
    if not isinstance(doc, dict) or "kind" not in doc:
        raise InvalidInput(f"{what} holds no item (a mapping with apiVersion, kind, metadata, spec)",
                           hint='pass a file written by: scripts/fractal generate "<need>" -o FILE, or by show')
    if files:
        spec = doc.get("spec")
        if not isinstance(spec, dict):
            raise InvalidInput(f"{what}: files follow an item without a spec", hint="show prints an item's spec before its files")
        doc = {**doc, "spec": {**spec, "files": {**(spec.get("files") or {}), **files}}}
    return doc, None


def _split_files(text: str) -> tuple[str, dict[str, str]]:
    """show's form: YAML, then `--- <path>` sections (each printed after a blank line)."""
    parts = _FILE_LINE.split(text)
    head, rest = parts[0], parts[1:]
    files: dict[str, str] = {}
    for i in range(0, len(rest), 2):
        body = rest[i + 1]
        files[rest[i]] = body[:-1] if i + 2 < len(rest) and body.endswith("\n\n") else body
    return head, files


def _text_files(root: Path) -> dict[str, str]:
    if not root.is_dir():
        raise InvalidInput(f"{root} is not a folder", hint="give a Terraform module, Ansible playbook or entity folder")
    files: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or any(part.startswith(".") or part in SKIPPED for part in Path(rel).parts):
            continue
        if SKIPPED_FILES.search(rel) or rel in ("README.md", "fractal.yaml"):
            continue
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InvalidInput(f"{rel} is over {MAX_FILE_BYTES // 1024} KiB", hint="keep large data out of an entity")
        try:
            files[rel] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"{rel} is not UTF-8 text", hint="an entity holds text files only; remove or move it") from None
        if len(files) > MAX_FILES:
            raise InvalidInput(f"{root} holds over {MAX_FILES} files", hint="import one module or playbook at a time")
    if not files:
        raise InvalidInput(f"{root} holds no text file to import")
    return files


def read_folder(path: str | Path) -> dict[str, Any]:
    """An entity folder as a catalog clone has it: fractal.yaml (the item without its files) beside the tool files."""
    root = Path(path)
    manifest = root / "fractal.yaml"
    if not manifest.is_file():
        raise InvalidInput(f"{root} has no fractal.yaml", hint="import a plain Terraform/Ansible folder with import_folder")
    item = load_untrusted(manifest.read_text(encoding="utf-8"), what=str(manifest))
    if not isinstance(item, dict) or not isinstance(item.get("spec"), dict):
        raise InvalidInput(f"{manifest} holds no item")
    return {**item, "spec": {**item["spec"], "files": _text_files(root)}}


def _tool_of(files: dict[str, str]) -> str:
    if any(p.endswith(".tf") for p in files):
        return "terraform"
    plays = [p for p, t in files.items() if p.endswith((".yml", ".yaml")) and re.search(r"(?m)^-?\s*hosts:", t)]
    if plays or any(p.startswith("roles/") for p in files):
        return "ansible"
    if any(re.search(r"(?m)^apiVersion:", t) for t in files.values()):
        return "kubernetes"
    raise InvalidInput("cannot tell the tool of these files (no .tf, no playbook with hosts:, no manifest)",
                       hint=f"pass tool= (one of {', '.join(TOOLS)})")


def import_folder(path: str | Path, *, name: str | None = None, tool: str | None = None, provider: str | None = None,
                  description: str = "") -> dict[str, Any]:
    """An existing Terraform module / Ansible playbook / manifests folder as an Entity draft (a catalog folder as is)."""
    root = Path(path)
    if (root / "fractal.yaml").is_file():
        return read_folder(root)
    files = _text_files(root)
    tool = tool or _tool_of(files)
    if tool not in TOOLS:
        raise InvalidInput(f"unknown tool {tool!r:.40}", hint=f"use one of {', '.join(TOOLS)}")
    folder = root.resolve().name
    about = description or f"Imported from the {tool} folder {folder}"
    fields: dict[str, Any] = {"name": name or generator.slug(folder, fallback="imported"), "tool": tool, "files": files,
              "description": about,
              "providers": [provider] if provider else []}
    if tool == "ansible":
        fields["inputs"] = _play_vars(files)
    item = generator.build_entity(fields, need=about, name=name, provider=provider)
    item["provenance"] = {"generator": "import", "source": folder}
    return item


def _play_vars(files: dict[str, str]) -> dict[str, Any]:
    """An imported playbook's inputs: the vars of its first play, with their values as defaults."""
    try:
        entry = playbook_name(files, "run")
        plays = load_untrusted(files[entry], what=entry)
    except InvalidInput:
        plays = None  # the validators say what is wrong with it
    play_vars = plays[0].get("vars") if isinstance(plays, list) and plays and isinstance(plays[0], dict) else None
    props = {str(k): {"type": literal_type(v), "description": str(k).replace("_", " "), "default": v}
             for k, v in (play_vars.items() if isinstance(play_vars, dict) else [])}
    return {"type": "object", "properties": props, "required": []}
