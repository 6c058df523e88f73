"""Find plaintext credentials in anything bound for Git, a prompt or a log.

Items may *reference* secrets ($var:…, $res:…, var.x, {{ lookup(...) }}, ${VAR}) but never hold a
value. `find_secrets` is pattern based (no network, microseconds); `redact` masks known values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

from f.fractal.model.errors import SecretInItem

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("AWS access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b")),
    ("OpenAI/Anthropic key", re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}")),
    ("Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("Exoscale key", re.compile(r"\bEXO[0-9a-f]{24}\b")),
    ("JWT", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
    ("password in URL", re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:([^/\s@]{3,})@")),
]
_ASSIGNMENT = re.compile(
    r"(?i)\b(?:[a-z0-9_]*(?:api[_-]?key|secret|token|passw(?:or)?d|passphrase|private[_-]?key|access[_-]?key))"
    r"\b[\"']?\s*[:=]\s*[\"']?([^\s\"',;}]{8,})"
)
# Values that only point at a secret held elsewhere.
_REFERENCE = re.compile(r"^(?:\$(?:var|res|env):|\$\{|\{\{|var\.|local\.|data\.|module\.|<[A-Z_-]+>|lookup\(|env\(|os\.environ)")
_PLACEHOLDER = re.compile(r"(?i)^(?:x+|\*+|changeme|redacted|example|placeholder|none|null|true|false|\.\.\.)$")


def _entropy(text: str) -> float:
    counts = {c: text.count(c) for c in set(text)}
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _looks_like_value(candidate: str) -> bool:
    if _REFERENCE.match(candidate) or _PLACEHOLDER.match(candidate):
        return False
    has_digit = any(c.isdigit() for c in candidate)
    return len(candidate) >= 12 and has_digit and _entropy(candidate) >= 3.0


def scan_text(text: str) -> Iterator[str]:
    """Yield the kind of each secret found in `text`."""
    for kind, pattern in _PATTERNS:
        m = pattern.search(text)
        if m and (kind != "password in URL" or not (_REFERENCE.match(m.group(1)) or _PLACEHOLDER.match(m.group(1)))):
            yield kind
    for m in _ASSIGNMENT.finditer(text):
        if _looks_like_value(m.group(1)):
            yield "credential assignment"
            break


def _strings(value: Any, path: str, keys: bool = True) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            if keys:
                yield from _strings(str(k), f"{path}.{k}(key)")
            yield from _strings(v, f"{path}.{k}", keys)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]", keys)


def string_values(value: Any) -> Iterator[str]:
    """Every string value nested in mappings and lists (not the mapping keys)."""
    return (text for _path, text in _strings(value, "", keys=False))


def mask_assignments(text: str) -> str:
    """Mask the value of every credential-like assignment (`api_key: value`, `TOKEN=value`) that holds a digit."""

    def mask(m: re.Match[str]) -> str:
        value_start = m.start(1) - m.start(0)
        return m.group(0)[:value_start] + "***" if any(c.isdigit() for c in m.group(1)) else m.group(0)

    return _ASSIGNMENT.sub(mask, text)


def find_secrets(value: Any, root: str = "item") -> list[dict[str, str]]:
    """Every plaintext secret in a nested value, as [{path, kind}] (never the value itself)."""
    found = []
    for path, text in _strings(value, root):
        for kind in scan_text(text):
            found.append({"path": path, "kind": kind})
    return found


def ensure_no_secrets(value: Any, root: str = "item") -> None:
    found = find_secrets(value, root)
    if found:
        where = ", ".join(f"{f['kind']} at {f['path']}" for f in found[:5])
        raise SecretInItem(
            f"plaintext secret found: {where}",
            hint="store the value in a Windmill secret variable or resource and reference it "
            "($var:f/…, a Terraform variable, an env var); never put the value in an item",
            data={"findings": found},
        )


def redact(text: str, values: Iterable[str]) -> str:
    """Mask every known secret value (and any pattern match) in text bound for a log or result."""
    for value in sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True):
        text = text.replace(value, "***")
    for _, pattern in _PATTERNS[:-1]:
        text = pattern.sub("***", text)
    return _PATTERNS[-1][1].sub(lambda m: m.group(0).replace(m.group(1), "***"), text)
