"""The Git store through the catalog API, against real bare repositories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.git import git_out
from support.items import entity

import f.fractal.catalog.items as catalog
from f.fractal.model.errors import Conflict, NotFound


def remote(tmp_path: Path, name: str) -> Path:
    return tmp_path / "remotes" / f"{name}.git"


def pipeline(name: str, *refs: str, provider: str | None = "local") -> dict[str, Any]:
    steps = [{"id": f"s{i}", "ref": r} for i, r in enumerate(refs)]
    return {
        "apiVersion": "fractal/v1",
        "kind": "Pipeline",
        "metadata": {"name": name},
        "spec": {"provider": provider, "steps": steps},
    }


def test_save_to_two_targets_writes_a_browsable_catalog_in_each(make_target, tmp_path: Path) -> None:
    a, b = make_target("a"), make_target("b", folder="catalogs/infra")
    result = catalog.save(entity("web"), [a, b])
    assert result["ok"] and result["ref"] == "entity:web@1.0.0"
    assert [t["status"] for t in result["targets"]] == ["saved", "saved"]
    tree_a = git_out(remote(tmp_path, "a"), "ls-tree", "-r", "--name-only", "main").split()
    assert {
        "README.md",
        "entities/README.md",
        "entities/web/fractal.yaml",
        "entities/web/README.md",
        "entities/web/site.yml",
    } <= set(tree_a)
    tree_b = git_out(remote(tmp_path, "b"), "ls-tree", "-r", "--name-only", "main").split()
    assert "catalogs/infra/entities/web/site.yml" in tree_b
    assert git_out(remote(tmp_path, "a"), "log", "-1", "--format=%s", "main").strip() == "fractal: save entity:web@1.0.0"
    assert git_out(remote(tmp_path, "b"), "tag").split() == ["catalogs/infra/entity/web/v1.0.0"]
    stored = git_out(remote(tmp_path, "a"), "show", "main:entities/web/fractal.yaml")
    assert "files:" not in stored and "version: 1.0.0" in stored


def test_each_save_bumps_tags_and_keeps_history(make_target, tmp_path: Path) -> None:
    t = make_target("a")
    item = entity("web")
    assert catalog.save(item, [t])["version"] == "1.0.0"
    item["metadata"]["description"] = "second"
    assert catalog.save(item, [t])["version"] == "1.0.1"
    item["metadata"]["description"] = "third"
    assert catalog.save(item, [t], bump_part="minor")["version"] == "1.1.0"
    again = catalog.save(item, [t])
    assert again["version"] == "1.1.0" and again["targets"][0]["status"] == "unchanged"
    item["metadata"]["version"] = "3.0.0"
    assert catalog.save(item, [t])["version"] == "3.0.0"
    assert git_out(remote(tmp_path, "a"), "tag").split() == [
        "entity/web/v1.0.0",
        "entity/web/v1.0.1",
        "entity/web/v1.1.0",
        "entity/web/v3.0.0",
    ]
    entries = catalog.history("entity:web", [t])["targets"][0]["entries"]
    assert [e["version"] for e in entries] == ["3.0.0", "1.1.0", "1.0.1", "1.0.0"]
    assert entries[0]["author"] == "Test Runner <tests@localhost>"
    old = catalog.get("entity:web@1.0.1", [t])
    assert old["item"]["metadata"]["description"] == "second"
    assert old["item"]["spec"]["files"]["site.yml"].startswith("- name: Test play")
    assert old["commit"] == entries[2]["commit"]


def test_get_latest_and_not_found(make_target) -> None:
    t = make_target("a")
    catalog.save(entity("web"), [t])
    got = catalog.get("entity:web", [t])
    assert got["ref"] == "entity:web@1.0.0" and got["target"] == t and len(got["commit"]) == 40
    with pytest.raises(NotFound):
        catalog.get("entity:nope", [t])
    with pytest.raises(NotFound):
        catalog.get("entity:web@9.9.9", [t])


def test_expected_version_conflict_shows_both_versions_and_writes_nothing(make_target, tmp_path: Path) -> None:
    a, b = make_target("a"), make_target("b")
    item = entity("web")
    catalog.save(item, [a, b])
    item["metadata"]["description"] = "mine"
    catalog.save(item, [a])  # a moves to 1.0.1, b stays at 1.0.0
    before = {n: git_out(remote(tmp_path, n), "rev-parse", "main") for n in "ab"}
    item["metadata"]["description"] = "theirs"
    with pytest.raises(Conflict) as err:
        catalog.save(item, [b, a], expected_version="1.0.0")
    assert "1.0.1" in err.value.message and "1.0.0" in err.value.message
    assert err.value.data["current_version"] == "1.0.1"
    assert {n: git_out(remote(tmp_path, n), "rev-parse", "main") for n in "ab"} == before
    forced = catalog.save(item, [a], expected_version="1.0.0", conflict="overwrite")
    assert forced["version"] == "1.0.2"


def test_expected_empty_means_must_not_exist(make_target) -> None:
    t = make_target("a")
    assert catalog.save(entity("web"), [t], expected_version="")["version"] == "1.0.0"
    with pytest.raises(Conflict):
        catalog.save(entity("web", tool="secret"), [t], expected_version="", force=True)  # not a valid secret entity


def test_list_filters_search_and_merges_targets(make_target) -> None:
    a, b = make_target("a"), make_target("b")
    catalog.save(entity("k3s-cluster", tool="terraform", providers=["k3s"], files={"main.tf": "# k3s\n"}), [a, b])
    catalog.save(entity("gpu-pod", tool="terraform", providers=["runpod"], files={"main.tf": "# pod\n"}), [a])
    catalog.save(entity("motd"), [b])
    catalog.save(pipeline("stack", "entity:k3s-cluster@1.0.0", provider="k3s"), [a])
    everything = catalog.list_items([a, b])
    assert everything["total"] == 4
    merged = {r["name"]: r for r in everything["items"]}
    assert merged["k3s-cluster"]["targets"] == [a, b]
    assert [r["name"] for r in catalog.list_items([a, b], kind="entity", tool="terraform")["items"]] == ["gpu-pod", "k3s-cluster"]
    assert [r["name"] for r in catalog.list_items([a, b], kind="entity", provider="runpod")["items"]] == ["gpu-pod"]
    assert catalog.list_items([a, b], query="k3s")["items"][0]["name"] == "k3s-cluster"
    assert catalog.list_items([a, b], kind="pipeline")["items"][0]["steps"] == [{"id": "s0", "ref": "entity:k3s-cluster@1.0.0"}]
    page = catalog.list_items([a, b], limit=2, offset=2)
    assert page["total"] == 4 and len(page["items"]) == 2


def test_index_follows_changes_made_by_another_worker(make_target, tmp_path: Path, monkeypatch) -> None:
    """A second cache (another worker) saves; the first one's derived index catches up from git diff."""
    t = make_target("a")
    catalog.save(entity("one"), [t])
    assert catalog.list_items([t])["total"] == 1
    home = Path(str(tmp_path / "home"))
    monkeypatch.setenv("FRACTAL_HOME", str(tmp_path / "worker2"))
    (tmp_path / "worker2" / "f" / "fractal").mkdir(parents=True)
    (tmp_path / "worker2" / "f" / "fractal" / "a.resource.yaml").write_text((home / "f/fractal/a.resource.yaml").read_text())
    catalog.save(entity("two"), [t])
    catalog.delete("entity:one", [t])
    monkeypatch.setenv("FRACTAL_HOME", str(home))
    assert [r["name"] for r in catalog.list_items([t])["items"]] == ["two"]


def test_delete_is_refused_while_used_and_old_versions_stay_readable(make_target, tmp_path: Path) -> None:
    t = make_target("a")
    catalog.save(entity("web"), [t])
    catalog.save(pipeline("site", "entity:web@1.0.0"), [t])
    with pytest.raises(Conflict, match="pipeline:site"):
        catalog.delete("entity:web", [t])
    result = catalog.delete("entity:web", [t], force=True)
    assert result["targets"][0]["status"] == "deleted"
    assert "entities/web/fractal.yaml" not in git_out(remote(tmp_path, "a"), "ls-tree", "-r", "--name-only", "main")
    assert git_out(remote(tmp_path, "a"), "log", "-1", "--format=%s", "main").strip() == "fractal: delete entity:web@1.0.0"
    assert catalog.get("entity:web@1.0.0", [t])["item"]["metadata"]["name"] == "web"
    with pytest.raises(NotFound):
        catalog.get("entity:web", [t])
    recreated = catalog.save(entity("web"), [t])
    assert recreated["version"] == "1.0.1", "a re-created item continues its version line (tags are never reused)"


def test_index_readmes_list_items_and_graph_composites(make_target, tmp_path: Path) -> None:
    t = make_target("a")
    catalog.save(entity("web"), [t])
    site = pipeline("site", "entity:web@1.0.0", "entity:web@1.0.0", "entity:web@1.0.0")
    site["spec"]["steps"][2]["needs"] = ["s1"]  # s0 and s1 are independent: no edge between them
    catalog.save(site, [t])
    top = git_out(remote(tmp_path, "a"), "show", "main:README.md")
    assert "[entities](entities/README.md): 1" in top and "[pipelines](pipelines/README.md): 1" in top
    pipelines = git_out(remote(tmp_path, "a"), "show", "main:pipelines/README.md")
    assert "```mermaid" in pipelines and "s1 --> s2" in pipelines and "s0 --> s1" not in pipelines
    item_readme = git_out(remote(tmp_path, "a"), "show", "main:pipelines/site/README.md")
    assert "entity:web@1.0.0" in item_readme and "Provider: local" in item_readme


def test_target_resource_errors_are_clear(fractal_home, make_target) -> None:
    from f.fractal.model.errors import ConfigError, FractalError

    with pytest.raises(NotFound, match="f/fractal/missing"):
        catalog.save(entity("web"), ["f/fractal/missing"])
    bad = make_target("bad", url="ext::sh -c touch% /tmp/pwned")
    with pytest.raises(ConfigError, match="not a Git URL"):
        catalog.save(entity("web"), [bad])
    with pytest.raises(FractalError):
        catalog.save(entity("web"), ["../etc/passwd"])


def test_a_writer_that_died_mid_save_leaves_no_trace(make_target) -> None:
    """Files staged in the shared clone but never committed (a killed job) are wiped by the next call."""
    from f.fractal.catalog.store import Clone

    t = make_target("a")
    catalog.save(entity("web"), [t])
    clone = Clone(catalog.resolve_targets([t])[0])
    with clone.lock():
        clone.stage_item("Entity", "half-written", normalize(entity("half-written")))
        (clone.dir / "entities" / "web" / "site.yml").write_text("corrupted\n")
    assert [r["name"] for r in catalog.list_items([t])["items"]] == ["web"]
    assert catalog.get("entity:web", [t])["item"]["spec"]["files"]["site.yml"].startswith("- name: Test play")
    assert not (clone.dir / "entities" / "half-written").exists()


def normalize(item: dict[str, Any]) -> dict[str, Any]:
    from f.fractal.model.item import normalize_item

    return normalize_item(item)


def test_listing_is_in_kind_then_name_order_after_incremental_updates(make_target) -> None:
    t = make_target("a")
    for name in ("zeta", "alpha", "mid"):
        catalog.save(entity(name), [t])
    catalog.save(pipeline("flow", "entity:alpha@1.0.0"), [t])
    catalog.save(entity("beta"), [t])
    assert [r["name"] for r in catalog.list_items([t])["items"]] == ["alpha", "beta", "mid", "zeta", "flow"]


def test_a_signing_key_is_reported_as_not_applied_yet(fractal_home, tmp_path: Path, monkeypatch) -> None:
    from support.git import init_bare

    monkeypatch.setenv("F_X_K", "-----BEGIN PGP PRIVATE KEY BLOCK-----")

    import f.fractal.platform.workspace as workspace

    url = str(init_bare(tmp_path / "remotes" / "signed.git"))
    workspace.write_resource(
        "f/fractal/signed", "git_repository", {"url": url, "gpg_key": {"email": "a@b.c", "private_key": "$var:f/x/k"}}
    )
    result = catalog.save(entity("web"), ["f/fractal/signed"])
    assert result["targets"][0]["warnings"] == ["commits are not signed: gpg_key signing is not supported yet"]


def test_saving_the_same_payload_again_is_a_no_op_whatever_the_text(make_target) -> None:
    """File text is stored exactly (no newline added, UTF-8 kept), so an identical re-save changes nothing."""
    t = make_target("a")
    item = entity("web", files={"main.tf": "# no final newline", "notes/README.txt": "déploiement à Genève ✓\n"})
    assert catalog.save(item, [t], force=True)["version"] == "1.0.0"  # an Ansible entity without a playbook
    again = catalog.save(item, [t], force=True)
    assert again["version"] == "1.0.0" and again["targets"][0]["status"] == "unchanged"
    files = catalog.get("entity:web", [t])["item"]["spec"]["files"]
    assert files == item["spec"]["files"]


def test_a_target_without_branch_uses_the_remote_default_in_every_later_process(fractal_home, tmp_path: Path) -> None:
    """The default branch found at clone time is remembered: a later job (a new Clone) does not assume main."""
    import subprocess

    import f.fractal.platform.workspace as workspace

    bare = tmp_path / "remotes" / "legacy.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "master", str(bare)], check=True)
    seed = tmp_path / "seed"
    subprocess.run(["git", "clone", "-q", str(bare), str(seed)], check=True, capture_output=True)
    (seed / "README.md").write_text("legacy repo\n")
    subprocess.run(["git", "-C", str(seed), "add", "."], check=True)
    subprocess.run(["git", "-C", str(seed), "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "init"], check=True)
    subprocess.run(["git", "-C", str(seed), "push", "-q", "origin", "master"], check=True, capture_output=True)
    workspace.write_resource("f/fractal/legacy", "git_repository", {"url": str(bare), "folder": "catalog"})
    catalog.save(entity("one"), ["f/fractal/legacy"])
    catalog.save(entity("two"), ["f/fractal/legacy"])
    assert git_out(bare, "for-each-ref", "--format=%(refname)", "refs/heads").split() == ["refs/heads/master"]
    assert [r["name"] for r in catalog.list_items(["f/fractal/legacy"])["items"]] == ["one", "two"]


def test_two_folders_of_one_repository_are_two_catalogs(make_target, tmp_path: Path) -> None:
    infra = make_target("infra", folder="infra")
    url = str(tmp_path / "remotes" / "infra.git")
    apps = make_target("apps", url=url, folder="apps")
    catalog.save(entity("net"), [infra])
    catalog.save(entity("web"), [apps])
    assert [r["name"] for r in catalog.list_items([infra])["items"]] == ["net"]
    assert [r["name"] for r in catalog.list_items([apps])["items"]] == ["web"]
    assert [r["name"] for r in catalog.list_items([infra])["items"]] == ["net"]
