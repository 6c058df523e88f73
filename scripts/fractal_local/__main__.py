"""`scripts/fractal <command>`: the pack's command line. Each command module registers itself."""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from f.fractal.platform.secrets import mask_answer
from fractal_local.runner import error_payload

# Each module under fractal_local/commands/ adds its subcommands with register(subparsers).
COMMAND_MODULES = ("catalog", "generate", "run", "compose", "serve", "learn")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fractal", description="Fractal: infrastructure catalogs from plain words.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="<command>")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"fractal_local.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"fractal_local.commands.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # every failure leaves as a JSON error on stderr, exit 1
        print(json.dumps(mask_answer(error_payload(exc)), indent=2, default=str), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
