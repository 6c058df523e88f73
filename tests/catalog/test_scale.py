"""Catalog at scale and a cache that heals, against real bare repositories and real processes.

Paged index READMEs stay equal to a fresh build while saves rewrite only their region; reads within
the fetch TTL take a shared lock and contact nobody; stale git locks, a damaged clone and a damaged
index file are repaired by the next call (never reported as an unreachable remote); kill -9 of
saving processes leaves every later save working.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from support.git import git_out
from support.items import entity
from support.paths import ROOT

import f.fractal.catalog.items as catalog
import f.fractal.catalog.pages as pages
from f.fractal.catalog.store import Clone


def remote(tmp_path: Path, name: str) -> Path:
    return tmp_path / "remotes" / f"{name}.git"


INDEX_README = re.compile(r"^(?:[a-z-]+/)?(?:_pages/[^/]+\.md|README\.md)$")


def readmes_in(bare: Path) -> dict[str, str]:
    """The index READMEs at the tip: the top one, each kind's and its pages (not the items')."""
    names = git_out(bare, "ls-tree", "-r", "--name-only", "main").split()
    return {n: git_out(bare, "show", f"main:{n}") for n in names if INDEX_README.match(n)}


def test_paged_readmes_equal_a_fresh_build_and_saves_touch_a_bounded_set(
    make_target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "PAGE_ROWS", 3)
    t = make_target("a")
    bare = remote(tmp_path, "a")
    names = ["ab-one", "ab-two", "ac-one", "b-one", "ab-three", "ab-four", "ab-five", "c-one", "ab-six"]
    for name in names:
        catalog.save(entity(name), [t])
        touched = git_out(bare, "diff-tree", "-r", "--name-only", "--no-commit-id", "main").split()
        rewritten = [p for p in touched if p.startswith("entities/_pages/")]
        assert len(rewritten) <= 4, f"a save rewrites the pages of one region only: {touched}"
    for name in ("ab-two", "c-one", "ab-six", "ab-five"):
        catalog.delete(f"entity:{name}", [t])
    rows = catalog.list_items([t], limit=1000)["items"]
    want = pages.all_readmes("", [{k: v for k, v in r.items() if k not in ("targets", "commit")} for r in rows])
    assert readmes_in(bare) == want
    listing = git_out(bare, "show", "main:entities/README.md")
    assert listing.startswith(pages.MARKER) and "](_pages/ab.md)" in listing
    assert "[ab-one](../ab-one/README.md)" in git_out(bare, "show", "main:entities/_pages/ab.md"), "found by name"


def test_reads_within_the_ttl_take_a_shared_lock_and_contact_no_remote(
    make_target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = make_target("a")
    catalog.save(entity("web"), [t])
    monkeypatch.setenv("FRACTAL_FETCH_TTL_S", "600")
    catalog.list_items([t])  # refreshed now
    bare = remote(tmp_path, "a")
    bare.rename(bare.with_name("moved.git"))  # any fetch would now fail
    clone = Clone(catalog.resolve_targets([t])[0])
    results: list[object] = []
    with clone.lock(shared=True):  # another reader holds the clone: this one must not wait for it
        reader = threading.Thread(target=lambda: results.append(catalog.get("entity:web", [t])))
        reader.start()
        reader.join(timeout=60)
    assert results and results[0]["stale"] is False  # type: ignore[index]
    assert catalog.list_items([t])["stale_targets"] == []
    monkeypatch.setenv("FRACTAL_FETCH_TTL_S", "0")
    assert catalog.list_items([t])["stale_targets"] == [t], "past the TTL the read fetches, and says it fell back"
    monkeypatch.setenv("FRACTAL_FETCH_TTL_S", "soon")
    with pytest.raises(Exception, match="FRACTAL_FETCH_TTL_S"):
        catalog.list_items([t])


def test_stale_locks_a_damaged_clone_and_a_damaged_index_heal(make_target, tmp_path: Path) -> None:
    t = make_target("a")
    catalog.save(entity("web"), [t])
    clone = Clone(catalog.resolve_targets([t])[0])
    git_dir = clone.dir / ".git"
    locks = [git_dir / "index.lock", git_dir / "refs" / "heads" / "main.lock", git_dir / "HEAD.lock"]
    for lock in locks:
        lock.write_text("left by a killed git\n")
    assert catalog.save(entity("api"), [t])["targets"][0]["status"] == "saved"
    assert not any(lock.exists() for lock in locks)

    (git_dir / "fractal-index.sqlite").write_bytes(b"garbage" * 1000)
    for suffix in ("-wal", "-shm"):
        (git_dir / f"fractal-index.sqlite{suffix}").unlink(missing_ok=True)
    (git_dir / "fractal-branch").write_text("../../etc\n")
    assert [r["name"] for r in catalog.list_items([t])["items"]] == ["api", "web"]

    (git_dir / "config").write_text("[core\nthis is not git config\n")
    assert catalog.save(entity("db"), [t])["targets"][0]["status"] == "saved"
    (clone.dir / ".git" / "HEAD").unlink()
    assert catalog.get("entity:db", [t])["item"]["metadata"]["name"] == "db"


def test_a_local_fault_keeps_the_outbox_and_is_not_reported_unreachable(make_target, tmp_path: Path) -> None:
    t = make_target("a")
    catalog.save(entity("web"), [t])
    bare = remote(tmp_path, "a")
    bare.rename(bare.with_name("away.git"))
    assert catalog.save(entity("api"), [t])["pending"] == [t]
    bare.with_name("away.git").rename(bare)
    target = catalog.resolve_targets([t])[0]
    (Clone(target).dir / ".git" / "HEAD").unlink()  # damaged while the save waited
    result = catalog.save(entity("db"), [t])
    assert result["targets"][0]["status"] == "saved", result
    assert len(catalog.pending(target)) == 1
    assert catalog.sync([t])["targets"][0]["replayed"] == ["save entity:api"]


SAVE = ("import sys\nfrom support.items import entity\nimport f.fractal.catalog.items as catalog\n"
        "catalog.save(entity(sys.argv[1]), [sys.argv[2]])\n")


def test_kill_9_during_saves_leaves_the_worker_able_to_save(make_target) -> None:
    t = make_target("a")
    catalog.save(entity("web"), [t])
    rng = random.Random(17)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}:{ROOT / 'tests'}"}
    for i in range(6):  # bounded: six processes, each killed at a random moment of its save
        proc = subprocess.Popen([sys.executable, "-c", SAVE, f"killed-{i}", t], env=env, cwd=ROOT)
        try:
            assert proc.wait(timeout=rng.uniform(0.2, 0.9)) == 0, "a save that was not killed succeeded"
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    for name in ("after-one", "after-two"):
        assert catalog.save(entity(name), [t])["targets"][0]["status"] == "saved"
    names = {r["name"] for r in catalog.list_items([t], limit=100)["items"]}
    assert {"web", "after-one", "after-two"} <= names
