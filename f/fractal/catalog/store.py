"""One catalog target: a Git repo (or a folder of one) behind a cached clone.

A `Clone` lives in the worker's cache, is created once and fetched afterwards. Every operation
takes a file lock on it (processes on one machine queue), starts from the remote's tip, and pushes
the commit and its version tag atomically; a push that loses a race is retried from the new tip.
The store drives the `git` binary directly: GitPython's import alone costs ~70 ms a job and its
push does not raise on a rejected ref.
"""

from __future__ import annotations

import fcntl
import gc
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

import f.fractal.catalog.layout as layout
import f.fractal.platform.workspace as workspace
from f.fractal.model.errors import ConfigError, GitError, InvalidInput, Unreachable
from f.fractal.model.item import KIND_FOLDERS, KIND_SLUGS, SLUG_KINDS, summary
from f.fractal.platform.yamlio import load_trusted

COMMIT_PREFIX = "fractal:"
_URL_RE = re.compile(r"^(?:(?:https?|git|ssh|file)://[^\s]+|/[^\s]*|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+)$")
_FOLDER_RE = re.compile(r"^(?:[A-Za-z0-9_][A-Za-z0-9_.-]*)(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*){0,5}$")
_BRANCH_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,99}$")
_CREDS_RE = re.compile(r"(://)[^/@\s]+@")
_SUBJECT_RE = re.compile(r"^fractal: (save|delete) (entity|pipeline|meta-pipeline):([a-z0-9-]+)@(\S+)")
_RACE = ("failed to update ref", "non-fast-forward", "fetch first", "stale info", "cannot lock ref", "incorrect old value")
_INDEX_FORMAT = 3
# Settings of the cached clones: fast add/commit on large catalogs, a commit-graph for history walks.
_CLONE_CONFIG = (
    ("gc.auto", "0"),
    ("core.splitIndex", "true"),
    ("core.untrackedCache", "true"),
    ("index.version", "4"),
    ("fetch.writeCommitGraph", "true"),
)


def redact_url(text: str) -> str:
    """Drop credentials embedded in URLs (https://user:token@host → https://***@host)."""
    return _CREDS_RE.sub(r"\1***@", text)


_GIT_ENV = {
    **os.environ,
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh",
    "LC_ALL": "C",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path | None, *args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
    full_env = {**_GIT_ENV, **env} if env else _GIT_ENV
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=full_env, capture_output=True, encoding="utf-8", errors="replace", stdin=subprocess.DEVNULL
    )
    if check and proc.returncode != 0:
        stderr = f"{proc.stderr}\n{proc.stdout}".strip()
        raise GitError(redact_url(f"git {' '.join(args[:2])}: {stderr[-600:]}"), stderr)
    return proc.stdout


def git_ok(cwd: Path, *args: str) -> bool:
    """Whether a git command exits 0 (for questions such as merge-base --is-ancestor)."""
    return subprocess.run(["git", *args], cwd=cwd, env=_GIT_ENV, capture_output=True, stdin=subprocess.DEVNULL).returncode == 0


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
        """The clone cache's name: one clone per repo, branch and folder (each folder has its own index)."""
        return hashlib.sha256(f"{self.url}\0{self.branch}\0{self.folder}".encode()).hexdigest()[:16]

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
        self._dirty = self.dir / ".git" / "fractal-dirty"  # set while the tree holds uncommitted writes
        self._branch_file = self.dir / ".git" / "fractal-branch"  # the remote's default, found at clone time
        self.branch = target.branch or (self._branch_file.read_text().strip() if self._branch_file.is_file() else "main")

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

    def git(self, *args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
        return git(self.dir, *args, check=check, env=env)

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
                    f"{self.target.path}: cannot reach the remote: {e}",
                    hint="saves are kept and pushed by sync_catalog; reads use the cached copy",
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
                (tmp / ".git" / "fractal-branch").write_text(self.branch)
            for key, value in _CLONE_CONFIG:
                git(tmp, "config", key, value)
            git(tmp, "commit-graph", "write", "--reachable", "--changed-paths", check=False)
            (tmp / ".git" / "fractal-dirty").touch()  # cloned without checkout: the next reset fills the tree
            os.replace(tmp, self.dir)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def remote_head(self) -> str:
        return self.git("rev-parse", "-q", "--verify", f"refs/remotes/origin/{self.branch}^{{commit}}", check=False).strip()

    def head(self) -> str:
        return self.git("rev-parse", "-q", "--verify", "HEAD^{commit}", check=False).strip()

    def reset(self) -> None:
        """Drop anything local: the tree becomes the remote tip (or an empty branch).

        Only the pack writes in the clone, and it marks the tree dirty first, so a clean tree at the
        remote tip needs no `git status` (which costs ~200 ms on a 50,000-file catalog).
        """
        remote = self.remote_head()
        if remote:
            if self.head() != remote or self._dirty.exists():
                self.git("checkout", "-q", "-f", "-B", self.branch, remote)
                self.git("clean", "-q", "-fd", "--", self.target.folder or ".")
        else:
            self.git("symbolic-ref", "HEAD", f"refs/heads/{self.branch}")
            self.git("rm", "-rqf", "--cached", "--ignore-unmatch", ".")
            self.git("clean", "-q", "-fdx")
            self.git("update-ref", "-d", "HEAD", check=False)
        self._dirty.unlink(missing_ok=True)

    # ------------------------------------------------------------ reading

    def item_path(self, kind: str, name: str) -> Path:
        return self.dir / layout.item_dir(self.target.folder, kind, name)

    def current_version(self, kind: str, name: str) -> str | None:
        """The version in the working tree, or None when the item is absent."""
        file = self.item_path(kind, name) / layout.ITEM_FILE
        if not file.is_file():
            return None

        return str(load_trusted(file.read_text(encoding="utf-8"))["metadata"].get("version") or "") or None

    def tagged_versions(self, kind: str, name: str) -> list[str]:
        """Versions the remote holds tags for: the floor of a re-created item (a tag is never reused)."""
        prefix = f"refs/tags/{self.target.tag(kind, name, '')}"
        out = self.git("ls-remote", "--tags", "origin", f"{prefix}*")
        refs = (line.split("\t", 1)[-1] for line in out.splitlines())
        return [ref[len(prefix) :] for ref in refs if ref.startswith(prefix) and not ref.endswith("^{}")]

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
        """An old version, read at its version tag (fetched on demand), else found in the history."""
        tag = f"refs/tags/{self.target.tag(kind, name, version)}"
        commit = self._commit_of(tag)
        if not commit:
            self.git("fetch", "-q", "--no-tags", "origin", f"+{tag}:{tag}", check=False)
            commit = self._commit_of(tag)
        if not commit:
            saved = [e for e in self.history(kind, name, limit=1000) if e["version"] == version and e["action"] == "save"]
            commit = saved[0]["commit"] if saved else ""
        return (self._read_commit(commit, kind, name), commit) if commit else None

    def _commit_of(self, ref: str) -> str:
        return self.git("rev-parse", "-q", "--verify", f"{ref}^{{commit}}", check=False).strip()

    def _read_commit(self, commit: str, kind: str, name: str) -> dict[str, Any]:
        """An item folder as it was at `commit`, read with one `git cat-file --batch`."""
        rel = layout.item_dir(self.target.folder, kind, name)
        paths = [p for p in self.git("ls-tree", "-r", "-z", "--name-only", commit, "--", f"{rel}/").split("\0") if p]
        files = {p[len(rel) + 1 :]: text for p, text in zip(paths, self._cat(commit, paths), strict=True)}
        item: dict[str, Any] = load_trusted(files.pop(layout.ITEM_FILE))
        files.pop("README.md", None)
        if files:
            item["spec"]["files"] = files
        return item

    def _cat(self, commit: str, paths: list[str]) -> list[str]:
        request = "".join(f"{commit}:{p}\n" for p in paths).encode()
        out = subprocess.run(
            ["git", "cat-file", "--batch"], cwd=self.dir, env=_GIT_ENV, input=request, capture_output=True, check=True
        ).stdout
        texts, pos = [], 0
        for _ in paths:
            header_end = out.index(b"\n", pos)
            size = int(out[pos:header_end].split()[2])
            texts.append(out[header_end + 1 : header_end + 1 + size].decode(errors="replace"))
            pos = header_end + 2 + size
        return texts

    # ------------------------------------------------------------ the derived index

    def index(self) -> dict[str, dict[str, Any]]:
        """{'Kind/name': summary row + the commit that last changed it}, for the working tree.

        Kept in .git and brought up to date from `git log old..new`, so a warm read costs one load.
        The dict is the caller's to change.
        """
        head = self.head()
        data = self._load_index()
        if data.get("format") == _INDEX_FORMAT and data.get("folder") == self.target.folder:
            if data["commit"] == head:
                return data["rows"]
            changes = self._changes(str(data["commit"]), head)
            if changes is not None:
                rows: dict[str, dict[str, Any]] = data["rows"]
                for key, commit in changes.items():
                    self._index_one(rows, key, commit)
                return self._save_index(head, rows)
        last = self._changes("", head) or {}
        rows = {}
        for kind, sub in KIND_FOLDERS.items():
            base = self.root / sub
            if base.is_dir():
                for file in base.glob(f"*/{layout.ITEM_FILE}"):
                    key = f"{kind}/{file.parent.name}"
                    self._index_one(rows, key, last.get(key, head))
        return self._save_index(head, rows)

    def _load_index(self) -> dict[str, Any]:
        cache = self.dir / ".git" / "fractal-index"
        if not cache.is_file():
            return {}
        gc.disable()  # 11,000 small dicts: the collector would triple the load time
        try:
            data: dict[str, Any] = marshal.loads(cache.read_bytes())  # noqa: S302 - our own file in .git
            return data
        except (EOFError, ValueError, TypeError):
            return {}
        finally:
            gc.enable()

    def _index_one(self, rows: dict[str, dict[str, Any]], key: str, commit: str) -> None:
        kind, name = key.split("/", 1)
        file = self.item_path(kind, name) / layout.ITEM_FILE
        if file.is_file():
            rows[key] = {**summary(load_trusted(file.read_text(encoding="utf-8"))), "commit": commit}
        else:
            rows.pop(key, None)

    def _changes(self, old: str, new: str) -> dict[str, str] | None:
        """{item key: newest commit touching it} between two commits (all history when old is '').

        None when `old` is not an ancestor of `new` (history was rewritten): rebuild instead.
        """
        if not new:
            return {}
        if old and not self._is_ancestor(old, new):
            return None
        span = f"{old}..{new}" if old else new
        out = self.git("log", "--format=%x1e%H", "--name-only", "--no-renames", span, "--", self.target.folder or ".")
        folders = {v: k for k, v in KIND_FOLDERS.items()}
        skip = len(self.target.folder.split("/")) if self.target.folder else 0
        changes: dict[str, str] = {}
        for record in out.split("\x1e")[1:]:
            commit, *paths = record.split("\n")
            for path in paths:
                parts = path.split("/")[skip:]
                if len(parts) >= 3 and parts[0] in folders:
                    changes.setdefault(f"{folders[parts[0]]}/{parts[1]}", commit)
        return changes

    def _is_ancestor(self, old: str, new: str) -> bool:
        return git_ok(self.dir, "merge-base", "--is-ancestor", old, new)

    def settle(self, commit: str, rows: dict[str, dict[str, Any]]) -> None:
        """After a successful push: the tree is clean at `commit`, and `rows` is its index."""
        self._save_index(commit, rows)
        self._dirty.unlink(missing_ok=True)

    def _save_index(self, head: str, rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Store the index of `head`; returns it in key order = (kind, name) order: listing needs no sort."""
        ordered = dict(sorted(rows.items()))
        if head:
            cache = self.dir / ".git" / "fractal-index"
            tmp = cache.with_suffix(f".tmp{os.getpid()}")
            tmp.write_bytes(
                marshal.dumps({"format": _INDEX_FORMAT, "folder": self.target.folder, "commit": head, "rows": ordered})
            )
            os.replace(tmp, cache)
        return ordered

    # ------------------------------------------------------------ writing

    def stage_item(self, kind: str, name: str, item: dict[str, Any] | None) -> str:
        """Write (or, for None, remove) an item's folder; returns its repo-relative path."""
        self._dirty.touch()
        rel = layout.item_dir(self.target.folder, kind, name)
        if item is None:
            layout.remove_item(self.dir, rel)
        else:
            layout.write_item(self.dir, rel, item)
        return rel

    def write_indexes(self, rows: dict[str, dict[str, Any]], kind: str) -> list[str]:
        """Regenerate the top index README and the README of `kind`; returns their paths."""
        self._dirty.touch()
        readmes = layout.index_readmes(self.target.folder, list(rows.values()), kinds=[kind])
        for rel, text in readmes.items():
            path = self.dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return list(readmes)

    def commit(self, message: str, paths: list[str], author: str) -> str:
        """Stage `paths` and commit them (plumbing: no index refresh over the whole tree)."""
        name, _, email = author.partition("<")
        email = (email.rstrip(">") or author).strip()
        who = name.strip() or email.split("@")[0]
        env = {"GIT_AUTHOR_NAME": who, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": who, "GIT_COMMITTER_EMAIL": email}
        self.git("add", "-A", "--", *paths)
        tree = self.git("write-tree").strip()
        parent = self.head()
        commit = self.git("commit-tree", tree, *(["-p", parent] if parent else []), "-m", message, env=env).strip()
        self.git("update-ref", "HEAD", commit, *([parent] if parent else []))
        return commit

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
