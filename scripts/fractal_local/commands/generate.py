"""Generation commands: `generate "<need>"` and `refine <draft.yaml> "<change>"`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fractal_local.commands.catalog import add_targets, emit
from fractal_local.runner import call


def _targets(args: argparse.Namespace) -> list[str] | None:
    return [t for group in args.target or [] for t in group.split(",") if t] or None


def _llm(args: argparse.Namespace) -> str:
    return "offline" if args.offline else (args.llm or "")


def _show(result: dict[str, Any], args: argparse.Namespace) -> None:
    """Human output: the draft as YAML with its files, the checks, where it was saved."""
    if args.json:
        emit(result)
        return
    from f.fractal import yamlio

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


def _write_draft(result: dict[str, Any], out: str | None) -> None:
    if out:
        from f.fractal import yamlio

        Path(out).write_text(yamlio.dump({"draft": result["draft"], "conversation": result["conversation"]}))
        print(f"# draft written to {out} (refine it with: scripts/fractal refine {out} \"<change>\")", file=sys.stderr)


def cmd_generate(args: argparse.Namespace) -> int:
    result = call("f/fractal/generate_entity", {
        "need": " ".join(args.need), "tool": args.tool or "", "provider": args.provider or "", "name": args.name or "",
        "llm": _llm(args), "attempts": args.attempts, "save": args.save, "targets": _targets(args),
    })
    _write_draft(result, args.out)
    _show(result, args)
    return 0


def cmd_refine(args: argparse.Namespace) -> int:
    from f.fractal import yamlio

    text = sys.stdin.read() if args.draft == "-" else Path(args.draft).read_text()
    doc = yamlio.load_untrusted(text, what=args.draft)
    draft, conversation = (doc["draft"], doc.get("conversation")) if isinstance(doc, dict) and "draft" in doc else (doc, None)
    result = call("f/fractal/refine_entity", {"draft": draft, "message": " ".join(args.message), "conversation": conversation,
                                              "llm": _llm(args), "attempts": args.attempts})
    _write_draft(result, args.out or (args.draft if args.draft != "-" else None))
    if args.save:
        result["saved"] = call("f/fractal/save_item", {"item": result["draft"], "targets": _targets(args)})
    _show(result, args)
    return 0


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
    p = sub.add_parser("generate", help='a validated entity from a need: generate "a 3-node K3s cluster on Exoscale"')
    p.add_argument("need", nargs="+", help="what to build, in English or French")
    p.add_argument("--tool", choices=["terraform", "ansible", "kubernetes", "secret"])
    p.add_argument("--provider", help="local, k3s, exoscale, vastai or runpod")
    p.add_argument("--name", help="entity name (kebab-case)")
    _common(p)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("refine", help='change a draft: refine draft.yaml "use 5 nodes in de-fra-1"')
    p.add_argument("draft", help="YAML file written by generate --out (or an entity item), - for stdin")
    p.add_argument("message", nargs="+", help="the change, in plain words")
    _common(p)
    p.set_defaults(func=cmd_refine)



