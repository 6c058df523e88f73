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
import os
import re
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import f.fractal.catalog.layout as layout
import f.fractal.catalog.pages as pages
import f.fractal.platform.settings as settings
import f.fractal.platform.workspace as workspace
from f.fractal.catalog.index import CatalogIndex, Damaged
from f.fractal.model.errors import ConfigError, FractalError, GitError, InvalidInput, Unreachable
from f.fractal.model.item import KIND_FOLDERS, KIND_SLUGS, SLUG_KINDS, summary
from f.fractal.platform.yamlio import load_trusted

COMMIT_PREFIX = "fractal:"
_URL_RE = re.compile(r"^(?:(?:https?|git|ssh|file)://[^\s]+|/[^\s]*|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+)$")
_FOLDER_RE = re.compile(r"^(?:[A-Za-z0-9_][A-Za-z0-9_.-]*)(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*){0,5}$")
_BRANCH_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,99}$")
_CREDS_RE = re.compile(r"(://)[^/@\s]+@")
_SUBJECT_RE = re.compile(r"^fractal: (save|delete) (entity|pipeline|meta-pipeline):([a-z0-9-]+)@(\S+)")
_RACE = ("failed to update ref", "non-fast-forward", "fetch first", "stale info", "cannot lock ref", "incorrect old value")
# What git prints when the remote, not the local clone, is the problem.
_NETWORK = ("could not read from remote", "unable to access", "connection refused", "could not resolve host",
            "unable to connect", "does not appear to be a git repository", "remote error", "timed out",
            "connection reset", "network is unreachable", "no route to host", "early eof", "the remote end hung up")
_STALE_LOCK_RE = re.compile(r"Unable to create '([^']+\.lock)': File exists")
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


def fetch_ttl() -> float:
    """Seconds a refreshed clone is read without fetching again (setting fetch_ttl_s, default 2; 0 = always)."""
    return settings.load().fetch_ttl_s


# Open index files of this process, per clone and thread, with the file's inode (a re-clone makes a new file).
_INDEXES: dict[tuple[Path, int], tuple[CatalogIndex, int]] = {}


class Clone:
    """The cached working clone of one target.

    Reads hold a shared lock, writes an exclusive one. A read within `fetch_ttl()` of the last
    refresh (recorded in .git/fractal-fresh with the commit the tree is at) neither fetches nor
    runs git: processes reading at once never queue behind each other.
    """

    def __init__(self, target: Target) -> None:
        self.target = target
        root = workspace.cache_dir("git")
        self.dir = root / target.key
        self._lock_path = root / f"{target.key}.lock"
        self._dirty = self.dir / ".git" / "fractal-dirty"  # set while the tree holds uncommitted writes
        self._fresh = self.dir / ".git" / "fractal-fresh"  # the commit the clean tree is at, written at refresh
        self._branch_file = self.dir / ".git" / "fractal-branch"  # the remote's default, found at clone time
        self.branch = target.branch or self._saved_branch()
        self.exclusive = False

    def _saved_branch(self) -> str:
        try:
            saved = self._branch_file.read_text().strip()
        except OSError:
            return "main"
        return saved if _BRANCH_RE.match(saved) and ".." not in saved else "main"

    @contextmanager
    def lock(self, shared: bool = False) -> Iterator[Clone]:
        """The pack's lock on this clone: shared to read, exclusive to write (or refresh)."""
        with open(self._lock_path, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            self.exclusive = not shared
            try:
                yield self
            finally:
                self.exclusive = False
                fcntl.flock(fh, fcntl.LOCK_UN)

    @contextmanager
    def reading(self) -> Iterator[bool]:
        """Hold the clone for a read; yields whether it is stale (the remote could not be reached).

        Fresh (refreshed within the TTL, tree clean): a shared lock and nothing else. Otherwise an
        exclusive lock, a refresh, and the read under it."""
        with self.lock(shared=True):
            if self.fresh_commit() is not None:
                yield False
                return
        with self.lock():
            stale = False
            if self.fresh_commit() is None:  # unless a reader queued before this one just refreshed it
                try:
                    self.refresh()
                except Unreachable:
                    if not self.head():
                        raise
                    stale = True
            yield stale

    def fresh_commit(self) -> str | None:
        """The commit of a clean tree refreshed within the TTL ('' for an empty branch), else None."""
        try:
            age = time.time() - self._fresh.stat().st_mtime
            if age > fetch_ttl() or self._dirty.exists():
                return None
            return self._fresh.read_text().strip()
        except OSError:
            return None

    def _mark_fresh(self, commit: str) -> None:
        tmp = self._fresh.with_name(f"fractal-fresh.{os.getpid()}")
        tmp.write_text(commit)
        os.replace(tmp, self._fresh)

    @property
    def root(self) -> Path:
        """The catalog folder inside the working tree."""
        return self.dir / self.target.folder if self.target.folder else self.dir

    def git(self, *args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
        """Run git in the clone. Under the exclusive lock no other git process works here, so a lock
        file git complains about was left by a killed process: it is removed and the command rerun."""
        for attempt in range(4):
            try:
                return git(self.dir, *args, check=check, env=env)
            except GitError as e:
                stale = _STALE_LOCK_RE.search(e.stderr)
                if not (stale and self.exclusive and attempt < 3 and self._inside_git_dir(Path(stale.group(1)))):
                    raise
                Path(stale.group(1)).unlink(missing_ok=True)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _inside_git_dir(self, path: Path) -> bool:
        return path.resolve().is_relative_to((self.dir / ".git").resolve())

    # ------------------------------------------------------------ sync with the remote

    def refresh(self) -> None:
        """Bring the working tree to the remote branch's tip (clone on first use, re-clone when the
        clone is damaged). Raises Unreachable only when the remote is the problem."""
        if not self._sane():
            self._reclone()
        try:
            self._fetch()
            remote = self.reset()
        except GitError:  # not the network (_fetch raised Unreachable for that): the clone is damaged
            self._reclone()
            try:
                self._fetch()
                remote = self.reset()
            except GitError as e:
                raise FractalError(f"{self.target.path}: the cached clone cannot be repaired: {e}",
                                   hint=f"remove {self.dir} and retry") from e
        self._mark_fresh(remote)

    def _fetch(self) -> None:
        try:
            if not (self.dir / ".git").is_dir():
                self._clone()
            else:
                self.git("fetch", "-q", "--no-tags", "origin", f"+refs/heads/{self.branch}:refs/remotes/origin/{self.branch}")
        except GitError as e:
            if "couldn't find remote ref" in e.stderr:
                return
            if _network_fault(e):
                raise Unreachable(
                    f"{self.target.path}: cannot reach the remote: {e}",
                    hint="saves are kept and pushed by sync_catalog; reads use the cached copy",
                ) from e
            raise

    def _sane(self) -> bool:
        """Whether an existing clone looks usable (absent counts as sane: it is cloned by _fetch). Cheap:
        deeper damage makes a git command fail, which refresh repairs the same way."""
        git_dir = self.dir / ".git"
        return (git_dir / "HEAD").is_file() if git_dir.is_dir() else not self.dir.exists()

    def _reclone(self) -> None:
        """Replace a damaged clone by a fresh one (the outbox lives elsewhere: queued saves are kept)."""
        if not self.exclusive:
            raise FractalError(f"{self.target.path}: the cached clone needs repair", hint="retry: the next save repairs it")
        broken = self.dir.with_name(f"{self.dir.name}.broken{os.getpid()}")
        if self.dir.exists():
            os.replace(self.dir, broken)
        shutil.rmtree(broken, ignore_errors=True)
        self.branch = self.target.branch or "main"
        try:
            self._clone()
        except GitError as e:
            if _network_fault(e):
                raise Unreachable(f"{self.target.path}: cannot reach the remote: {e}",
                                  hint="saves are kept and pushed by sync_catalog") from e
            raise FractalError(f"{self.target.path}: cannot clone the catalog: {e}",
                               hint="check the resource's url and branch") from e

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

    def reset(self) -> str:
        """Drop anything local: the tree becomes the remote tip (or an empty branch); returns the tip.

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
        return remote

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

    def catalog_index(self, head: str | None = None) -> CatalogIndex:
        """The index of the tree (SQLite in .git), brought up to date from `git log old..new` or rebuilt
        from the tree when missing, damaged, of another folder or of rewritten history. `head`: the
        tree's commit when known (a fresh clone's), else asked of git."""
        index = self._open_index()
        head = self.head() if head is None else head
        if index.state() == (head, self.target.folder):
            return index
        with index.transaction():
            commit, folder = index.state()  # another process may have caught up meanwhile
            if (commit, folder) == (head, self.target.folder):
                return index
            changes = self._changes(commit, head) if commit and folder == self.target.folder else None
            if changes is None:
                index.clear()
                changes = {**dict.fromkeys(self._tree_keys(), head), **(self._changes("", head) or {})}
            for key, last in changes.items():
                index.put(key, self._row(key, last))
            index.set_state(head, self.target.folder)
        return index

    def _open_index(self) -> CatalogIndex:
        key = (self.dir / ".git" / "fractal-index.sqlite", threading.get_ident())
        held = _INDEXES.get(key)
        try:
            if held and key[0].stat().st_ino == held[1]:
                return held[0]
        except OSError:
            pass
        if held:
            held[0].close()
        index = CatalogIndex.open(key[0])
        _INDEXES[key] = (index, key[0].stat().st_ino)
        return index

    def known(self, key: str) -> tuple[str, dict[str, Any] | None]:
        """What this worker last saw, without the remote: (its index's commit, the item's row or None)."""
        if not (self.dir / ".git").is_dir():
            return "", None
        try:
            index = self._open_index()
            return index.state()[0], index.row(key)
        except (sqlite3.DatabaseError, Damaged):
            return "", None

    def _tree_keys(self) -> list[str]:
        keys: list[str] = []
        for kind, sub in KIND_FOLDERS.items():
            base = self.root / sub
            if base.is_dir():
                keys.extend(f"{kind}/{file.parent.name}" for file in base.glob(f"*/{layout.ITEM_FILE}"))
        return keys

    def _row(self, key: str, commit: str) -> dict[str, Any] | None:
        """The index row of an item in the tree with the commit that last changed it; None when absent."""
        kind, name = key.split("/", 1)
        file = self.item_path(kind, name) / layout.ITEM_FILE
        if not file.is_file():
            return None
        return {**summary(load_trusted(file.read_text(encoding="utf-8"))), "commit": commit}

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

    # ------------------------------------------------------------ writing

    def stage_item(self, kind: str, name: str, item: dict[str, Any] | None) -> str:
        """Write (or, for None, remove) an item's folder; returns its repo-relative path."""
        self._fresh.unlink(missing_ok=True)
        self._dirty.touch()
        rel = layout.item_dir(self.target.folder, kind, name)
        if item is None:
            layout.remove_item(self.dir, rel)
        else:
            layout.write_item(self.dir, rel, item)
        return rel

    def write_indexes(self, index: CatalogIndex, kind: str, name: str, row: dict[str, Any] | None) -> list[str]:
        """Rewrite the index READMEs a change of one item touches (see catalog.pages): the pages under the
        prefix it shares with at most PAGE_ROWS others, the kind's list of pages, the top README.
        `index` is the tree's before the change. Returns the repo-relative paths written or removed."""
        self._dirty.touch()
        sub = KIND_FOLDERS[kind]
        base = self.root / sub
        rel = f"{self.target.folder}/{sub}" if self.target.folder else sub
        key = f"{kind}/{name}"
        held = index.row(key) is not None

        def others(prefix: str) -> int:
            return index.count_prefix(kind, prefix) - (held and name.startswith(prefix))

        paged = _first_line(base / "README.md") == pages.MARKER
        region = pages.page_of(name, others) if paged else ""  # an old-style README: every page, once
        names = [n for n in index.names(kind, region) if n != name]
        rows = {r["name"]: r for r in index.rows_named(kind, names)}
        if row is not None:
            rows[name] = row
        paged_names = pages.paginate(sorted(rows), region) or {"": []}
        touched: dict[str, str | None] = {}  # kind-relative path → text, None to remove
        if (base / pages.PAGES).is_dir():
            for old in (base / pages.PAGES).glob(f"{region}*.md"):
                touched[f"{pages.PAGES}/{old.name}"] = None
        for prefix, page_names in paged_names.items():
            touched[pages.page_path(prefix)] = pages.page_text(kind, prefix, [rows[n] for n in page_names])
        if "" not in paged_names:
            listed = [p.stem for p in (base / pages.PAGES).glob("*.md")]
            counts = {p: index.count_prefix(kind, p) for p in listed if not p.startswith(region)}
            counts.update({p: len(n) for p, n in paged_names.items()})
            touched["README.md"] = pages.pages_list(kind, counts)
        total = {k: index.kind_count(k) for k in KIND_FOLDERS}
        total[kind] += (row is not None) - held
        paths = [f"{rel}/{path}" for path in touched]
        for path, text in touched.items():
            file = base / path
            if text is None:
                file.unlink(missing_ok=True)
            else:
                file.parent.mkdir(parents=True, exist_ok=True)
                file.write_text(text, encoding="utf-8")
        top = self.root / "README.md"
        top.write_text(pages.top_text(total), encoding="utf-8")
        return [*paths, str(top.relative_to(self.dir))]

    def settle(self, commit: str, index: CatalogIndex, key: str, row: dict[str, Any] | None) -> None:
        """After a successful push: the tree is clean at `commit`, and the index takes the change."""
        with index.transaction():
            index.put(key, row)
            index.set_state(commit, self.target.folder)
        self._dirty.unlink(missing_ok=True)
        self._mark_fresh(commit)

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


def _first_line(path: Path) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.readline().rstrip("\n")
    except OSError:
        return ""


def _network_fault(error: GitError) -> bool:
    """Whether git failed because of the remote (unreachable, refused), not the local clone."""
    text = error.stderr.lower()
    return any(word in text for word in _NETWORK)
