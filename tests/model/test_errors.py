"""The one exception family: every pack error is a FractalError whose class says its HTTP status."""

from __future__ import annotations

import pytest

from f.fractal.model.errors import (
    ConfigError,
    Conflict,
    FractalError,
    GenerationFailed,
    GitError,
    InvalidInput,
    NotFound,
    SecretInItem,
    StepFailed,
    Unreachable,
    http_status,
)


@pytest.mark.parametrize(("cls", "status"), [
    (InvalidInput, 400), (SecretInItem, 400), (NotFound, 404), (Conflict, 409), (Unreachable, 503),
    (ConfigError, 424), (GenerationFailed, 422), (GitError, 502), (FractalError, 500),
])
def test_each_error_code_maps_to_its_http_status(cls: type[FractalError], status: int) -> None:
    assert http_status(cls.code) == status


def test_an_unknown_code_is_a_server_error() -> None:
    assert http_status("no-such-code") == 500


def test_step_failed_and_git_error_join_the_family_with_their_details() -> None:
    step = StepFailed("platform.base.motd", "exit 2")
    assert isinstance(step, FractalError)
    assert step.to_dict() == {"error": "step_failed", "message": "platform.base.motd: exit 2",
                               "data": {"failed_step": "platform.base.motd"}}
    assert step.step_message == "exit 2"
    assert GitError("git push: rejected", "stderr").stderr == "stderr"
