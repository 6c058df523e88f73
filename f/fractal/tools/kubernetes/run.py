"""Kubernetes manifests through kubectl, in a fresh working directory per run.

- Manifests: the entity's `*.yaml`/`*.yml`/`*.json` files (`-f <dir> -R`), or `-k <dir>` when it
  has a `kustomization.yaml`.
- Modes: `plan`/`check` → `kubectl diff --server-side` (exit 1 = there are differences) then
  `kubectl apply --server-side --dry-run=server`; `apply` → `kubectl apply --server-side
  --field-manager=fractal`; `destroy` → `kubectl delete --ignore-not-found`. An input
  `namespace` adds `--namespace`.
- Cluster access: the kubeconfig from the provider's credential (`k3s`: resource
  `f/fractal/k3s_kubeconfig`, or `$KUBECONFIG_CONTENT` locally), or from an input `kubeconfig`
  (e.g. wired from the step that made the cluster). It is written to a 0600 file for the run
  (`KUBECONFIG` and `--kubeconfig`), never logged.
- Outputs: a declared output `resources` gets the objects kubectl reported (`namespace/team-a …`).
"""

from __future__ import annotations

from pathlib import Path

from f.fractal.model.errors import InvalidInput
from f.fractal.platform.files import write_files
from f.fractal.tools.runs import Outcome, Run, command, step_failed, tool_env, which, write_private

INSTALL_HINT = (
    "install kubectl on the Windmill worker and put it on PATH: https://kubernetes.io/docs/tasks/tools/ "
    "(a version within one minor of the cluster's, e.g. the one K3s ships)"
)
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
KUBECONFIG_ENV = "KUBECONFIG_CONTENT"


def kubeconfig(run: Run) -> str:
    text = run.inputs.get("kubeconfig") or run.env.get(KUBECONFIG_ENV) or ""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(
            f"no kubeconfig for provider {run.provider.name}",
            hint="use provider k3s with its kubeconfig credential, or pass inputs.kubeconfig (e.g. from the cluster step)",
        )
    return text


def manifests(run: Run) -> list[str]:
    return [n for n in run.files if n.endswith(MANIFEST_SUFFIXES) and not n.startswith(".")]


def preflight(run: Run) -> None:
    which("kubectl", INSTALL_HINT)
    if not manifests(run):
        raise InvalidInput(f"{run.ref} has no manifests", hint="a Kubernetes entity holds *.yaml manifests")
    run.secrets.append(kubeconfig(run))


def commands(run: Run, workdir: Path) -> list[list[str]]:
    """The exact kubectl commands of the run; the first flags are shared by all of them."""
    kubectl = which("kubectl", INSTALL_HINT)
    source = ["-k", str(workdir / "manifests")] if (workdir / "manifests" / "kustomization.yaml").exists() \
        else ["-f", str(workdir / "manifests"), "-R"]
    common = [f"--kubeconfig={workdir / 'kubeconfig'}"]
    namespace = run.inputs.get("namespace")
    if isinstance(namespace, str) and namespace:
        common.append(f"--namespace={namespace}")
    apply = [kubectl, "apply", *common, "--server-side", "--field-manager=fractal", *source]
    if run.mode in ("plan", "check"):
        return [[kubectl, "diff", *common, "--server-side", "--field-manager=fractal", *source], [*apply, "--dry-run=server"]]
    if run.mode == "destroy":
        return [[kubectl, "delete", *common, "--ignore-not-found=true", *source]]
    return [apply]


def execute(run: Run, workdir: Path) -> Outcome:
    write_files(workdir / "manifests", {n: t for n, t in run.files.items() if n in manifests(run)})
    write_private(workdir / "kubeconfig", kubeconfig(run))
    env = tool_env({"KUBECONFIG": str(workdir / "kubeconfig")})
    reported: list[str] = []
    for argv in commands(run, workdir):
        rc, tail = command(run, argv, cwd=workdir, env=env)
        ok = rc == 0 or (argv[1] == "diff" and rc == 1)  # diff: 1 means "there are differences"
        if not ok:
            return step_failed(f"kubectl {argv[1]}", rc, tail)
        if argv[1] in ("apply", "delete"):
            reported = [ln.strip() for ln in tail.splitlines() if "/" in ln and not ln.startswith("$")]
    outputs = {"resources": reported} if "resources" in run.outputs_declared else {}
    return Outcome("success", 0, outputs)
