"""The migrated repository's CI, and what the migration supersedes.

`ci_workflow` is the validation workflow the scaffold adds: it renders every overlay (`kubectl
kustomize`, i.e. kustomize build) or the chart per environment (`helm template`), then checks the
migration's folders, the rendered manifests (the kubeconform-like pass) and the workflows with the
catalog's own checkers through Fractal's check route. It never deploys: Argo CD pulls.

`superseded` lists what the new layout replaces — raw manifests applied by hand or by CI, and push
deploys in CI — each with its action (`remove`, or `edit` for a workflow that keeps other steps, its
rewrite without the push-deploy steps returned beside the list).
"""

from __future__ import annotations

from typing import Any

import f.fractal.audit.structure as structure
import f.fractal.tools.github_actions.check as gha
from f.fractal.platform.yamlio import dump, load_untrusted

DEPLOY = "deploy"
CI_WORKFLOW = "workflows/gitops-validate.yml"  # in the github-actions draft, placed under .github/
RENDER_OVERLAYS = """mkdir -p rendered
for overlay in deploy/*/overlays/*/; do
  service=$(basename "$(dirname "$(dirname "$overlay")")")
  kubectl kustomize "$overlay" > "rendered/$service-$(basename "$overlay").yaml"
done
"""
RENDER_CHART = """mkdir -p rendered
helm lint deploy/chart
for values in deploy/chart/values-*.yaml; do
  env=$(basename "$values" .yaml); env=${env#values-}
  helm template "chart-$env" deploy/chart -f "$values" > "rendered/chart-$env.yaml"
done
"""
# Stdlib only (every runner has python3): the same report save_item would give, from Fractal's check route.
CHECK_WITH_FRACTAL = """python3 - <<'PY'
import json, os, pathlib, sys, urllib.request

def files(root, pattern):
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(pathlib.Path(root).glob(pattern)) if p.is_file()}

deploy = pathlib.Path("deploy")
checks = [("kustomize", k.parent.parent, "**/*") for k in sorted(deploy.glob("*/base/kustomization.yaml"))]
checks += [("helm", c.parent, "**/*") for c in sorted(deploy.glob("*/Chart.yaml"))]
checks += [(tool, pathlib.Path(root), pattern) for tool, root, pattern in (
    ("argocd", "deploy/argocd", "**/*.yaml"), ("kubernetes", "rendered", "*.yaml"),
    ("github-actions", ".github", "workflows/*.y*ml")) if files(root, pattern)]
url = os.environ["CHECK_URL"].rstrip("/") + "/api/r/fractal/entities/check"
failed = 0
for tool, root, pattern in checks:
    name = "ci-" + "".join(c if c.isalnum() else "-" for c in str(root).lower()).strip("-")
    item = {"apiVersion": "fractal/v1", "kind": "Entity", "metadata": {"name": name, "description": f"CI check of {root}"},
            "spec": {"tool": tool, "providers": [], "files": files(root, pattern)}}
    request = urllib.request.Request(url, data=json.dumps({"item": item}).encode(), method="POST", headers={
        "Content-Type": "application/json", "Authorization": "Bearer " + os.environ["CHECK_TOKEN"]})
    with urllib.request.urlopen(request, timeout=300) as response:
        report = json.load(response)
    for problem in report["errors"]:
        print(f"::error file={root}/{problem['file']}::{problem['message']}")
    print(f"{tool} {root}: {'ok' if report['ok'] else 'FAILED'}")
    failed += not report["ok"]
sys.exit(1 if failed else 0)
PY
"""


def ci_workflow(helm: bool) -> str:
    """The validation workflow (pull requests and main): render, then check with the catalog's checkers."""
    return dump({
        "name": "gitops-validate",
        "on": {"pull_request": None, "push": {"branches": ["main"]}},
        "permissions": {"contents": "read"},
        "jobs": {"validate": {"runs-on": "ubuntu-latest", "steps": [
            {"uses": "actions/checkout@v4"},
            {"name": "render the chart per environment (helm template)" if helm else "render every overlay (kustomize build)",
             "run": RENDER_CHART if helm else RENDER_OVERLAYS},
            {"name": "validate with Fractal's checkers", "if": "${{ vars.FRACTAL_URL != '' }}",
             "env": {"CHECK_URL": "${{ vars.FRACTAL_URL }}", "CHECK_TOKEN": "${{ secrets.FRACTAL_TOKEN }}"},
             "run": CHECK_WITH_FRACTAL},
        ]}},
    }, indent_lists=True, width=200)


def _without_push_deploys(text: str) -> str | None:
    """The workflow without its push-deploy steps (a job left with no `run` step dropped); None when nothing is left."""
    doc = load_untrusted(text, what="workflow")
    if not isinstance(doc, dict) or not isinstance(doc.get("jobs"), dict):
        return None
    doc = {("on" if key is True else key): value for key, value in doc.items()}  # YAML 1.1 reads a bare `on` as true
    jobs = {}
    for name, job in doc["jobs"].items():
        if not isinstance(job, dict):
            continue
        steps = [s for s in job.get("steps") or []
                 if not (isinstance(s, dict) and gha.PUSH_DEPLOY.search(str(s.get("run") or "")))]
        if "uses" in job or any(isinstance(s, dict) and "run" in s for s in steps):
            jobs[name] = {**job, "steps": steps} if "steps" in job else job
    return dump({**doc, "jobs": jobs}, indent_lists=True, width=200) if jobs else None


def superseded(tree: structure.Tree, helm: bool) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """What the migration replaces, each with its action, and the workflows rewritten without push deploys (named
    as in the github-actions draft: workflows/<name>.yml)."""
    layout = f"{DEPLOY}/chart (the Helm chart)" if helm else f"{DEPLOY}/<service> (kustomize bases and overlays)"
    managed = [d for d in (*tree.kustomizations, *tree.charts) if d != "."]
    kinds: dict[str, set[str]] = {}
    for path, doc in tree.objects:
        agent = "argoproj.io" in doc["apiVersion"] or "fluxcd.io" in doc["apiVersion"]
        if not agent and not path.startswith(f"{DEPLOY}/") and not any(path.startswith(f"{d}/") for d in managed):
            kinds.setdefault(path, set()).add(doc["kind"])
    out: list[dict[str, Any]] = [
        {"file": path, "action": "remove", "replaced_by": layout,
         "reason": f"raw manifests ({', '.join(sorted(found))}) applied outside Git's reconciliation; remove them once "
                   "nothing in them is missing from the new layout"} for path, found in sorted(kinds.items())]
    rewritten: dict[str, str] = {}
    for path in tree.workflows:
        push = gha.PUSH_DEPLOY.search(tree.text(path) or "") if gha.is_workflow(path) else None
        if not push:
            continue
        kept = _without_push_deploys(tree.text(path) or "")
        entry = {"file": path, "replaced_by": f"{DEPLOY}/argocd (Argo CD pulls and reconciles)",
                 "reason": f"deploys by push ({push.group(0).strip()}): in GitOps the agent pulls the desired state"}
        if kept is None:
            out.append({**entry, "action": "remove"})
        else:
            rewritten[path.removeprefix(".github/")] = kept
            out.append({**entry, "action": "edit", "reason": f"{entry['reason']}; its other steps stay"})
    return out, rewritten
