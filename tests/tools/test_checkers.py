"""The tool validators, table-driven: valid and invalid files per tool, each with the finding it must give.

All real: python-hcl2 and `terraform fmt` (when the binary is here), ansible-playbook --syntax-check
and ansible-lint --offline from the venv, the manifest and binding rules. No LLM involved.
"""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from f.fractal.tools.validate import validate_entity, validate_files

VERSIONS = ('terraform {\n  required_providers {\n    local = {\n      source  = "hashicorp/local"\n'
            '      version = "~> 2.5"\n    }\n  }\n}\n')
MAIN = 'resource "local_file" "f" {\n  filename = var.path\n  content  = "hi"\n}\n'
VARS = 'variable "path" {\n  type        = string\n  description = "Where"\n}\n'
TF_OK = {"main.tf": MAIN, "variables.tf": VARS, "versions.tf": VERSIONS}

# (case id, files, expected error substring or None for valid, expected file, expected line)
TERRAFORM: list[tuple[str, dict[str, str], str | None, str, int | None]] = [
    ("valid", TF_OK, None, "", None),
    ("broken-hcl", {**TF_OK, "main.tf": 'resource "local_file" "f" {\n  filename = \n}\n'}, "invalid HCL", "main.tf", 2),
    ("unused-variable", {**TF_OK, "variables.tf": VARS + 'variable "extra" {\n  type = string\n}\n'},
     "variable extra is declared but never used", "variables.tf", None),
    ("undeclared-variable", {**TF_OK, "variables.tf": ""}, "var.path is used but not declared", "main.tf", None),
    ("unpinned-provider", {"main.tf": MAIN, "variables.tf": VARS}, "provider local is used but not pinned", "main.tf", None),
    ("provider-without-version", {**TF_OK, "versions.tf": VERSIONS.replace('      version = "~> 2.5"\n', "")},
     "needs both source and version", "versions.tf", None),
    ("credential-in-provider", {**TF_OK, "main.tf": MAIN + 'provider "local" {\n  token = "abc"\n}\n'},
     "provider.local.token is a hard-coded credential", "main.tf", None),
    ("credential-in-resource", {**TF_OK, "main.tf": MAIN.replace('"hi"', '"hi"\n  api_key  = "k9f8e7d6c5b4a3"')},
     "hard-coded credential", "main.tf", None),
    ("no-tf-files", {"README.md": "# x"}, "needs .tf files", "", None),
]

ANSIBLE_OK = ("- name: Write a file\n  hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
              "    - name: Write it\n      ansible.builtin.copy:\n        dest: /tmp/x\n        content: hi\n"
              "        mode: \"0644\"\n")
ANSIBLE: list[tuple[str, dict[str, str], str | None, str, int | None]] = [
    ("valid", {"site.yml": ANSIBLE_OK}, None, "", None),
    ("broken-yaml", {"site.yml": ANSIBLE_OK.replace("    - name: Write it", "   - name: [Write it")}, "not valid YAML",
     "site.yml", None),
    ("not-a-playbook", {"site.yml": "hosts: all\n"}, "no playbook", "site.yml", None),
    ("play-without-tasks", {"site.yml": "- name: Empty\n  hosts: localhost\n"}, "has no tasks or roles", "site.yml", None),
    ("unknown-module", {"site.yml": ANSIBLE_OK.replace("ansible.builtin.copy", "nosuch.collection.copy")},
     "couldn't resolve module/action", "site.yml", 6),
    ("lint-unnamed-shell", {"site.yml": ANSIBLE_OK + "    - ansible.builtin.shell: echo hi\n"},
     "ansible-lint name[missing]",
     "site.yml", 11),
]

K8S_DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          resources: {limits: {cpu: 100m}}
"""
KUBERNETES: list[tuple[str, dict[str, str], str | None, str, int | None]] = [
    ("valid", {"m.yaml": K8S_DEPLOY + "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n"
                         "  ports: [{port: 80}]\n"}, None, "", None),
    ("missing-api-version", {"m.yaml": "kind: Namespace\nmetadata:\n  name: a\n"}, "apiVersion None is missing", "m.yaml", 1),
    ("old-api-version", {"m.yaml": K8S_DEPLOY.replace("apps/v1", "extensions/v1beta1")}, "Deployment is served as apps/v1",
     "m.yaml", 1),
    ("bad-name", {"m.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: Team_A\n"}, "not a lowercase DNS-1123 name",
     "m.yaml", 1),
    ("selector-mismatch", {"m.yaml": K8S_DEPLOY.replace("labels: {app: web}", "labels: {app: api}")},
     "matchLabels must match", "m.yaml", 1),
    ("no-containers", {"m.yaml": K8S_DEPLOY.split("      containers:")[0] + "      containers: []\n"}, "at least one container",
     "m.yaml", 1),
    ("secret-with-data", {"m.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: x\n"},
     "would put a value in Git", "m.yaml", 1),
    ("service-without-ports", {"m.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec: {}\n"}, "spec.ports",
     "m.yaml", 1),
    ("pvc-bad-size", {"m.yaml": "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: d\nspec:\n  resources:\n"
                                "    requests: {storage: lots}\n"}, "quantity", "m.yaml", 1),
    ("cron-bad-schedule", {"m.yaml": "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: c\nspec:\n  schedule: nightly\n"
                                     "  jobTemplate: {spec: {template: {spec: {containers: [{name: c, image: b:1}]}}}}\n"},
     "5-field cron", "m.yaml", 1),
    ("duplicate", {"m.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\n"
                             "metadata: {name: a}\n"}, "defined twice", "m.yaml", 5),
    ("broken-second-doc", {"m.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\n"
                                     "kind: Namespace\n metadata: {name: b}\n"}, "not valid YAML", "m.yaml", 7),
]

BINDING = "resource_type: exoscale\npath: f/fractal/exoscale\nenv:\n  EXOSCALE_API_KEY: api_key\ndescription: Exoscale key\n"
SECRET: list[tuple[str, dict[str, str], str | None, str, int | None]] = [
    ("valid", {"secret.yaml": BINDING}, None, "", None),
    ("valid-hub-type", {"secret.yaml": BINDING.replace("exoscale\n", "postgresql\n", 1).replace("api_key", "password")},
     None, "", None),
    ("holds-a-value", {"secret.yaml": BINDING + "value: hunter2\n"}, "never a value", "secret.yaml", None),
    ("value-in-env", {"secret.yaml": BINDING.replace("api_key", "EXO0123456789abcdef01234567")}, "not a field name",
     "secret.yaml", None),
    ("unknown-field", {"secret.yaml": BINDING.replace("api_key", "token")}, "has no field token", "secret.yaml", None),
    ("lowercase-env", {"secret.yaml": BINDING.replace("EXOSCALE_API_KEY", "exoscale_key")}, "UPPER_CASE", "secret.yaml", None),
    ("bad-path", {"secret.yaml": BINDING.replace("f/fractal/exoscale", "exoscale")}, "Windmill resource path",
     "secret.yaml", None),
    ("missing-description", {"secret.yaml": BINDING.replace("description: Exoscale key\n", "")}, "missing description",
     "secret.yaml", None),
    ("two-files", {"secret.yaml": BINDING, "other.yaml": BINDING}, "exactly one file", "", None),
]

TABLE = [("terraform", *c) for c in TERRAFORM] + [("ansible", *c) for c in ANSIBLE] + \
        [("kubernetes", *c) for c in KUBERNETES] + [("secret", *c) for c in SECRET]


@pytest.mark.parametrize(("tool", "case", "files", "error", "file", "line"), TABLE, ids=[f"{t[0]}-{t[1]}" for t in TABLE])
def test_validator_table(tool: str, case: str, files: dict[str, str], error: str | None, file: str, line: int | None) -> None:
    report = validate_files(tool, files)
    assert set(report) == {"ok", "errors", "warnings", "checks_run", "checks_skipped"}
    if error is None:
        assert report["ok"], report["errors"]
        return
    assert not report["ok"]
    hits = [e for e in report["errors"] if error in e["message"]]
    assert hits, report["errors"]
    assert hits[0]["file"] == file
    if line is not None:
        assert hits[0].get("line") == line, hits[0]


def test_terraform_fmt_when_the_binary_is_here() -> None:
    report = validate_files("terraform", {**TF_OK, "main.tf": MAIN.replace("filename = ", "filename=")})
    if shutil.which("terraform") is None:
        assert {"check": "terraform fmt", "reason": "the terraform binary is not on this worker"} in report["checks_skipped"]
        return
    assert "terraform fmt" in report["checks_run"] and report["ok"]
    assert any(w["file"] == "main.tf" and "canonical format" in w["message"] for w in report["warnings"])
    assert any(s["check"] == "terraform validate" for s in report["checks_skipped"])  # providers are not here offline


def item(tool: str, files: dict[str, str], providers: list[str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "fractal/v1", "kind": "Entity", "metadata": {"name": "x"},
            "spec": {"tool": tool, "providers": providers or [], "files": files}}


@pytest.mark.parametrize(("case", "raw", "kwargs", "error"), [
    ("wrong-tool", item("secret", {"secret.yaml": BINDING}), {"tool": "terraform"}, "but a terraform entity was asked for"),
    ("provider-lacks-tool", item("kubernetes", {"m.yaml": K8S_DEPLOY}, ["vastai"]), {}, "does not support kubernetes"),
    ("unknown-provider", item("secret", {"secret.yaml": BINDING}, ["aws"]), {}, "unknown provider aws"),
    ("other-provider", item("secret", {"secret.yaml": BINDING}, ["runpod"]), {"provider": "exoscale"}, "asked for exoscale"),
    ("plaintext-secret", item("terraform", {**TF_OK, "main.tf": MAIN + "# AKIAABCDEFGHIJKLMNOP\n"}), {},
     "plaintext secret: an AWS access key id (aws-access-key)"),
    ("no-files", item("ansible", {}), {}, "has no files"),
    ("not-an-item", {"kind": "Entity"}, {}, "invalid Entity"),
    ("workflow-outside-workflows", item("github-actions", {"ci.yml": "on: push"}), {}, "workflows under workflows/"),
])
def test_entity_level_checks(case: str, raw: dict[str, Any], kwargs: dict[str, str], error: str) -> None:
    report = validate_entity(raw, **kwargs)
    assert not report["ok"]
    assert any(error in e["message"] for e in report["errors"]), report["errors"]
    assert "AKIAABCDEFGHIJKLMNOP" not in str(report)  # findings name the kind and place, never the value


K8S_SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 80}]\n"
K8S_PVC = ("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: d\nspec:\n  resources:\n"
           "    requests: {storage: 1Gi}\n")
K8S_CRON = ("apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: c\nspec:\n  schedule: '0 3 * * *'\n"
            "  jobTemplate: {spec: {template: {spec: {containers: [{name: c, image: b:1}]}}}}\n")
K8S_INGRESS = ("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\nspec:\n"
               "  defaultBackend: {service: {name: web, port: {number: 80}}}\n")

# (case id, manifest with an odd shape, expected error substring): each used to crash the validator
ODD_SHAPES: list[tuple[str, str, str]] = [
    ("service-ports-int", K8S_SERVICE.replace("[{port: 80}]", "80"), "spec.ports must be a list, not a number"),
    ("service-ports-list-of-int", K8S_SERVICE.replace("[{port: 80}]", "[80]"), "spec.ports[0] must be a mapping"),
    ("service-spec-list", K8S_SERVICE.replace("  ports: [{port: 80}]\n", "  - 1\n"), "spec must be a mapping, not a list"),
    ("deployment-template-string", K8S_DEPLOY.split("  template:")[0] + "  template: x\n",
     "spec.template must be a mapping, not a string"),
    ("deployment-containers-int", K8S_DEPLOY.split("      containers:")[0] + "      containers: 5\n",
     "spec.template.spec.containers must be a list, not a number"),
    ("deployment-selector-list", K8S_DEPLOY.replace("  selector:\n    matchLabels: {app: web}\n", "  selector: [1]\n"),
     "spec.selector must be a mapping, not a list"),
    ("deployment-labels-list", K8S_DEPLOY.replace("labels: {app: web}", "labels: [1]"),
     "spec.template.metadata.labels must be a mapping, not a list"),
    ("cronjob-jobtemplate-string", K8S_CRON.split("  jobTemplate:")[0] + "  jobTemplate: run it\n",
     "spec.jobTemplate must be a mapping, not a string"),
    ("pvc-resources-list", K8S_PVC.replace("  resources:\n    requests: {storage: 1Gi}\n", "  resources: [1Gi]\n"),
     "spec.resources must be a mapping, not a list"),
    ("ingress-spec-list", K8S_INGRESS.split("spec:")[0] + "spec: [rules]\n", "spec must be a mapping, not a list"),
]


@pytest.mark.parametrize("manifest", [K8S_SERVICE, K8S_PVC, K8S_CRON, K8S_INGRESS], ids=["service", "pvc", "cronjob", "ingress"])
def test_odd_shape_baselines_are_valid(manifest: str) -> None:
    report = validate_files("kubernetes", {"m.yaml": manifest})
    assert report["ok"], report["errors"]


@pytest.mark.parametrize(("case", "manifest", "error"), ODD_SHAPES, ids=[c[0] for c in ODD_SHAPES])
def test_kubernetes_odd_shapes_are_findings_not_crashes(case: str, manifest: str, error: str) -> None:
    """A field of the wrong type (an LLM's typical slip) is a finding with file and line, never a TypeError."""
    report = validate_files("kubernetes", {"m.yaml": manifest})
    assert not report["ok"]
    hits = [e for e in report["errors"] if error in e["message"]]
    assert hits, report["errors"]
    assert hits[0]["file"] == "m.yaml" and hits[0]["line"] == 1


def test_a_crashing_tool_checker_becomes_a_report_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backstop: a TypeError/AttributeError inside a checker is reported, not raised."""
    import dataclasses

    import f.fractal.tools.registry as registry

    def crash(files: dict[str, str], report: Any) -> None:
        raise AttributeError("'list' object has no attribute 'get'")

    monkeypatch.setitem(registry.TOOLS, "kubernetes", dataclasses.replace(registry.TOOLS["kubernetes"], check=crash))
    report = validate_files("kubernetes", {"m.yaml": K8S_SERVICE})
    assert not report["ok"]
    assert report["errors"][0]["message"].startswith("malformed kubernetes files: ")
    assert "has no attribute 'get'" in report["errors"][0]["message"]


def test_checker_files_are_written_as_utf8_whatever_the_locale(tmp_path: Any) -> None:
    """write_files writes UTF-8 even under an ASCII locale (a worker started with LC_ALL=C)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = ("import sys; from pathlib import Path; from f.fractal.platform.files import write_files; "
            "write_files(Path(sys.argv[1]), {'a/b.yaml': 'name: caf\\u00e9 \\u20ac\\n'})")
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0",
           "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env, cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "a" / "b.yaml").read_bytes() == "name: café €\n".encode()
