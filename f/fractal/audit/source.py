"""The repository under audit: a Git URL, a `git_repository` resource path, or a local path.

Every form is cloned into a temporary folder (a local repository too, so the audit never touches
its working copy); a plain folder without Git is audited in place, without history. Credentials in
a URL never reach an error or a result.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import f.fractal.catalog.store as gitstore
from f.fractal.model.errors import InvalidInput, NotFound, Unreachable

_URL_RE = re.compile(r"^(?:https?|git|ssh|file)://\S+$|^[\w.-]+@[\w.-]+:\S+$")
_RESOURCE_RE = re.compile(r"^[fu]/[\w-]+/[\w/-]+$")
_REF_RE = re.compile(r"^[A-Za-z0-9._/-]{1,200}$")


@dataclass(frozen=True)
class Checkout:
    """A working tree to scan; `git` is False for a plain folder (no history to search)."""

    root: Path
    source: str  # how the report names the repository (credentials removed)
    git: bool
    head: str = ""
    commits: int = 0


def is_url(text: str) -> bool:
    return bool(_URL_RE.match(text)) and not text.startswith("-")


def _clone(url: str, ref: str, depth: int, into: Path) -> None:
    args = ["clone", "--quiet", "--no-tags"]
    if depth:
        args += ["--depth", str(depth), "--no-single-branch"] if not ref else ["--depth", str(depth)]
    if ref:
        args += ["--branch", ref]
    try:
        gitstore.git(None, *args, "--", url, str(into))
    except gitstore.GitError as e:
        raise Unreachable(f"cannot clone {gitstore.redact_url(url)}: {e}",
                          hint="check the URL, the branch or tag (ref) and the credentials") from None


def _resolve(repo: str) -> tuple[str, str]:
    """(clone URL or local folder, branch) for any accepted form of `repo`."""
    path = Path(repo).expanduser()
    if path.is_absolute() or repo.startswith("."):
        if not path.is_dir():
            raise NotFound(f"no folder at {repo!r:.200}",
                           hint="give a repository folder, a Git URL or a git_repository resource path")
        return str(path.resolve()), ""
    if is_url(repo):
        return repo, ""
    if _RESOURCE_RE.match(repo):
        target = gitstore.load_target(repo)
        return target.url, target.branch
    raise InvalidInput(f"repo {gitstore.redact_url(repo)!r:.200} is neither a folder, a Git URL nor a resource path",
                       hint="e.g. /path/to/repo, https://github.com/org/app.git or f/fractal/app_repo")


@contextmanager
def checkout(repo: str, ref: str = "", history: int = 0) -> Iterator[Checkout]:
    """A temporary clone of `repo` at `ref` (default branch when empty), `history` commits deep (0 = all)."""
    if not isinstance(repo, str) or not repo.strip():
        raise InvalidInput("repo is empty", hint="give a repository folder, a Git URL or a git_repository resource path")
    if ref and (not _REF_RE.match(ref) or ref.startswith("-") or ".." in ref):
        raise InvalidInput(f"bad ref {ref!r:.60}", hint="a branch or tag name such as main or v1.2.0")
    if isinstance(history, bool) or not isinstance(history, int) or history < 0:
        raise InvalidInput("history must be a number of commits (0 = the whole history)")
    url, branch = _resolve(repo.strip())
    shown = gitstore.redact_url(repo.strip())
    local = Path(url)
    if local.is_dir() and not (local / ".git").exists() and not (local / "HEAD").is_file():
        yield Checkout(local, shown, git=False)
        return
    tmp = Path(tempfile.mkdtemp(prefix="fractal-audit-"))
    try:
        into = tmp / "repo"
        _clone(url if not local.is_dir() else local.as_uri(), ref or branch, history, into)
        head = gitstore.git(into, "rev-parse", "HEAD").strip() if _has_commits(into) else ""
        commits = int(gitstore.git(into, "rev-list", "--count", "HEAD").strip()) if head else 0
        yield Checkout(into, shown, git=True, head=head, commits=commits)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _has_commits(root: Path) -> bool:
    return gitstore.git_ok(root, "rev-parse", "--verify", "-q", "HEAD")


def tracked_files(co: Checkout) -> list[str]:
    """The files of the tip (Git's list; every file under a plain folder), as POSIX relative paths."""
    if co.git:
        return [p for p in gitstore.git(co.root, "ls-files", "-z").split("\0") if p]
    skip = {".git", "node_modules", ".venv", "__pycache__"}
    return sorted(str(p.relative_to(co.root)) for p in co.root.rglob("*")
                  if p.is_file() and not skip & set(p.relative_to(co.root).parts))
