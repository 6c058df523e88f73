"""The LLM boundary: configuration, the one prompt guard, and `complete` (litellm, imported lazily).

Contract (stable; generation and composition call it):

    config = llm.load_config(resource)   # LLMConfig, or None when no LLM is configured (go offline)
    text = llm.complete(messages, config, secrets=extra_values)   # the assistant's answer, a str
    out = llm.repair(messages, config, check, feedback, attempts=3)   # the one repair loop (Repaired)
    llm.provenance(generator, model, need, digest, attempts, started, **extra)   # the one provenance shape

- `resource` is a Windmill resource path of type `fractal_llm` (`model`, `api_base`, `api_key`,
  optional `timeout`, `temperature`), or its value as a dict. When it is empty: the environment
  (`FRACTAL_LLM_MODEL`, `FRACTAL_LLM_API_BASE`, `FRACTAL_LLM_API_KEY`, `FRACTAL_LLM_TIMEOUT`), then
  the default resource `f/fractal/llm` if it exists; else None. `model` is a litellm model name
  (`openai/gpt-4o-mini`, `anthropic/claude-…`, `ollama/llama3`, `openai/<name>` + `api_base` for any
  OpenAI-compatible server).
- `messages` are `[{"role": "system"|"user"|"assistant", "content": str}]`. Every message goes
  through `guard` before it leaves the process: known credential values (the LLM key, the provider
  credential resources, credential-like environment variables, `secrets`) and anything that looks
  like a credential are masked as `***`; if anything still looks like one, `SecretInItem` is raised
  and nothing is sent. Callers never need to call `guard` themselves.
- Transient failures (HTTP 429, 5xx, timeouts, connection errors) are retried `config.attempts`
  times with exponential backoff (`config.backoff` × 2^n, jittered); then `Unreachable`.
  Authentication, unknown model or a bad request raise `ConfigError` at once. No error message
  carries a secret value.
- litellm is imported on the first call only (~2 s), with `LITELLM_LOCAL_MODEL_COST_MAP=True`.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import f.fractal.platform.workspace as workspace
from f.fractal.model.errors import ConfigError, FractalError, InvalidInput, NotFound, SecretInItem, Unreachable
from f.fractal.model.records import Finding as CheckFinding
from f.fractal.platform.secrets import MIN_KNOWN, known_values, mask, scan_text

DEFAULT_RESOURCE = "f/fractal/llm"
ENV_PREFIX = "FRACTAL_LLM_"
Message = dict[str, str]
ROLES = ("system", "user", "assistant")
MAX_MESSAGE_CHARS = 200_000



@dataclass(frozen=True)
class LLMConfig:
    """Where and how to call the model. `api_key` never appears in repr, logs or results."""

    model: str
    api_base: str = ""
    api_key: str = field(default="", repr=False)
    timeout: float = 60.0
    temperature: float = 0.2
    attempts: int = 4
    backoff: float = 0.5
    source: str = ""

    def public(self) -> dict[str, Any]:
        """What may be shown or recorded (provenance): everything but the key."""
        return {"model": self.model, "api_base": self.api_base, "source": self.source}


# ------------------------------------------------------------------ configuration


def _from_value(value: dict[str, Any], source: str) -> LLMConfig:
    model = str(value.get("model") or "").strip()
    if not model:
        raise ConfigError(f"the LLM configuration from {source} has no model",
                          hint="set model, e.g. openai/gpt-4o-mini or ollama/llama3")
    try:
        timeout = float(value.get("timeout") or 60)
        raw_temperature = value.get("temperature")
        temperature = 0.2 if raw_temperature is None or raw_temperature == "" else float(raw_temperature)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"the LLM configuration from {source} has a non-numeric timeout or temperature") from e
    if not 0 < timeout <= 3600:
        raise ConfigError(f"LLM timeout {timeout} is out of range", hint="use 1..3600 seconds")
    return LLMConfig(model=model, api_base=str(value.get("api_base") or ""), api_key=str(value.get("api_key") or ""),
                     timeout=timeout, temperature=temperature, source=source)


def _from_env() -> LLMConfig | None:
    if not os.environ.get(f"{ENV_PREFIX}MODEL"):
        return None
    value = {k: os.environ.get(f"{ENV_PREFIX}{k.upper()}", "") for k in ("model", "api_base", "api_key", "timeout")}
    return _from_value(value, "environment (FRACTAL_LLM_*)")


def _resource_or_none(path: str) -> dict[str, Any] | None:
    try:
        return workspace.get_resource(path)
    except NotFound:
        return None
    except FractalError:
        raise
    except Exception:  # inside Windmill, wmill raises a client error for a missing resource
        return None


def _default_resource() -> LLMConfig | None:
    value = _resource_or_none(DEFAULT_RESOURCE)
    return None if value is None else _from_value(value, f"resource {DEFAULT_RESOURCE}")


def load_config(resource: str | dict[str, Any] | None = None) -> LLMConfig | None:
    """The LLM configuration, or None when none is configured (callers then work offline)."""
    if isinstance(resource, dict):
        return _from_value(resource, "the given value")
    if resource:
        return _from_value(workspace.get_resource(workspace.check_path(resource, "LLM resource path")), f"resource {resource}")
    return _from_env() or _default_resource()


# ------------------------------------------------------------------ the prompt guard

def known_secrets(config: LLMConfig | None = None, extra: Iterable[str] = ()) -> set[str]:
    """Every credential value this process can know of (secrets.known_values, the LLM key, `extra`): never in a prompt."""
    values = set(known_values()) | set(extra)
    if config is not None:
        values.add(config.api_key)
    return {v for v in values if isinstance(v, str) and len(v) >= MIN_KNOWN}


def guard(messages: list[Message], config: LLMConfig | None = None, secrets: Iterable[str] = ()) -> list[Message]:
    """THE prompt guard: validated messages with every known or apparent credential masked.

    Raises InvalidInput on a malformed message and SecretInItem if a credential would survive.
    """
    return _guard(messages, known_secrets(config, secrets))


def _guard(messages: list[Message], known: set[str]) -> list[Message]:
    if not isinstance(messages, list) or not messages:
        raise InvalidInput("messages must be a non-empty list of {role, content}")
    clean = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES or not isinstance(message.get("content"), str):
            raise InvalidInput(f"message {i} must be {{role: system|user|assistant, content: str}}")
        content = mask(message["content"], known)[:MAX_MESSAGE_CHARS]
        left = sorted({f.why for f in scan_text(content)})
        if left or any(v in content for v in known):
            raise SecretInItem(f"message {i} still holds a credential ({', '.join(left) or 'a known value'}); nothing was sent",
                               hint="reference credentials by resource path or variable name, never by value")
        clean.append({"role": message["role"], "content": content})
    return clean


def screen(answer: str) -> tuple[str, list[CheckFinding]]:
    """A model's answer with every plaintext secret masked, and one validation error per secret it held: callers
    use the masked answer only (conversation, drafts, error data) and feed the errors back like any other."""
    found = scan_text(answer, "answer")
    errors: list[CheckFinding] = [
        {"file": "answer", "line": f.line, "message": f"plaintext {f.why} ({f.rule}): never write a credential; "
         f"reference it instead (it belongs in {f.belongs})"} for f in found]
    return (mask(answer) if found else answer), errors


# ------------------------------------------------------------------ the call


def _litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm  # deferred: ~2 s, only when a model is actually called

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    return litellm


def _transient(exc: Exception, litellm: Any) -> bool:
    if isinstance(exc, (litellm.RateLimitError, litellm.Timeout, litellm.APIConnectionError,
                        litellm.InternalServerError, litellm.ServiceUnavailableError, litellm.BadGatewayError)):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and (status == 429 or status >= 500)


def _describe(exc: Exception, known: set[str]) -> str:
    status = getattr(exc, "status_code", None)
    text = f"{type(exc).__name__}{f' (HTTP {status})' if status else ''}: {str(exc)[:300]}"
    return mask(text, known)


def complete(
    messages: list[Message],
    config: LLMConfig,
    *,
    secrets: Iterable[str] = (),
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> str:
    """Send guarded messages to the model; the answer's text. Retries transient failures with backoff."""
    known = known_secrets(config, secrets)
    clean = _guard(messages, known)
    litellm = _litellm()
    errors: list[str] = []
    for attempt in range(config.attempts):
        try:
            response = litellm.completion(
                model=config.model, messages=clean, api_base=config.api_base or None, api_key=config.api_key or None,
                timeout=config.timeout, temperature=config.temperature if temperature is None else temperature,
                max_tokens=max_tokens, num_retries=0, max_retries=0, drop_params=True,
            )
            return str(response.choices[0].message.content or "")
        except Exception as exc:
            if not _transient(exc, litellm):
                raise ConfigError(f"the LLM {config.model} refused the call: {_describe(exc, known)}",
                                  hint="check the model name, api_base and api_key of the LLM resource") from None
            errors.append(_describe(exc, known))
            if attempt + 1 < config.attempts:
                time.sleep(config.backoff * 2**attempt * random.uniform(0.8, 1.2))
    raise Unreachable(f"the LLM {config.model} failed {config.attempts} times: {errors[-1]}",
                      hint="the model endpoint is overloaded or down; retry later", data={"errors": errors})


# ------------------------------------------------------------------ the repair loop and provenance (generation and composition)


@dataclass
class Checked:
    """One answer as the caller's checks saw it: what it made (None when nothing could be read) and what is wrong."""

    made: Any
    errors: list[Any]
    warnings: list[Any] = field(default_factory=list)
    report: Any = None  # the caller's full report, kept for the result

    @property
    def ok(self) -> bool:
        return self.made is not None and not self.errors


@dataclass
class Repaired:
    answer: str  # the last answer kept (masked)
    checked: Checked
    attempts: list[dict[str, Any]]  # {attempt, ok, errors, warnings, llm_seconds, seconds} per answer
    messages: list[Message]
    digest: str  # sha256 of the prompt that produced the answer kept


Check = Callable[[str, list[CheckFinding]], Checked]  # (masked answer, plaintext secrets it held) → Checked
Feedback = Callable[[Checked, int, int, bool], str]  # (checked, attempt, attempts, warnings only) → the next user message


def repair(messages: list[Message], config: LLMConfig, check: Check, feedback: Feedback, *, attempts: int) -> Repaired:
    """Ask, check, feed what is wrong back, at most `attempts` answers. A valid answer with warnings gets them fed back
    once (and is kept if the fix fails). The result is the answer kept; `checked.ok` is False when none passed."""
    log: list[dict[str, Any]] = []
    kept: Repaired | None = None
    for n in range(1, attempts + 1):
        started = time.perf_counter()
        answer, leaked = screen(complete(messages, config))
        llm_seconds = time.perf_counter() - started
        checked = check(answer, leaked)
        log.append({"attempt": n, "ok": checked.ok, "errors": checked.errors, "warnings": checked.warnings,
                    "llm_seconds": round(llm_seconds, 3), "seconds": round(time.perf_counter() - started, 3)})
        digest = hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()
        messages = [*messages, {"role": "assistant", "content": answer}]
        outcome = Repaired(answer, checked, log, messages, digest)
        if checked.ok and (kept is not None or not checked.warnings or n == attempts):
            return outcome
        if not checked.ok and kept is not None:
            return Repaired(kept.answer, kept.checked, log, kept.messages, kept.digest)
        kept = outcome if checked.ok else None
        messages.append({"role": "user", "content": feedback(checked, n, attempts, checked.ok)})
    return outcome


def provenance(generator: str, model: str, need: str, digest: str, attempts: int, started: float, **extra: Any
               ) -> dict[str, Any]:
    """The one shape of a draft's provenance, entity or composite: what made it (llm, offline, …), with which model,
    from which need and prompt, in how many attempts, when and how long it took; `extra` adds the maker's details."""
    return {"generator": generator, "model": model, "need": need, "prompt_digest": f"sha256:{digest}", "attempts": attempts,
            **extra, "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - started, 3)}
