"""Kustomize entities through kubectl: one overlay, chosen by the input `environment`.

`plan`/`check` → `kubectl diff` then a server-side dry run of `kubectl apply -k overlays/<env>`;
`apply` → `kubectl apply -k overlays/<env> --server-side`; `destroy` → `kubectl delete -k …`.
The kubeconfig comes as for Kubernetes entities (provider credential or inputs.kubeconfig).
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from f.fractal.model.errors import InvalidInput
from f.fractal.platform.files import write_files
from f.fractal.tools.kubernetes.run import INSTALL_HINT, kubeconfig
from f.fractal.tools.runs import Outcome, Run, command, step_failed, tool_env, which, write_private


def overlays(files: dict[str, str]) -> list[str]:
    return sorted(posixpath.basename(posixpath.dirname(p)) for p in files
                  if p.startswith("overlays/") and posixpath.basename(p) == "kustomization.yaml" and p.count("/") == 2)


def overlay(run: Run) -> str:
    """The overlay the run applies: inputs.environment, or the only overlay."""
    choices = overlays(run.files)
    chosen = run.inputs.get("environment") or (choices[0] if len(choices) == 1 else "")
    if chosen not in choices:
        raise InvalidInput(f"{run.ref}: environment {chosen!r:.40} is not one of its overlays",
                           hint=f"pass inputs.environment: one of {', '.join(choices) or '(none: add overlays/<env>/)'}")
    return str(chosen)


def preflight(run: Run) -> None:
    which("kubectl", INSTALL_HINT)
    overlay(run)
    run.secrets.append(kubeconfig(run))


def commands(run: Run, workdir: Path) -> list[list[str]]:
    kubectl = which("kubectl", INSTALL_HINT)
    source = ["-k", str(workdir / "kustomize" / "overlays" / overlay(run))]
    common = [f"--kubeconfig={workdir / 'kubeconfig'}"]
    apply = [kubectl, "apply", *common, "--server-side", "--field-manager=fractal", *source]
    if run.mode in ("plan", "check"):
        return [[kubectl, "diff", *common, "--server-side", "--field-manager=fractal", *source], [*apply, "--dry-run=server"]]
    if run.mode == "destroy":
        return [[kubectl, "delete", *common, "--ignore-not-found=true", *source]]
    return [apply]


def execute(run: Run, workdir: Path) -> Outcome:
    write_files(workdir / "kustomize", run.files)
    write_private(workdir / "kubeconfig", kubeconfig(run))
    env = tool_env({"KUBECONFIG": str(workdir / "kubeconfig")})
    for argv in commands(run, workdir):
        rc, tail = command(run, argv, cwd=workdir, env=env)
        if rc != 0 and not (argv[1] == "diff" and rc == 1):  # diff: 1 means "there are differences"
            return step_failed(f"kubectl {argv[1]}", rc, tail)
    return Outcome("success", 0, {})
