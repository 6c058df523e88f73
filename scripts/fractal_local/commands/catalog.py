"""Catalog commands: call, list, show, save, delete, history, users, diff, sync, targets, schemas, demo."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from f.fractal.model.errors import InvalidInput
from fractal_local.cli import FAILED, add_json, described, emit, output
from fractal_local.runner import call

__all__ = ["add_targets", "emit", "register"]


def _targets(args: argparse.Namespace) -> list[str] | None:
    return [t for group in args.target or [] for t in group.split(",") if t] or None


def add_targets(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target",
        "-t",
        action="append",
        metavar="PATH",
        help="catalog to use: a git_repository resource path (repeat, or comma-separate); default: the workspace catalog",
    )


def _about(args: argparse.Namespace, script: str, **more: Any) -> Any:
    """Call a script about the item args.ref, in the targets of --target."""
    return call(f"f/fractal/{script}", {"ref": args.ref, "targets": _targets(args), **more})


def cmd_call(args: argparse.Namespace) -> int:
    raw = sys.stdin.read() if args.args == "-" else args.args
    try:
        payload = json.loads(raw or "{}")
    except ValueError as e:
        raise InvalidInput(f"arguments are not JSON: {e}", hint="""quote them: '{"query": "k3s"}'""") from None
    if not isinstance(payload, dict):
        raise InvalidInput("arguments must be a JSON object", hint="""e.g. '{"query": "k3s"}'""")
    output(args, call(args.path, payload), emit)
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
    result = _about(args, "get_item")
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
    import f.fractal.generation.drafts as drafts

    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidInput(
            f"cannot read {args.file}: {e}", hint="give the path of an item's YAML or JSON file, or - for stdin"
        ) from None
    item, _conversation = drafts.read_draft(text, args.file)  # an item, show's output or a generate -o draft
    result = call("f/fractal/save_item", {"item": item, "targets": _targets(args), "expected_version": args.expected_version,
                                          "bump": args.bump, "conflict": args.conflict, "force": args.force})
    output(args, result, _print_targets)
    return 0


def _print_targets(result: dict[str, Any]) -> None:
    """One line per target: saved, deleted, queued or failed, with the version and the commit."""
    if result.get("ref"):
        print(result["ref"])
    for row in result.get("targets", []):
        extra = row.get("commit", "")[:10] or row.get("message") or row.get("error", "")
        print(f"  {row.get('target', ''):<32} {row.get('status', ''):<12} {extra}")


def cmd_delete(args: argparse.Namespace) -> int:
    output(args, _about(args, "delete_item", force=args.force), _print_targets)
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    output(args, _about(args, "item_history", limit=args.limit), _print_history)
    return 0


def _print_history(result: dict[str, Any]) -> None:
    for target in result["targets"]:
        for entry in target.get("entries") or []:
            print(f"{entry.get('version', ''):<10} {entry.get('action', ''):<7} {str(entry.get('time', ''))[:19]:<20} "
                  f"{entry.get('commit', '')[:10]:<11} {entry.get('author', '')[:32]:<32} {target.get('target', '')}")


def cmd_users(args: argparse.Namespace) -> int:
    output(args, _about(args, "item_users"), _print_users)
    return 0


def _print_users(result: dict[str, Any]) -> None:
    for user in result["users"]:
        via = f" (via {user['via']})" if user["via"] else ""
        print(f"{user['ref']:<48} steps: {', '.join(user['steps'])}{via}")
    print(f"-- {len(result['users'])} composites use {result['ref']}")


def cmd_diff(args: argparse.Namespace) -> int:
    output(args, _about(args, "item_diff", other=args.other), _print_diff)
    return 0


def _print_diff(result: dict[str, Any]) -> None:
    print(f"{result['from']['ref']} → {result['to']['ref']}" + (": no change" if result["same"] else ""))
    for part in ("metadata", "spec"):
        for key, change in result[part].items():
            print(f"  {part}.{key}: {json.dumps(change['from'])} → {json.dumps(change['to'])}")
    files = result["files"]
    print("".join(f"  + {name}\n" for name in files["added"]) + "".join(f"  - {name}\n" for name in files["removed"]), end="")
    for text in files["changed"].values():
        print(text)


def cmd_sync(args: argparse.Namespace) -> int:
    result = call("f/fractal/sync_catalog", {"targets": _targets(args)})
    output(args, result, _print_targets)
    return 0 if result["ok"] else FAILED


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
    output(args, {"resource": args.path, "file": str(file), "value": value}, lambda r: print(f"{r['resource']} → {url} ({file})"))
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


def _item_command(sub: Any, name: str, summary: str, ref_help: str, *examples: str) -> argparse.ArgumentParser:
    """A command about one item: its ref, --json and --target."""
    p = described(sub, name, summary, *examples)
    p.add_argument("ref", help=ref_help)
    add_json(p)
    add_targets(p)
    return p


def register(sub: Any) -> None:
    p = described(sub, "call", "run any pack script's main as Windmill would, with a JSON object of arguments",
                  """scripts/fractal call f/fractal/list_items '{"query": "k3s"}'""",
                  """echo '{"ref": "entity:web"}' | scripts/fractal call f/fractal/get_item -""")
    p.add_argument("path", help="Windmill path of the script, e.g. f/fractal/save_item")
    p.add_argument("args", nargs="?", default="{}", help="JSON object of arguments, or - to read it from stdin")
    add_json(p)
    p.set_defaults(func=cmd_call)

    p = described(sub, "list", "list or search the catalog", "scripts/fractal list k3s exoscale",
                  "scripts/fractal list --kind pipeline --json")
    p.add_argument("query", nargs="*", help="free text ranked over name, description, tags and tool")
    p.add_argument("--kind", choices=["entity", "pipeline", "meta-pipeline"], help="only items of this kind")
    p.add_argument("--tool", help="only entities of this tool (terraform, ansible, kubernetes, secret)")
    p.add_argument("--provider", help="only items that fit this provider (local, k3s, exoscale, vastai, runpod)")
    p.add_argument("--tag", action="append", help="only items carrying this tag (repeat: all of them)")
    p.add_argument("--limit", type=int, default=50, help="most rows to show (1 to 1000, default 50)")
    p.add_argument("--offset", type=int, default=0, help="rows to skip, for paging (default 0)")
    add_json(p)
    add_targets(p)
    p.set_defaults(func=cmd_list)

    p = _item_command(sub, "show", "show an item: its metadata, spec and tool files",
                      "kind:name[@version], e.g. entity:web; no version = the newest", "scripts/fractal show entity:web",
                      "scripts/fractal show pipeline:site@1.2.0 --json")
    p.set_defaults(func=cmd_show)

    p = described(sub, "save", "validate an item from a YAML or JSON file and save it to the catalog",
                  "scripts/fractal save web.yaml", "scripts/fractal save - --expected-version 1.0.0 < web.yaml")
    p.add_argument("file", help="the item's YAML or JSON file, or - for stdin")
    p.add_argument("--expected-version", help="the version you read: refuse the save if the catalog holds another ('' = new)")
    p.add_argument("--bump", choices=["patch", "minor", "major"], default="patch",
                   help="which part of the version to bump (default patch)")
    p.add_argument("--conflict", choices=["fail", "overwrite"], default="fail",
                   help="on an --expected-version mismatch: fail (default) or overwrite")
    p.add_argument("--force", action="store_true", help="save an entity that fails its tool's checks (recorded in provenance)")
    add_json(p)
    add_targets(p)
    p.set_defaults(func=cmd_save)

    p = _item_command(sub, "delete", "delete an item from the catalog (its history stays in Git)",
                      "kind:name of the item to delete", "scripts/fractal delete entity:web",
                      "scripts/fractal delete entity:web --force")
    p.add_argument("--force", action="store_true", help="delete even when pipelines use it")
    p.set_defaults(func=cmd_delete)

    p = _item_command(sub, "history", "an item's versions: version, save or delete, time, commit, author",
                      "kind:name of the item", "scripts/fractal history entity:web")
    p.add_argument("--limit", type=int, default=100, help="most versions to show (default 100)")
    p.set_defaults(func=cmd_history)

    p = _item_command(sub, "users", "which pipelines and meta-pipelines use an item, at every level",
                      "the item, e.g. entity:k3s-cluster or entity:k3s-cluster@1.2.0",
                      "scripts/fractal users entity:k3s-cluster")
    p.set_defaults(func=cmd_users)

    p = _item_command(sub, "diff", "what changed between two versions of an item: metadata, spec and files",
                      "the item at one version", "scripts/fractal diff entity:web@1.0.0 1.1.0")
    p.add_argument("other", help="a version of the same item (1.1.0, latest) or a full ref")
    p.set_defaults(func=cmd_diff)

    p = described(sub, "sync", "push the changes kept aside while a target was unreachable", "scripts/fractal sync")
    add_json(p)
    add_targets(p)
    p.set_defaults(func=cmd_sync)

    p = described(sub, "target", "register a catalog target (a git_repository resource) in the local workspace",
                  "scripts/fractal target f/fractal/catalog ~/catalog.git --init")
    p.add_argument("path", help="resource path, e.g. f/fractal/catalog")
    p.add_argument("url", help="Git URL or local path of the catalog repository")
    p.add_argument("--branch", help="branch to use (default: the repository's default branch)")
    p.add_argument("--folder", help="folder inside the repository that holds the catalog (default: its root)")
    p.add_argument("--description", help="a sentence shown with the resource")
    p.add_argument("--init", action="store_true", help="create a bare repository at a local path that does not exist")
    add_json(p)
    p.set_defaults(func=cmd_target)

    p = described(sub, "schemas", "write the item JSON Schemas (entity, pipeline, meta-pipeline)",
                  "scripts/fractal schemas --out resources/schemas")
    p.add_argument("--out", default=str(Path(__file__).resolve().parents[3] / "resources" / "schemas"),
                   help="folder to write them into (default resources/schemas)")
    p.set_defaults(func=cmd_schemas)

    p = described(sub, "demo", "the main job end to end with embedded defaults, in a fresh local workspace",
                  "scripts/fractal demo")
    p.add_argument("--home", help="workspace folder to use (default: a new temporary one)")
    p.add_argument("--ui", action="store_true", help="then serve the operator UIs on its catalog until Ctrl+C")
    p.add_argument("--port", type=int, default=8765, help="port for --ui (default 8765)")
    p.set_defaults(func=cmd_demo)
