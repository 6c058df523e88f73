"""Target providers as data. Adding a provider is adding an entry here (and its resource type
at the repo root), not a code path.

Each provider names the tools it supports, the credential it needs (a Windmill resource type, its
fields, and the environment variables the tools read), the Terraform provider where one exists,
its regions, and facts the generator's prompts use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from f.fractal.model.errors import InvalidInput


@dataclass(frozen=True)
class Credential:
    resource_type: str  # Windmill resource type, defined at the repo root
    default_path: str  # where the pack looks for the resource by default
    env: dict[str, str]  # env var the tools read → field of the resource
    description: str


@dataclass(frozen=True)
class Provider:
    name: str
    title: str
    tools: tuple[str, ...]
    credential: Credential | None
    terraform_source: str = ""
    terraform_version: str = ""
    regions: tuple[str, ...] = ()
    default_region: str = ""
    facts: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        cred = self.credential
        return {
            "name": self.name,
            "title": self.title,
            "tools": list(self.tools),
            "credential": None
            if cred is None
            else {
                "resource_type": cred.resource_type,
                "default_path": cred.default_path,
                "env": dict(cred.env),
                "description": cred.description,
            },
            "terraform_source": self.terraform_source,
            "regions": list(self.regions),
            "default_region": self.default_region,
            "facts": list(self.facts),
        }


def api_key(resource_type: str, env: str, description: str) -> Credential:
    """A credential that is one API key: the resource type's `api_key` field, read by the tools from `env`."""
    return Credential(resource_type=resource_type, default_path=f"f/fractal/{resource_type}", env={env: "api_key"},
                      description=description)


PROVIDERS: dict[str, Provider] = {
    p.name: p
    for p in [
        Provider(
            name="local",
            title="This machine",
            tools=("ansible", "secret", "terraform"),
            credential=None,
            facts=(
                "Ansible plays target `hosts: localhost` with `connection: local`.",
                "No cloud API: Terraform may only use local/null/random providers.",
            ),
        ),
        Provider(
            name="k3s",
            title="Local K3s cluster",
            tools=("kubernetes", "kustomize", "helm", "argocd", "ansible", "secret", "terraform"),
            credential=Credential(
                resource_type="kubeconfig",
                default_path="f/fractal/k3s_kubeconfig",
                env={"KUBECONFIG_CONTENT": "kubeconfig"},
                description="kubeconfig of the K3s cluster (from /etc/rancher/k3s/k3s.yaml)",
            ),
            terraform_source="hashicorp/kubernetes",
            terraform_version="~> 2.31",
            regions=("local",),
            default_region="local",
            facts=(
                "K3s ships Traefik as ingress controller and local-path as default StorageClass.",
                "Use kubectl-compatible manifests; namespaces must exist or be created first.",
            ),
        ),
        Provider(
            name="exoscale",
            title="Exoscale",
            tools=("terraform", "ansible", "kubernetes", "secret"),
            credential=Credential(
                resource_type="exoscale",
                default_path="f/fractal/exoscale",
                env={"EXOSCALE_API_KEY": "api_key", "EXOSCALE_API_SECRET": "api_secret"},
                description="Exoscale IAM API key and secret",
            ),
            terraform_source="exoscale/exoscale",
            terraform_version="~> 0.62",
            regions=("ch-gva-2", "ch-dk-2", "de-fra-1", "de-muc-1", "at-vie-1", "at-vie-2", "bg-sof-1"),
            default_region="ch-gva-2",
            facts=(
                "Managed Kubernetes is SKS: exoscale_sks_cluster + exoscale_sks_nodepool.",
                "Compute: exoscale_compute_instance with `zone`, `type` (e.g. standard.medium), `template_id`.",
                "The provider reads EXOSCALE_API_KEY / EXOSCALE_API_SECRET; never write keys in HCL.",
            ),
        ),
        Provider(
            name="vastai",
            title="Vast.ai",
            tools=("ansible", "secret"),
            credential=api_key("vastai", "VASTAI_API_KEY", "Vast.ai API key"),
            regions=("any", "us", "eu", "asia"),
            default_region="any",
            facts=(
                "No Terraform provider: Vast.ai publishes none (the community ones are unofficial). Drive the official "
                "`vastai` CLI (PyPI vastai, in its own environment) from an Ansible play on localhost: `vastai search "
                "offers '<query>' -o dph --raw`, then `vastai create instance <offer id> --image … --disk … --raw`.",
                "GPU marketplace: an instance is rented from an offer (gpu_name, num_gpus, disk_space, dph_total).",
                "The API key is read from VASTAI_API_KEY; pass it to the CLI with --api-key from the environment.",
            ),
        ),
        Provider(
            name="runpod",
            title="RunPod",
            tools=("terraform", "ansible", "secret"),
            credential=api_key("runpod", "RUNPOD_API_KEY", "RunPod API key"),
            terraform_source="runpod/runpod",
            terraform_version="~> 1.0",
            regions=("any", "EU-RO-1", "EU-SE-1", "US-TX-3", "US-OR-1", "CA-MTL-1"),
            default_region="any",
            facts=(
                "RunPod's own Terraform provider (runpod/runpod), 1.x attribute names: 2.0 renamed them (image, disk).",
                "GPU pods: runpod_pod with name, image_name, gpu_type_id, gpu_count, volume_in_gb, container_disk_in_gb, "
                "volume_mount_path (cloud_type is deprecated).",
                "Network volumes: runpod_network_volume with name, size and data_center_id.",
                "The API key is read from RUNPOD_API_KEY.",
            ),
        ),
    ]
}


def get(name: str) -> Provider:
    provider = PROVIDERS.get(name) if isinstance(name, str) else None
    if provider is None:
        raise InvalidInput(f"unknown provider {name!r:.40}", hint=f"use one of {', '.join(PROVIDERS)}")
    return provider


def fitting(entity_providers: list[str] | None, tool: str | None = None) -> list[str]:
    """Providers an entity fits: its declared ones (empty = any), narrowed to those supporting its tool."""
    names = entity_providers or list(PROVIDERS)
    return [n for n in names if n in PROVIDERS and (tool is None or tool in PROVIDERS[n].tools)]
