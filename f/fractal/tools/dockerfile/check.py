"""Dockerfile entities and rules: the final stage runs as a non-root user, base images are pinned,
no remote ADD, no pipe-to-shell, no secret in ENV/ARG, a HEALTHCHECK.

An entity of this tool holds Dockerfiles and/or reviewable patches (`*.diff`, unified diffs named
after the rule they fix). Problems of severity high or worse are errors; the others warnings.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from f.fractal.platform.secrets import scan_text
from f.fractal.tools.checks import Report
from f.fractal.tools.hardening import Problem, image_unpinned

DEFAULT_FILE = "Dockerfile"
RULES = (
    "Pin every base image to a version tag or a digest (never :latest or no tag).",
    "Create an unprivileged user and end the final stage with USER <non-root>.",
    "Use COPY, not ADD with a URL; never pipe a download into a shell.",
    "Pass secrets at build time with --mount=type=secret, never with ENV or ARG values.",
    "Declare a HEALTHCHECK (or rely on Kubernetes probes and say so).",
)
_SECRET_NAME = re.compile(r"(?i)(passw(or)?d|secret|token|api[_-]?key|private[_-]?key)")
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@")


class Instruction(NamedTuple):
    line: int
    keyword: str
    args: str


def instructions(text: str) -> list[Instruction]:
    """Instructions with their first line, continuation lines joined, comments dropped."""
    out: list[Instruction] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        out.append(Instruction(start, keyword.upper(), args.strip()))
    return out


def problems(text: str) -> list[Problem]:
    """Every rule the Dockerfile breaks, with the line of the instruction."""
    steps = instructions(text)
    froms = [s for s in steps if s.keyword == "FROM"]
    if not froms:
        return [Problem("DF-NO-FROM", "high", "no FROM instruction", "start with FROM <image>:<version>", 1)]
    out: list[Problem] = []
    stages = {s.args.split()[-1].lower() for s in froms if " as " in f" {s.args.lower()} "}
    for s in froms:
        image = next((a for a in s.args.split() if not a.startswith("--")), "")
        if image.lower() not in stages and image != "scratch" and "$" not in image and image_unpinned(image):
            out.append(Problem("DF-IMAGE-UNPINNED", "medium", f"base image {image} is not pinned",
                               "pin a version tag or digest: FROM image:1.2.3", s.line))
    final = [s for s in steps if s.line >= froms[-1].line]
    users = [s for s in final if s.keyword == "USER"]
    if not users or users[-1].args.split(":")[0] in ("root", "0"):
        where = users[-1].line if users else froms[-1].line
        out.append(Problem("DF-ROOT-USER", "high", "the container runs as root (no USER, or USER root, in the final stage)",
                           "end the final stage with a numeric non-root user: USER 10001:10001", where))
    for s in steps:
        if s.keyword == "ADD" and re.search(r"https?://", s.args):
            out.append(Problem("DF-ADD-URL", "medium", "ADD downloads a remote file without a checksum",
                               "download with a pinned checksum in RUN, or COPY a vendored file", s.line))
        if s.keyword == "RUN" and re.search(r"(curl|wget)[^|;&]*\|\s*(ba|z)?sh\b", s.args):
            out.append(Problem("DF-PIPE-SHELL", "medium", "a download is piped into a shell",
                               "download to a file, verify its checksum, then run it", s.line))
        if s.keyword in ("ENV", "ARG") and "=" in s.args:
            key, _, value = s.args.partition("=")
            if value.strip().strip("\"'") and (_SECRET_NAME.search(key) or any(True for _ in scan_text(s.args))):
                out.append(Problem("DF-SECRET-ENV", "critical", f"{s.keyword} {key.strip()} holds a secret value",
                                   "use RUN --mount=type=secret,id=… and pass the secret at build time", s.line))
    if not any(s.keyword == "HEALTHCHECK" for s in steps):
        out.append(Problem("DF-NO-HEALTHCHECK", "low", "no HEALTHCHECK",
                           "add HEALTHCHECK CMD <probe> (or rely on Kubernetes probes)",
                           froms[-1].line))
    return out


def _check_diff(path: str, text: str, report: Report) -> None:
    lines = text.splitlines()
    if not any(line.startswith("--- ") for line in lines) or not any(line.startswith("+++ ") for line in lines):
        report.error(path, "a patch needs ---/+++ file headers (a unified diff)")
    if not any(_HUNK.match(line) for line in lines):
        report.error(path, "a patch needs at least one @@ hunk")
    if any(line and line[0] not in " +-@\\" and not line.startswith(("diff ", "index ")) for line in lines):
        report.error(path, "a unified diff line starts with space, +, - or @")


def check(files: dict[str, str], report: Report) -> None:
    dockerfiles = {p: t for p, t in files.items() if p.rsplit("/", 1)[-1].startswith("Dockerfile") and not p.endswith(".diff")}
    patches = {p: t for p, t in files.items() if p.endswith((".diff", ".patch"))}
    if not dockerfiles and not patches:
        report.error("", f"a dockerfile entity needs a {DEFAULT_FILE} or a patch (*.diff)")
        return
    report.ran("dockerfile rules")
    for path, text in dockerfiles.items():
        for p in problems(text):
            (report.error if p.severity in ("critical", "high") else report.warn)(path, f"{p.rule}: {p.message}", p.line)
    if patches:
        report.ran("unified diff shape")
    for path, text in patches.items():
        _check_diff(path, text, report)
