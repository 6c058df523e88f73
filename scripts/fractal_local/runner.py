"""Run a pack script's `main` locally, as a Windmill worker would: by path, with JSON arguments."""

from __future__ import annotations

import inspect
from typing import Any

from f.fractal.model.errors import FractalError, InvalidInput
from f.fractal.platform.scripts import load_main
from fractal_local.contracts import check_args


def call(path: str, args: dict[str, Any] | None = None) -> Any:
    """Call the script with keyword arguments checked against its schema, like Windmill's form.

    The one code path of the CLI, the local server's jobs and the tests.
    """
    main = load_main(path)
    args = dict(args or {})
    params = inspect.signature(main).parameters
    unknown = sorted(set(args) - set(params))
    if unknown:
        raise InvalidInput(f"{path} has no argument {', '.join(unknown)}", hint=f"its arguments: {', '.join(params)}",
                           data={"argument": unknown[0]})
    args = check_args(path, args)
    missing = [n for n, p in params.items() if p.default is inspect.Parameter.empty and n not in args]
    if missing:
        raise InvalidInput(f"{path} needs {', '.join(missing)}", data={"argument": missing[0]})
    return main(**args)


def error_payload(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, FractalError):
        return exc.to_dict()
    return {"error": type(exc).__name__, "message": str(exc)[:2000]}
