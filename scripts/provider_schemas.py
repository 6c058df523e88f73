"""Build the Exoscale Terraform schema snapshot from the `pulumiverse-exoscale` package (generated from
terraform-provider-exoscale by Pulumi's Terraform bridge: one module per resource and data source).

    .venv/bin/python scripts/provider_schemas.py [--package DIR_OR_SDIST] [--version 0.66.1]

Without --package it runs `pip download --no-deps pulumiverse-exoscale==VERSION` into a temporary folder.
Writes f/fractal/tools/terraform/schema_exoscale.py: every resource and data source type with its top-level
arguments, the deprecated ones with their replacement, and the arguments of every resource's nested blocks
(`pg` in exoscale_dbaas, `healthcheck` in exoscale_nlb_service…, read from the package's _inputs.py). The
Terraform checker rejects other types and arguments; commit the file it writes (tests never download).
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
import tarfile
import tempfile
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "f" / "fractal" / "tools" / "terraform" / "schema_exoscale.py"
TOKEN = re.compile(r"'exoscale:index/(\w+):(\w+)'")
DEPRECATED = re.compile(r"This (?:resource|data source) is \*\*DEPRECATED\*\*[^.]*\.\s*Please use (?:the )?(\w+)")
NESTED = re.compile(r"'(\w+Args)'")  # a nested block's input class, as the generated annotations quote it


def snake(name: str) -> str:
    """computeInstance → compute_instance, ElasticIP → elastic_ip."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _arguments(func: ast.FunctionDef) -> list[ast.arg]:
    found = [*func.args.kwonlyargs, *func.args.args]
    return [a for a in found if a.arg not in ("__self__", "self", "opts", "resource_name", "__props__")]


def _kwonly(func: ast.FunctionDef) -> list[str]:
    return [a.arg for a in _arguments(func)]


def _init(tree: ast.AST, name: str) -> ast.FunctionDef | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == name:
            return next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    return None


def nested_blocks(tree: ast.AST, inputs: ast.AST, cls: str, prefix: str, seen: frozenset[str] = frozenset()
                  ) -> dict[str, list[str]]:
    """{"<type>.<block>[.<block>…]": its arguments} for every argument of class `cls` typed by another Args class."""
    init = _init(tree, cls)
    found: dict[str, list[str]] = {}
    for arg in _arguments(init) if init else []:
        m = NESTED.search(ast.unparse(arg.annotation)) if arg.annotation else None
        inner = _init(inputs, m.group(1)) if m and m.group(1) not in seen else None
        if m and inner is not None:
            path = f"{prefix}.{arg.arg}"
            found[path] = sorted(_kwonly(inner))
            found.update(nested_blocks(inputs, inputs, m.group(1), path, seen | {m.group(1)}))
    return found


def read_module(path: Path, inputs: ast.AST | None = None) -> tuple[str, str, list[str], str, dict[str, list[str]]] | None:
    """(kind, Terraform type, arguments, replacement if deprecated, nested blocks) of one generated module."""
    text = path.read_text(encoding="utf-8")
    m = TOKEN.search(text)
    if not m:
        return None
    tree = ast.parse(text)
    data = m.group(1).startswith("get")
    name = m.group(1)[3:] if data else m.group(1)
    args: list[str] = []
    for node in ast.walk(tree):
        if data and isinstance(node, ast.FunctionDef) and node.name == path.stem:
            args = _kwonly(node)
        if not data and isinstance(node, ast.ClassDef) and node.name == f"{m.group(2)}Args":
            init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
            args = _kwonly(init) if init else []
    old = DEPRECATED.search(text)
    replacement = (old.group(1) if old.group(1).startswith("exoscale_") else f"exoscale_{snake(old.group(1))}") if old else ""
    rtype = f"exoscale_{snake(name)}"
    blocks = {} if data or inputs is None else nested_blocks(tree, inputs, f"{m.group(2)}Args", rtype)
    return ("data" if data else "resource"), rtype, sorted(args), replacement, blocks


def build(package: Path, version: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"source": f"pulumiverse-exoscale {version}", "resource": {}, "data": {}, "blocks": {}}
    inputs_file = package / "_inputs.py"
    inputs = ast.parse(inputs_file.read_text(encoding="utf-8")) if inputs_file.is_file() else None
    for path in sorted(package.glob("*.py")):
        found = read_module(path, inputs)
        if found:
            kind, rtype, args, replacement, blocks = found
            schema[kind][rtype] = {"arguments": args, "deprecated": replacement}
            schema["blocks"].update(blocks)
    return schema


def _table(name: str, types: dict[str, Any]) -> str:
    lines = [f"{name}: dict[str, tuple[str, str]] = {{"]
    for rtype, entry in sorted(types.items()):
        wrapped = textwrap.wrap(" ".join(entry["arguments"]), 96) or [""]
        lines.append(f'    "{rtype}": (')
        lines += [f'        "{" " if i else ""}{chunk}"' for i, chunk in enumerate(wrapped)]
        lines[-1] += ","
        lines.append(f'        "{entry["deprecated"]}",')
        lines.append("    ),")
    return "\n".join([*lines, "}\n"])


def _blocks_table(blocks: dict[str, list[str]]) -> str:
    lines = ["# A nested block's arguments, by <type>.<block> (the provider's list blocks take the plural name here:",
             "# `healthcheck { }` is healthchecks).", "BLOCKS: dict[str, str] = {"]
    for path, args in sorted(blocks.items()):
        wrapped = textwrap.wrap(" ".join(args), 96) or [""]
        lines.append(f'    "{path}": (')
        lines += [f'        "{" " if i else ""}{chunk}"' for i, chunk in enumerate(wrapped)]
        lines.append("    ),")
    return "\n".join([*lines, "}\n"])


def _package(source: str | None, version: str, tmp: Path) -> Path:
    if source is None:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-d", str(tmp),
                        f"pulumiverse-exoscale=={version}"], check=True)
        source = str(next(tmp.glob("pulumiverse_exoscale-*.tar.gz")))
    path = Path(source)
    if path.is_file():
        with tarfile.open(path) as archive:
            archive.extractall(tmp / "src", filter="data")
        path = next((tmp / "src").glob("*/pulumiverse_exoscale"))
    return path if path.name == "pulumiverse_exoscale" else path / "pulumiverse_exoscale"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", help="an unpacked pulumiverse_exoscale folder or its sdist (default: pip download)")
    parser.add_argument("--version", default="0.66.1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        schema = build(_package(args.package, args.version, Path(tmp)), args.version)
    OUT.write_text(
        '"""The Exoscale Terraform provider\'s resource and data source types with their top-level arguments.\n\n'
        f"Generated by scripts/provider_schemas.py from {schema['source']} (built from terraform-provider-exoscale);\n"
        "do not edit: run the script again for a new provider version. Each type maps to (its arguments, separated\n"
        'by spaces; the type that replaces it when it is deprecated, else ""); BLOCKS the arguments of nested blocks."""\n\n'
        f"SOURCE = {schema['source']!r}\n\n" + _table("RESOURCES", schema["resource"]) + "\n" + _table("DATA", schema["data"])
        + "\n" + _blocks_table(schema["blocks"]),
        encoding="utf-8",
    )
    print(f"{OUT.relative_to(ROOT)}: {len(schema['resource'])} resources, {len(schema['data'])} data sources, "
          f"{len(schema['blocks'])} nested blocks")


if __name__ == "__main__":
    main()
