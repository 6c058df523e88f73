"""Run a pack script's `main` locally, as a Windmill worker would: by path, with JSON arguments."""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

from f.fractal.errors import FractalError, InvalidInput, NotFound

_SCRIPT_PATH = re.compile(r"^(f|u)/[a-z0-9_]+(?:/[a-z0-9_]+)+$")


def load_main(path: str) -> Any:
    """The `main` of the script at Windmill path `path` (e.g. f/fractal/save_item)."""
    if not _SCRIPT_PATH.match(path):
        raise InvalidInput(f"bad script path {path!r:.80}", hint="use a Windmill path such as f/fractal/list_items")
    try:
        module = importlib.import_module(path.replace("/", "."))
    except ModuleNotFoundError as e:
        raise NotFound(f"no script at {path}", hint="scripts live under f/fractal/; see README") from e
    main = getattr(module, "main", None)
    if main is None:
        raise NotFound(f"{path} is a library module, not a script (it has no main)")
    return main


def call(path: str, args: dict[str, Any] | None = None) -> Any:
    """Call the script with keyword arguments, refusing unknown or missing ones like Windmill's form."""
    main = load_main(path)
    args = dict(args or {})
    params = inspect.signature(main).parameters
    unknown = sorted(set(args) - set(params))
    if unknown:
        raise InvalidInput(f"{path} has no argument {', '.join(unknown)}", hint=f"its arguments: {', '.join(params)}")
    missing = [n for n, p in params.items() if p.default is inspect.Parameter.empty and n not in args]
    if missing:
        raise InvalidInput(f"{path} needs {', '.join(missing)}")
    return main(**args)


def error_payload(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, FractalError):
        return exc.to_dict()
    return {"error": type(exc).__name__, "message": str(exc)[:2000]}
