"""Every offline template, rendered with its defaults, follows the production rules (no LLM, real parsers).

- least privilege: no admin port (SSH, the Kubernetes API, etcd, the kubelet, databases) open to 0.0.0.0/0;
- K3s nodes reach each other on what K3s needs (flannel's VXLAN is UDP 8472);
- outputs the next step needs (ids or IPs; a kubeconfig for clusters);
- every input is used by the files (a Terraform variable, an Ansible var);
- pinned images (a tag, never latest) and resource limits on every container;
- and the files pass the tool's own checks (Ansible's take seconds: test_generate_offline.py runs them).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

import f.fractal.tools.terraform.check as terraform
from f.fractal.generation.templates import TEMPLATES, Template
from f.fractal.tools.validate import validate_files

ADMIN_PORTS = {22, 2379, 2380, 3306, 3389, 5432, 6379, 6443, 10250}
BY_TOOL = {tool: [t for t in TEMPLATES if t.tool == tool] for tool in ("terraform", "ansible", "kubernetes", "secret")}


def _ids(templates: list[Template]) -> list[str]:
    return [t.id for t in templates]


def _tf(template: Template) -> dict[str, Any]:
    files = template.build(dict(template.params))
    return {path: terraform.parse(text) for path, text in files.items() if path.endswith(".tf")}


def _resources(docs: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [body for doc in docs.values() for block in doc.get("resource", []) for t, named in block.items() if t == rtype
            for body in named.values()]


def _value(expr: Any, params: dict[str, Any]) -> Any:
    """A literal, or the default of the variable it names."""
    text = str(expr)
    m = re.fullmatch(r"\$?\{?var\.(\w+)\}?", text)
    return params.get(m.group(1)) if m else expr


def _ports(rule: dict[str, Any], params: dict[str, Any]) -> set[int]:
    each = str(rule.get("for_each", ""))
    if "var.ports" in each:
        return set(params["ports"])
    listed = re.findall(r'"(\d+)"', each)
    if listed and "each.value" in str(rule.get("start_port")):
        return {int(p) for p in listed}
    ranges = re.findall(r"from\s*=\s*(\d+),?\s*to\s*=\s*(\d+)", each)
    if ranges:
        return {p for a, b in ranges for p in range(int(a), int(b) + 1)}
    start, end = _value(rule.get("start_port"), params), _value(rule.get("end_port"), params)
    return set(range(int(start), int(end) + 1)) if str(start).isdigit() and str(end).isdigit() else set()


@pytest.mark.parametrize("template", BY_TOOL["terraform"], ids=_ids(BY_TOOL["terraform"]))
def test_terraform_templates_are_least_privilege_and_output_what_comes_next(template: Template) -> None:
    docs, params = _tf(template), template.params
    for rule in _resources(docs, "exoscale_security_group_rule"):
        if _value(rule.get("cidr"), params) == "0.0.0.0/0":
            assert not _ports(rule, params) & ADMIN_PORTS, f"{template.id}: admin port open to the world: {rule}"
    outputs = [name for doc in docs.values() for block in doc.get("output", []) for name in block]
    assert outputs, f"{template.id} has no output"
    if "cluster" in template.id:
        assert "kubeconfig" in outputs, f"{template.id}: no kubeconfig for the next step"
    report = validate_files("terraform", template.build(dict(params)))
    assert report["ok"], report["errors"]
    assert not [w for w in report["warnings"] if "canonical" in w["message"]], report["warnings"]


def test_k3s_nodes_reach_each_other_as_k3s_needs() -> None:
    k3s = next(t for t in TEMPLATES if t.id == "exoscale-k3s-cluster")
    rules = _resources(_tf(k3s), "exoscale_security_group_rule")
    between = [r for r in rules if "user_security_group_id" in r]
    assert between, "no node-to-node rule"
    text = str(between)
    for protocol, port in (("UDP", 8472), ("TCP", 6443), ("TCP", 10250)):
        assert re.search(rf"protocol\W+{protocol}\W+from\W+{port}", text), f"K3s nodes need {protocol} {port}"
    assert "var.admin_cidr" in str([r for r in rules if "user_security_group_id" not in r and "22" in str(r)])


def test_the_k3s_cluster_outputs_a_real_kubeconfig_without_provisioners() -> None:
    """Terraform makes K3s's CAs (K3s uses those it finds in server/tls at its first start), cloud-init writes them,
    and the admin client certificate is signed by the client CA: the kubeconfig is an output, no SSH, no local-exec."""
    k3s = next(t for t in TEMPLATES if t.id == "exoscale-k3s-cluster")
    files = k3s.build(dict(k3s.params))
    text = "\n".join(files.values())
    assert "provisioner" not in text and "local-exec" not in text and "ssh ubuntu@" not in text
    docs = _tf(k3s)
    output = next(block["kubeconfig"] for block in docs["outputs.tf"]["output"] if "kubeconfig" in block)
    assert output["sensitive"] is True and "local.kubeconfig" in output["value"]
    signed = _resources(docs, "tls_locally_signed_cert")[0]
    assert 'tls_self_signed_cert.ca["client-ca"]' in signed["ca_cert_pem"] and "client_auth" in signed["allowed_uses"]
    subject = _resources(docs, "tls_cert_request")[0]["subject"][0]
    assert subject["organization"] == "system:masters"
    cas = str(next(b for b in docs["main.tf"]["locals"] if "k3s_cas" in b)["k3s_cas"])
    for ca in ("server-ca", "client-ca", "request-header-ca", "etcd/peer-ca", "etcd/server-ca"):
        assert ca in cas, f"K3s needs every CA to use custom ones: {ca} is missing"
    assert "/var/lib/rancher/k3s/server/tls/" in files["main.tf"] and "certificate-authority-data" in files["main.tf"]


@pytest.mark.parametrize("template", BY_TOOL["ansible"], ids=_ids(BY_TOOL["ansible"]))
def test_ansible_templates_use_every_input(template: Template) -> None:
    play = yaml.safe_load(template.build(dict(template.params))["site.yml"])[0]
    body = yaml.safe_dump({k: v for k, v in play.items() if k != "vars"})
    unused = [name for name in template.params if not re.search(rf"\b{name}\b", body)]
    assert not unused, f"{template.id}: vars the tasks never read: {unused}"


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec") or {}
    if doc["kind"] == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    pod = spec.get("template", {})
    return list((pod.get("spec") or {}).get("containers") or [])


@pytest.mark.parametrize("template", BY_TOOL["kubernetes"], ids=_ids(BY_TOOL["kubernetes"]))
def test_kubernetes_templates_pin_images_and_limit_resources(template: Template) -> None:
    files = template.build(dict(template.params))
    docs = [d for text in files.values() for d in yaml.safe_load_all(text) if d]
    for doc in docs:
        for container in _containers(doc):
            image = container["image"]
            assert re.search(r":[\w.-]+$", image) and not image.endswith(":latest"), f"{template.id}: unpinned {image}"
            assert container.get("resources", {}).get("limits"), f"{template.id}: {container['name']} has no limits"
    report = validate_files("kubernetes", files)
    assert report["ok"] and not report["warnings"], (report["errors"], report["warnings"])


def test_gpu_images_are_pinned_and_secrets_are_bindings() -> None:
    for template in TEMPLATES:
        image = template.params.get("image")
        if image:
            assert ":" in image and not image.endswith(":latest"), template.id
    for template in BY_TOOL["secret"]:
        assert validate_files("secret", template.build({}))["ok"], template.id
