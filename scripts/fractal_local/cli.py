"""What every command shares: help with examples, output (human on a terminal, JSON with --json), exit codes.

Exit codes: 0 done; 1 error (the pack refused or failed: invalid input, not found, conflict, unreachable —
the message and hint on stderr); 2 usage (the command line is wrong); 3 the operation ran and did not
succeed (a run that failed, a composition with gaps, a sync with targets still pending); 130 interrupted;
141 the reader of the output went away (e.g. `| head`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from f.fractal.platform.secrets import mask_answer
from fractal_local.runner import error_payload

OK, ERROR, USAGE, FAILED, INTERRUPTED, CLOSED_PIPE = 0, 1, 2, 3, 130, 141
EXIT_CODES = f"""exit codes:
  {OK}    done
  {ERROR}    error: the pack refused or failed (invalid input, not found, conflict, unreachable); see stderr
  {USAGE}    usage: the command line is wrong
  {FAILED}    the operation ran and did not succeed (a failed run, a composition with gaps, a pending sync)
  {INTERRUPTED}  interrupted (Ctrl-C)
  {CLOSED_PIPE}  the output's reader went away (e.g. | head)"""


class Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=110)


def described(sub: Any, name: str, summary: str, *examples: str) -> argparse.ArgumentParser:
    """A subcommand whose --help has its summary, its flags and examples."""
    epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples) if examples else None
    return sub.add_parser(name, help=summary, description=summary[0].upper() + summary[1:] + ".", epilog=epilog,
                          formatter_class=Formatter)


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON (for scripts)")


def emit(value: Any) -> None:
    print(json.dumps(mask_answer(value), indent=2, ensure_ascii=False, default=str))


def human_wanted(args: argparse.Namespace, stream: Any = None) -> bool:
    """Human text unless --json, or the output is not a terminal (then JSON, for scripts)."""
    return not getattr(args, "json", False) and bool((stream or sys.stdout).isatty())


def output(args: argparse.Namespace, value: Any, human: Callable[[Any], None]) -> None:
    """The result: human text on a terminal, JSON with --json or through a pipe."""
    if human_wanted(args):
        human(mask_answer(value))  # no credential this process can see is printed
    else:
        emit(value)


def report_error(exc: BaseException, args: argparse.Namespace | None) -> None:
    """An error on stderr: `error: … / hint: …` on a terminal, the JSON error otherwise."""
    payload = mask_answer(error_payload(exc))
    if args is not None and human_wanted(args, sys.stderr):
        print(f"error: {payload['message']}", file=sys.stderr)
        if payload.get("hint"):
            print(f"hint: {payload['hint']}", file=sys.stderr)
    else:
        print(json.dumps(payload, indent=2, ensure_ascii=False, default=str), file=sys.stderr)
