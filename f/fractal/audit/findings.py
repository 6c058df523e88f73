"""One finding model for every scanner, and the record of a dimension that could not be checked.

A finding never carries a secret value: scanners' messages go through `platform.secrets.mask` and the
fingerprint is a digest of where the problem is (tool, rule, file, line, commit), not of its text.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any, Literal

from f.fractal.platform.secrets import mask

Category = Literal["secret", "misconfiguration", "code", "vulnerability"]
Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low", "info")
MAX_TEXT = 400


@dataclass(frozen=True)
class Finding:
    """One problem found by one tool; `commit` is set for what only the history shows."""

    tool: str
    rule: str
    category: Category
    severity: Severity
    file: str
    message: str
    line: int | None = None
    commit: str | None = None
    fix: str = ""

    @property
    def fingerprint(self) -> str:
        where = "|".join((self.tool, self.rule, self.file, str(self.line or ""), self.commit or ""))
        return hashlib.sha256(where.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v not in (None, "")}
        out["message"] = mask(self.message)[:MAX_TEXT]
        if self.fix:
            out["fix"] = mask(self.fix)[:MAX_TEXT]
        out["fingerprint"] = self.fingerprint
        return out


@dataclass(frozen=True)
class Unavailable:
    """A dimension that was not checked, and why: reported as such, never as zero findings."""

    dimension: str
    tool: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"dimension": self.dimension, "tool": self.tool, "reason": mask(self.reason)[:MAX_TEXT]}


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Most severe first, then by file and line; duplicates (same fingerprint) dropped."""
    unique = {f.fingerprint: f for f in findings}
    return sorted(unique.values(), key=lambda f: (severity_rank(f.severity), f.file, f.line or 0, f.rule))
