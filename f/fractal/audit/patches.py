"""Dockerfile fixes as reviewable unified diffs, one per rule, applied in order.

Each fix is keyed to the rule it fixes (`DF-SECRET-ENV`, `DF-IMAGE-UNPINNED`, `DF-ROOT-USER`); its
diff goes from the previous step's text to the next, so the series applies with `git apply` in
file-name order. What cannot be fixed mechanically is listed with the reason, never guessed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import f.fractal.tools.dockerfile.check as dockerfile
from f.fractal.platform.secrets import mask
from f.fractal.tools.hardening import image_unpinned

# Versions proposed for common unpinned base images: current stable lines, to be reviewed in the diff.
PINS = {
    "python": "3.12-slim", "node": "20-alpine", "nginx": "1.27-alpine", "golang": "1.23-alpine", "alpine": "3.20",
    "ubuntu": "24.04", "debian": "bookworm-slim", "redis": "7.4-alpine", "postgres": "16-alpine", "busybox": "1.36",
}
NON_ROOT = "10001:10001"


@dataclass
class Patched:
    path: str
    original: str
    text: str
    diffs: list[tuple[str, str]] = field(default_factory=list)  # (rule, unified diff)
    manual: list[dict[str, str]] = field(default_factory=list)


def _diff(path: str, before: str, after: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=f"a/{path}", tofile=f"b/{path}"))


def _secret_values(text: str) -> list[str]:
    """The values of the ENV/ARG lines that hold a secret (to mask them in every diff)."""
    lines = {p.line for p in dockerfile.problems(text) if p.rule == "DF-SECRET-ENV"}
    return [s.args.partition("=")[2].strip().strip("\"'") for s in dockerfile.instructions(text) if s.line in lines]


def _without_secret_env(text: str) -> str:
    lines = text.splitlines(keepends=True)
    secret_lines = {p.line for p in dockerfile.problems(text) if p.rule == "DF-SECRET-ENV"}
    for step in dockerfile.instructions(text):
        if step.line in secret_lines:
            key = step.args.partition("=")[0].strip()
            lines[step.line - 1] = (f"# {key} removed: pass it at build time (RUN --mount=type=secret,id={key.lower()}) "
                                    "or at run time from a secretKeyRef\n")
    return "".join(lines)


def _pinned(text: str) -> tuple[str, list[str]]:
    unknown: list[str] = []

    def pin(m: re.Match[str]) -> str:
        image = m.group(2)
        base = image.split(":")[0]
        if not image_unpinned(image) or base in stages:
            return m.group(0)
        if base.rsplit("/", 1)[-1] in PINS and "/" not in base.removeprefix("docker.io/library/"):
            return f"{m.group(1)}{base}:{PINS[base.rsplit('/', 1)[-1]]}{m.group(3)}"
        unknown.append(image)
        return m.group(0)

    stages = {s.lower() for s in re.findall(r"(?im)^FROM\s+\S+\s+AS\s+(\S+)", text)}
    return re.sub(r"(?im)^(FROM\s+(?:--\S+\s+)*)(\S+)(.*)$", pin, text), unknown


def _non_root(text: str) -> str:
    steps = dockerfile.instructions(text)
    last_from = max(s.line for s in steps if s.keyword == "FROM")
    lines = text.splitlines(keepends=True)
    user = [s for s in steps if s.keyword == "USER" and s.line > last_from]
    if user:
        lines[user[-1].line - 1] = f"USER {NON_ROOT}\n"
        return "".join(lines)
    entry = next((s.line for s in steps if s.line > last_from and s.keyword in ("CMD", "ENTRYPOINT")), None)
    insert = ["# run as an unprivileged user (numeric, so Kubernetes can verify runAsNonRoot)\n", f"USER {NON_ROOT}\n"]
    if entry is None:
        return "".join(lines) + ("" if text.endswith("\n") else "\n") + "".join(insert)
    return "".join([*lines[:entry - 1], *insert, *lines[entry - 1:]])


def patch(path: str, text: str) -> Patched:
    """The fixes for one Dockerfile, in order, each a diff keyed to its rule."""
    result = Patched(path, text, text)
    rules = {p.rule for p in dockerfile.problems(text)}
    steps: list[tuple[str, Callable[[str], str]]] = []
    if "DF-SECRET-ENV" in rules:
        steps.append(("DF-SECRET-ENV", _without_secret_env))
    if "DF-IMAGE-UNPINNED" in rules:
        def pin(t: str) -> str:
            out, unknown = _pinned(t)
            result.manual += [{"rule": "DF-IMAGE-UNPINNED", "reason": f"no known stable line for {i}: pin it by hand"}
                              for i in unknown]
            return out
        steps.append(("DF-IMAGE-UNPINNED", pin))
    if "DF-ROOT-USER" in rules:
        steps.append(("DF-ROOT-USER", _non_root))
    values = _secret_values(text)
    for rule, fix in steps:
        after = fix(result.text)
        if after != result.text:
            diff = _diff(path, result.text, after)
            masked = mask(diff, values)
            if masked != diff:
                result.manual.append({"rule": rule,
                                      "reason": "a line of this diff held a secret, shown as ***: apply it by hand"})
            result.diffs.append((rule, masked))
            result.text = after
    for rule, reason in (("DF-ADD-URL", "replace the remote ADD by a checksummed download"),
                         ("DF-PIPE-SHELL", "download, verify a checksum, then run"),
                         ("DF-NO-HEALTHCHECK",
                          "the Kubernetes probes of the scaffold cover it; add a HEALTHCHECK for plain Docker")):
        if rule in rules:
            result.manual.append({"rule": rule, "reason": reason})
    return result
