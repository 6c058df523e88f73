"""Catalog commands: call, list, show, save, delete, history, users, diff, sync, targets, schemas, demo."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from f.fractal.model.errors import InvalidInput
from fractal_local.runner import call


def emit(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _targets(args: argparse.Namespace) -> list[str] | None:
    return [t for group in args.target or [] for t in group.split(",") if t] or None


def add_targets(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target",
        "-t",
        action="append",
        metavar="PATH",
        help="git_repository resource path (repeat, or comma-separate); default: the workspace catalog",
    )


def cmd_call(args: argparse.Namespace) -> int:
    raw = sys.stdin.read() if args.args == "-" else args.args
    try:
        payload = json.loads(raw or "{}")
    except ValueError as e:
        raise InvalidInput(f"arguments are not JSON: {e}", hint="""quote them: '{"query": "k3s"}'""") from None
    if not isinstance(payload, dict):
        raise InvalidInput("arguments must be a JSON object", hint="""e.g. '{"query": "k3s"}'""")
    emit(call(args.path, payload))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    result = call(
        "f/fractal/list_items",
        {
            "kind": args.kind or "",
            "query": " ".join(args.query),
            "tool": args.tool or "",
            "provider": args.provider or "",
            "tags": args.tag,
            "targets": _targets(args),
            "limit": args.limit,
            "offset": args.offset,
        },
    )
    if args.json:
        emit(result)
        return 0
    for row in result["items"]:
        what = row.get("tool") or f"{len(row.get('steps', []))} steps"
        print(f"{row['ref']:<48} {what:<12} {row['description'][:70]}")
    print(
        f"-- {len(result['items'])} of {result['total']}"
        + (f"; stale: {', '.join(result['stale_targets'])}" if result["stale_targets"] else "")
    )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    result = call("f/fractal/get_item", {"ref": args.ref, "targets": _targets(args)})
    if args.json:
        emit(result)
        return 0
    import f.fractal.platform.yamlio as yamlio

    item = result["item"]
    files = item["spec"].pop("files", {}) or {}
    print(f"# {result['ref']}  (from {result['target']} at {result['commit'][:10]})")
    print(yamlio.dump(item), end="")
    for path, text in files.items():
        print(f"\n--- {path}\n{text}", end="" if text.endswith("\n") else "\n")
    return 0


def cmd_save(args: argparse.Namespace) -> int:
    import f.fractal.platform.yamlio as yamlio

    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidInput(
            f"cannot read {args.file}: {e}", hint="give the path of an item's YAML or JSON file, or - for stdin"
        ) from None
    item = yamlio.load_untrusted(text, what=args.file)
    emit(
        call(
            "f/fractal/save_item",
            {
                "item": item,
                "targets": _targets(args),
                "expected_version": args.expected_version,
                "bump": args.bump,
                "conflict": args.conflict,
            },
        )
    )
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    emit(call("f/fractal/delete_item", {"ref": args.ref, "targets": _targets(args), "force": args.force}))
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    emit(call("f/fractal/item_history", {"ref": args.ref, "targets": _targets(args)}))
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    emit(call("f/fractal/item_users", {"ref": args.ref, "targets": _targets(args)}))
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    emit(call("f/fractal/item_diff", {"ref": args.ref, "other": args.other, "targets": _targets(args)}))
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    result = call("f/fractal/sync_catalog", {"targets": _targets(args)})
    emit(result)
    return 0 if result["ok"] else 1


def cmd_target(args: argparse.Namespace) -> int:
    """Register a local git_repository resource (creating a bare repo for a new local path)."""
    import f.fractal.platform.workspace as workspace
    from f.fractal.catalog.store import git

    url = args.url
    if args.init and not Path(url).exists():
        Path(url).parent.mkdir(parents=True, exist_ok=True)
        git(None, "init", "-q", "--bare", "-b", args.branch or "main", url)
    value = {"url": url, "branch": args.branch or "", "folder": args.folder or ""}
    file = workspace.write_resource(args.path, "git_repository", value, args.description or "")
    emit({"resource": args.path, "file": str(file), "value": value})
    return 0


def cmd_schemas(args: argparse.Namespace) -> int:
    from fractal_local.schemas import write_schemas

    for path in write_schemas(Path(args.out)):
        print(path)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    import tempfile

    from fractal_local.commands.serve import serve_until_interrupted
    from fractal_local.demo import run_demo

    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="fractal-demo-"))
    code = run_demo(home)
    return serve_until_interrupted(port=args.port) if args.ui and code == 0 else code


def register(sub: Any) -> None:
    p = sub.add_parser("call", help='run a pack script\'s main as Windmill would: call f/fractal/list_items \'{"query":"k3s"}\'')
    p.add_argument("path", help="Windmill path of the script, e.g. f/fractal/save_item")
    p.add_argument("args", nargs="?", default="{}", help="JSON object of arguments, or - for stdin")
    p.set_defaults(func=cmd_call)

    p = sub.add_parser("list", help="list or search the catalog")
    p.add_argument("query", nargs="*", help="free text")
    p.add_argument("--kind", choices=["entity", "pipeline", "meta-pipeline"])
    p.add_argument("--tool")
    p.add_argument("--provider")
    p.add_argument("--tag", action="append")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--json", action="store_true")
    add_targets(p)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="show an item: show entity:name[@version]")
    p.add_argument("ref")
    p.add_argument("--json", action="store_true")
    add_targets(p)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("save", help="save an item from a YAML/JSON file (- for stdin)")
    p.add_argument("file")
    p.add_argument("--expected-version")
    p.add_argument("--bump", choices=["patch", "minor", "major"], default="patch")
    p.add_argument("--conflict", choices=["fail", "overwrite"], default="fail")
    add_targets(p)
    p.set_defaults(func=cmd_save)

    p = sub.add_parser("delete", help="delete an item")
    p.add_argument("ref")
    p.add_argument("--force", action="store_true")
    add_targets(p)
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("history", help="an item's versions")
    p.add_argument("ref")
    add_targets(p)
    p.set_defaults(func=cmd_history)

    p = sub.add_parser("users", help="which pipelines and meta-pipelines use an item, at every level")
    p.add_argument("ref")
    add_targets(p)
    p.set_defaults(func=cmd_users)

    p = sub.add_parser("diff", help="what changed between two versions: diff entity:x@1.0.0 1.1.0")
    p.add_argument("ref")
    p.add_argument("other", help="a version of the same item (1.1.0, latest) or a full ref")
    add_targets(p)
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("sync", help="push pending changes to targets that were unreachable")
    add_targets(p)
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("target", help="register a catalog target (a git_repository resource) in the local workspace")
    p.add_argument("path", help="resource path, e.g. f/fractal/catalog")
    p.add_argument("url", help="Git URL or local path")
    p.add_argument("--branch")
    p.add_argument("--folder")
    p.add_argument("--description")
    p.add_argument("--init", action="store_true", help="create a bare repository at a local path that does not exist")
    p.set_defaults(func=cmd_target)

    p = sub.add_parser("schemas", help="publish the item JSON Schemas")
    p.add_argument("--out", default=str(Path(__file__).resolve().parents[3] / "resources" / "schemas"))
    p.set_defaults(func=cmd_schemas)

    p = sub.add_parser("demo", help="the main job with embedded defaults, in a fresh local workspace")
    p.add_argument("--home", help="workspace folder (default: a new temporary one)")
    p.add_argument("--ui", action="store_true", help="then serve the operator UIs on its catalog until Ctrl+C")
    p.add_argument("--port", type=int, default=8765, help="port for --ui (default 8765)")
    p.set_defaults(func=cmd_demo)
