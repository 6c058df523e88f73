"""The offline generator's template library: common needs across the four tools and five providers.

A template is data: an id, its tool and provider, English and French keywords (accent-free,
lowercase; a keyword may be a phrase), its parameters with defaults, and a `build(params)` that
returns the entity's files. Parameters become the entity's inputs: Terraform variables, Ansible
play vars; Kubernetes manifests and secret bindings take them literally. Secret templates are
derived from the providers' credentials, so a new provider brings its own. Every output goes through
the same validators as an LLM's (tests/test_generate_offline.py runs them all).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from f.fractal.model.providers import PROVIDERS
from f.fractal.platform.yamlio import dump

Files = dict[str, str]


@dataclass(frozen=True)
class Template:
    id: str
    tool: str
    provider: str
    description: str
    words: tuple[str, ...]
    params: dict[str, Any]
    build: Callable[[dict[str, Any]], Files]
    credentials: tuple[str, ...] = field(default=())
    strong: tuple[str, ...] = field(default=())  # decisive keywords, weighted higher
    required: tuple[str, ...] = field(default=())  # at least one must be in the need (default: the strong words)
    avoid: tuple[str, ...] = field(default=())  # none may be in the need
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)  # a play's outputs (Terraform's are in its files)

    def __post_init__(self) -> None:
        if not self.required:
            object.__setattr__(self, "required", self.strong or self.words)


PARAM_DOCS: dict[str, str] = {
    "name": "Name (or name prefix) of what is created",
    "zone": "Zone or region to create it in",
    "instance_count": "How many instances",
    "node_count": "How many nodes in the cluster",
    "instance_type": "Instance type (size)",
    "disk_size_gb": "Disk size in GB",
    "size_gb": "Size in GB",
    "template": "Operating system template",
    "ports": "TCP ports to open",
    "cidr": "Network range (CIDR)",
    "domain": "DNS domain",
    "record": "Record name within the domain",
    "ip_address": "IPv4 address the record points to",
    "gpu_type": "GPU model",
    "gpu_count": "Number of GPUs",
    "image": "Container image",
    "container_disk_gb": "Container disk in GB",
    "path": "Path of the file",
    "content": "Content of the file",
    "kubeconfig_path": "Path of the kubeconfig file",
    "namespace": "Kubernetes namespace",
    "packages": "Packages to install",
    "user": "User name",
    "message": "Message to write",
    "k3s_version": "K3s release to install",
    "schedule": "Cron schedule (minute hour day month weekday)",
    "command": "Command to run",
    "service": "Service name",
    "target_hosts": "Inventory group or hosts to configure",
    "repo": "Git repository to clone (empty = none)",
    "repo_version": "Branch, tag or commit of the repository to check out",
    "pod_id": "RunPod pod id",
    "pod_action": "What to do with the pod: start or stop",
    "job_name": "Name of the cron entry",
    "max_price": "Highest price per hour in USD",
    "label": "Label of the rented instance (a new run reuses the instance with this label)",
    "vastai_cli": "The vastai CLI (PyPI vastai): a command on the PATH or its path",
    "api_url": "The provider's API URL",
    "replicas": "Number of replicas",
    "port": "Port the application listens on",
    "host": "Host name served",
    "pods": "Most pods in the namespace",
    "cpu": "CPU quota",
    "memory": "Memory quota",
    "storage_class": "Storage class",
    "admin_cidr": "Network range (CIDR) allowed to reach SSH and the Kubernetes API; never 0.0.0.0/0",
    "ssh_key": "Name of an SSH key registered in the Exoscale account (empty = none)",
    "min_replicas": "Fewest replicas",
    "max_replicas": "Most replicas",
    "cpu_percent": "Average CPU use (% of the request) the autoscaler aims at",
    "data": "Keys and values of the ConfigMap",
    "plan": "Service plan",
    "pg_version": "PostgreSQL major version",
    "allowed_cidr": "Network range (CIDR) allowed to connect",
    "target_port": "Port the instances listen on",
}


# ------------------------------------------------------------------ rendering helpers


def to_yaml(data: Any) -> str:
    return dump(data, indent_lists=True, width=120)


def manifests(*docs: dict[str, Any]) -> str:
    return "---\n".join(to_yaml(d) for d in docs)


def hcl(value: Any) -> str:
    """A Python literal as HCL (JSON is HCL for strings, numbers, bools and lists)."""
    return json.dumps(value, ensure_ascii=False)


def _tf_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "list(number)" if value and all(isinstance(v, int) for v in value) else "list(string)"
    return "string"


def variables_tf(params: dict[str, Any]) -> str:
    blocks = []
    for name, value in params.items():
        blocks.append(
            f'variable "{name}" {{\n  type        = {_tf_type(value)}\n'
            f"  description = {hcl(PARAM_DOCS.get(name, name.replace('_', ' ')))}\n  default     = {hcl(value)}\n}}\n"
        )
    return "\n".join(blocks)


def outputs_tf(outputs: dict[str, tuple[str, str]], sensitive: tuple[str, ...] = ()) -> str:
    return "\n".join(
        f'output "{name}" {{\n  description = {hcl(desc)}\n  value       = {expr}\n'
        + ("  sensitive   = true\n" if name in sensitive else "") + "}\n"
        for name, (desc, expr) in outputs.items()
    )


def versions_tf(*sources: tuple[str, str, str]) -> str:
    """sources: (local name, source, version constraint)."""
    entries = "".join(
        f'    {name} = {{\n      source  = "{source}"\n      version = "{version}"\n    }}\n' for name, source, version in sources
    )
    return f'terraform {{\n  required_version = ">= 1.5"\n\n  required_providers {{\n{entries}  }}\n}}\n'


def _provider_source(provider: str) -> tuple[str, str, str]:
    p = PROVIDERS[provider]
    return p.terraform_source.split("/")[-1], p.terraform_source, p.terraform_version


RANDOM = ("random", "hashicorp/random", "~> 3.6")
LOCAL = ("local", "hashicorp/local", "~> 2.5")
TLS = ("tls", "hashicorp/tls", "~> 4.0")


def terraform(main: str, params: dict[str, Any], outputs: dict[str, tuple[str, str]], *sources: tuple[str, str, str],
              sensitive: tuple[str, ...] = ()) -> Files:
    return {"main.tf": main, "variables.tf": variables_tf(params), "outputs.tf": outputs_tf(outputs, sensitive),
            "versions.tf": versions_tf(*sources)}


def playbook(name: str, hosts: str, params: dict[str, Any], tasks: list[dict[str, Any]], **play: Any) -> Files:
    body: dict[str, Any] = {"name": name, "hosts": hosts}
    if hosts == "localhost":
        body["connection"] = "local"
    body["gather_facts"] = play.pop("gather_facts", False)
    body.update(play)
    if params:
        body["vars"] = params
    body["tasks"] = tasks
    return {"site.yml": to_yaml([body])}


# ------------------------------------------------------------------ Terraform: shared pieces


def block(head: str, attrs: dict[str, str], *nested: str) -> str:
    """An HCL block as `terraform fmt` writes it: attributes (HCL expressions) aligned on `=` in runs of
    single-line values (a multi-line value stands alone), then the nested blocks, each after a blank line."""
    lines = [f"{head} {{"]
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(k) for k, _v in run), default=0)
        lines.extend(f"  {k.ljust(width)} = {v}" for k, v in run)
        run.clear()

    for key, value in attrs.items():
        if "\n" in value:
            flush()
            lines.append(f"  {key} = " + value.replace("\n", "\n  "))
        else:
            run.append((key, value))
    flush()
    for inner in nested:
        lines += [""] * (len(lines) > 1) + [f"  {line}" if line else "" for line in inner.rstrip("\n").split("\n")]
    return "\n".join(lines) + "\n}\n"


def resource(rtype: str, label: str, attrs: dict[str, str], *nested: str) -> str:
    return block(f'resource "{rtype}" "{label}"', attrs, *nested)


def hcl_map(entries: dict[str, str]) -> str:
    """A multi-line HCL object of expressions (aligned keys)."""
    width = max(len(k) for k in entries)
    return "{\n" + "".join(f"  {k.ljust(width)} = {v}\n" for k, v in entries.items()) + "}"


def exoscale(main: str, params: dict[str, Any], outputs: dict[str, tuple[str, str]], *extra: tuple[str, str, str],
             sensitive: tuple[str, ...] = ()) -> Files:
    return terraform(main, params, outputs, _provider_source("exoscale"), *extra, sensitive=sensitive)


EXO_OS = block('data "exoscale_template" "os"', {"zone": "var.zone", "name": "var.template"})
SSH_KEYS = 'var.ssh_key == "" ? null : [var.ssh_key]'


def exo_group(label: str, name: str) -> str:
    return resource("exoscale_security_group", label, {"name": name})


def exo_ports_rule(label: str, group: str, source: str, ports: str) -> str:
    """TCP ports (a set of strings) open from a CIDR."""
    return resource("exoscale_security_group_rule", label, {
        "for_each": ports, "security_group_id": f"exoscale_security_group.{group}.id", "type": '"INGRESS"',
        "protocol": '"TCP"', "cidr": source, "start_port": "tonumber(each.value)", "end_port": "tonumber(each.value)"})


def exo_range_rule(label: str, group: str, source: str, start: str, end: str) -> str:
    """One TCP port range open from a CIDR."""
    return resource("exoscale_security_group_rule", label, {
        "security_group_id": f"exoscale_security_group.{group}.id", "type": '"INGRESS"', "protocol": '"TCP"',
        "cidr": source, "start_port": start, "end_port": end})


def exo_peer_rules(label: str, group: str, peers: dict[str, tuple[str, int, int]]) -> str:
    """Ports open between the members of one security group: {name: (protocol, from, to)}."""
    each = hcl_map({name: f'{{ protocol = "{proto}", from = {low}, to = {high} }}' for name, (proto, low, high) in peers.items()})
    return resource("exoscale_security_group_rule", label, {
        "for_each": each, "security_group_id": f"exoscale_security_group.{group}.id", "type": '"INGRESS"',
        "protocol": "each.value.protocol", "user_security_group_id": f"exoscale_security_group.{group}.id",
        "start_port": "each.value.from", "end_port": "each.value.to"})


def exo_instance(label: str, name: str, *, count: str = "", group: str = "", user_data: str = "") -> str:
    attrs = {"count": count} if count else {}
    attrs |= {"zone": "var.zone", "name": name, "type": "var.instance_type", "template_id": "data.exoscale_template.os.id",
              "disk_size": "var.disk_size_gb"}
    if group:
        attrs["security_group_ids"] = f"[exoscale_security_group.{group}.id]"
    attrs["ssh_keys"] = SSH_KEYS
    if user_data:
        attrs["user_data"] = user_data
    return resource("exoscale_compute_instance", label, attrs)


def _main(*blocks: str) -> str:
    return "\n".join(blocks)


# ------------------------------------------------------------------ Terraform


def exo_instances(p: dict[str, Any]) -> Files:
    main = _main(EXO_OS, exo_instance("node", '"${var.name}-${count.index + 1}"', count="var.instance_count"))
    outputs = {"ids": ("Instance ids", "exoscale_compute_instance.node[*].id"),
               "public_ips": ("Public IPv4 addresses", "exoscale_compute_instance.node[*].public_ip_address")}
    return exoscale(main, p, outputs)


# K3s uses the CAs it finds in /var/lib/rancher/k3s/server/tls at its first start (K3s docs, "Using custom CA
# certificates"): Terraform makes them, writes them with cloud-init, and signs an admin client certificate with the
# client CA, so the kubeconfig is an output — no provisioner, no SSH.
K3S_CAS = ("server-ca", "client-ca", "request-header-ca", "etcd/peer-ca", "etcd/server-ca")
ECDSA = {"algorithm": '"ECDSA"', "ecdsa_curve": '"P256"'}


def _k3s_pki() -> str:
    cas = ", ".join(f'"{ca}"' for ca in K3S_CAS)
    return _main(
        block("locals", {"k3s_cas": f"toset([{cas}])"}),
        resource("tls_private_key", "ca", {"for_each": "local.k3s_cas", **ECDSA}),
        resource("tls_self_signed_cert", "ca", {
            "for_each": "local.k3s_cas", "private_key_pem": "tls_private_key.ca[each.key].private_key_pem",
            "is_ca_certificate": "true", "validity_period_hours": "87600",
            "allowed_uses": '["cert_signing", "key_encipherment", "digital_signature"]'},
            block("subject", {"common_name": '"k3s-${replace(each.key, "/", "-")}"'})),
        resource("tls_private_key", "admin", ECDSA),
        resource("tls_cert_request", "admin", {"private_key_pem": "tls_private_key.admin.private_key_pem"},
                 block("subject", {"common_name": '"fractal-admin"', "organization": '"system:masters"'})),
        resource("tls_locally_signed_cert", "admin", {
            "cert_request_pem": "tls_cert_request.admin.cert_request_pem",
            "ca_private_key_pem": 'tls_private_key.ca["client-ca"].private_key_pem',
            "ca_cert_pem": 'tls_self_signed_cert.ca["client-ca"].cert_pem', "validity_period_hours": "8760",
            "allowed_uses": '["client_auth", "digital_signature", "key_encipherment"]'}),
    )


K3S_LOCALS = '''locals {
  install = "curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION=${var.k3s_version} K3S_TOKEN=${random_password.k3s_token.result}"
  api_url = "https://${exoscale_compute_instance.server.public_ip_address}:6443"
  ca_files = merge(
    { for ca in local.k3s_cas : "${ca}.crt" => tls_self_signed_cert.ca[ca].cert_pem },
    { for ca in local.k3s_cas : "${ca}.key" => tls_private_key.ca[ca].private_key_pem },
  )
  server_init = yamlencode({
    write_files = [for file, pem in local.ca_files : {
      path        = "/var/lib/rancher/k3s/server/tls/${file}"
      content     = pem
      permissions = "0600"
    }]
    runcmd = ["${local.install} sh -s - server --write-kubeconfig-mode 0600 --tls-san ${var.name}-server"]
  })
  agent_init = yamlencode({ runcmd = ["${local.install} K3S_URL=${local.api_url} sh -"] })
  cluster = {
    server                       = local.api_url
    "certificate-authority-data" = base64encode(tls_self_signed_cert.ca["server-ca"].cert_pem)
  }
  admin = {
    "client-certificate-data" = base64encode(tls_locally_signed_cert.admin.cert_pem)
    "client-key-data"         = base64encode(tls_private_key.admin.private_key_pem)
  }
  kubeconfig = yamlencode({
    apiVersion        = "v1"
    kind              = "Config"
    "current-context" = var.name
    clusters          = [{ name = var.name, cluster = local.cluster }]
    users             = [{ name = "fractal-admin", user = local.admin }]
    contexts          = [{ name = var.name, context = { cluster = var.name, user = "fractal-admin" } }]
  })
}
'''


def exo_k3s(p: dict[str, Any]) -> Files:
    main = _main(
        EXO_OS,
        resource("random_password", "k3s_token", {"length": "48", "special": "false"}),
        _k3s_pki(),
        exo_group("k3s", '"${var.name}-nodes"'),
        "# SSH and the Kubernetes API only from the admin range; web traffic from anywhere.\n"
        + exo_ports_rule("admin", "k3s", "var.admin_cidr", 'toset(["22", "6443"])'),
        exo_ports_rule("web", "k3s", '"0.0.0.0/0"', 'toset(["80", "443"])'),
        "# Between nodes: the API (agents join), the kubelet, flannel's VXLAN (UDP 8472), embedded etcd.\n"
        + exo_peer_rules("nodes", "k3s", {"api": ("TCP", 6443, 6443), "kubelet": ("TCP", 10250, 10250),
                                          "flannel": ("UDP", 8472, 8472), "etcd": ("TCP", 2379, 2380)}),
        K3S_LOCALS,
        exo_instance("server", '"${var.name}-server"', group="k3s", user_data='"#cloud-config\\n${local.server_init}"'),
        exo_instance("agent", '"${var.name}-agent-${count.index + 1}"', count="var.node_count - 1", group="k3s",
                     user_data='"#cloud-config\\n${local.agent_init}"'),
    )
    outputs = {
        "server_ip": ("Public IP of the K3s server (API on port 6443)", "exoscale_compute_instance.server.public_ip_address"),
        "agent_ips": ("Public IPs of the K3s agents", "exoscale_compute_instance.agent[*].public_ip_address"),
        "api_url": ("Kubernetes API URL", "local.api_url"),
        "kubeconfig": ("Admin kubeconfig (sensitive; usable from the admin range once K3s has started, a few minutes "
                       "after apply)", "local.kubeconfig"),
    }
    return exoscale(main, p, outputs, RANDOM, TLS, sensitive=("kubeconfig",))


def exo_sks(p: dict[str, Any]) -> Files:
    main = _main(
        resource("exoscale_sks_cluster", "this", {"zone": "var.zone", "name": "var.name", "service_level": '"starter"',
                                                  "cni": '"calico"'}),
        exo_group("nodes", '"${var.name}-nodes"'),
        "# What SKS nodes need (Exoscale's SKS guide): Calico VXLAN and the kubelet between nodes, NodePorts from outside.\n"
        + exo_peer_rules("nodes", "nodes", {"calico": ("UDP", 4789, 4789), "kubelet": ("TCP", 10250, 10250)}),
        exo_range_rule("nodeports", "nodes", '"0.0.0.0/0"', "30000", "32767"),
        resource("exoscale_sks_nodepool", "workers", {
            "zone": "var.zone", "cluster_id": "exoscale_sks_cluster.this.id", "name": '"${var.name}-workers"',
            "instance_type": "var.instance_type", "size": "var.node_count", "disk_size": "var.disk_size_gb",
            "security_group_ids": "[exoscale_security_group.nodes.id]"}),
        resource("exoscale_sks_kubeconfig", "admin", {
            "zone": "var.zone", "cluster_id": "exoscale_sks_cluster.this.id", "user": '"kubernetes-admin"',
            "groups": '["system:masters"]', "ttl_seconds": "2592000"}),
    )
    outputs = {"cluster_id": ("SKS cluster id", "exoscale_sks_cluster.this.id"),
               "endpoint": ("Kubernetes API endpoint", "exoscale_sks_cluster.this.endpoint"),
               "kubeconfig": ("Admin kubeconfig (valid 30 days; sensitive)", "exoscale_sks_kubeconfig.admin.kubeconfig")}
    return exoscale(main, p, outputs, sensitive=("kubeconfig",))


def exo_dbaas(p: dict[str, Any]) -> Files:
    main = _main(
        resource("exoscale_dbaas", "this", {"zone": "var.zone", "name": "var.name", "type": "var.type", "plan": "var.plan",
                                            "termination_protection": "true"},
                 block("pg", {"version": "var.pg_version", "ip_filter": "[var.allowed_cidr]"})),
        block('data "exoscale_database_uri" "this"', {"zone": "var.zone", "name": "exoscale_dbaas.this.name",
                                                      "type": "var.type"}),
    )
    outputs = {"id": ("Database service id", "exoscale_dbaas.this.id"),
               "uri": ("Connection URI (sensitive)", "data.exoscale_database_uri.this.uri")}
    return exoscale(main, p, outputs, sensitive=("uri",))


def exo_nlb_pool(p: dict[str, Any]) -> Files:
    main = _main(
        EXO_OS,
        exo_group("pool", '"${var.name}-pool"'),
        exo_range_rule("service", "pool", "var.allowed_cidr", "var.target_port", "var.target_port"),
        resource("exoscale_instance_pool", "this", {
            "zone": "var.zone", "name": "var.name", "size": "var.instance_count", "instance_type": "var.instance_type",
            "template_id": "data.exoscale_template.os.id", "disk_size": "var.disk_size_gb",
            "security_group_ids": "[exoscale_security_group.pool.id]"}),
        resource("exoscale_nlb", "this", {"zone": "var.zone", "name": "var.name"}),
        resource("exoscale_nlb_service", "this", {
            "zone": "var.zone", "nlb_id": "exoscale_nlb.this.id", "name": '"${var.name}-${var.port}"',
            "instance_pool_id": "exoscale_instance_pool.this.id", "protocol": '"tcp"', "port": "var.port",
            "target_port": "var.target_port", "strategy": '"round-robin"'},
            block("healthcheck", {"mode": '"tcp"', "port": "var.target_port", "interval": "10", "timeout": "5",
                                  "retries": "2"})),
    )
    outputs = {"nlb_ip": ("Public IP of the load balancer", "exoscale_nlb.this.ip_address"),
               "instance_pool_id": ("Instance pool id", "exoscale_instance_pool.this.id")}
    return exoscale(main, p, outputs)


def exo_firewall(p: dict[str, Any]) -> Files:
    main = _main(exo_group("this", "var.name"),
                 exo_ports_rule("ingress", "this", "var.cidr", "toset([for port in var.ports : tostring(port)])"))
    return exoscale(main, p, {"security_group_id": ("Security group id", "exoscale_security_group.this.id")})


def exo_network(p: dict[str, Any]) -> Files:
    main = resource("exoscale_private_network", "this", {
        "zone": "var.zone", "name": "var.name", "netmask": "cidrnetmask(var.cidr)", "start_ip": "cidrhost(var.cidr, 10)",
        "end_ip": "cidrhost(var.cidr, 250)"})
    return exoscale(main, p, {"network_id": ("Private network id", "exoscale_private_network.this.id")})


def exo_volume(p: dict[str, Any]) -> Files:
    main = resource("exoscale_block_storage_volume", "this", {"zone": "var.zone", "name": "var.name", "size": "var.size_gb"})
    return exoscale(main, p, {"volume_id": ("Block storage volume id", "exoscale_block_storage_volume.this.id")})


def exo_dns(p: dict[str, Any]) -> Files:
    main = _main(
        resource("exoscale_domain", "this", {"name": "var.domain"}),
        resource("exoscale_domain_record", "this", {"domain": "exoscale_domain.this.id", "name": "var.record",
                                                    "record_type": '"A"', "content": "var.ip_address", "ttl": "300"}),
    )
    return exoscale(main, p, {"fqdn": ("Full name of the record", "exoscale_domain_record.this.hostname")})


def runpod_pod(p: dict[str, Any]) -> Files:
    main = resource("runpod_pod", "this", {
        "name": "var.name", "image_name": "var.image", "gpu_type_id": "var.gpu_type", "gpu_count": "var.gpu_count",
        "volume_in_gb": "var.size_gb", "container_disk_in_gb": "var.container_disk_gb",
        "volume_mount_path": '"/workspace"'})
    return terraform(main, p, {"pod_id": ("RunPod pod id", "runpod_pod.this.id")}, _provider_source("runpod"))


def runpod_volume(p: dict[str, Any]) -> Files:
    main = resource("runpod_network_volume", "this", {"name": "var.name", "size": "var.size_gb",
                                                      "data_center_id": "var.zone"})
    return terraform(main, p, {"volume_id": ("Network volume id", "runpod_network_volume.this.id")}, _provider_source("runpod"))


def local_file(p: dict[str, Any]) -> Files:
    main = resource("local_file", "this", {"filename": "var.path", "content": "var.content", "file_permission": '"0644"'})
    return terraform(main, p, {"path": ("Path of the file written", "local_file.this.filename")}, LOCAL)


def k3s_namespace_tf(p: dict[str, Any]) -> Files:
    main = _main(
        block('provider "kubernetes"', {"config_path": "var.kubeconfig_path"}),
        resource("kubernetes_namespace_v1", "this", {}, block("metadata", {"name": "var.namespace"})),
        resource("kubernetes_resource_quota_v1", "this", {},
                 block("metadata", {"name": '"${var.namespace}-quota"',
                                    "namespace": "kubernetes_namespace_v1.this.metadata[0].name"}),
                 block("spec", {"hard": hcl_map({"pods": "var.pods"})})),
    )
    return terraform(main, p, {"namespace": ("The namespace created", "kubernetes_namespace_v1.this.metadata[0].name")},
                     _provider_source("k3s"))


# ------------------------------------------------------------------ Ansible


def pkg_install(p: dict[str, Any]) -> Files:
    return playbook("Install packages", "localhost", p, [
        {"name": "Install the packages", "become": True,
         "ansible.builtin.package": {"name": "{{ packages }}", "state": "present"}},
    ])


def user_account(p: dict[str, Any]) -> Files:
    return playbook("Create a user account", "localhost", p, [
        {"name": "Create the user", "become": True,
         "ansible.builtin.user": {"name": "{{ user }}", "shell": "/bin/bash", "create_home": True, "state": "present"}},
    ])


def motd(p: dict[str, Any]) -> Files:
    return playbook("Write the message of the day", "localhost", p, [
        {"name": "Write the file", "ansible.builtin.copy": {"dest": "{{ path }}", "content": "{{ message }}\n", "mode": "0644"}},
    ])


def k3s_install(p: dict[str, Any]) -> Files:
    return playbook("Install K3s on this machine", "localhost", p, [
        {"name": "Download the K3s installer",
         "ansible.builtin.get_url": {"url": "https://get.k3s.io", "dest": "/tmp/k3s-install.sh", "mode": "0755"}},
        {"name": "Run the installer", "become": True,
         "ansible.builtin.command": {"cmd": "/tmp/k3s-install.sh", "creates": "/usr/local/bin/k3s"},
         "environment": {"INSTALL_K3S_VERSION": "{{ k3s_version }}"}},
    ])


def cron_job(p: dict[str, Any]) -> Files:
    fields = {f: f"{{{{ schedule.split()[{i}] }}}}" for i, f in enumerate(("minute", "hour", "day", "month", "weekday"))}
    return playbook("Schedule a job", "localhost", p, [
        {"name": "Check the schedule has five fields", "ansible.builtin.assert": {
            "that": ["schedule.split() | length == 5"], "fail_msg": "schedule must be 'minute hour day month weekday'"}},
        {"name": "Install the cron entry", "ansible.builtin.cron": {"name": "{{ job_name }}", "job": "{{ command }}", **fields}},
    ])


def service_started(p: dict[str, Any]) -> Files:
    return playbook("Keep a service running", "localhost", p, [
        {"name": "Start and enable the service", "become": True,
         "ansible.builtin.service": {"name": "{{ service }}", "state": "started", "enabled": True}},
    ])


def server_bootstrap(p: dict[str, Any]) -> Files:
    return playbook("Bootstrap servers", "{{ target_hosts }}", p, [
        {"name": "Update the package cache and upgrade", "become": True,
         "ansible.builtin.apt": {"update_cache": True, "upgrade": "safe", "cache_valid_time": 3600}},
        {"name": "Install base packages", "become": True, "ansible.builtin.apt": {"name": "{{ packages }}", "state": "present"}},
        {"name": "Disable SSH password login", "become": True,
         "ansible.builtin.lineinfile": {"path": "/etc/ssh/sshd_config", "regexp": "^#?PasswordAuthentication",
                                        "line": "PasswordAuthentication no", "validate": "sshd -t -f %s"},
         "notify": "Restart ssh"},
    ], handlers=[{"name": "Restart ssh", "become": True, "ansible.builtin.service": {"name": "ssh", "state": "restarted"}}])


def training_setup(p: dict[str, Any]) -> Files:
    return playbook("Prepare a training environment", "{{ target_hosts }}", p, [
        {"name": "Install Python packages", "ansible.builtin.pip": {"name": "{{ packages }}", "state": "present"}},
        {"name": "Clone the code", "when": "repo | length > 0",
         "ansible.builtin.git": {"repo": "{{ repo }}", "dest": "/workspace/code", "version": "{{ repo_version }}"}},
    ])


def runpod_control(p: dict[str, Any]) -> Files:
    return playbook("Start or stop a RunPod pod", "localhost", p, [
        {"name": "Call the RunPod API", "no_log": True, "ansible.builtin.uri": {
            "url": "https://rest.runpod.io/v1/pods/{{ pod_id }}/{{ pod_action }}", "method": "POST",
            "headers": {"Authorization": "Bearer {{ lookup('ansible.builtin.env', 'RUNPOD_API_KEY') }}"},
            "status_code": [200, 204]}},
    ])


# Vast.ai publishes no Terraform provider: its plays drive the official `vastai` CLI (PyPI vastai) on the worker.
# The key goes through the environment, never the command line (the CLI reads VAST_API_KEY); no update check.
VAST_ENV = {"VAST_API_KEY": "{{ lookup('ansible.builtin.env', 'VASTAI_API_KEY') }}", "VASTAI_NO_UPDATE_CHECK": "1"}
VAST = ["{{ vastai_cli }}", "--url", "{{ api_url }}"]
VAST_PARAMS = {"vastai_cli": "vastai", "api_url": "https://console.vast.ai"}
OFFER_QUERY = "gpu_name={{ gpu_type | replace(' ', '_') }} num_gpus={{ gpu_count }} dph<={{ max_price }}"


def _vast_cmd(name: str, *argv: str, register: str, changed: bool = False, **task: Any) -> dict[str, Any]:
    return {"name": name, "ansible.builtin.command": {"argv": [*VAST, *argv, "--raw"]}, "register": register,
            "changed_when": changed, **({} if changed else {"check_mode": False}), **task}


def _rented(label: str) -> list[dict[str, Any]]:
    return [
        _vast_cmd("List the instances rented under this label", "show", "instances", "--label", f"{{{{ {label} }}}}",
                  register="rented"),
        {"name": "Keep those with this label", "ansible.builtin.set_fact": {
            "labelled": f"{{{{ rented.stdout | from_json | selectattr('label', 'equalto', {label}) | list }}}}"}},
    ]


def vast_instance(p: dict[str, Any]) -> Files:
    new = "labelled | length == 0"
    site = playbook("Rent a GPU instance on Vast.ai", "localhost", p, [
        *_rented("label"),
        _vast_cmd("Find the cheapest offer that fits", "search", "offers", OFFER_QUERY + " disk_space>={{ disk_size_gb }}",
                  "-o", "dph", register="offers", when=new),
        {"name": "Stop when no offer fits", "when": new, "ansible.builtin.assert": {
            "that": ["offers.stdout | from_json | length > 0"],
            "fail_msg": "no Vast.ai offer has {{ gpu_count }} x {{ gpu_type }} and {{ disk_size_gb }} GB under "
                        "{{ max_price }} USD/h"}},
        _vast_cmd("Rent the cheapest", "create", "instance", "{{ (offers.stdout | from_json)[0].id }}", "--image", "{{ image }}",
                  "--disk", "{{ disk_size_gb }}", "--label", "{{ label }}", "--ssh", "--direct", register="created",
                  changed=True, when=new),
        {"name": "Expose the instance id", "ansible.builtin.set_fact": {
            "instance_id": "{{ labelled[0].id if labelled else (created.stdout | default('{}') | from_json).new_contract "
                           "| default('') }}"}},
    ], environment=VAST_ENV)
    destroy = playbook("Release the Vast.ai instance", "localhost", {"label": p["label"], **{k: p[k] for k in VAST_PARAMS}}, [
        *_rented("label"),
        {**_vast_cmd("Destroy it", "destroy", "instance", "{{ item.id }}", "-y", register="destroyed", changed=True),
         "loop": "{{ labelled }}"},
    ], environment=VAST_ENV)
    return {**site, "destroy.yml": destroy["site.yml"]}


def vast_offers(p: dict[str, Any]) -> Files:
    return playbook("Find GPU offers on Vast.ai", "localhost", p, [
        _vast_cmd("Search the offers", "search", "offers", OFFER_QUERY, "-o", "dph", register="offers"),
        {"name": "Keep the five cheapest", "ansible.builtin.set_fact": {
            "cheapest_offers": "{{ (offers.stdout | from_json)[:5] }}"}},
    ], environment=VAST_ENV)


# ------------------------------------------------------------------ Kubernetes


def _meta(name: str, namespace: str, **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    return meta


RESOURCES = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}


def k8s_namespace(p: dict[str, Any]) -> Files:
    ns = p["namespace"]
    return {"namespace.yaml": manifests(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(ns, "")},
        {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": _meta(f"{ns}-quota", ns),
         "spec": {"hard": {"pods": str(p["pods"]), "requests.cpu": str(p["cpu"]), "requests.memory": str(p["memory"])}}},
    )}


def k8s_web(p: dict[str, Any]) -> Files:
    name, ns, port = p["name"], p["namespace"], int(p["port"])
    labels = {"app.kubernetes.io/name": name}
    container = {"name": name, "image": p["image"], "ports": [{"containerPort": port}], "resources": RESOURCES}
    return {"manifests.yaml": manifests(
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(name, ns, **labels),
         "spec": {"replicas": int(p["replicas"]), "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, ns, **labels),
         "spec": {"selector": labels, "ports": [{"port": port, "targetPort": port}]}},
    )}


def k8s_ingress(p: dict[str, Any]) -> Files:
    backend = {"service": {"name": p["name"], "port": {"number": int(p["port"])}}}
    return {"ingress.yaml": manifests(
        {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": _meta(p["name"], p["namespace"]),
         "spec": {"ingressClassName": "traefik", "rules": [
             {"host": p["host"], "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}]}},
    )}


def k8s_pvc(p: dict[str, Any]) -> Files:
    return {"pvc.yaml": manifests(
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": _meta(p["name"], p["namespace"]),
         "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": p["storage_class"],
                  "resources": {"requests": {"storage": f"{int(p['size_gb'])}Gi"}}}},
    )}


def k8s_cronjob(p: dict[str, Any]) -> Files:
    container = {"name": p["name"], "image": p["image"], "command": ["/bin/sh", "-c", p["command"]], "resources": RESOURCES}
    return {"cronjob.yaml": manifests(
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": _meta(p["name"], p["namespace"]),
         "spec": {"schedule": p["schedule"], "concurrencyPolicy": "Forbid", "jobTemplate": {"spec": {"template": {
             "spec": {"restartPolicy": "OnFailure", "containers": [container]}}}}}},
    )}


def k8s_hpa(p: dict[str, Any]) -> Files:
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": p["name"]}
    metric = {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                          "averageUtilization": int(p["cpu_percent"])}}}
    return {"hpa.yaml": manifests(
        {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": _meta(p["name"], p["namespace"]),
         "spec": {"scaleTargetRef": target, "minReplicas": int(p["min_replicas"]), "maxReplicas": int(p["max_replicas"]),
                  "metrics": [metric]}},
    )}


def k8s_daemonset(p: dict[str, Any]) -> Files:
    name, ns = p["name"], p["namespace"]
    labels = {"app.kubernetes.io/name": name}
    container = {"name": name, "image": p["image"], "resources": RESOURCES,
                 "securityContext": {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False}}
    return {"daemonset.yaml": manifests(
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": _meta(name, ns, **labels),
         "spec": {"selector": {"matchLabels": labels}, "updateStrategy": {"type": "RollingUpdate"},
                  "template": {"metadata": {"labels": labels}, "spec": {
                      "tolerations": [{"operator": "Exists"}], "containers": [container]}}}},
    )}


def k8s_configmap(p: dict[str, Any]) -> Files:
    data = {str(k): str(v) for k, v in dict(p["data"]).items()}
    return {"configmap.yaml": manifests(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(p["name"], p["namespace"]), "data": data},
    )}


def k8s_postgres(p: dict[str, Any]) -> Files:
    name, ns = p["name"], p["namespace"]
    labels = {"app.kubernetes.io/name": name}
    password = {"secretKeyRef": {"name": f"{name}-credentials", "key": "password"}}
    container = {"name": "postgres", "image": p["image"], "ports": [{"containerPort": 5432}],
                 "env": [{"name": "POSTGRES_PASSWORD", "valueFrom": password},
                         {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}],
                 "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}], "resources": RESOURCES}
    claim = {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                     "resources": {"requests": {"storage": f"{int(p['size_gb'])}Gi"}}}}
    return {"manifests.yaml": manifests(
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": _meta(name, ns, **labels),
         "spec": {"serviceName": name, "replicas": 1, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
                  "volumeClaimTemplates": [claim]}},
        {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, ns, **labels),
         "spec": {"clusterIP": "None", "selector": labels, "ports": [{"port": 5432}]}},
    )}


# ------------------------------------------------------------------ secrets (from the providers' data)


def _binding(resource_type: str, path: str, env: dict[str, str], description: str) -> Callable[[dict[str, Any]], Files]:
    def build(p: dict[str, Any]) -> Files:
        doc = {"resource_type": resource_type, "path": p.get("path") or path, "env": env, "description": description}
        return {"secret.yaml": to_yaml(doc)}

    return build


SECRET_WORDS = ("secret", "api key", "api-key", "cle api", "cle d'api", "credential", "credentials", "identifiant",
                "identifiants", "token", "jeton", "access key", "cle d'acces", "password", "mot de passe")
# A secret template needs one of these; provider names are never its keywords (the provider is matched apart).
SECRET_REQUIRED = SECRET_WORDS
CREATES = ("instance", "instances", "cluster", "database", "base", "volume", "bucket", "deploy", "deployer", "install",
           "installer", "network", "reseau", "vm", "pod")


def _secret_templates() -> list[Template]:
    out = []
    for p in PROVIDERS.values():
        cred = p.credential
        if cred is None:
            continue
        extra = ("kubeconfig", "cluster access", "acces au cluster") if p.name == "k3s" else ()
        words = (*SECRET_WORDS, cred.resource_type, *extra)
        out.append(Template(f"{p.name}-credentials", "secret", p.name, f"The {cred.description}, bound to a Windmill resource",
                            words, {}, _binding(cred.resource_type, cred.default_path, dict(cred.env), cred.description),
                            (cred.resource_type,), required=(*SECRET_REQUIRED, *extra),
                            avoid=tuple(w for w in CREATES if w not in ("cluster",) or not extra)))
    llm_words = ("llm", "openai", "anthropic", "mistral", "language model", "modele de langage")
    out.append(Template("llm-api-key", "secret", "", "The LLM API key Fractal's generation uses, bound to a Windmill resource",
                        (*SECRET_WORDS, *llm_words), {},
                        _binding("fractal_llm", "f/fractal/llm", {"FRACTAL_LLM_API_KEY": "api_key"}, "LLM endpoint and API key"),
                        ("fractal_llm",), required=llm_words, avoid=CREATES))
    git_words = ("git", "repository", "repo", "depot", "github", "gitlab")
    out.append(Template("git-credentials", "secret", "", "Git repository access (URL with its token), bound to a resource",
                        (*SECRET_WORDS, *git_words), {},
                        _binding("git_repository", "f/fractal/catalog", {"GIT_URL": "url"}, "Git repository URL with its token"),
                        ("git_repository",), required=git_words, avoid=CREATES))
    return [t for t in out if t.required]


# ------------------------------------------------------------------ the library

UBUNTU = "Linux Ubuntu 24.04 LTS 64-bit"
GPU_WORDS = ("rtx", "a100", "h100", "a6000", "l40s", "a40", "t4", "4090", "3090")
EXO = {"zone": "ch-gva-2"}
VM_WORDS = ("instance", "instances", "vm", "vms", "virtual machine", "machine virtuelle", "machines virtuelles", "server",
            "servers", "serveur", "serveurs", "compute", "machine", "machines")
SCHEDULED = ("cron", "schedule", "scheduled", "planifie", "planifiee", "tache planifiee", "every", "toutes les", "chaque",
             "tous les", "daily", "nightly", "hourly", "weekly", "quotidien", "hebdomadaire")
INSTALL_WORDS = ("install", "installer", "installe")
K8S_OBJECTS = ("hpa", "autoscaler", "horizontalpodautoscaler", "daemonset", "daemon set", "configmap", "config map", "ingress",
               "pvc", "volume claim", "cronjob", "statefulset", "quota")
OTHER_EXO = ("load balancer", "nlb", "pool", "k3s", "sks", "gpu", "dbaas", "managed", "geree", "managee", "database",
             "firewall", "pare-feu", "security group", "groupe de securite", "dns", "volume", "network", "reseau")


def _but(words: tuple[str, ...], *keep: str) -> tuple[str, ...]:
    return tuple(w for w in words if w not in keep)


TEMPLATES: list[Template] = [
    Template("exoscale-k3s-cluster", "terraform", "exoscale", "A K3s cluster on Exoscale compute instances",
             ("k3s", "cluster", "k3s cluster", "cluster k3s", "nodes", "noeuds"),
             {"name": "k3s", "node_count": 3, "instance_type": "standard.medium", "disk_size_gb": 50, **EXO, "template": UBUNTU,
              "k3s_version": "v1.31.4+k3s1", "admin_cidr": "10.0.0.0/8", "ssh_key": ""},
             exo_k3s, required=("k3s",), avoid=("install k3s", "installer k3s", "namespace", "espace de noms")),
    Template("exoscale-sks-cluster", "terraform", "exoscale", "A managed Kubernetes (SKS) cluster with a node pool on Exoscale",
             ("sks", "managed kubernetes", "kubernetes manage", "kubernetes cluster", "cluster kubernetes", "nodepool",
              "node pool"),
             {"name": "sks", "node_count": 3, "instance_type": "standard.medium", "disk_size_gb": 50, **EXO}, exo_sks,
             strong=("sks",), required=("sks", "managed kubernetes", "kubernetes manage", "kubernetes gere", "kubernetes cluster",
                                        "cluster kubernetes")),
    Template("exoscale-instances", "terraform", "exoscale", "Compute instances on Exoscale", VM_WORDS,
             {"name": "vm", "instance_count": 1, "instance_type": "standard.medium", "disk_size_gb": 50, **EXO,
              "template": UBUNTU, "ssh_key": ""},
             exo_instances, avoid=_but(OTHER_EXO, "volume")),
    Template("exoscale-firewall", "terraform", "exoscale", "A security group opening TCP ports on Exoscale",
             ("firewall", "pare-feu", "pare feu", "security group", "groupe de securite", "ports", "port", "open port", "ouvrir",
              "ouvre", "allow", "allowing", "autorise"),
             {"name": "web", "ports": [80, 443], "cidr": "0.0.0.0/0"}, exo_firewall,
             required=("firewall", "pare-feu", "pare feu", "security group", "groupe de securite"),
             avoid=("load balancer", "nlb", "k3s", "sks", "dbaas")),
    Template("exoscale-private-network", "terraform", "exoscale", "A private network on Exoscale",
             ("private network", "reseau prive", "network", "reseau", "subnet", "sous-reseau", "vpc"),
             {"name": "private", **EXO, "cidr": "10.0.0.0/24"}, exo_network,
             required=("private network", "reseau prive", "subnet", "sous-reseau", "vpc", "network", "reseau"),
             avoid=("load balancer", "nlb", "network volume", "volume reseau", "virtuel", "firewall", "pare-feu")),
    Template("exoscale-block-volume", "terraform", "exoscale", "A block storage volume on Exoscale",
             ("volume", "block storage", "stockage bloc", "stockage", "storage", "disk", "disque"),
             {"name": "data", "size_gb": 100, **EXO}, exo_volume,
             required=("volume", "block storage", "stockage bloc"), avoid=("instance", "instances", "vm", "k3s", "sks")),
    Template("exoscale-dns-record", "terraform", "exoscale", "A DNS domain and an A record on Exoscale",
             ("dns", "domain", "domaine", "record", "enregistrement", "zone dns"),
             {"domain": "example.com", "record": "www", "ip_address": "203.0.113.10"}, exo_dns,
             required=("dns", "record", "enregistrement")),
    Template("exoscale-dbaas", "terraform", "exoscale", "A managed PostgreSQL database (DBaaS) on Exoscale, reachable from one "
             "network range", ("dbaas", "managed", "geree", "managee", "postgresql", "postgres", "database", "base"),
             {"name": "pg", **EXO, "type": "pg", "plan": "hobbyist-2", "pg_version": "16", "allowed_cidr": "10.0.0.0/8"},
             exo_dbaas, strong=("dbaas",), required=("dbaas", "managed", "geree", "managee", "manage"),
             avoid=("mysql", "kafka", "opensearch", "redis", "valkey", "grafana", "k3s", "kubernetes")),
    Template("exoscale-nlb-pool", "terraform", "exoscale", "A network load balancer in front of an instance pool on Exoscale",
             ("load balancer", "nlb", "instance pool", "pool", "repartiteur de charge", "balancer"),
             {"name": "web", "instance_count": 2, "instance_type": "standard.medium", "disk_size_gb": 50, **EXO,
              "template": UBUNTU, "port": 80, "target_port": 80, "allowed_cidr": "0.0.0.0/0"}, exo_nlb_pool,
             strong=("load balancer", "nlb"), required=("load balancer", "nlb", "instance pool", "repartiteur de charge")),
    Template("vastai-gpu-instance", "ansible", "vastai", "A GPU instance rented on Vast.ai (its CLI, from the worker)",
             ("gpu", "gpus", "instance", "rent", "louer", "machine", "box", "training", "entrainement", "server", "serveur",
              *GPU_WORDS),
             {"label": "gpu", "gpu_type": "RTX 4090", "gpu_count": 1, "disk_size_gb": 50,
              "image": "pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime", "max_price": 1.0, **VAST_PARAMS}, vast_instance,
             required=("gpu", "gpus", "instance", "machine", "box", "rent", "louer", "server", "serveur", *GPU_WORDS),
             avoid=("offers", "offres", "cheapest", "moins cher", "moins cheres", "find", "trouver", "search", "chercher",
                    "setup", "prepare", "preparer", "environment", "environnement"),
             outputs={"instance_id": {"description": "Vast.ai instance id"}}),
    Template("runpod-gpu-pod", "terraform", "runpod", "A GPU pod on RunPod with a volume",
             ("gpu", "gpus", "pod", "instance", "machine", "volume", "training", "entrainement", *GPU_WORDS),
             {"name": "gpu-pod", "gpu_type": "NVIDIA GeForce RTX 4090", "gpu_count": 1, "size_gb": 50, "container_disk_gb": 20,
              "image": "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"}, runpod_pod,
             required=("gpu", "gpus", "pod", "instance", "machine", *GPU_WORDS),
             avoid=("stop", "arreter", "start", "demarrer", "resume", "pause", "eteindre", "allumer", "network volume",
                    "volume reseau")),
    Template("runpod-network-volume", "terraform", "runpod", "A network volume on RunPod",
             ("network volume", "volume reseau", "persistent volume", "volume persistant", "storage", "stockage", "volume"),
             {"name": "data", "size_gb": 100, "zone": "EU-RO-1"}, runpod_volume,
             required=("network volume", "volume reseau", "persistent volume", "volume persistant", "volume"),
             avoid=("gpu", "gpus", "pod", *GPU_WORDS)),
    Template("local-file", "terraform", "local", "A file written on this machine by Terraform",
             ("file", "fichier", "write", "ecrire", "terraform"),
             {"path": "/tmp/fractal/hello.txt", "content": "Hello from Fractal\n"}, local_file,
             required=("write", "ecrire", "content", "contenu"), avoid=("swap",)),
    Template("k3s-namespace-terraform", "terraform", "k3s", "A namespace with a pod quota on the K3s cluster, by Terraform",
             ("namespace", "espace de noms", "terraform", "quota"),
             {"kubeconfig_path": "~/.kube/config", "namespace": "team-a", "pods": 20}, k3s_namespace_tf,
             required=("terraform", "opentofu", "hcl")),
    Template("local-packages", "ansible", "local", "Install system packages on this machine",
             ("install", "installer", "installe", "package", "packages", "paquet", "paquets", "logiciel", "logiciels"),
             {"packages": ["git", "curl"]}, pkg_install, required=INSTALL_WORDS, avoid=("k3s",)),
    Template("local-user", "ansible", "local", "Create a user account on this machine",
             ("user", "utilisateur", "account", "compte", "create a user", "creer un utilisateur"), {"user": "deploy"},
             user_account, required=("user", "utilisateur")),
    Template("local-motd", "ansible", "local", "Write a message of the day file on this machine",
             ("motd", "message of the day", "message du jour", "banner", "banniere", "welcome", "bienvenue", "message"),
             {"path": "/tmp/fractal-motd", "message": "Welcome to Fractal"}, motd,
             required=("motd", "message of the day", "message du jour", "banner", "banniere", "welcome message")),
    Template("local-k3s-install", "ansible", "local", "Install K3s on this machine",
             ("install k3s", "installer k3s", "k3s", "setup k3s"), {"k3s_version": "v1.31.4+k3s1"}, k3s_install,
             required=("install k3s", "installer k3s", "setup k3s", "installe k3s")),
    Template("local-cron", "ansible", "local", "A scheduled job (cron) on this machine", (*SCHEDULED, "job"),
             {"job_name": "fractal-job", "command": "/usr/bin/true", "schedule": "0 3 * * *"}, cron_job,
             required=SCHEDULED, avoid=("cronjob", "kubernetes", "k3s")),
    Template("local-service", "ansible", "local", "Keep a system service started and enabled on this machine",
             ("service", "systemd", "start", "started", "demarrer", "demarre", "running", "enable", "activer", "daemon",
              "is started", "is running", "est demarre", "tourne"),
             {"service": "nginx"}, service_started,
             required=("service", "systemd", "started", "start", "demarrer", "demarre", "running", "daemon", "enable")),
    Template("exoscale-server-bootstrap", "ansible", "exoscale", "Bootstrap Exoscale servers: upgrades, packages, SSH hardening",
             ("configure", "configurer", "bootstrap", "harden", "hardening", "securiser", "durcir", "update", "mettre a jour",
              "provision", "servers", "serveurs", "ssh"),
             {"target_hosts": "exoscale", "packages": ["git", "curl", "ufw"]}, server_bootstrap,
             required=("configure", "configurer", "bootstrap", "harden", "hardening", "securiser", "durcir", "provision")),
    Template("vastai-training-setup", "ansible", "vastai", "Prepare a Python training environment on a Vast.ai instance",
             ("setup", "prepare", "preparer", "environment", "environnement", "training", "entrainement", "python", "pip",
              "jupyter"),
             {"target_hosts": "vastai", "packages": ["numpy", "jupyterlab"], "repo": "", "repo_version": "main"}, training_setup,
             required=("setup", "prepare", "preparer", "environment", "environnement")),
    Template("vastai-gpu-offers", "ansible", "vastai", "Find the cheapest matching GPU offers on Vast.ai",
             ("offers", "offres", "search", "find", "cherche", "chercher", "trouver", "cheapest", "moins cher", "moins cheres",
              "price", "prix"),
             {"gpu_type": "RTX 4090", "gpu_count": 1, "max_price": 1.0, **VAST_PARAMS}, vast_offers,
             required=("offers", "offres", "cheapest", "moins cher", "moins cheres"),
             outputs={"cheapest_offers": {"description": "The five cheapest offers that fit"}}),
    Template("runpod-pod-control", "ansible", "runpod", "Start or stop a RunPod pod through the API",
             ("stop", "arreter", "start", "demarrer", "resume", "pause", "eteindre", "allumer"),
             {"pod_id": "abc123", "pod_action": "stop"}, runpod_control, strong=("stop", "arreter", "start", "demarrer")),
    Template("k3s-namespace", "kubernetes", "k3s", "A namespace with a resource quota",
             ("namespace", "espace de noms", "quota"),
             {"namespace": "team-a", "pods": 20, "cpu": "4", "memory": "8Gi"}, k8s_namespace,
             required=("namespace", "espace de noms"),
             avoid=("postgres", "postgresql", "database", "deploy", "deployer", "ingress", "pvc", "cronjob", *K8S_OBJECTS[:6])),
    Template("k3s-web-app", "kubernetes", "k3s", "A web application: a Deployment and its Service",
             ("deploy", "deployer", "deployment", "deploiement", "web", "app", "application", "nginx", "site", "replicas",
              "repliques", "image"),
             {"name": "web", "namespace": "default", "image": "nginx:1.27", "replicas": 2, "port": 80}, k8s_web,
             required=("deploy", "deployer", "deployment", "deploiement", "web app", "application", "site", "replicas",
                       "repliques", "image"),
             avoid=K8S_OBJECTS),
    Template("k3s-ingress", "kubernetes", "k3s", "An Ingress (Traefik) exposing a service on a host name",
             ("ingress", "expose", "exposer", "host", "hostname", "url", "traefik", "https", "domain", "domaine"),
             {"name": "web", "namespace": "default", "host": "app.example.com", "port": 80}, k8s_ingress, strong=("ingress",),
             required=("ingress", "expose", "exposer")),
    Template("k3s-volume-claim", "kubernetes", "k3s", "A persistent volume claim (local-path storage)",
             ("volume", "pvc", "persistent", "persistant", "storage", "stockage", "disk", "disque", "claim"),
             {"name": "data", "namespace": "default", "size_gb": 10, "storage_class": "local-path"}, k8s_pvc,
             strong=("pvc", "volume claim"), required=("pvc", "volume claim", "volume", "persistent", "persistant"),
             avoid=("postgres", "postgresql", "database", "statefulset")),
    Template("k3s-cronjob", "kubernetes", "k3s", "A CronJob running a command on a schedule",
             ("cronjob", "cron", *SCHEDULED, "backup", "sauvegarde"),
             {"name": "nightly", "namespace": "default", "schedule": "0 3 * * *", "image": "busybox:1.36",
              "command": "date"}, k8s_cronjob, strong=("cronjob",), required=("cronjob", "cron job", *SCHEDULED)),
    Template("k3s-postgres", "kubernetes", "k3s", "A PostgreSQL database (StatefulSet, volume, headless Service)",
             ("postgres", "postgresql", "database", "base de donnees", "db", "sql"),
             {"name": "postgres", "namespace": "default", "image": "postgres:16.4", "size_gb": 10}, k8s_postgres,
             strong=("postgres", "postgresql"), avoid=("dbaas", "managed", "geree", "managee")),
    Template("k3s-hpa", "kubernetes", "k3s", "A HorizontalPodAutoscaler scaling a Deployment on its CPU use",
             ("hpa", "autoscaler", "horizontalpodautoscaler", "autoscaling", "autoscale", "scale"),
             {"name": "web", "namespace": "default", "min_replicas": 2, "max_replicas": 10, "cpu_percent": 70}, k8s_hpa,
             strong=("hpa", "autoscaler", "horizontalpodautoscaler"),
             required=("hpa", "autoscaler", "horizontalpodautoscaler", "autoscale", "autoscaling", "auto-scale")),
    Template("k3s-daemonset", "kubernetes", "k3s", "A DaemonSet running one pod on every node",
             ("daemonset", "daemon set", "every node", "tous les noeuds", "chaque noeud"),
             {"name": "node-exporter", "namespace": "default", "image": "prom/node-exporter:v1.8.2"}, k8s_daemonset,
             strong=("daemonset", "daemon set")),
    Template("k3s-configmap", "kubernetes", "k3s", "A ConfigMap holding settings",
             ("configmap", "config map", "settings", "configuration", "parametres"),
             {"name": "app-settings", "namespace": "default", "data": {"LOG_LEVEL": "info"}}, k8s_configmap,
             strong=("configmap", "config map")),
    *_secret_templates(),
]


def by_id(template_id: str) -> Template | None:
    return next((t for t in TEMPLATES if t.id == template_id), None)
