"""Many writers and a failing remote, with real processes and a real git daemon on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from support.git import GitDaemon, git_out
from support.items import entity
from support.paths import ROOT

import f.fractal.catalog.items as catalog
import f.fractal.platform.workspace as workspace

SAVER = """
import json, sys
sys.path[:0] = [{root!r}, {tests!r}]
from support.items import entity
import f.fractal.catalog.items as catalog
name, description = sys.argv[1], sys.argv[2]
item = entity(name)
item["metadata"]["description"] = description
print(json.dumps(catalog.save(item, ["f/fractal/shared"])))
"""


def _worker_home(base: Path, index: int, url: str) -> Path:
    home = base / f"worker{index}"
    os.environ["FRACTAL_HOME"] = str(home)
    workspace.write_resource("f/fractal/shared", "git_repository", {"url": url, "branch": "main"})
    return home


def _spawn(home: Path, name: str, description: str) -> subprocess.Popen[str]:
    code = SAVER.format(root=str(ROOT), tests=str(ROOT / "tests"))
    env = {**os.environ, "FRACTAL_HOME": str(home), "FRACTAL_ACTOR": f"{name} <{name}@localhost>"}
    return subprocess.Popen(
        [sys.executable, "-c", code, name, description], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_24_processes_saving_at_once_all_land(git_daemon: GitDaemon, tmp_path: Path, fractal_home: Path) -> None:
    """12 workers (separate clone caches: real push races) × 2 processes each (sharing a cache: the lock)."""
    bare = git_daemon.repo("shared")
    homes = [_worker_home(tmp_path, i, git_daemon.url("shared")) for i in range(12)]
    procs = [_spawn(homes[i % 12], f"item-{i:02d}", f"saved by process {i}") for i in range(24)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    assert all(r["ok"] and r["version"] == "1.0.0" for r in results)
    tree = git_out(bare, "ls-tree", "-r", "--name-only", "main").split()
    assert sorted(p.split("/")[1] for p in tree if p.endswith("/fractal.yaml")) == [f"item-{i:02d}" for i in range(24)]
    assert len(git_out(bare, "tag").split()) == 24
    index = git_out(bare, "show", "main:entities/README.md")
    assert all(f"[item-{i:02d}]" in index for i in range(24)), "every save regenerated the shared index from the newest tip"
    assert len(git_out(bare, "log", "--format=%H", "main").split()) == 24


def test_concurrent_saves_of_one_item_become_successive_versions(
    git_daemon: GitDaemon, tmp_path: Path, fractal_home: Path
) -> None:
    bare = git_daemon.repo("shared")
    homes = [_worker_home(tmp_path, i, git_daemon.url("shared")) for i in range(6)]
    procs = [_spawn(home, "web", f"edit {i}") for i, home in enumerate(homes)]
    versions = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        versions.append(json.loads(out)["version"])
    assert sorted(versions) == [f"1.0.{i}" for i in range(6)]
    assert git_out(bare, "tag").split() == [f"entity/web/v1.0.{i}" for i in range(6)]


def test_a_down_remote_fails_alone_and_sync_catches_up(git_daemon: GitDaemon, make_target, fractal_home: Path) -> None:
    local = make_target("local")
    served = make_target("served", url=git_daemon.url("served"))
    bare = git_daemon.repo("served")
    catalog.save(entity("web"), [local, served])
    git_daemon.stop()

    item = entity("web")
    item["metadata"]["description"] = "changed while the daemon was down"
    result = catalog.save(item, [local, served])
    assert not result["ok"] and result["pending"] == [served]
    status = {r["target"]: r["status"] for r in result["targets"]}
    assert status == {local: "saved", served: "pending"}
    assert "cannot reach" in result["targets"][1]["message"]
    catalog.save(entity("api"), [local, served])
    down = catalog.sync([served])
    assert not down["ok"] and down["targets"][0]["status"] == "unreachable" and down["targets"][0]["waiting"] == 2

    listed = catalog.list_items([served])
    assert listed["stale_targets"] == [served] and listed["total"] == 1, "reads fall back to the cached copy"

    git_daemon.start()
    synced = catalog.sync([served])
    assert synced["ok"], synced
    assert synced["targets"][0]["replayed"] == ["save entity:web", "save entity:api"]
    assert git_out(bare, "tag").split() == ["entity/api/v1.0.0", "entity/web/v1.0.0", "entity/web/v1.0.1"]
    assert catalog.get("entity:web", [served])["item"]["metadata"]["description"] == "changed while the daemon was down"
    assert catalog.sync([served])["targets"][0]["replayed"] == []


def test_a_replayed_change_whose_base_moved_is_kept_as_a_conflict(
    git_daemon: GitDaemon, make_target, tmp_path: Path, fractal_home: Path
) -> None:
    served = make_target("served", url=git_daemon.url("served"))
    bare = git_daemon.repo("served")
    catalog.save(entity("web"), [served])
    git_daemon.stop()
    mine = entity("web")
    mine["metadata"]["description"] = "mine, written while offline"
    assert catalog.save(mine, [served], expected_version="1.0.0")["pending"] == [served]

    # Meanwhile another writer reaches the repository directly and changes the same item.
    other = make_target("direct", url=str(bare))
    theirs = entity("web")
    theirs["metadata"]["description"] = "theirs"
    assert catalog.save(theirs, [other])["version"] == "1.0.1"

    git_daemon.start()
    synced = catalog.sync([served])
    assert not synced["ok"]
    kept = synced["targets"][0]["kept"]
    assert len(kept) == 1 and kept[0]["data"]["current_version"] == "1.0.1" and kept[0]["data"]["expected_version"] == "1.0.0"
    assert catalog.get("entity:web", [served])["item"]["metadata"]["description"] == "theirs"
    target = catalog.resolve_targets([served])[0]
    assert not catalog.pending(target) and len(catalog.kept_aside(target)) == 1, "the offline change is kept, not lost"


def test_a_queued_save_made_on_an_older_version_is_a_conflict_not_a_lost_update(
    git_daemon: GitDaemon, make_target, fractal_home: Path
) -> None:
    """No expected_version given: the outbox records the version the worker saw; a replay on a moved
    item reports both versions and keeps the change aside (later syncs do not replay it)."""
    served = make_target("served", url=git_daemon.url("served"))
    bare = git_daemon.repo("served")
    catalog.save(entity("web"), [served])
    git_daemon.stop()
    mine = entity("web")
    mine["metadata"]["description"] = "mine, written while offline"
    catalog.save(mine, [served])
    target = catalog.resolve_targets([served])[0]
    assert catalog.pending(target)[0]["base"]["version"] == "1.0.0"
    other = make_target("direct", url=str(bare))
    theirs = entity("web")
    theirs["metadata"]["description"] = "theirs"
    catalog.save(theirs, [other])
    git_daemon.start()
    kept = catalog.sync([served])["targets"][0]
    assert kept["status"] == "conflict" and kept["replayed"] == []
    data = kept["kept"][0]["data"]
    assert (data["base"]["version"], data["current_version"]) == ("1.0.0", "1.0.1")
    assert data["current"]["metadata"]["description"] == "theirs"
    assert data["queued"]["metadata"]["description"] == "mine, written while offline"
    assert catalog.get("entity:web", [served])["item"]["metadata"]["description"] == "theirs"
    assert catalog.sync([served])["targets"][0]["status"] == "synced" and len(catalog.kept_aside(target)) == 1


def test_a_queued_delete_of_an_item_already_gone_counts_as_done(git_daemon: GitDaemon, make_target, fractal_home: Path) -> None:
    served = make_target("served", url=git_daemon.url("served"))
    bare = git_daemon.repo("served")
    catalog.save(entity("web"), [served])
    git_daemon.stop()
    assert catalog.delete("entity:web", [served])["targets"][0]["status"] == "pending"
    direct = make_target("direct", url=str(bare))
    catalog.delete("entity:web", [direct], force=True)  # someone else deleted it meanwhile
    git_daemon.start()
    synced = catalog.sync([served])
    assert synced["ok"] and synced["targets"][0]["replayed"] == ["delete entity:web"]
    assert catalog.pending(catalog.resolve_targets([served])[0]) == []
