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


# ------------------------------------------------------------------ Terraform


EXO_TEMPLATE = '''data "exoscale_template" "os" {
  zone = var.zone
  name = var.template
}
'''


def exo_instances(p: dict[str, Any]) -> Files:
    main = EXO_TEMPLATE + '''
resource "exoscale_compute_instance" "node" {
  count       = var.instance_count
  zone        = var.zone
  name        = "${var.name}-${count.index + 1}"
  type        = var.instance_type
  template_id = data.exoscale_template.os.id
  disk_size   = var.disk_size_gb
  ssh_keys    = var.ssh_key == "" ? null : [var.ssh_key]
}
'''
    outputs = {"ids": ("Instance ids", "exoscale_compute_instance.node[*].id"),
               "public_ips": ("Public IPv4 addresses", "exoscale_compute_instance.node[*].public_ip_address")}
    return terraform(main, p, outputs, _provider_source("exoscale"))


def exo_k3s(p: dict[str, Any]) -> Files:
    main = EXO_TEMPLATE + '''
resource "random_password" "k3s_token" {
  length  = 48
  special = false
}

resource "exoscale_security_group" "k3s" {
  name = "${var.name}-nodes"
}

# SSH and the Kubernetes API only from the admin range; web traffic from anywhere.
resource "exoscale_security_group_rule" "admin" {
  for_each          = toset(["22", "6443"])
  security_group_id = exoscale_security_group.k3s.id
  type              = "INGRESS"
  protocol          = "TCP"
  cidr              = var.admin_cidr
  start_port        = tonumber(each.value)
  end_port          = tonumber(each.value)
}

resource "exoscale_security_group_rule" "web" {
  for_each          = toset(["80", "443"])
  security_group_id = exoscale_security_group.k3s.id
  type              = "INGRESS"
  protocol          = "TCP"
  cidr              = "0.0.0.0/0"
  start_port        = tonumber(each.value)
  end_port          = tonumber(each.value)
}

# Between nodes: the API (agents join), the kubelet, flannel's VXLAN (UDP 8472), embedded etcd.
resource "exoscale_security_group_rule" "nodes" {
  for_each = {
    api     = { protocol = "TCP", from = 6443, to = 6443 }
    kubelet = { protocol = "TCP", from = 10250, to = 10250 }
    flannel = { protocol = "UDP", from = 8472, to = 8472 }
    etcd    = { protocol = "TCP", from = 2379, to = 2380 }
  }
  security_group_id      = exoscale_security_group.k3s.id
  type                   = "INGRESS"
  protocol               = each.value.protocol
  user_security_group_id = exoscale_security_group.k3s.id
  start_port             = each.value.from
  end_port               = each.value.to
}

locals {
  install = join(" ", [
    "#cloud-config\\nruncmd:\\n  - curl -sfL https://get.k3s.io |",
    "INSTALL_K3S_VERSION=${var.k3s_version} K3S_TOKEN=${random_password.k3s_token.result}",
  ])
  api_url = "https://${exoscale_compute_instance.server.public_ip_address}:6443"
}

resource "exoscale_compute_instance" "server" {
  zone               = var.zone
  name               = "${var.name}-server"
  type               = var.instance_type
  template_id        = data.exoscale_template.os.id
  disk_size          = var.disk_size_gb
  security_group_ids = [exoscale_security_group.k3s.id]
  ssh_keys           = var.ssh_key == "" ? null : [var.ssh_key]
  user_data          = "${local.install} sh -s - server --write-kubeconfig-mode 0600 --tls-san ${var.name}-server\\n"
}

resource "exoscale_compute_instance" "agent" {
  count              = var.node_count - 1
  zone               = var.zone
  name               = "${var.name}-agent-${count.index + 1}"
  type               = var.instance_type
  template_id        = data.exoscale_template.os.id
  disk_size          = var.disk_size_gb
  security_group_ids = [exoscale_security_group.k3s.id]
  ssh_keys           = var.ssh_key == "" ? null : [var.ssh_key]
  user_data          = "${local.install} K3S_URL=${local.api_url} sh -\\n"
}
'''
    outputs = {
        "server_ip": ("Public IP of the K3s server (API on port 6443)", "exoscale_compute_instance.server.public_ip_address"),
        "agent_ips": ("Public IPs of the K3s agents", "exoscale_compute_instance.agent[*].public_ip_address"),
        "api_url": ("Kubernetes API URL", "local.api_url"),
        "kubeconfig_command": ("Prints the cluster's kubeconfig (from the admin range, with the SSH key); point its server "
                               "at api_url", '"ssh ubuntu@${exoscale_compute_instance.server.public_ip_address} '
                               'sudo cat /etc/rancher/k3s/k3s.yaml"'),
    }
    return terraform(main, p, outputs, _provider_source("exoscale"), RANDOM)


def exo_sks(p: dict[str, Any]) -> Files:
    main = '''resource "exoscale_sks_cluster" "this" {
  zone          = var.zone
  name          = var.name
  service_level = "starter"
  cni           = "calico"
}

resource "exoscale_security_group" "nodes" {
  name = "${var.name}-nodes"
}

# What SKS nodes need (Exoscale's SKS guide): Calico VXLAN and the kubelet between nodes, NodePorts from outside.
resource "exoscale_security_group_rule" "nodes" {
  for_each = {
    calico  = { protocol = "UDP", from = 4789, to = 4789 }
    kubelet = { protocol = "TCP", from = 10250, to = 10250 }
  }
  security_group_id      = exoscale_security_group.nodes.id
  type                   = "INGRESS"
  protocol               = each.value.protocol
  user_security_group_id = exoscale_security_group.nodes.id
  start_port             = each.value.from
  end_port               = each.value.to
}

resource "exoscale_security_group_rule" "nodeports" {
  security_group_id = exoscale_security_group.nodes.id
  type              = "INGRESS"
  protocol          = "TCP"
  cidr              = "0.0.0.0/0"
  start_port        = 30000
  end_port          = 32767
}

resource "exoscale_sks_nodepool" "workers" {
  zone               = var.zone
  cluster_id         = exoscale_sks_cluster.this.id
  name               = "${var.name}-workers"
  instance_type      = var.instance_type
  size               = var.node_count
  disk_size          = var.disk_size_gb
  security_group_ids = [exoscale_security_group.nodes.id]
}

resource "exoscale_sks_kubeconfig" "admin" {
  zone        = var.zone
  cluster_id  = exoscale_sks_cluster.this.id
  user        = "kubernetes-admin"
  groups      = ["system:masters"]
  ttl_seconds = 2592000
}
'''
    outputs = {"cluster_id": ("SKS cluster id", "exoscale_sks_cluster.this.id"),
               "endpoint": ("Kubernetes API endpoint", "exoscale_sks_cluster.this.endpoint"),
               "kubeconfig": ("Admin kubeconfig (valid 30 days; sensitive)", "exoscale_sks_kubeconfig.admin.kubeconfig")}
    return terraform(main, p, outputs, _provider_source("exoscale"), sensitive=("kubeconfig",))


def exo_dbaas(p: dict[str, Any]) -> Files:
    main = '''resource "exoscale_dbaas" "this" {
  zone                   = var.zone
  name                   = var.name
  type                   = var.type
  plan                   = var.plan
  termination_protection = true

  pg {
    version   = var.pg_version
    ip_filter = [var.allowed_cidr]
  }
}

data "exoscale_database_uri" "this" {
  zone = var.zone
  name = exoscale_dbaas.this.name
  type = var.type
}
'''
    outputs = {"id": ("Database service id", "exoscale_dbaas.this.id"),
               "uri": ("Connection URI (sensitive)", "data.exoscale_database_uri.this.uri")}
    return terraform(main, p, outputs, _provider_source("exoscale"), sensitive=("uri",))


def exo_nlb_pool(p: dict[str, Any]) -> Files:
    main = EXO_TEMPLATE + '''
resource "exoscale_security_group" "pool" {
  name = "${var.name}-pool"
}

resource "exoscale_security_group_rule" "service" {
  security_group_id = exoscale_security_group.pool.id
  type              = "INGRESS"
  protocol          = "TCP"
  cidr              = var.allowed_cidr
  start_port        = var.target_port
  end_port          = var.target_port
}

resource "exoscale_instance_pool" "this" {
  zone               = var.zone
  name               = var.name
  size               = var.instance_count
  instance_type      = var.instance_type
  template_id        = data.exoscale_template.os.id
  disk_size          = var.disk_size_gb
  security_group_ids = [exoscale_security_group.pool.id]
}

resource "exoscale_nlb" "this" {
  zone = var.zone
  name = var.name
}

resource "exoscale_nlb_service" "this" {
  zone             = var.zone
  nlb_id           = exoscale_nlb.this.id
  name             = "${var.name}-${var.port}"
  instance_pool_id = exoscale_instance_pool.this.id
  protocol         = "tcp"
  port             = var.port
  target_port      = var.target_port
  strategy         = "round-robin"

  healthcheck {
    mode     = "tcp"
    port     = var.target_port
    interval = 10
    timeout  = 5
    retries  = 2
  }
}
'''
    outputs = {"nlb_ip": ("Public IP of the load balancer", "exoscale_nlb.this.ip_address"),
               "instance_pool_id": ("Instance pool id", "exoscale_instance_pool.this.id")}
    return terraform(main, p, outputs, _provider_source("exoscale"))


def exo_firewall(p: dict[str, Any]) -> Files:
    main = '''resource "exoscale_security_group" "this" {
  name = var.name
}

resource "exoscale_security_group_rule" "ingress" {
  for_each          = toset([for port in var.ports : tostring(port)])
  security_group_id = exoscale_security_group.this.id
  type              = "INGRESS"
  protocol          = "TCP"
  cidr              = var.cidr
  start_port        = tonumber(each.value)
  end_port          = tonumber(each.value)
}
'''
    return terraform(main, p, {"security_group_id": ("Security group id", "exoscale_security_group.this.id")},
                     _provider_source("exoscale"))


def exo_network(p: dict[str, Any]) -> Files:
    main = '''resource "exoscale_private_network" "this" {
  zone     = var.zone
  name     = var.name
  netmask  = cidrnetmask(var.cidr)
  start_ip = cidrhost(var.cidr, 10)
  end_ip   = cidrhost(var.cidr, 250)
}
'''
    return terraform(main, p, {"network_id": ("Private network id", "exoscale_private_network.this.id")},
                     _provider_source("exoscale"))


def exo_volume(p: dict[str, Any]) -> Files:
    main = '''resource "exoscale_block_storage_volume" "this" {
  zone = var.zone
  name = var.name
  size = var.size_gb
}
'''
    return terraform(main, p, {"volume_id": ("Block storage volume id", "exoscale_block_storage_volume.this.id")},
                     _provider_source("exoscale"))


def exo_dns(p: dict[str, Any]) -> Files:
    main = '''resource "exoscale_domain" "this" {
  name = var.domain
}

resource "exoscale_domain_record" "this" {
  domain      = exoscale_domain.this.id
  name        = var.record
  record_type = "A"
  content     = var.ip_address
  ttl         = 300
}
'''
    return terraform(main, p, {"fqdn": ("Full name of the record", "exoscale_domain_record.this.hostname")},
                     _provider_source("exoscale"))


def vast_instance(p: dict[str, Any]) -> Files:
    main = '''resource "vastai_instance" "this" {
  label     = var.name
  gpu_name  = var.gpu_type
  num_gpus  = var.gpu_count
  disk_gb   = var.disk_size_gb
  image     = var.image
  max_price = var.max_price
  region    = var.zone
}
'''
    outputs = {"instance_id": ("Vast.ai instance id", "vastai_instance.this.id"),
               "ssh_host": ("SSH host of the instance", "vastai_instance.this.ssh_host")}
    return terraform(main, p, outputs, _provider_source("vastai"))


def runpod_pod(p: dict[str, Any]) -> Files:
    main = '''resource "runpod_pod" "this" {
  name                 = var.name
  image_name           = var.image
  gpu_type_id          = var.gpu_type
  gpu_count            = var.gpu_count
  volume_in_gb         = var.size_gb
  container_disk_in_gb = var.container_disk_gb
  volume_mount_path    = "/workspace"
  cloud_type           = "ALL"
}
'''
    return terraform(main, p, {"pod_id": ("RunPod pod id", "runpod_pod.this.id")}, _provider_source("runpod"))


def runpod_volume(p: dict[str, Any]) -> Files:
    main = '''resource "runpod_network_volume" "this" {
  name           = var.name
  size           = var.size_gb
  data_center_id = var.zone
}
'''
    return terraform(main, p, {"volume_id": ("Network volume id", "runpod_network_volume.this.id")}, _provider_source("runpod"))


def local_file(p: dict[str, Any]) -> Files:
    main = '''resource "local_file" "this" {
  filename        = var.path
  content         = var.content
  file_permission = "0644"
}
'''
    return terraform(main, p, {"path": ("Path of the file written", "local_file.this.filename")}, LOCAL)


def k3s_namespace_tf(p: dict[str, Any]) -> Files:
    main = '''provider "kubernetes" {
  config_path = var.kubeconfig_path
}

resource "kubernetes_namespace_v1" "this" {
  metadata {
    name = var.namespace
  }
}

resource "kubernetes_resource_quota_v1" "this" {
  metadata {
    name      = "${var.namespace}-quota"
    namespace = kubernetes_namespace_v1.this.metadata[0].name
  }
  spec {
    hard = {
      pods = var.pods
    }
  }
}
'''
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


def vast_offers(p: dict[str, Any]) -> Files:
    query = ('{"gpu_name": {"eq": "{{ gpu_type }}"}, "num_gpus": {"gte": {{ gpu_count }}}, "rentable": {"eq": true}, '
             '"order": [["dph_total", "asc"]]}')
    return playbook("Find GPU offers on Vast.ai", "localhost", p, [
        {"name": "Search the offers", "no_log": True, "register": "offers", "ansible.builtin.uri": {
            "url": "https://console.vast.ai/api/v0/bundles/", "method": "POST", "body_format": "json", "body": query,
            "headers": {"Authorization": "Bearer {{ lookup('ansible.builtin.env', 'VASTAI_API_KEY') }}"}}},
        {"name": "Keep the cheapest offers", "ansible.builtin.set_fact": {
            "cheapest_offers": "{{ (offers.json.offers | default([]) "
                               "| selectattr('dph_total', 'le', max_price | float) | list)[:5] }}"}},
    ])


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
    Template("vastai-gpu-instance", "terraform", "vastai", "A GPU instance rented on Vast.ai",
             ("gpu", "gpus", "instance", "rent", "louer", "machine", "box", "training", "entrainement", "server", "serveur",
              *GPU_WORDS),
             {"name": "gpu", "gpu_type": "RTX 4090", "gpu_count": 1, "disk_size_gb": 50,
              "image": "pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime", "max_price": 1.0, "zone": "any"}, vast_instance,
             required=("gpu", "gpus", "instance", "machine", "box", "rent", "louer", "server", "serveur", *GPU_WORDS),
             avoid=("offers", "offres", "cheapest", "moins cher", "moins cheres", "find", "trouver", "search", "chercher",
                    "setup", "prepare", "preparer", "environment", "environnement")),
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
             {"gpu_type": "RTX 4090", "gpu_count": 1, "max_price": 1.0}, vast_offers,
             required=("offers", "offres", "cheapest", "moins cher", "moins cheres")),
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
