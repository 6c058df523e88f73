"""`learn` (teach Fractal a solution) and `solutions` (find learned ones): the learning loop from the shell."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from f.fractal.model.errors import InvalidInput
from fractal_local.cli import described, emit
from fractal_local.commands.catalog import add_targets
from fractal_local.runner import call


def _files(paths: list[str]) -> dict[str, str]:
    """{name: text} of the files or of every file in the folders given (relative to the folder)."""
    files: dict[str, str] = {}
    for raw in paths:
        path = Path(raw)
        entries = sorted(p for p in path.rglob("*") if p.is_file() and ".git" not in p.parts) if path.is_dir() else [path]
        for entry in entries:
            files[str(entry.relative_to(path)) if path.is_dir() else entry.name] = entry.read_text(encoding="utf-8")
    return files


def _solution(args: argparse.Namespace) -> dict[str, Any]:
    if args.source:
        return {"ref": args.source}
    if not args.tool or not args.files:
        raise InvalidInput("give the solution's --tool and --files, or --from REF",
                           hint='e.g. scripts/fractal learn "install chrony" --tool ansible -f site.yml')
    return {"tool": args.tool, "files": _files(args.files), "providers": args.provider or []}


def _learn(args: argparse.Namespace) -> None:
    solution = _solution(args)
    targets = [t for group in args.target or [] for t in group.split(",") if t] or None
    result = call("f/fractal/submit_solution", {"task": " ".join(args.task), "solution": solution, "author": args.author,
                                                "tags": args.tag or [], "confidence": args.confidence, "targets": targets})
    if args.json or not sys.stdout.isatty():
        emit(result)
        return
    print(f"learned the {result['kind']} {result['template']} with inputs {', '.join(result['inputs']) or '(none)'}")
    for change in result["sanitizer"]["changes"]:
        print(f"  sanitized {change['file']}: {change['what']}")
    for change in result["enhanced"]:
        print(f"  enhanced {change['file']} ({change['by']}): {change['what']}")


def _solutions(args: argparse.Namespace) -> None:
    targets = [t for group in args.target or [] for t in group.split(",") if t] or None
    result = call("f/fractal/find_solutions", {"query": " ".join(args.query), "tool": args.tool or "",
                                               "provider": args.provider or "", "limit": args.limit, "targets": targets})
    if args.json or not sys.stdout.isatty():
        emit(result)
        return
    for row in result["solutions"]:
        print(f"{row['score']:>7.2f}  {row['kind']:<4} {row['ref']:<50} {row['why']}")


def register(sub: Any) -> None:
    p = described(sub, "learn", "teach Fractal a solution: a task in words and the files that solved it",
                  'scripts/fractal learn "install chrony" --tool ansible -f site.yml',
                  "scripts/fractal learn --from entity:web@1.2.0")
    p.add_argument("task", nargs="*", help="what the solution does, in words (with --from: default the item's recorded need)")
    p.add_argument("--tool", help="the solution's tool (terraform, ansible, kubernetes, secret)")
    p.add_argument("--files", "-f", nargs="+", help="the solution's files, or a folder holding them")
    p.add_argument("--from", dest="source", metavar="REF",
                   help="learn a saved catalog item (a draft refined and saved): an entity becomes a Rune, a pipeline an Orb")
    p.add_argument("--provider", action="append", help="a provider the solution fits (repeat)")
    p.add_argument("--author", default="", help="who solved it (default: you)")
    p.add_argument("--tag", action="append", help="an extra tag for the Rune (repeat)")
    p.add_argument("--confidence", type=float, default=1.0, help="how much you trust it, 0 to 1 (below 0.5 it is not learned)")
    p.add_argument("--json", action="store_true", help="print the JSON result")
    add_targets(p)
    p.set_defaults(func=_learn)
    s = described(sub, "solutions", "find learned solutions for a need",
                  'scripts/fractal solutions "keep clocks in sync with chrony"')
    s.add_argument("query", nargs="+", help="the need, in words")
    s.add_argument("--tool", help="only Runes of this tool (no Orbs)")
    s.add_argument("--provider", help="only templates that fit this provider")
    s.add_argument("--limit", type=int, default=5, help="how many to show")
    s.add_argument("--json", action="store_true", help="print the JSON result")
    add_targets(s)
    s.set_defaults(func=_solutions)
