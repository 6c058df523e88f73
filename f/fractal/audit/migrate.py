"""Audit → scaffold → save: the migration of a repository to GitOps as catalog items.

`scaffold` clones the repository (or takes a previous audit's), drafts the entities and the
pipeline, validates each draft with its tool's checker, lists what the migration supersedes (raw
manifests, push deploys), rescans a copy of the repository with the drafts in place and the
superseded files removed, and reports the score before → after. `save` saves the drafts, then the
pipeline pinned to the versions the catalog gave them.
"""

from __future__ import annotations

import posixpath
from typing import Any

import f.fractal.audit.scaffold as drafting
import f.fractal.audit.source as source
import f.fractal.audit.structure as structure
import f.fractal.audit.workflows as workflows
import f.fractal.catalog.items as catalog
from f.fractal.audit.audit import audit_checkout, check_dimensions
from f.fractal.model.errors import InvalidInput

PLACEHOLDER_REPO = "https://git.example.com/{app}.git"


def _app_name(repo: str, name: str) -> str:
    base = posixpath.basename(repo.rstrip("/").removesuffix(".git").replace(":", "/")) or "app"
    return drafting.slug(name or base, 30)


def _changed(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    old = {c["id"]: c["score"] for c in before.get("checks", [])}
    return [{"id": c["id"], "before": old.get(c["id"]), "after": c["score"]}
            for c in after["checks"] if old.get(c["id"]) != c["score"]]


def scaffold(repo: str = "", audit: dict[str, Any] | None = None, *, ref: str = "", environments: list[str] | None = None,
             helm: bool = False, registry: str = "", gitops_repo: str = "", revision: str = "", name: str = "",
             checks: list[str] | None = None, rescan: bool = True) -> dict[str, Any]:
    """Draft the migration of `repo` (or of the repository a previous `audit` names)."""
    if audit is not None and not isinstance(audit, dict):
        raise InvalidInput("audit must be the result of audit_repository", hint="pass the JSON object it returned, or pass repo")
    repo = repo or str((audit or {}).get("repo") or "")
    if not repo:
        raise InvalidInput("give repo or a previous audit", hint="repo: a folder, a Git URL or a git_repository resource path")
    envs = drafting.check_environments(environments)
    dimensions = check_dimensions(checks)
    warnings = []
    with source.checkout(repo, ref) as co:
        tree = structure.Tree(co.root, source.tracked_files(co))
        before = audit if audit and "score" in audit else audit_checkout(co, dimensions)
        app = _app_name(co.source, name)
        repo_url = gitops_repo or (co.source if source.is_url(co.source) else "")
        if not repo_url:
            repo_url = PLACEHOLDER_REPO.format(app=app)
            warnings.append(f"the Applications point at {repo_url}: pass gitops_repo (the repository Argo CD pulls)")
        if not registry:
            registry = f"registry.example.com/{app}"
            warnings.append(f"images are named {registry}/<service>: pass registry (where CI pushes them)")
        origin = {"audit": {"repo": co.source, "head": co.head, "score": before["score"]}}
        superseded, rewritten = workflows.superseded(tree, helm)
        drafts, fixes = drafting.drafts_for(tree, app=app, environments=envs, helm=helm, registry=registry,
                                            tag=co.head[:12] or "0.1.0", repo_url=repo_url, revision=revision or ref or "HEAD",
                                            origin=origin, rewritten=rewritten)
        removed = [s["file"] for s in superseded if s["action"] == "remove"]
        after = drafting.rescan(co, drafts, fixes, dimensions, removed) if rescan else None
    validation = {d["metadata"]["name"]: d["provenance"]["validation"] for d in drafts}
    result: dict[str, Any] = {
        "app": app, "valid": all(v["ok"] for v in validation.values()),
        "drafts": drafts, "pipeline": drafting.pipeline(app, drafts, envs, origin), "validation": validation,
        "placement": {d["metadata"]["name"]: drafting.placement(d) for d in drafts},
        "dockerfile_fixes": fixes, "superseded": superseded, "warnings": warnings,
        "score": {"before": before["score"], "after": after["score"] if after else None,
                  "grade_before": before.get("grade"), "grade_after": after["grade"] if after else None,
                  "changed": _changed(before, after) if after else []},
    }
    return result


def save(result: dict[str, Any], targets: list[str] | None) -> dict[str, Any]:
    """Save the drafts (invalid ones refused), then the pipeline pinned to the saved versions."""
    if not result.get("valid"):
        bad = [n for n, v in result.get("validation", {}).items() if not v["ok"]]
        raise InvalidInput(f"drafts do not validate: {', '.join(bad)}", hint="see validation; fix the repository or the options")
    saved, versions = [], {}
    for draft in result["drafts"]:
        out = catalog.save(draft, targets)
        saved.append(out)
        versions[draft["metadata"]["name"]] = out["version"]
    item = result["pipeline"]
    for step in item["spec"]["steps"]:
        name = step["ref"].split(":", 1)[1].split("@")[0]
        step["ref"] = f"entity:{name}@{versions[name]}"
    saved.append(catalog.save(item, targets))
    return {"ok": all(s["ok"] for s in saved), "saved": saved}
