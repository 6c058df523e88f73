"""Reading a need's specifics, and the conformance check that the files carry them (pure functions, no LLM)."""

from __future__ import annotations

from typing import Any

import pytest

import f.fractal.generation.conformance as conformance
from f.fractal.generation.specifics import extract, schedule, unused


def found(need: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for s in extract(need):
        out.setdefault(s.kind, []).append(s.value)
    return out


# Each case is an extraction bug a user met (issue 11), or a kind of detail that used to be dropped.
@pytest.mark.parametrize(("need", "kind", "values"), [
    ("two small Debian 12 instances on Exoscale", "count", [{"of": "instances", "n": 2}]),  # was 12
    ("two small Debian 12 instances on Exoscale", "os", ["debian 12"]),
    ("two small Debian 12 instances on Exoscale", "instance_type", ["standard.small"]),
    ("port 5432 only from 10.0.0.0/8", "port", [5432]),  # was [5432, 10]
    ("port 5432 only from 10.0.0.0/8", "cidr", ["10.0.0.0/8"]),
    ("a firewall opening ports 22, 80 and 443", "port", [22, 80, 443]),
    ("un load balancer forwarding port 443 to the pool", "size", None),  # "443 to" is not 443 TB
    ("un volume de 1 To sur RunPod", "size", [1000]),
    ("une tâche cron toutes les 15 minutes sur cette machine", "count", None),  # not 15 machines
    ("a Kubernetes namespace called staging on k3s", "namespace", ["staging"]),  # was "called"
    ("make sure nginx is started", "service", ["nginx"]),
    ("make sure nginx is started", "package", None),  # not the package make
    ("install postgresql-client on this machine", "package", ["postgresql-client"]),
    ("a HorizontalPodAutoscaler for the web deployment between 2 and 10 replicas", "range", [{"min": 2, "max": 10}]),
    ("a HorizontalPodAutoscaler for the web deployment between 2 and 10 replicas", "object", ["HorizontalPodAutoscaler"]),
    ("un DaemonSet fluent-bit sur tous les nœuds", "object", ["DaemonSet"]),
    ("PostgreSQL managée (DBaaS) Exoscale", "object", ["exoscale_dbaas"]),
    ("déployer l'image ghcr.io/acme/api:1.4.2 sur le port 8080", "image", ["ghcr.io/acme/api:1.4.2"]),
    ("clone https://github.com/acme/trainer.git on the box", "url", ["https://github.com/acme/trainer.git"]),
    ("run /usr/local/bin/backup.sh at night", "path", ["/usr/local/bin/backup.sh"]),
    ("an A record pointing to 203.0.113.45", "ip", ["203.0.113.45"]),
    ("a RunPod volume in EU-SE-1", "zone", ["EU-SE-1"]),
    ("une RTX 3090 à moins de 0.40 $ de l'heure", "price", [0.4]),
    ('the message "Maintenance on Friday"', "quoted", ["Maintenance on Friday"]),
    ("une ConfigMap avec LOG_LEVEL=debug", "setting", [{"LOG_LEVEL": "debug"}]),
    ("un cluster de 5 nœuds", "count", [{"of": "nodes", "n": 5}]),
])
def test_specifics_are_read_literally(need: str, kind: str, values: list[Any] | None) -> None:
    assert found(need).get(kind) == values


@pytest.mark.parametrize(("need", "cron"), [
    ("every day at 2am", "0 2 * * *"), ("chaque jour à 2h", "0 2 * * *"), ("toutes les 15 minutes", "*/15 * * * *"),
    ("every 6 hours", "0 */6 * * *"), ("toutes les nuits", "0 3 * * *"), ("every week", "0 3 * * 0"),
    ("at 2pm daily", "0 14 * * *"),
])
def test_schedules(need: str, cron: str) -> None:
    from f.fractal.generation.specifics import normalize

    when = schedule(normalize(need))
    assert when is not None and when[1] == cron


def test_unused_lists_what_the_files_do_not_carry() -> None:
    need = "an Exoscale security group allowing port 5432 only from 10.0.0.0/8"
    files = {"main.tf": 'variable "ports" {\n  default = [5432, 10]\n}\nvariable "cidr" {\n  default = "0.0.0.0/0"\n}\n'}
    assert [s.text for s in unused(extract(need), files)] == ["10.0.0.0/8"]
    files["main.tf"] = files["main.tf"].replace("0.0.0.0/0", "10.0.0.0/8")
    assert unused(extract(need), files) == []


WEB = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 10
---
apiVersion: v1
kind: Service
metadata:
  name: web
"""
HPA = """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  minReplicas: 2
  maxReplicas: 10
"""


def test_a_deployment_offered_for_an_hpa_is_caught() -> None:
    need = "a HorizontalPodAutoscaler for the web deployment between 2 and 10 replicas on k3s"
    result = conformance.check(need, "kubernetes", {"manifests.yaml": WEB})
    assert any("HorizontalPodAutoscaler" in e and "Deployment, Service" in e for e in result.errors), result.errors
    assert any("between 2 and 10" in e for e in result.errors)  # 2 is nowhere in the files
    assert {u["value"] if u["kind"] == "object" else u["kind"] for u in result.unused} >= {"HorizontalPodAutoscaler", "range"}
    assert conformance.check(need, "kubernetes", {"hpa.yaml": HPA}).errors == []


def test_conformance_values_and_terraform_objects() -> None:
    need = "a PVC of 50 GB named uploads on k3s"
    pvc = ("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n"
           "spec:\n  resources:\n    requests:\n      storage: 10Gi\n")
    result = conformance.check(need, "kubernetes", {"pvc.yaml": pvc})
    assert any("'50 GB'" in e for e in result.errors)
    assert {"kind": "name", "text": "uploads", "value": "uploads", "required": False} in result.unused  # reported, not an error
    assert not any("uploads" in e for e in result.errors)
    fixed = conformance.check(need, "kubernetes", {"pvc.yaml": pvc.replace("10Gi", "50Gi").replace("data", "uploads")})
    assert fixed.errors == [] and fixed.unused == []
    nlb = conformance.check("an Exoscale network load balancer on port 443", "terraform",
                            {"main.tf": 'resource "exoscale_compute_instance" "x" {\n  name = "a"\n}\n'})
    assert any("exoscale_nlb" in e for e in nlb.errors) and any("'443'" in e for e in nlb.errors)
