"""The pack's own rules over the tip (tool `fractal`): Dockerfiles, Kubernetes workloads, compose
files and Terraform network exposure. They run everywhere (no scanner environment needed) and
complement the external scanners, whose findings come in beside them.
"""

from __future__ import annotations

import re
from typing import Any

import f.fractal.tools.dockerfile.check as dockerfile
import f.fractal.tools.hardening as hardening
import f.fractal.tools.terraform.check as terraform
from f.fractal.audit.findings import Finding, Severity
from f.fractal.audit.structure import Tree

TOOL = "fractal"
OPEN_CIDRS = ("0.0.0.0/0", "::/0")
ADMIN_PORTS = (22, 3389, 5432, 3306, 6379, 27017, 9200)


def _line_of(text: str | None, needle: str) -> int | None:
    if not text or not needle:
        return None
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def _finding(p: hardening.Problem, file: str, line: int | None) -> Finding:
    category = "secret" if "SECRET" in p.rule else "misconfiguration"
    return Finding(TOOL, p.rule, category, p.severity, file, p.message, line, fix=p.fix)  # type: ignore[arg-type]


def dockerfile_findings(tree: Tree) -> list[Finding]:
    out = []
    for path in tree.dockerfiles:
        for p in dockerfile.problems(tree.text(path) or ""):
            out.append(_finding(p, path, p.line))
    return out


def workload_findings(tree: Tree) -> list[Finding]:
    out: list[Finding] = []
    for path, doc in tree.objects_of(*hardening.WORKLOAD_KINDS):
        line = _line_of(tree.text(path), f"name: {(doc.get('metadata') or {}).get('name', '')}")
        out.extend(_finding(p, path, line) for p in hardening.workload_problems(doc))
    return out


def compose_findings(tree: Tree) -> list[Finding]:
    out = []
    for name, svc in tree.compose_services().items():
        path, text = svc["_file"], tree.text(svc["_file"])
        line = _line_of(text, f"{name}:")
        image = svc.get("image")
        if isinstance(image, str) and hardening.image_unpinned(image):
            out.append(Finding(TOOL, "COMPOSE-IMAGE-UNPINNED", "misconfiguration", "medium", path,
                               f"compose service {name} uses an unpinned image", line, fix="pin a version tag or digest"))
        if svc.get("privileged"):
            out.append(Finding(TOOL, "COMPOSE-PRIVILEGED", "misconfiguration", "high", path,
                               f"compose service {name} is privileged", line, fix="remove privileged: true"))
        if svc.get("network_mode") == "host":
            out.append(Finding(TOOL, "COMPOSE-HOST-NETWORK", "misconfiguration", "medium", path,
                               f"compose service {name} uses the host network", line, fix="publish the needed ports instead"))
        env = svc.get("environment")
        pairs = env.items() if isinstance(env, dict) else (str(e).partition("=")[::2] for e in env or [])
        for key, value in pairs:
            if isinstance(value, str | int) and str(value) and not str(value).startswith("$") and re.search(
                    r"(?i)passw|secret|token|api_?key", str(key)):
                out.append(Finding(TOOL, "COMPOSE-PLAIN-SECRET", "secret", "high", path,
                                   f"compose service {name}: {key} is set in plaintext", _line_of(text, str(key)),
                                   fix="read it from an env file kept out of Git or a secret (${VAR} / secrets:)"))
    return out


def _rules_of(resource_type: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Ingress rules of an AWS security group or rule resource, in one shape."""
    if resource_type == "aws_security_group":
        return [r for r in body.get("ingress") or [] if isinstance(r, dict)]
    if resource_type == "aws_security_group_rule" and body.get("type") == "ingress":
        return [body]
    if resource_type == "aws_vpc_security_group_ingress_rule":
        return [{**body, "cidr_blocks": [body.get("cidr_ipv4"), body.get("cidr_ipv6")]}]
    return []


def _port_range(rule: dict[str, Any]) -> tuple[int, int]:
    try:
        return int(rule.get("from_port", 0)), int(rule.get("to_port", 65535))
    except (TypeError, ValueError):
        return 0, 65535


def security_group_findings(tree: Tree) -> list[Finding]:
    out = []
    for path in tree.terraform_files:
        text = tree.text(path) or ""
        try:
            doc = terraform.parse(text)
        except ValueError:
            continue
        for block in doc.get("resource") or []:
            for rtype, named in block.items() if isinstance(block, dict) else ():
                for name, body in named.items() if isinstance(named, dict) else ():
                    for rule in _rules_of(rtype, body if isinstance(body, dict) else {}):
                        cidrs = [c for key in ("cidr_blocks", "ipv6_cidr_blocks") for c in rule.get(key) or [] if c]
                        if not set(cidrs) & set(OPEN_CIDRS):
                            continue
                        low, high = _port_range(rule)
                        admin = [p for p in ADMIN_PORTS if low <= p <= high]
                        everything = str(rule.get("protocol", rule.get("ip_protocol", ""))) == "-1" or (low, high) == (0, 65535)
                        severity: Severity = "critical" if admin or everything else "high"
                        ports = "all ports" if everything else f"ports {low}-{high}"
                        out.append(Finding(TOOL, "TF-OPEN-SECURITY-GROUP", "misconfiguration", severity, path,
                                           f"{rtype}.{name} is open to the internet (0.0.0.0/0) on {ports}",
                                           _line_of(text, f'"{name}"'),
                                           fix="restrict the CIDR to known networks (a VPN, a load balancer's group)"))
    return out


def scan(tree: Tree) -> list[Finding]:
    return [*dockerfile_findings(tree), *workload_findings(tree), *compose_findings(tree), *security_group_findings(tree)]
