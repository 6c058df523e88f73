"""Generation commands: `generate "<need>"` and `refine <draft.yaml> "<change>"`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from fractal_local.cli import described, emit
from fractal_local.commands.catalog import _targets, add_targets
from fractal_local.contracts import schema_of
from fractal_local.runner import call

# The tools generate_entity's schema offers (equal to the tool registry: tests/pack checks it), read without
# importing every tool's checker.
TOOLS = [t for t in (schema_of("f/fractal/generate_entity") or {})["properties"]["tool"]["enum"] if t]


def _llm(args: argparse.Namespace) -> str:
    return "offline" if args.offline else (args.llm or "")


def _show(result: dict[str, Any], args: argparse.Namespace) -> None:
    """Human output: the draft as YAML with its files, the checks, where it was saved."""
    if args.json:
        emit(result)
        return
    import f.fractal.platform.yamlio as yamlio

    draft = result["draft"]
    spec = {k: v for k, v in draft["spec"].items() if k != "files"}
    print(yamlio.dump({**{k: v for k, v in draft.items() if k not in ("spec", "provenance")}, "spec": spec}), end="")
    for path, text in (draft["spec"].get("files") or {}).items():
        print(f"\n--- {path}\n{text}", end="" if text.endswith("\n") else "\n")
    report = result["report"]
    print(f"\n# {result['generator']} · {len(result['attempts'])} attempt(s) · checks: {', '.join(report['checks_run'])}")
    for skipped in report.get("checks_skipped", []):
        print(f"# skipped {skipped['check']}: {skipped['reason']}")
    for w in report["warnings"]:
        print(f"# warning {w.get('file', '')}: {w['message']}")
    if result.get("diff"):
        print("\n" + result["diff"], end="")
    if result.get("saved"):
        print(f"# saved {result['saved']['ref']} to {', '.join(t['target'] for t in result['saved']['targets'])}")


def _draft_file(out: str | None) -> Path | None:
    """The file the draft will be written to, checked before anything is generated or saved."""
    if not out:
        return None
    from f.fractal.model.errors import InvalidInput

    path = Path(out)
    if path.is_dir():
        raise InvalidInput(f"{out} is a folder, not a draft file", hint=f"name a file, e.g. {path / 'draft.yaml'}")
    folder = path.parent
    if not folder.is_dir():
        raise InvalidInput(f"cannot write the draft to {out}: the folder {folder} does not exist",
                           hint=f"create it first (mkdir -p {folder}) or choose another --out file")
    if not os.access(folder, os.W_OK):
        raise InvalidInput(f"cannot write the draft to {out}: the folder {folder} is not writable",
                           hint="choose another --out file")
    return path


def _write_draft(result: dict[str, Any], path: Path | None) -> None:
    """Write the draft and conversation whole: a temporary file beside it, then renamed over it."""
    if path is None:
        return
    import f.fractal.platform.yamlio as yamlio

    text = yamlio.dump({"draft": result["draft"], "conversation": result["conversation"]})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    print(f"# draft written to {path} (refine it with: scripts/fractal refine {path} \"<change>\")", file=sys.stderr)


def _read_draft(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    from f.fractal.model.errors import InvalidInput

    try:
        return Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else "not UTF-8 text"
        raise InvalidInput(f"cannot read the draft {name}: {reason}",
                           hint='pass the YAML file written by: scripts/fractal generate "<need>" -o FILE') from None


def cmd_generate(args: argparse.Namespace) -> int:
    out = _draft_file(args.out)
    result = call("f/fractal/generate_entity", {
        "need": " ".join(args.need), "tool": args.tool or "", "provider": args.provider or "", "name": args.name or "",
        "llm": _llm(args), "attempts": args.attempts, "save": args.save, "targets": _targets(args),
    })
    _write_draft(result, out)
    _show(result, args)
    return 0


def cmd_refine(args: argparse.Namespace) -> int:
    import f.fractal.generation.drafts as drafts

    text = _read_draft(args.draft)
    out = _draft_file(args.out or (args.draft if args.draft != "-" else None))
    draft, conversation = drafts.read_draft(text, args.draft)
    result = call("f/fractal/refine_entity", {"draft": draft, "message": " ".join(args.message), "conversation": conversation,
                                              "llm": _llm(args), "attempts": args.attempts})
    _write_draft(result, out)
    if args.save:
        result["saved"] = call("f/fractal/save_item", {"item": result["draft"], "targets": _targets(args)})
    _show(result, args)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """An existing Terraform module / Ansible playbook / manifests folder (or a catalog entity folder) as an entity."""
    import f.fractal.generation.drafts as drafts
    import f.fractal.tools.validate as validate
    from f.fractal.model.errors import InvalidInput

    out = _draft_file(args.out)
    draft = drafts.import_folder(args.dir, name=args.name, tool=args.tool, provider=args.provider)
    report = validate.validate_entity(draft)
    result = {"draft": draft, "report": report, "conversation": [], "attempts": [], "generator": "import"}
    _write_draft(result, out)
    if args.save:
        if not report["ok"]:
            raise InvalidInput(f"{args.dir} does not pass the checks: {report['errors'][0]['message']}",
                               hint="fix the files (all errors: scripts/fractal import DIR --json), then import again")
        result["saved"] = call("f/fractal/save_item", {"item": draft, "targets": _targets(args)})
    _show(result, args)
    return 0 if report["ok"] else 1


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--llm", metavar="PATH", help="fractal_llm resource path (default: FRACTAL_LLM_* env, f/fractal/llm, else offline)",
    )
    p.add_argument("--offline", action="store_true", help="use the offline template library even if an LLM is configured")
    p.add_argument("--attempts", type=int, default=3, help="most LLM answers to try (default 3)")
    p.add_argument("--save", action="store_true", help="save the validated draft to the catalog targets")
    p.add_argument("--out", "-o", metavar="FILE", help="also write the draft and conversation to FILE (for refine)")
    p.add_argument("--json", action="store_true", help="print the whole result as JSON")
    add_targets(p)


def register(sub: Any) -> None:
    p = described(sub, "import", "an existing Terraform module or Ansible playbook folder as an entity",
                  "scripts/fractal import ./modules/web --provider exoscale --save")
    p.add_argument("dir", help="the folder (a catalog entity folder with fractal.yaml is taken as is)")
    p.add_argument("--tool", choices=TOOLS, help="default: read from the files")
    p.add_argument("--provider", help="local, k3s, exoscale, vastai or runpod")
    p.add_argument("--name", help="entity name (kebab-case; default: the folder's name)")
    p.add_argument("--save", action="store_true", help="save it to the catalog targets when it passes the checks")
    p.add_argument("--out", "-o", metavar="FILE", help="also write the draft to FILE (for refine)")
    p.add_argument("--json", action="store_true", help="print the whole result as JSON")
    add_targets(p)
    p.set_defaults(func=cmd_import)

    p = described(sub, "generate", "a validated entity from a need in plain words (English or French)",
                  'scripts/fractal generate "a 3-node K3s cluster on Exoscale" -o draft.yaml',
                  'scripts/fractal generate "nginx on the hosts" --tool ansible --offline --save')
    p.add_argument("need", nargs="+", help="what to build, in English or French")
    p.add_argument("--tool", choices=TOOLS, help="the tool to write it for")
    p.add_argument("--provider", help="the provider: local, k3s, exoscale, vastai or runpod")
    p.add_argument("--name", help="entity name (kebab-case; default: from the need)")
    _common(p)
    p.set_defaults(func=cmd_generate)

    p = described(sub, "refine", "change a draft with a message in plain words",
                  'scripts/fractal refine draft.yaml "use 5 nodes in de-fra-1"')
    p.add_argument("draft", help="YAML file written by generate --out (or an entity item), - for stdin")
    p.add_argument("message", nargs="+", help="the change, in plain words")
    _common(p)
    p.set_defaults(func=cmd_refine)



