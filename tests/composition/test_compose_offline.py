"""Composition without an LLM, over a real catalog of 36 entities in a real bare Git repo.

No stand-in here: retrieval, the offline composer, the checks and the compiled flows are real, and
every compiled flow goes through the pinned `wmill lint`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.cli import run_cli
from support.compose_catalog import TABLE, all_entities, lint_flows, save_all
from support.git import git_out, init_bare

import f.fractal.catalog.items as catalog
import f.fractal.catalog.search as retrieval
import f.fractal.composition.composer as compose
from f.fractal.composition.composer import Request
from f.fractal.model.errors import InvalidInput


@pytest.fixture(scope="module")
def big_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """36 entities saved once for the module (each test composes from it, none changes it)."""
    base = tmp_path_factory.mktemp("compose")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FRACTAL_HOME", str(base / "home"))
        mp.setenv("FRACTAL_ACTOR", "Test Runner <tests@localhost>")
        for var in ("WM_TOKEN", "WM_BASE_URL", "BASE_INTERNAL_URL", "FRACTAL_DEFAULT_TARGETS", "FRACTAL_LLM_MODEL"):
            mp.delenv(var, raising=False)
        import f.fractal.platform.workspace as workspace

        remote = init_bare(base / "remotes" / "catalog.git")
        workspace.write_resource("f/fractal/catalog", "git_repository", {"url": str(remote), "branch": "main"})
        refs = save_all(["f/fractal/catalog"])
        yield {"targets": ["f/fractal/catalog"], "refs": refs, "remote": remote, "base": base}


def _compose(need: str, kind: str = "Pipeline", **kw: Any) -> dict[str, Any]:
    return compose.compose(Request(need=need, kind=kind, targets=["f/fractal/catalog"], **kw))


def _steps(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(s["ref"].split("@")[0], s.get("inputs") or {}) for s in result["draft"]["spec"]["steps"]]


def test_the_catalog_is_big_enough(big_catalog: dict[str, Any]) -> None:
    assert len(big_catalog["refs"]) == len(all_entities()) >= 30
    assert len({t[1] for t in TABLE}) == 4 and {p for t in TABLE for p in t[2]} >= {
        "exoscale",
        "vastai",
        "runpod",
        "k3s",
        "local",
    }


def test_an_instance_then_nginx_wires_the_ips_into_the_hosts(big_catalog: dict[str, Any], tmp_path: Path) -> None:
    result = _compose("a compute instance on Exoscale, then nginx on it")
    assert result["checks"] == {"ok": True, "errors": []} and result["gaps"] == []
    steps = _steps(result)
    assert [s[0] for s in steps] == ["entity:exoscale-compute-instance", "entity:nginx-webserver"]
    assert steps[1][1]["hosts"] == {"from": "steps.exoscale_compute_instance.outputs.ips"}
    spec = result["draft"]["spec"]
    assert spec["provider"] == "exoscale" and spec["providers"] == ["exoscale"]
    assert all(s["ref"].endswith("@1.0.0") for s in spec["steps"]), "members are pinned"
    assert "hosts" not in spec["inputs"]["properties"] and "zone" in spec["inputs"]["properties"]
    assert set(spec["outputs"]) == {"ips", "url"}
    flow_text = spec["files"]["flow.yaml"]
    import yaml

    web = yaml.safe_load(flow_text)["value"]["modules"][1]["value"]
    assert web["path"] == "f/fractal/run_item"
    assert 'results.exoscale_compute_instance.outputs["ips"]' in web["input_transforms"]["inputs"]["expr"]

    report = lint_flows({"f/fractal_flows/pipeline_draft": yaml.safe_load(flow_text)}, tmp_path / "lint")
    assert report["success"] and report["returncode"] == 0, report


@pytest.mark.parametrize(
    ("need", "expected"),
    [
        (
            "une instance GPU sur RunPod puis un environnement d'entraînement PyTorch",
            ["entity:runpod-gpu-pod", "entity:pytorch-training-env"],
        ),
        ("a GPU instance on Vast.ai with a Jupyter notebook", ["entity:vastai-gpu-instance", "entity:jupyter-lab"]),
        (
            "créer le dossier de l'application, puis écrire son fichier de configuration, ensuite calculer sa somme de contrôle",
            ["entity:app-workdir", "entity:app-config", "entity:file-checksum"],
        ),
        ("a managed Kubernetes SKS cluster on Exoscale", ["entity:exoscale-sks-cluster"]),
        ("harden ssh and ban brute force attackers with fail2ban", ["entity:ssh-hardening", "entity:fail2ban"]),
    ],
)
def test_needs_in_english_and_french_pick_the_right_entities(big_catalog: dict[str, Any], need: str, expected: list[str]) -> None:
    result = _compose(need)
    assert [s[0] for s in _steps(result)] == expected, result["explanation"]
    assert result["checks"]["ok"], result["checks"]


def test_outputs_feed_later_inputs_and_a_consumer_moves_after_its_producer(big_catalog: dict[str, Any]) -> None:
    result = _compose(
        "compute the checksum of the configuration file; write the configuration file; create the application folder"
    )
    steps = _steps(result)
    assert [s[0] for s in steps] == ["entity:app-workdir", "entity:app-config", "entity:file-checksum"]
    assert steps[1][1]["workdir"] == {"from": "steps.app_workdir.outputs.workdir"}
    assert steps[2][1]["config_path"] == {"from": "steps.app_config.outputs.config_path"}
    assert result["draft"]["spec"]["inputs"]["required"] == ["base_dir"]


def test_a_need_the_catalog_cannot_cover_is_a_gap_with_a_ready_generate_entity_request(big_catalog: dict[str, Any]) -> None:
    result = _compose("a compute instance on Exoscale, then a blockchain validator with a hardware wallet")
    assert [s[0] for s in _steps(result)] == ["entity:exoscale-compute-instance"]
    assert len(result["gaps"]) == 1
    gap = result["gaps"][0]
    assert "blockchain" in gap["need"] and "no catalog entity covers" in gap["reason"]
    assert gap["generate_entity"] == {
        "need": gap["need"],
        "tool": "terraform",
        "provider": "exoscale",
        "name": "blockchain-validator-hardware-wallet",
    }
    nothing = _compose("a quantum annealer")
    assert nothing["checks"]["ok"] is False and nothing["gaps"][0]["generate_entity"]["tool"] == "ansible"


def test_a_draft_with_gaps_is_not_saved(big_catalog: dict[str, Any]) -> None:
    head = git_out(big_catalog["remote"], "rev-parse", "main")
    with pytest.raises(InvalidInput, match="gap"):
        compose.run("Pipeline", "a blockchain validator", None, None, "", None, "offline", big_catalog["targets"], True)
    assert git_out(big_catalog["remote"], "rev-parse", "main") == head


def test_offline_refinement_by_dialogue(big_catalog: dict[str, Any]) -> None:
    first = _compose("a compute instance on Exoscale then nginx on it")
    added = _compose("add node exporter monitoring", conversation=first["conversation"])
    assert [s[0] for s in _steps(added)] == ["entity:exoscale-compute-instance", "entity:nginx-webserver", "entity:node-exporter"]
    assert _steps(added)[2][1]["hosts"] == {"from": "steps.exoscale_compute_instance.outputs.ips"}
    assert added["draft"]["metadata"]["name"] == first["draft"]["metadata"]["name"]
    removed = _compose("retire nginx", conversation=added["conversation"])
    assert [s[0] for s in _steps(removed)] == ["entity:exoscale-compute-instance", "entity:node-exporter"]
    assert len(removed["conversation"]) == 6


def test_offline_refinement_refuses_a_malformed_previous_draft(big_catalog: dict[str, Any]) -> None:
    previous = {"name": ["x"], "provider": {"a": 1}, "steps": [{"ref": "entity:nginx-webserver@1.0.0"}]}
    conversation = [{"role": "user", "content": "nginx"}, {"role": "assistant", "content": json.dumps(previous)}]
    with pytest.raises(InvalidInput, match="malformed step 0") as info:
        _compose("add node exporter monitoring", conversation=conversation)
    assert "conversation a compose result returned" in (info.value.hint or "")
    previous["steps"] = [{"id": "web", "ref": "entity:nginx-webserver@1.0.0"}]
    conversation[1]["content"] = json.dumps(previous)
    added = _compose("add node exporter monitoring", conversation=conversation)
    assert [s[0] for s in _steps(added)] == ["entity:nginx-webserver", "entity:node-exporter"]
    assert added["draft"]["metadata"]["name"] == "add-node-exporter-monitoring", "a name that is not a string is not reused"


def test_entity_refs_start_the_pipeline_and_a_fixed_provider_filters_candidates(big_catalog: dict[str, Any]) -> None:
    result = _compose("then nginx", refs=["entity:exoscale-compute-instance@1.0.0"])
    assert [s[0] for s in _steps(result)] == ["entity:exoscale-compute-instance", "entity:nginx-webserver"]
    vast = _compose("a network load balancer", provider="vastai")
    assert vast["gaps"] and not vast["draft"]["spec"]["steps"], "the load balancer is Exoscale's: it does not fit vastai"


def test_compose_meta_pipeline_from_saved_pipelines_and_save_it(big_catalog: dict[str, Any]) -> None:
    targets = big_catalog["targets"]
    for need, name in [
        ("create the application folder, then write its configuration file, then compute its checksum", "app-setup"),
        ("write a checksum report, then a message of the day", "app-report"),
    ]:
        saved = compose.run("Pipeline", need, None, None, name, None, "offline", targets, True)["saved"]
        assert saved["ok"]
    meta = compose.run(
        "MetaPipeline",
        "set up the application then report its checksum",
        None,
        None,
        "app-platform",
        None,
        "offline",
        targets,
        True,
    )
    steps = _steps(meta)
    assert [s[0] for s in steps] == ["pipeline:app-setup", "pipeline:app-report"]
    assert steps[1][1]["checksum"] == {"from": "steps.app_setup.outputs.checksum"}
    assert meta["saved"]["ref"] == "meta-pipeline:app-platform@1.0.0"
    assert "type: flow" in meta["draft"]["spec"]["files"]["flow.yaml"]
    gap = compose.compose(Request(need="a data lake", kind="MetaPipeline", targets=targets))["gaps"][0]
    assert gap["compose_pipeline"] == {"need": "a data lake", "provider": None, "name": "data-lake"}


def test_bad_requests_are_refused_clearly(big_catalog: dict[str, Any]) -> None:
    for kwargs, message in [
        ({"need": " "}, "non-empty"),
        ({"need": "x" * 5000}, "over"),
        ({"need": "a", "provider": "mars"}, "provider"),
        ({"need": "a", "name": "Bad Name"}, "bad name"),
        ({"need": "a", "refs": ["pipeline:p@1.0.0"]}, "cannot be a member"),
        ({"need": "a", "conversation": [{"role": "x", "content": 1}]}, "conversation"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            compose.compose(Request(targets=big_catalog["targets"], **kwargs))


_BUILD_INDEXES = """
import sys, time
from pathlib import Path
import f.fractal.catalog.search as retrieval
sync, me = Path(sys.argv[1]), sys.argv[2]
for n in range(150):  # in lockstep with the other process: both build the same index at the same moment
    (sync / f"{n}-{me}").touch()
    deadline = time.monotonic() + 5
    while len(list(sync.glob(f"{n}-*"))) < 2:
        if time.monotonic() > deadline:
            sys.exit(f"the other process stopped before round {n}")
        time.sleep(0.0005)
    rows = [{"ref": f"entity:e{n}-{i}@1.0.0", "name": f"e{n}-{i}", "description": f"nginx w{i} x{i * 7}"} for i in range(600)]
    retrieval._CACHE.clear()
    assert retrieval.index_for(rows).search("nginx", 1)
print("built")
"""


def test_two_processes_building_the_index_cache_at_once_both_succeed(fractal_home: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    import time

    from support.compose_catalog import ROOT

    sync = tmp_path / "sync"
    sync.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", _BUILD_INDEXES, str(sync), me], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for me in ("a", "b")
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-800:] for _out, err in outs]
    assert all(out.strip() == "built" for out, _err in outs)
    cache = fractal_home / "cache" / "retrieval"
    assert len(list(cache.glob("*.idx"))) == 150 and not list(cache.glob("*.tmp")), "each renamed its own temporary file"
    stale, recent = cache / "stale.idx", cache / "recent.idx"
    stale.write_bytes(b"x")
    recent.write_bytes(b"x")
    os.utime(stale, (time.time() - 2 * retrieval.STALE_INDEX_S,) * 2)
    retrieval.index_for([{"ref": "entity:fresh@1.0.0", "name": "fresh"}])
    assert not stale.exists() and recent.exists(), "only a stale index of another catalog state is removed"


def test_retrieval_is_bilingual_and_ranks_names_first() -> None:
    assert sorted(retrieval.terms("Une grappe Kubernetes de 3 nœuds")) == sorted(
        retrieval.terms("a Kubernetes cluster of 3 nodes")
    )
    assert sorted(retrieval.terms("la clé API")) == sorted(retrieval.terms("the API keys"))
    rows = [
        {"ref": f"entity:e{i}@1.0.0", "kind": "Entity", "name": n, "description": d, "tags": [], "providers": p}
        for i, (n, d, p) in enumerate(
            [
                ("k3s-cluster", "A K3s cluster", ["k3s"]),
                ("motd", "Message of the day mentioning a cluster", []),
                ("gpu-pod", "GPU pod", ["runpod"]),
            ]
        )
    ]
    index = retrieval.Index.build(rows)
    hits = index.search("cluster k3s", 3)
    assert [h.row["name"] for h in hits][:2] == ["k3s-cluster", "motd"] and hits[0].coverage == 1.0
    assert [h.row["name"] for h in index.search("grappe", 3, provider="runpod")] == ["motd"], (
        "provider filter: any-provider rows stay"
    )
    assert index.search("the a of", 3) == []


def test_cli_compose_prints_the_draft_and_its_gaps(big_catalog: dict[str, Any], tmp_path: Path) -> None:
    env = {"FRACTAL_HOME": str(big_catalog["base"] / "home")}
    ok = run_cli("compose", "a compute instance on Exoscale then nginx on it", "--export", str(tmp_path / "out"), env=env)
    assert ok.returncode == 0, ok.stderr
    assert "hosts←steps.exoscale_compute_instance.outputs.ips" in ok.stdout and "checks: ok" in ok.stdout
    assert (tmp_path / "out" / "f/fractal_flows/pipeline_compute_instance_exoscale_nginx__flow/flow.yaml").is_file()
    gap = run_cli("compose", "a blockchain validator", "--json", env=env)
    assert gap.returncode == 3 and json.loads(gap.stdout)["gaps"][0]["generate_entity"]["name"] == "blockchain-validator"
    bad = run_cli("compose", "", env=env)
    assert bad.returncode == 1 and json.loads(bad.stderr)["error"] == "invalid_input"


def test_list_items_still_sees_what_composition_saved(big_catalog: dict[str, Any]) -> None:
    rows = catalog.catalog_rows(big_catalog["targets"], "entity")
    assert len(rows) == len(all_entities())
    assert catalog.list_items(big_catalog["targets"], kind="entity", query="nginx")["items"][0]["name"] == "nginx-webserver"
