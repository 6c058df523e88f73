"""A pack script's `main`, found by its Windmill path: what the local flow runner and CLI call."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

from f.fractal.model.errors import InvalidInput, NotFound

SCRIPT_PATH = re.compile(r"^(f|u)/[a-z0-9_]+(?:/[a-z0-9_]+)+$")


def load_main(path: str) -> Callable[..., Any]:
    """The `main` of the script at `path` (e.g. f/fractal/save_item), imported as Windmill would."""
    if not isinstance(path, str) or not SCRIPT_PATH.match(path):
        raise InvalidInput(f"bad script path {path!r:.80}", hint="use a Windmill path such as f/fractal/list_items")
    try:
        module = importlib.import_module(path.replace("/", "."))
    except ModuleNotFoundError as e:
        if e.name and path.replace("/", ".").startswith(e.name):
            raise NotFound(f"no script at {path}", hint="the pack's scripts live under f/fractal/") from e
        raise
    main = getattr(module, "main", None)
    if main is None:
        raise NotFound(f"{path} is a library module, not a script (it has no main)")
    return main
