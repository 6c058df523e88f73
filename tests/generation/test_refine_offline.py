"""Offline refinement beyond parameters (no LLM): list items added or removed, Kubernetes objects added to a
draft, an image replaced; what it cannot do fails clearly. Real validators, real conformance check.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

import f.fractal.generate_entity as generate_entity
import f.fractal.refine_entity as refine_entity
from f.fractal.generation.generator import _merged
from f.fractal.model.errors import InvalidInput


def kinds(result: dict[str, Any]) -> list[str]:
    files = result["draft"]["spec"]["files"]
    return [d["kind"] for text in files.values() for d in yaml.safe_load_all(text) if d]


def test_also_open_a_port_adds_it_and_remove_takes_it_away() -> None:
    first = generate_entity.main("a firewall on Exoscale opening port 22 from 10.0.0.0/8", llm="offline")
    assert first["draft"]["provenance"]["params"]["ports"] == [22]
    more = refine_entity.main(first["draft"], "also open port 443", llm="offline")
    assert more["draft"]["provenance"]["params"]["ports"] == [22, 443] and more["report"]["ok"]
    assert "+  default     = [22, 443]" in more["diff"]
    less = refine_entity.main(more["draft"], "close port 22", llm="offline")
    assert less["draft"]["provenance"]["params"]["ports"] == [443]
    replaced = refine_entity.main(less["draft"], "use port 8443", llm="offline")
    assert replaced["draft"]["provenance"]["params"]["ports"] == [8443]


def test_also_install_a_package_keeps_the_others() -> None:
    """The list rule alone (a playbook's validation takes seconds: the ports test runs the whole refinement)."""
    old = {"packages": ["git", "curl"], "user": "ops"}
    assert _merged(old, {"packages": ["htop"]}, "also install htop")["packages"] == ["git", "curl", "htop"]
    assert _merged(old, {"packages": ["curl"]}, "retirer le paquet curl")["packages"] == ["git"]
    assert _merged(old, {"packages": ["vim"]}, "install vim instead")["packages"] == ["vim"]


def test_a_pvc_and_an_hpa_are_added_to_a_web_app_with_its_name_and_namespace() -> None:
    first = generate_entity.main("deploy nginx with 3 replicas in the namespace shop on k3s", llm="offline")
    assert kinds(first) == ["Deployment", "Service"]
    with_pvc = refine_entity.main(first["draft"], "add a PVC of 20 GB", llm="offline")
    assert kinds(with_pvc) == ["Deployment", "Service", "PersistentVolumeClaim"] and with_pvc["report"]["ok"]
    pvc = yaml.safe_load(with_pvc["draft"]["spec"]["files"]["pvc.yaml"])
    assert pvc["spec"]["resources"]["requests"]["storage"] == "20Gi" and pvc["metadata"]["namespace"] == "shop"
    assert with_pvc["draft"]["provenance"]["params"]["replicas"] == 3  # the Deployment is left as it was
    assert "+++ b/pvc.yaml" in with_pvc["diff"]
    with_hpa = refine_entity.main(with_pvc["draft"], "ajoute un HPA de 2 à 6 répliques", llm="offline")
    hpa = yaml.safe_load(with_hpa["draft"]["spec"]["files"]["hpa.yaml"])
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    assert hpa["spec"]["scaleTargetRef"]["name"] == first["draft"]["provenance"]["params"]["name"]
    assert [p["template"] for p in with_hpa["draft"]["provenance"]["parts"]] == ["k3s-volume-claim", "k3s-hpa"]
    image = refine_entity.main(with_hpa["draft"], "use image nginx:1.27.3", llm="offline")
    assert "nginx:1.27.3" in image["draft"]["spec"]["files"]["manifests.yaml"] and "hpa.yaml" in image["draft"]["spec"]["files"]


def test_what_offline_refinement_cannot_do_fails_clearly() -> None:
    first = generate_entity.main("a 3-node K3s cluster on Exoscale", llm="offline")
    with pytest.raises(InvalidInput) as e:
        refine_entity.main(first["draft"], "add a PVC of 20 GB", llm="offline")
    assert "cannot add a PersistentVolumeClaim to a terraform draft" in e.value.message and "LLM" in e.value.hint
    with pytest.raises(InvalidInput) as e:
        refine_entity.main(first["draft"], "make it highly available and cheaper", llm="offline")
    assert "no change understood" in e.value.message and "adding a Kubernetes object" in e.value.hint
    tampered = {**first["draft"], "provenance": {**first["draft"]["provenance"], "parts": [{"template": "local-cron"}]}}
    with pytest.raises(InvalidInput, match="parts"):
        refine_entity.main(tampered, "use 5 nodes", llm="offline")
