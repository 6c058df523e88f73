"""One exception family for the pack: every error says what went wrong and what to do.

Windmill-facing scripts let these propagate; the local runner turns them into a JSON error.
"""

from __future__ import annotations

from typing import Any


class FractalError(Exception):
    """Base error. `hint` tells the caller what to do next; `data` carries details for programs."""

    code = "error"

    def __init__(self, message: str, *, hint: str = "", data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.data = data or {}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        if self.data:
            out["data"] = self.data
        return out

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InvalidInput(FractalError):
    """The caller sent something malformed: fix the input and call again."""

    code = "invalid_input"


class SecretInItem(InvalidInput):
    """A plaintext credential was found where only references are allowed."""

    code = "secret_in_item"


class NotFound(FractalError):
    code = "not_found"


class Conflict(FractalError):
    """The item changed since the caller read it (optimistic concurrency)."""

    code = "conflict"


class Unreachable(FractalError):
    """A Git remote or service could not be reached; the work is kept to retry."""

    code = "unreachable"


class ConfigError(FractalError):
    """A resource, variable or binary the pack needs is missing or wrong."""

    code = "config_error"
