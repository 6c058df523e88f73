"""One catalog target: a Git repo (or a folder of one) behind a cached clone.

A `Clone` lives in the worker's cache, is created once and fetched afterwards. Every operation
takes a file lock on it (processes on one machine queue), starts from the remote's tip, and pushes
the commit and its version tag atomically; a push that loses a race is retried from the new tip.
The store drives the `git` binary directly: GitPython's import alone costs ~70 ms a job and its
push does not raise on a rejected ref.
"""

from __future__ import annotations

import fcntl
import hashlib
import marshal
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from f.fractal import layout, workspace
from f.fractal.errors import ConfigError, InvalidInput, Unreachable
from f.fractal.model import KIND_FOLDERS, KIND_SLUGS, SLUG_KINDS, summary

COMMIT_PREFIX = "fractal:"
_URL_RE = re.compile(r"^(?:(?:https?|git|ssh|file)://[^\s]+|/[^\s]*|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+)$")
_FOLDER_RE = re.compile(r"^(?:[A-Za-z0-9_][A-Za-z0-9_.-]*)(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*){0,5}$")
_BRANCH_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,99}$")
_CREDS_RE = re.compile(r"(://)[^/@\s]+@")
_SUBJECT_RE = re.compile(r"^fractal: (save|delete) (entity|pipeline|meta-pipeline):([a-z0-9-]+)@(\S+)")
_RACE = ("failed to update ref", "non-fast-forward", "fetch first", "stale info", "cannot lock ref", "incorrect old value")
_INDEX_FORMAT = 2


def redact_url(text: str) -> str:
    """Drop credentials embedded in URLs (https://user:token@host → https://***@host)."""
    return _CREDS_RE.sub(r"\1***@", text)


class GitError(Exception):
    def __init__(self, args: list[str], stderr: str) -> None:
        super().__init__(redact_url(f"git {' '.join(args[:2])}: {stderr.strip()[-600:]}"))
        self.stderr = stderr


_GIT_ENV = {
    **os.environ,
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh",
    "LC_ALL": "C",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path | None, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env=_GIT_ENV, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise GitError(list(args), f"{proc.stderr}\n{proc.stdout}".strip())
    return proc.stdout


@dataclass(frozen=True)
class Target:
    """A resolved `git_repository` resource."""

    path: str  # the resource path: how callers and results name the target
    url: str
    branch: str = ""
    folder: str = ""
    signing: bool = False

    @property
    def key(self) -> str:
        raw = f"{redact_url(self.url)}\0{self.url}\0{self.branch}"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def tag(self, kind: str, name: str, version: str) -> str:
        return "/".join(p for p in (self.folder, KIND_SLUGS[kind], name, f"v{version}") if p)


def target_from_value(path: str, value: dict[str, Any]) -> Target:
    url = value.get("url")
    if not isinstance(url, str) or not _URL_RE.match(url) or url.startswith("-"):
        raise ConfigError(
            f"resource {path}: url {redact_url(str(url))!r:.100} is not a Git URL",
            hint="use https://…, ssh://…, git://…, file://… or an absolute path",
        )
    branch = value.get("branch") or ""
    folder = (value.get("folder") or "").strip("/")
    if branch and (not _BRANCH_RE.match(branch) or ".." in branch):
        raise ConfigError(f"resource {path}: bad branch {branch!r:.60}")
    if folder and (not _FOLDER_RE.match(folder) or ".." in folder.split("/")):
        raise ConfigError(f"resource {path}: bad folder {folder!r:.60}", hint="a relative folder such as catalogs/infra")
    return Target(path, url, branch, folder, signing=bool(value.get("gpg_key")))


def load_target(path: str) -> Target:
    workspace.check_path(path, "target")
    return target_from_value(path, workspace.get_resource(path))


class Clone:
    """The cached working clone of one target."""

    def __init__(self, target: Target) -> None:
        self.target = target
        root = workspace.cache_dir("git")
        self.dir = root / target.key
        self._lock_path = root / f"{target.key}.lock"
        self.branch = target.branch or "main"

    @contextmanager
    def lock(self) -> Iterator[Clone]:
        with open(self._lock_path, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield self
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @property
    def root(self) -> Path:
        """The catalog folder inside the working tree."""
        return self.dir / self.target.folder if self.target.folder else self.dir

    def git(self, *args: str, check: bool = True) -> str:
        return git(self.dir, *args, check=check)

    # ------------------------------------------------------------ sync with the remote

    def refresh(self) -> None:
        """Bring the working tree to the remote branch's tip (clone on first use). Raises Unreachable."""
        try:
            if not (self.dir / ".git").is_dir():
                self._clone()
            else:
                self.git("fetch", "-q", "--no-tags", "origin", f"+refs/heads/{self.branch}:refs/remotes/origin/{self.branch}")
        except GitError as e:
            if "couldn't find remote ref" not in e.stderr:
                raise Unreachable(
                    f"{self.target.path}: cannot reach the remote: {e}", hint="the save is kept; run sync_catalog later"
                ) from e
        self.reset()

    def _clone(self) -> None:
        tmp = self.dir.with_name(f"{self.dir.name}.tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            git(None, "clone", "-q", "--no-tags", "--no-checkout", "--", self.target.url, str(tmp))
            if not self.target.branch:
                head = git(tmp, "symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD", check=False).strip()
                self.branch = head.split("/", 1)[1] if "/" in head else "main"
            os.replace(tmp, self.dir)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.git("config", "gc.auto", "0")

    def remote_head(self) -> str:
        return self.git("rev-parse", "-q", "--verify", f"refs/remotes/origin/{self.branch}^{{commit}}", check=False).strip()

    def head(self) -> str:
        return self.git("rev-parse", "-q", "--verify", "HEAD^{commit}", check=False).strip()

    def reset(self) -> None:
        """Drop anything local: the tree becomes the remote tip (or an empty branch)."""
        remote = self.remote_head()
        if remote:
            if self.head() != remote or self.git("status", "--porcelain", "-uall", "--", self.target.folder or ".").strip():
                self.git("checkout", "-q", "-f", "-B", self.branch, remote)
                self.git("clean", "-q", "-fd", "--", self.target.folder or ".")
        else:
            self.git("symbolic-ref", "HEAD", f"refs/heads/{self.branch}")
            self.git("rm", "-rqf", "--cached", "--ignore-unmatch", ".")
            self.git("clean", "-q", "-fdx")
            self.git("update-ref", "-d", "HEAD", check=False)

    # ------------------------------------------------------------ reading

    def item_path(self, kind: str, name: str) -> Path:
        return self.dir / layout.item_dir(self.target.folder, kind, name)

    def current_version(self, kind: str, name: str) -> str | None:
        """The version in the working tree, or None when the item is absent."""
        file = self.item_path(kind, name) / layout.ITEM_FILE
        if not file.is_file():
            return None
        item = layout.read_item(file.parent)
        return str(item["metadata"].get("version") or "") or None

    def history(self, kind: str, name: str, limit: int = 100) -> list[dict[str, str]]:
        """Saves and deletes of an item, newest first, from `git log`."""
        rel = layout.item_dir(self.target.folder, kind, name)
        if not self.head():
            return []
        out = self.git("log", f"-n{limit}", "--format=%H%x1f%an <%ae>%x1f%aI%x1f%s", "--", rel)
        entries = []
        for line in out.splitlines():
            sha, author, when, subject = line.split("\x1f", 3)
            m = _SUBJECT_RE.match(subject)
            if m and SLUG_KINDS[m.group(2)] == kind and m.group(3) == name:
                entries.append({"version": m.group(4), "action": m.group(1), "commit": sha, "author": author, "time": when})
        return entries

    def read_at(self, kind: str, name: str, version: str) -> tuple[dict[str, Any], str] | None:
        """An old version of an item (from the commit that saved it), with that commit."""
        for entry in self.history(kind, name, limit=1000):
            if entry["version"] == version and entry["action"] == "save":
                return self._read_commit(entry["commit"], kind, name), entry["commit"]
        return None

    def _read_commit(self, commit: str, kind: str, name: str) -> dict[str, Any]:
        rel = layout.item_dir(self.target.folder, kind, name)
        names = self.git("ls-tree", "-r", "-z", "--name-only", commit, "--", f"{rel}/").split("\0")
        files: dict[str, str] = {}
        item: dict[str, Any] = {}
        for path in filter(None, names):
            text = self.git("show", f"{commit}:{path}")
            local = path[len(rel) + 1 :]
            if local == layout.ITEM_FILE:
                from f.fractal.yamlio import load_trusted

                item = load_trusted(text)
            elif local != "README.md":
                files[local] = text
        if files:
            item["spec"]["files"] = files
        return item

    # ------------------------------------------------------------ the derived index

    def index(self) -> dict[str, dict[str, Any]]:
        """{'Kind/name': summary row} for the working tree, kept in .git and updated incrementally."""
        head = self.head()
        cache = self.dir / ".git" / "fractal-index"
        data: dict[str, Any] = {}
        if cache.is_file():
            try:
                data = marshal.loads(cache.read_bytes())  # noqa: S302 - our own cache file in .git
            except (EOFError, ValueError, TypeError):
                data = {}
        if data.get("format") == _INDEX_FORMAT and data.get("folder") == self.target.folder:
            if data.get("commit") == head:
                return dict(data["rows"])
            changed = self._changed_items(str(data.get("commit", "")), head)
            if changed is not None:
                rows = dict(data["rows"])
                for key in changed:
                    self._index_one(rows, key)
                self._save_index(head, rows)
                return rows
        rows = {}
        for kind, sub in KIND_FOLDERS.items():
            base = self.root / sub
            if base.is_dir():
                for file in base.glob(f"*/{layout.ITEM_FILE}"):
                    self._index_one(rows, f"{kind}/{file.parent.name}")
        self._save_index(head, rows)
        return rows

    def _index_one(self, rows: dict[str, dict[str, Any]], key: str) -> None:
        kind, name = key.split("/", 1)
        file = self.item_path(kind, name) / layout.ITEM_FILE
        if file.is_file():
            from f.fractal.yamlio import load_trusted

            rows[key] = summary(load_trusted(file.read_text()))
        else:
            rows.pop(key, None)

    def _changed_items(self, old: str, new: str) -> set[str] | None:
        if not old or not new:
            return None
        try:  # an unknown old commit (history rewritten) means a full rebuild
            names = self.git("diff", "--no-renames", "--name-only", "-z", old, new, "--", self.target.folder or ".")
        except GitError:
            return None
        folders = {v: k for k, v in KIND_FOLDERS.items()}
        skip = len(self.target.folder.split("/")) if self.target.folder else 0
        changed = set()
        for path in filter(None, names.split("\0")):
            parts = path.split("/")[skip:]
            if len(parts) >= 3 and parts[0] in folders:
                changed.add(f"{folders[parts[0]]}/{parts[1]}")
        return changed

    def _save_index(self, head: str, rows: dict[str, dict[str, Any]]) -> None:
        if not head:
            return
        cache = self.dir / ".git" / "fractal-index"
        tmp = cache.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(marshal.dumps({"format": _INDEX_FORMAT, "folder": self.target.folder, "commit": head, "rows": rows}))
        os.replace(tmp, cache)

    # ------------------------------------------------------------ writing

    def commit(self, message: str, paths: list[str], author: str) -> str:
        """Stage `paths`, commit with the fixed prefix; returns the new commit."""
        name, _, email = author.partition("<")
        email = email.rstrip(">") or author
        self.git("add", "-A", "--", *paths)
        self.git(
            "-c",
            f"user.name={name.strip() or email.split('@')[0]}",
            "-c",
            f"user.email={email.strip()}",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "--no-verify",
            "-m",
            message,
        )
        return self.head()

    def push(self, tag: str | None) -> bool:
        """Push HEAD (and the version tag, atomically). False when a concurrent push won the race."""
        refs = [f"HEAD:refs/heads/{self.branch}"] + ([f"HEAD:refs/tags/{tag}"] if tag else [])
        try:
            self.git("push", "-q", "--atomic", "--porcelain", "origin", *refs)
            self.git("update-ref", f"refs/remotes/origin/{self.branch}", "HEAD")
            return True
        except GitError as e:
            lines = e.stderr.splitlines()
            if any(word in line for line in lines for word in _RACE):
                return False  # someone else pushed first: retry from the new tip
            if tag and any(f"refs/tags/{tag}" in line and "(already exists)" in line for line in lines):
                raise InvalidInput(
                    f"{self.target.path}: tag {tag} already exists on the remote", hint="save with a higher version"
                ) from e
            raise Unreachable(f"{self.target.path}: push failed: {e}", hint="the save is kept; run sync_catalog later") from e

    def write_indexes(self, rows: dict[str, dict[str, Any]]) -> list[str]:
        """Regenerate the index READMEs; returns their repo-relative paths."""
        readmes = layout.index_readmes(self.target.folder, list(rows.values()))
        for rel, text in readmes.items():
            path = self.dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.is_file() or path.read_text() != text:
                path.write_text(text)
        return list(readmes)
