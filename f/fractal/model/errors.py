"""One exception family for the pack: every error says what went wrong and what to do.

Windmill-facing scripts let these propagate; the local runner turns them into a JSON error whose
HTTP status is the class's `http_status` (`http_status(code)` reads it back from a JSON error's code).
"""

from __future__ import annotations

from typing import Any


class FractalError(Exception):
    """Base error. `hint` tells the caller what to do next; `data` carries details for programs."""

    code = "error"
    http_status = 500

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
    http_status = 400


class SecretInItem(InvalidInput):
    """A plaintext credential was found where only references are allowed."""

    code = "secret_in_item"


class PolicyViolation(InvalidInput):
    """The entity uses a dangerous construct (tools.policy) without a reviewed allowance for it in its spec."""

    code = "policy_violation"


class NotFound(FractalError):
    """The ref, path or job named does not exist."""

    code = "not_found"
    http_status = 404


class Conflict(FractalError):
    """The item changed since the caller read it (optimistic concurrency)."""

    code = "conflict"
    http_status = 409


class Unreachable(FractalError):
    """A Git remote or service could not be reached; the work is kept to retry."""

    code = "unreachable"
    http_status = 503


class ConfigError(FractalError):
    """A resource, variable or binary the pack needs is missing or wrong."""

    code = "config_error"
    http_status = 424  # Failed Dependency: the worker lacks what the call depends on


class NoTemplate(InvalidInput):
    """The offline generator has no template that clearly fits the need: `data.closest` names the nearest ones."""

    code = "no_template"
    http_status = 422


class GenerationFailed(FractalError):
    """No answer passed the checks within the attempts allowed; `data.attempts` holds every error."""

    code = "generation_failed"
    http_status = 422


class StepFailed(FractalError):
    """A flow step failed: carries the step's path; the flow interpreter turns it into a failed result."""

    code = "step_failed"
    http_status = 422

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}", data={"failed_step": path})
        self.path = path
        self.step_message = message


class GitError(FractalError):
    """A git command failed (credentials already redacted from its message)."""

    code = "git_error"
    http_status = 502

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


def http_status(code: str) -> int:
    """The HTTP status of a JSON error's `code` (500 for a code no class declares)."""
    pending: list[type[FractalError]] = [FractalError]
    while pending:
        cls = pending.pop()
        if cls.code == code:
            return cls.http_status
        pending.extend(cls.__subclasses__())
    return 500
