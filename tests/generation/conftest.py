"""The generation tests' LLM: the SCRIPTED server of tests/support/llm_server.py, registered as a resource."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.llm_server import LLM_PATH, ScriptedLLM

import f.fractal.platform.llm as llm
import f.fractal.platform.workspace as workspace


@pytest.fixture
def use_llm(fractal_home: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """No LLM from the environment, fast retries; `use_llm(server)` registers a scripted server and returns its path."""
    for var in ("FRACTAL_LLM_MODEL", "FRACTAL_LLM_API_BASE", "FRACTAL_LLM_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(llm.LLMConfig, "backoff", 0.05)

    def register(server: ScriptedLLM, timeout: float = 30) -> str:
        workspace.write_resource(LLM_PATH, "fractal_llm", {**server.config, "timeout": timeout})
        return LLM_PATH

    return register
