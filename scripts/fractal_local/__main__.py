"""`scripts/fractal <command>`: the pack's command line. Each command module registers itself."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from fractal_local import __version__
from fractal_local.cli import CLOSED_PIPE, ERROR, EXIT_CODES, INTERRUPTED, Formatter, described, report_error

# Each module under fractal_local/commands/ adds its subcommands with register(subparsers).
COMMAND_MODULES = ("catalog", "generate", "run", "compose", "serve", "learn", "audit")
# Which module registers each command: a call imports only its own module (a job's start is what users pay).
COMMANDS = {
    **dict.fromkeys(("call", "list", "show", "save", "delete", "history", "users", "diff", "sync", "target", "schemas",
                     "demo"), "catalog"),
    **dict.fromkeys(("import", "generate", "refine"), "generate"),
    **dict.fromkeys(("run", "runs", "providers", "playbook"), "run"),
    **dict.fromkeys(("compose", "flows"), "compose"),
    **dict.fromkeys(("serve", "ui", "mcp", "openapi"), "serve"),
    **dict.fromkeys(("learn", "solutions"), "learn"),
    **dict.fromkeys(("audit", "migrate"), "audit"),
}


def _modules_for(argv: list[str]) -> tuple[str, ...]:
    """The command modules to import: the one of the command named first, or all (help, completion, typos)."""
    first = next((a for a in argv if not a.startswith("-")), "")
    if first in COMMANDS and "completion" not in argv:
        return (COMMANDS[first],)
    return COMMAND_MODULES


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The command line; with `argv`, only the module of the command it names is imported."""
    parser = argparse.ArgumentParser(
        prog="fractal", formatter_class=Formatter,
        description="Fractal: infrastructure catalogs from plain words. Runs the pack's Windmill scripts on this machine.",
        epilog="examples:\n  scripts/fractal list k3s\n  scripts/fractal show entity:web\n"
               '  scripts/fractal generate "a 3-node K3s cluster on Exoscale"\n  scripts/fractal serve\n\n'
               "Output: human text on a terminal; --json (or a pipe) gives JSON for scripts.\n\n" + EXIT_CODES)
    parser.add_argument("--version", action="version", version=f"fractal {__version__}", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="<command>")
    for name in COMMAND_MODULES if argv is None else _modules_for(argv):
        try:
            module = importlib.import_module(f"fractal_local.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"fractal_local.commands.{name}":
                continue
            raise
        module.register(sub)
    p = described(sub, "completion", "print a shell completion script for bash or zsh",
                  'eval "$(scripts/fractal completion bash)"')
    p.add_argument("shell", choices=["bash", "zsh"], help="the shell to complete in")
    p.set_defaults(func=lambda args: print(completion(parser, args.shell)))
    return parser


def completion(parser: argparse.ArgumentParser, shell: str) -> str:
    """A completion script: the commands, then each command's flags."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    cases = "\n".join(
        f"    {name}) words=\"{' '.join(o for a in p._actions for o in a.option_strings)}\" ;;"
        for name, p in sub.choices.items())
    script = f"""_fractal() {{
  local cur=${{COMP_WORDS[COMP_CWORD]}} words
  if [ "$COMP_CWORD" -eq 1 ]; then words="{' '.join(sub.choices)} --help --version"
  else case "${{COMP_WORDS[1]}}" in
{cases}
  esac; fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}}
complete -o default -F _fractal fractal scripts/fractal"""
    return ("autoload -U bashcompinit && bashcompinit\n" if shell == "zsh" else "") + script


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        return INTERRUPTED
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): stop quietly; stdout is pointed at /dev/null for the exit flush
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return CLOSED_PIPE
    except Exception as exc:  # every failure leaves as a readable error (JSON off a terminal), exit 1
        report_error(exc, args)
        return ERROR


if __name__ == "__main__":
    sys.exit(main())
