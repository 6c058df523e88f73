"""The GitOps score: a weighted rubric in the manner of OpenSSF Scorecard, grouped under the four
OpenGitOps principles plus security.

Each check scores 0–10 (or does not apply), weighted by risk (critical 10, high 7.5, medium 5,
low 2.5); the score is `100 × Σ weight·score / Σ weight·10` over the checks that apply, so a check
that does not apply leaves the denominator. Every check returns its evidence (files, counts).
The rubric is data (`CHECKS`): its titles and `why` texts are the documentation.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import f.fractal.tools.github_actions.check as gha
import f.fractal.tools.hardening as hardening
import f.fractal.tools.terraform.check as terraform
from f.fractal.audit.findings import Finding
from f.fractal.audit.structure import LOCKFILES, MANIFESTS, Tree

WEIGHTS = {"critical": 10.0, "high": 7.5, "medium": 5.0, "low": 2.5}
GROUPS = {
    "declarative": "OpenGitOps 1 — Declarative: the desired state is expressed declaratively",
    "versioned": "OpenGitOps 2 — Versioned and immutable: the desired state is versioned, pinned and owned",
    "pulled": "OpenGitOps 3 — Pulled automatically: agents pull the desired state; CI does not push it",
    "reconciled": "OpenGitOps 4 — Continuously reconciled: agents correct drift; changes are validated",
    "security": "Security: no secrets, hardened workloads, closed networks, maintained dependencies",
}
HARDENING_RULES = ("K8S-NO-LIMITS", "K8S-ROOT", "K8S-PRIVILEGED", "K8S-HOST-NAMESPACE", "K8S-PLAIN-SECRET-ENV",
                   "DF-ROOT-USER", "DF-SECRET-ENV", "COMPOSE-PRIVILEGED")
OPEN_NETWORK = re.compile(r"TF-OPEN-SECURITY-GROUP|CKV_AWS_(24|25|260|277)$|^(AVD-)?AWS-0107$")  # trivy: ingress from /0
PUSH_DEPLOY = gha.PUSH_DEPLOY  # one definition: the github-actions checker refuses what this check scores
VALIDATION = re.compile(r"(?i)\b(pytest|test|lint|validate|kubeconform|kubeval|checkov|trivy|hadolint|helm\s+lint|"
                        r"kustomize\s+build|terraform\s+(validate|plan)|ruff|mypy|eslint|go\s+vet)\b")
PINNED_REQUIREMENT = re.compile(r"(?m)^[A-Za-z0-9_.-]+\s*(\[.*\])?\s*==")
FLUX_KINDS = ("Kustomization", "HelmRelease", "GitRepository", "OCIRepository")
SECRET_SCANNERS = ("detect-secrets", "gitleaks")


@dataclass
class Evaluation:
    score: float | None  # 0–10; None: the check does not apply
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Facts:
    tree: Tree
    findings: list[Finding]
    history_scanned: bool
    secrets_scanned: bool  # the history or the files were searched (the pack's scan, detect-secrets, gitleaks, trivy)
    scanners_ran: list[str]


@dataclass(frozen=True)
class Check:
    id: str
    group: str
    risk: str
    title: str
    why: str
    evaluate: Callable[[Facts], Evaluation]


def _deployable(t: Tree) -> bool:
    return bool(t.dockerfiles or t.compose_files or t.objects or t.charts or t.kustomizations)


def _declared(t: Tree) -> list[str]:
    return [p for p, _ in t.objects][:5] + [f"chart {c}" for c in t.charts] + [f"kustomization {k}" for k in t.kustomizations]


def desired_state(f: Facts) -> Evaluation:
    t = f.tree
    if not _deployable(t):
        return Evaluation(None, ["nothing deployable found (no Dockerfile, compose file or manifest)"])
    declared = _declared(t)
    if declared:
        return Evaluation(10, declared[:8])
    if t.compose_files:
        return Evaluation(3, [f"only compose files ({', '.join(t.compose_files)}): no manifests, chart or kustomization"])
    return Evaluation(0, [f"{len(t.dockerfiles)} Dockerfile(s) but no manifests, chart or kustomization"])


def environments(f: Facts) -> Evaluation:
    t = f.tree
    if not _deployable(t):
        return Evaluation(None, ["nothing deployable found"])
    overlays = [k for k in t.kustomizations if "/overlays/" in f"/{k}/" or any(k.endswith(e) for e in ("dev", "staging", "prod"))]
    values = [p for p in t.files if re.search(r"values[-.](dev|test|staging|stage|prod|production)\w*\.ya?ml$", p)]
    envs = overlays + values
    if len(envs) >= 2:
        return Evaluation(10, envs[:8])
    return Evaluation(5 if envs else 0, envs or ["no kustomize overlays or per-environment Helm values"])


def remote_state(f: Facts) -> Evaluation:
    t = f.tree
    if not t.terraform_files:
        return Evaluation(None, ["no Terraform"])
    backends = []
    for path in t.terraform_files:
        try:
            doc = terraform.parse(t.text(path) or "")
        except ValueError:
            continue
        for block in doc.get("terraform") or []:
            for backend in block.get("backend") or [] if isinstance(block, dict) else []:
                backends += [f"{path}: backend {name}" for name in backend if name != "local"]
        backends += [f"{path}: cloud block" for block in doc.get("terraform") or []
                     if isinstance(block, dict) and block.get("cloud")]
    return Evaluation(10 if backends else 0, backends or ["no remote backend: the state lives on one machine"])


def _images(t: Tree) -> list[tuple[str, str]]:
    images = []
    for path in t.dockerfiles:
        text = t.text(path) or ""
        stages = set(re.findall(r"(?im)^FROM\s+\S+\s+AS\s+(\S+)", text))
        for image in re.findall(r"(?im)^FROM\s+(?:--\S+\s+)*(\S+)", text):
            if image not in stages and image != "scratch" and "$" not in image:
                images.append((path, image))
    for path, doc in t.objects_of(*hardening.WORKLOAD_KINDS):
        pod = hardening.pod_spec(doc)
        images += [(path, c["image"]) for c in (pod.get("containers") or [])
                   if isinstance(c, dict) and isinstance(c.get("image"), str)]
    images += [(s["_file"], s["image"]) for s in t.compose_services().values() if isinstance(s.get("image"), str)]
    return images


def images_pinned(f: Facts) -> Evaluation:
    images = _images(f.tree)
    if not images:
        return Evaluation(None, ["no container image referenced"])
    loose = [f"{p}: {i}" for p, i in images if hardening.image_unpinned(i)]
    return Evaluation(round(10 * (len(images) - len(loose)) / len(images), 1),
                      [f"{len(images) - len(loose)}/{len(images)} image references pinned", *loose[:6]])


def lockfiles(f: Facts) -> Evaluation:
    t = f.tree
    manifests = [p for p in t.files if posixpath.basename(p) in MANIFESTS - {"requirements.txt"}]
    manifests += [p for p in t.named("requirements.txt") if not PINNED_REQUIREMENT.search(t.text(p) or "")]
    if not manifests and not t.named("requirements.txt"):
        return Evaluation(None, ["no dependency manifest"])
    locks = {posixpath.dirname(p) for p in t.files if posixpath.basename(p) in LOCKFILES}
    missing = [p for p in manifests if posixpath.dirname(p) not in locks]
    total = len(manifests) or 1
    return Evaluation(round(10 * (total - len(missing)) / total, 1) if manifests else 10,
                      [f"unlocked: {p}" for p in missing[:6]] or ["every dependency manifest is locked or pinned"])


def codeowners(f: Facts) -> Evaluation:
    found = [p for p in f.tree.files if p in ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")]
    return Evaluation(10 if found else 0, found or ["no CODEOWNERS: changes to the desired state have no required reviewer"])


def pull_agent(f: Facts) -> Evaluation:
    t = f.tree
    if not _deployable(t):
        return Evaluation(None, ["nothing deployable found"])
    agents = [f"{p}: {d['kind']}" for p, d in t.objects if d["kind"] in ("Application", "ApplicationSet")
              and "argoproj.io" in d["apiVersion"]] + [f"{p}: Flux {d['kind']}" for p, d in t.objects_of(*FLUX_KINDS)
                                                       if "fluxcd.io" in d["apiVersion"]]
    return Evaluation(10 if agents else 0,
                      agents[:6] or ["no Argo CD Application or Flux object: nothing pulls the desired state"])


def no_push_deploys(f: Facts) -> Evaluation:
    t = f.tree
    if not t.workflows:
        return Evaluation(None, ["no CI workflow"])
    pushes = [f"{p}: {m.group(0).strip()[:40]}" for p in t.workflows for m in [PUSH_DEPLOY.search(t.text(p) or "")] if m]
    return Evaluation(0 if pushes else 10, pushes or [f"{len(t.workflows)} workflow(s), none deploys by push"])


def reconciliation(f: Facts) -> Evaluation:
    t = f.tree
    if not _deployable(t):
        return Evaluation(None, ["nothing deployable found"])
    apps = [(p, d) for p, d in t.objects_of("Application", "ApplicationSet") if "argoproj.io" in d["apiVersion"]]
    flux = [p for p, d in t.objects_of(*FLUX_KINDS) if "fluxcd.io" in d["apiVersion"] and (d.get("spec") or {}).get("interval")]
    if flux:
        return Evaluation(10, [f"{p}: Flux reconciles on an interval" for p in flux[:4]])
    if not apps:
        return Evaluation(0, ["no agent reconciles the cluster"])
    scores, evidence = [], []
    for path, doc in apps:
        spec = doc.get("spec") or {}
        spec = (spec.get("template") or {}).get("spec") or spec if doc["kind"] == "ApplicationSet" else spec
        auto = ((spec.get("syncPolicy") or {}).get("automated"))
        heal = isinstance(auto, dict) and auto.get("selfHeal") and auto.get("prune")
        scores.append(10 if heal else 5 if auto is not None else 0)
        evidence.append(f"{path}: {'automated, selfHeal, prune' if heal else 'automated' if auto is not None else 'manual sync'}")
    return Evaluation(round(sum(scores) / len(scores), 1), evidence[:6])


def ci_validation(f: Facts) -> Evaluation:
    t = f.tree
    if not t.workflows:
        return Evaluation(0, ["no CI workflow validates changes"])
    checked = [p for p in t.workflows if VALIDATION.search(t.text(p) or "")]
    return Evaluation(10 if checked else 5, checked[:6] or [f"{len(t.workflows)} workflow(s), none lints, tests or validates"])


def no_secrets(f: Facts) -> Evaluation:
    if not f.secrets_scanned:
        return Evaluation(None, ["no secret search ran (history and the secret scanners not requested or unavailable)"])
    secrets = [x for x in f.findings if x.category == "secret"]
    scope = "the whole history" if f.history_scanned else "the current files only (no history scanned)"
    if secrets:
        where = sorted({f"{x.file}" + (f" (commit {x.commit})" if x.commit else "") for x in secrets})
        return Evaluation(0, [f"{len(secrets)} secret finding(s) in {scope}", *where[:6]])
    return Evaluation(10, [f"no secret found in {scope}"])


def workload_hardening(f: Facts) -> Evaluation:
    t = f.tree
    units = list(t.dockerfiles)
    units += [f"{p}#{(d.get('metadata') or {}).get('name')}" for p, d in t.objects_of(*hardening.WORKLOAD_KINDS)]
    units += [f"{s['_file']}#{n}" for n, s in t.compose_services().items()]
    if not units:
        return Evaluation(None, ["no workload"])
    bad_files = {x.file for x in f.findings if x.rule in HARDENING_RULES}
    bad = [u for u in units if u.split("#")[0] in bad_files]
    rules = sorted({x.rule for x in f.findings if x.rule in HARDENING_RULES})
    return Evaluation(round(10 * (len(units) - len(bad)) / len(units), 1),
                      [f"{len(units) - len(bad)}/{len(units)} workloads hardened",
                       *([f"broken rules: {', '.join(rules)}"] if rules else [])])


def network_exposure(f: Facts) -> Evaluation:
    if not f.tree.terraform_files:
        return Evaluation(None, ["no Terraform"])
    open_ = [f"{x.file}: {x.message}" for x in f.findings if OPEN_NETWORK.search(x.rule)]
    return Evaluation(0 if open_ else 10, open_[:6] or ["no security group open to the internet"])


def update_tool(f: Facts) -> Evaluation:
    t = f.tree
    if not (t.dockerfiles or any(posixpath.basename(p) in MANIFESTS for p in t.files) or t.terraform_files):
        return Evaluation(None, ["no dependency to update"])
    found = [p for p in t.files if p in (".github/dependabot.yml", ".github/dependabot.yaml", "renovate.json", "renovate.json5",
                                          ".renovaterc", ".renovaterc.json", ".github/renovate.json")]
    return Evaluation(10 if found else 0, found or ["no Dependabot or Renovate configuration"])


def security_policy(f: Facts) -> Evaluation:
    found = [p for p in f.tree.files if p.lower() in ("security.md", ".github/security.md", "docs/security.md")]
    return Evaluation(10 if found else 0, found or ["no SECURITY.md: no way to report a vulnerability"])


def static_analysis(f: Facts) -> Evaluation:
    analysers = [t for t in f.scanners_ran if t not in SECRET_SCANNERS]
    if not analysers:
        return Evaluation(None, ["no external analyser ran (not requested, or see unavailable)"])
    serious = [x for x in f.findings if x.tool in analysers and x.category in ("misconfiguration", "code")
               and x.severity in ("critical", "high")]
    return Evaluation(max(0.0, 10 - 2 * len(serious)),
                      [f"{len(serious)} high/critical finding(s) from {', '.join(analysers)}"])


CHECKS = (
    Check("desired-state-declared", "declarative", "high", "Desired state declared",
          "Workloads are described by Kubernetes manifests, a kustomization or a Helm chart, "
          "not only by scripts or compose files.",
          desired_state),
    Check("environments-as-overlays", "declarative", "medium", "Environments as overlays",
          "Each environment is an overlay (kustomize) or values file (Helm) over one base, not a copy.", environments),
    Check("terraform-remote-state", "declarative", "medium", "Terraform remote state",
          "Terraform state lives in a remote backend (locking, shared), not on a laptop.", remote_state),
    Check("images-pinned", "versioned", "high", "Images pinned",
          "Every image reference has a version tag or digest: a deploy is reproducible.", images_pinned),
    Check("lockfiles", "versioned", "medium", "Dependencies locked",
          "Each dependency manifest has a lockfile (or exact pins): builds are repeatable.", lockfiles),
    Check("codeowners", "versioned", "low", "CODEOWNERS",
          "Changes to the desired state have owners who must review them.", codeowners),
    Check("pull-based-agent", "pulled", "high", "A pull-based agent",
          "An Argo CD Application or Flux object makes the cluster pull its state from Git.", pull_agent),
    Check("no-push-deploys", "pulled", "high", "No push deploys from CI",
          "CI does not run kubectl apply / helm upgrade against clusters: the agent pulls.", no_push_deploys),
    Check("automated-reconciliation", "reconciled", "medium", "Automated reconciliation",
          "The agent syncs automatically with self-heal and prune, so drift is corrected.", reconciliation),
    Check("ci-validation", "reconciled", "medium", "CI validation",
          "A CI workflow lints, tests or validates every change before it reaches the desired state.", ci_validation),
    Check("no-secrets-in-history", "security", "critical", "No plaintext secrets in history",
          "No credential in any commit: a deleted secret is still in the history.", no_secrets),
    Check("workload-hardening", "security", "high", "Workload hardening",
          "Containers run as non-root with limits, without privileges, secrets by reference.", workload_hardening),
    Check("network-exposure", "security", "high", "No open security groups",
          "No security group admits 0.0.0.0/0 to admin ports or all ports.", network_exposure),
    Check("dependency-update-tool", "security", "medium", "Dependency update tool",
          "Dependabot or Renovate proposes dependency and image updates.", update_tool),
    Check("security-policy", "security", "low", "Security policy",
          "A SECURITY.md tells people how to report a vulnerability.", security_policy),
    Check("static-analysis", "security", "medium", "Static analysis clean",
          "The external analysers (checkov, bandit, trivy, hadolint) report no high or critical finding.", static_analysis),
)


def grade(score: int) -> str:
    return next(g for limit, g in ((90, "A"), (75, "B"), (60, "C"), (40, "D"), (0, "F")) if score >= limit)


def evaluate(facts: Facts) -> tuple[int, list[dict[str, Any]]]:
    """The score 0–100 and every check with its score, weight and evidence."""
    rows, earned, possible = [], 0.0, 0.0
    for check in CHECKS:
        result = check.evaluate(facts)
        weight = WEIGHTS[check.risk]
        status = ("not-applicable" if result.score is None else "pass" if result.score >= 10
                  else "fail" if result.score <= 0 else "partial")
        if result.score is not None:
            earned += weight * result.score
            possible += weight * 10
        rows.append({"id": check.id, "group": check.group, "title": check.title, "risk": check.risk, "weight": weight,
                     "score": result.score, "status": status, "evidence": result.evidence, "why": check.why})
    return (round(100 * earned / possible) if possible else 0), rows
