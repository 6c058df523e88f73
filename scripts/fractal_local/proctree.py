"""A job's process tree, from /proc: what a cancel, a timeout or a server going away stops."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

KILL_AFTER_S = 3.0  # from SIGTERM to SIGKILL


def process_tree(pid: int) -> list[int]:
    """pid and every process under it (a tool may start its own session, e.g. ansible-runner's pty)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [pid], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def signal_tree(tree: list[int], sig: int) -> None:
    """Signal the tree's process group (its first pid leads one) and each of its processes."""
    for i, pid in enumerate(tree):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig) if i == 0 else os.kill(pid, sig)


def started(pid: int) -> str:
    """The process's start time (clock ticks since boot), '' when it is gone: with the pid, it names one process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""
