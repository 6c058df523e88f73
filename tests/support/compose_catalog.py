"""A realistic catalog for the composition tests: 30+ entities across the four tools and five providers.

The runnable ones (Ansible on localhost) are the samples in resources/samples/composition/ plus
local-motd; the others carry real-looking files but are only composed and compiled, never run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import f.fractal.platform.yamlio as yamlio
from f.fractal.model.providers import PROVIDERS

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "resources" / "samples"

STR = {"type": "string"}
HOSTS = {"type": "array", "items": {"type": "string"}, "description": "Hosts to configure"}
IPS = {"type": "array", "description": "Public IP addresses"}

# name, tool, providers, description, inputs {name: (schema, required)}, outputs {name: type}
TABLE: list[tuple[str, str, list[str], str, dict[str, tuple[dict[str, Any], bool]], dict[str, str]]] = [
    (
        "exoscale-sks-cluster",
        "terraform",
        ["exoscale"],
        "A managed Kubernetes SKS cluster with a node pool on Exoscale",
        {"zone": (STR, False), "nodes": ({"type": "integer"}, False)},
        {"kubeconfig": "string", "cluster_endpoint": "string"},
    ),
    (
        "exoscale-compute-instance",
        "terraform",
        ["exoscale"],
        "Compute instances (virtual machines) on Exoscale",
        {"zone": (STR, False), "count": ({"type": "integer"}, False)},
        {"ips": "array"},
    ),
    (
        "exoscale-private-network",
        "terraform",
        ["exoscale"],
        "A private network between Exoscale instances",
        {"zone": (STR, False)},
        {"network_id": "string"},
    ),
    (
        "exoscale-security-group",
        "terraform",
        ["exoscale"],
        "A firewall security group with SSH and HTTP rules on Exoscale",
        {},
        {"security_group_id": "string"},
    ),
    (
        "exoscale-dbaas-postgres",
        "terraform",
        ["exoscale"],
        "A managed PostgreSQL database service on Exoscale",
        {"zone": (STR, False)},
        {"database_uri": "string"},
    ),
    (
        "exoscale-sos-bucket",
        "terraform",
        ["exoscale"],
        "An object storage bucket (SOS, S3 compatible) on Exoscale",
        {"bucket_name": (STR, True)},
        {"bucket_url": "string"},
    ),
    (
        "exoscale-load-balancer",
        "terraform",
        ["exoscale"],
        "A network load balancer in front of Exoscale instances",
        {"ips": (IPS, True)},
        {"lb_ip": "string"},
    ),
    (
        "vastai-gpu-instance",
        "ansible",  # Vast.ai has no Terraform provider: its CLI, from a play
        ["vastai"],
        "Rent a GPU instance on Vast.ai from an offer",
        {"gpu_name": (STR, False), "disk_gb": ({"type": "integer"}, False)},
        {"ips": "array", "instance_id": "string"},
    ),
    ("vastai-api-key", "secret", ["vastai"], "The Vast.ai API key, bound to a Windmill resource", {}, {}),
    (
        "runpod-gpu-pod",
        "terraform",
        ["runpod"],
        "A GPU pod on RunPod with a container image",
        {"gpu_type": (STR, False), "volume_gb": ({"type": "integer"}, False)},
        {"ips": "array", "pod_id": "string"},
    ),
    (
        "runpod-network-volume",
        "terraform",
        ["runpod"],
        "A persistent network volume (storage disk) on RunPod",
        {"size_gb": ({"type": "integer"}, True)},
        {"volume_id": "string"},
    ),
    ("runpod-api-key", "secret", ["runpod"], "The RunPod API key, bound to a Windmill resource", {}, {}),
    ("exoscale-iam-key", "secret", ["exoscale"], "The Exoscale IAM API key and secret for Terraform", {}, {}),
    (
        "nginx-webserver",
        "ansible",
        [],
        "Install and configure the nginx web server",
        {"hosts": (HOSTS, True), "server_name": (STR, False)},
        {"url": "string"},
    ),
    ("docker-engine", "ansible", [], "Install the Docker container engine", {"hosts": (HOSTS, True)}, {}),
    ("node-exporter", "ansible", [], "Install the Prometheus node exporter for monitoring metrics", {"hosts": (HOSTS, True)}, {}),
    (
        "prometheus-server",
        "ansible",
        [],
        "A Prometheus monitoring server scraping metrics",
        {"hosts": (HOSTS, True)},
        {"prometheus_url": "string"},
    ),
    (
        "grafana-dashboards",
        "ansible",
        [],
        "Grafana with monitoring dashboards",
        {"hosts": (HOSTS, True)},
        {"grafana_url": "string"},
    ),
    (
        "k3s-install",
        "ansible",
        [],
        "Install a K3s Kubernetes cluster on hosts",
        {"hosts": (HOSTS, True)},
        {"kubeconfig": "string"},
    ),
    (
        "pytorch-training-env",
        "ansible",
        [],
        "A PyTorch training environment with CUDA drivers on GPU hosts",
        {"hosts": (HOSTS, True)},
        {},
    ),
    ("jupyter-lab", "ansible", [], "A JupyterLab notebook server", {"hosts": (HOSTS, True)}, {"jupyter_url": "string"}),
    ("ssh-hardening", "ansible", [], "Harden the SSH server configuration (security)", {"hosts": (HOSTS, True)}, {}),
    ("unattended-upgrades", "ansible", [], "Automatic security package updates", {"hosts": (HOSTS, True)}, {}),
    ("users-and-keys", "ansible", [], "Create user accounts with their SSH keys", {"hosts": (HOSTS, True)}, {}),
    ("fail2ban", "ansible", [], "Ban hosts that brute-force SSH with fail2ban", {"hosts": (HOSTS, True)}, {}),
    (
        "postgres-backup",
        "ansible",
        [],
        "Nightly PostgreSQL database backups to object storage",
        {"database_uri": (STR, True), "bucket_url": (STR, True)},
        {},
    ),
    ("redis-server", "ansible", [], "A Redis in-memory cache server", {"hosts": (HOSTS, True)}, {}),
    (
        "k3s-namespace-quota",
        "kubernetes",
        ["k3s"],
        "A namespace with a resource quota on the K3s cluster",
        {"namespace": (STR, True)},
        {},
    ),
    (
        "k3s-ingress-route",
        "kubernetes",
        ["k3s"],
        "An ingress route (Traefik) to a service on K3s",
        {"namespace": (STR, True)},
        {},
    ),
    ("cert-manager", "kubernetes", ["k3s"], "cert-manager for TLS certificates on Kubernetes", {}, {}),
    ("local-hosts-entry", "ansible", ["local"], "Add a line to /etc/hosts on this machine", {"ip": (STR, True)}, {}),
]


def _files(tool: str, name: str) -> dict[str, str]:
    if tool == "terraform":
        return {"main.tf": f'# {name}\nterraform {{\n  required_version = ">= 1.5"\n}}\n'}
    if tool == "ansible":
        return {"site.yml": f"- name: {name}\n  hosts: all\n  gather_facts: false\n  tasks: []\n"}
    if tool == "kubernetes":
        return {"manifest.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"}
    cred = PROVIDERS[name.split("-")[0]].credential  # a secret binding as the checks want it: the provider's credential
    assert cred is not None
    env = "".join(f"  {var}: {field}\n" for var, field in cred.env.items())
    return {"secret.yaml": f"resource_type: {cred.resource_type}\npath: {cred.default_path}\nenv:\n{env}"
                           f"description: the {name.split('-')[0]} API key\n"}


def table_entity(row: tuple[Any, ...]) -> dict[str, Any]:
    name, tool, providers, description, inputs, outputs = row
    spec: dict[str, Any] = {"tool": tool, "providers": providers, "files": _files(tool, name)}
    if inputs:
        spec["inputs"] = {
            "type": "object",
            "properties": {k: v[0] for k, v in inputs.items()},
            "required": [k for k, v in inputs.items() if v[1]],
        }
    if outputs:
        spec["outputs"] = {k: {"type": t, "description": k.replace("_", " ")} for k, t in outputs.items()}
    return {
        "apiVersion": "fractal/v1",
        "kind": "Entity",
        "metadata": {"name": name, "description": description, "tags": [tool]},
        "spec": spec,
    }


def runnable() -> list[dict[str, Any]]:
    paths = [*sorted((SAMPLES / "composition").glob("*.yaml")), SAMPLES / "local-motd.yaml"]
    return [yamlio.load_untrusted(p.read_text(), what=p.name) for p in paths]


def all_entities() -> list[dict[str, Any]]:
    return [*runnable(), *(table_entity(r) for r in TABLE)]


def save_all(targets: list[str]) -> list[str]:
    import f.fractal.catalog.items as catalog

    return [catalog.save(item, targets)["ref"] for item in all_entities()]


# ------------------------------------------------------------------ composites

def pipe(kind: str, name: str, steps: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    """A pipeline or meta-pipeline item: pipe("Pipeline", "web", [steps…], inputs=…, outputs=…)."""
    return {
        "apiVersion": "fractal/v1",
        "kind": kind,
        "metadata": {"name": name, "description": f"{name} ({kind})"},
        "spec": {"steps": steps, **spec},
    }


def string_inputs(*names: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """An input schema of string properties."""
    return {"type": "object", "properties": {n: STR for n in names}, "required": list(required)}


# ------------------------------------------------------------------ wmill lint over the flows a test produces

WMILL = ROOT / "node_modules" / ".bin" / "wmill"


def lint_flows(flows: dict[str, dict[str, Any]], root: Path) -> dict[str, Any]:
    """Write flows in windmill-cli's layout (nonDottedPaths) under `root` and run the pinned `wmill lint --json`."""
    import json
    import subprocess

    import f.fractal.flows.compile as flowgen

    root.mkdir(parents=True, exist_ok=True)
    (root / "wmill.yaml").write_text('defaultTs: bun\nincludes:\n  - "f/**"\nnonDottedPaths: true\n')
    flowgen.write_flows(flows, root)
    proc = subprocess.run([str(WMILL), "lint", "--json", "."], cwd=root, capture_output=True, text=True, timeout=120)
    start = proc.stdout.find("{")
    report: dict[str, Any] = (
        json.loads(proc.stdout[start:]) if start >= 0 else {"success": False, "raw": proc.stdout + proc.stderr}
    )
    report["returncode"] = proc.returncode
    return report


def entity_flows(found_ref: str, targets: list[str]) -> dict[str, dict[str, Any]]:
    """A saved composite's flow and all its members' flows (as deploy_flow would push them)."""
    from f.fractal.deploy_flow import flows_of

    return flows_of(found_ref, targets)[1]
