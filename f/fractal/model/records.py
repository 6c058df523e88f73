"""Typed records that cross modules: what the catalog returns for a ref, what a check reports."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class Found(TypedDict):
    """An item read from a catalog: its pinned ref, the item, and where and at which commit it was read."""

    ref: str  # pinned: kind:name@x.y.z
    item: dict[str, Any]
    target: NotRequired[str]  # the git_repository resource path it came from
    commit: NotRequired[str]
    stale: NotRequired[bool]  # read from a cached clone because the remote could not be reached


class Finding(TypedDict):
    file: str
    message: str
    line: NotRequired[int]


class CheckReport(TypedDict):
    """What a tool's checkers found: the one report shape of every tool (tools.checks.Report.to_dict)."""

    ok: bool
    errors: list[Finding]
    warnings: list[Finding]
    checks_run: list[str]
    checks_skipped: list[dict[str, str]]
    unused: NotRequired[list[dict[str, Any]]]  # generation: the need's specifics the files do not carry
