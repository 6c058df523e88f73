"""The scripted-LLM table: 30 needs sent through the LLM path to a scripted mediocre model.

The model is SCRIPTED (tests/support/llm_server.ScriptedLLM, an OpenAI-compatible server on 127.0.0.1): it
answers each need with one realistic mistake — a removed Exoscale resource, an unknown argument (top-level or
in a nested block), an unpinned provider, `:latest` images, no resource limits, files outside `files`, a
```json block of the wrong shape, the same web Deployment whatever was asked, a stated value changed — and
fixes it only when the pack's feedback names the problem (the words listed with each mistake), as a model
that follows instructions would. Two "stubborn" rows never fix theirs. Its right answer is the offline
template's draft for the need (exact for every row), so the score measures the repair loop and its
feedback, not the model.

Shared by tests/generation/test_llm_table.py (asserted loosely) and bench/bench_generation_llm.py (printed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from f.fractal.generation.generator import offline_draft


@dataclass(frozen=True)
class Mistake:
    name: str
    fixed_by: tuple[str, ...]  # words in the feedback that make the model fix it (none: it never does)
    spoil: Callable[[dict[str, Any]], str]  # the right answer's fields → the mistaken answer text


def _json(fields: dict[str, Any]) -> str:
    return json.dumps(fields, ensure_ascii=False)


def _files(fields: dict[str, Any], change: Callable[[str, str], str]) -> str:
    return _json({**fields, "files": {p: change(p, t) for p, t in fields["files"].items()}})


def _deprecated(fields: dict[str, Any]) -> str:
    return _files(fields, lambda p, t: t.replace('resource "exoscale_compute_instance"', 'resource "exoscale_compute"')
                  .replace("exoscale_compute_instance.", "exoscale_compute."))


def _unknown_argument(fields: dict[str, Any]) -> str:
    return _files(fields, lambda p, t: re.sub(r'(resource "exoscale_\w+" "\w+" \{\n)', r'\1  flavor = "medium"\n', t, count=1)
                  if p == "main.tf" else t)


def _nested_argument(fields: dict[str, Any]) -> str:
    return _files(fields, lambda p, t: re.sub(r"(\n  (?:pg|healthcheck) \{\n)", r'\1    allowed_ranges = ["10.0.0.0/8"]\n', t)
                  if p == "main.tf" else t)


def _unpinned(fields: dict[str, Any]) -> str:
    return _json({**fields, "files": {p: t for p, t in fields["files"].items() if p != "versions.tf"}})


def _latest(fields: dict[str, Any]) -> str:
    return _files(fields, lambda p, t: re.sub(r"(image: [\w./-]+):[\w.-]+", r"\1:latest", t))


def _no_limits(fields: dict[str, Any]) -> str:
    return _files(fields, lambda p, t: re.sub(r"\n(\s+)resources:\n(?:\1  .*\n)+", "\n", t))


def _files_at_top(fields: dict[str, Any]) -> str:
    return _json({k: v for k, v in fields.items() if k != "files"} | fields["files"])


def _fenced_wrong_keys(fields: dict[str, Any]) -> str:
    return f"Here is the entity:\n```json\n{_json({'entity': fields['name'], 'manifests': fields['files']})}\n```\n"


WEB = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n"
       "    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n"
       "        - name: web\n          image: nginx:1.27\n          resources:\n            limits: {cpu: 500m, memory: 256Mi}\n")


def _web_deployment(fields: dict[str, Any]) -> str:
    return _json({**fields, "files": {"manifests.yaml": WEB}})


def _changed_value(fields: dict[str, Any]) -> str:
    def change(path: str, text: str) -> str:  # the first stated number the need gave, written one higher
        return re.sub(r"(default\s+=\s|replicas: |storage: |maxReplicas: )(\d+)", lambda m: f"{m.group(1)}{int(m.group(2)) + 1}",
                      text, count=1)
    return _files(fields, change)


def _prose(fields: dict[str, Any]) -> str:
    return f"Sure! Here is a draft that fits.\n\n```json\n{_json(fields)}\n```\nTell me if you want changes."


MISTAKES = {m.name: m for m in (
    Mistake("clean", (), _json),
    Mistake("prose around a json fence", (), _prose),
    Mistake("removed resource (exoscale_compute)", ("deprecated",), _deprecated),
    Mistake("unknown argument", ("unknown argument",), _unknown_argument),
    Mistake("unknown argument in a nested block", ("block",), _nested_argument),
    Mistake("provider not pinned", ("pinned",), _unpinned),
    Mistake(":latest image", ("latest",), _latest),
    Mistake("no resource limits", ("limit",), _no_limits),
    Mistake("files at the top level", ("expected one object",), _files_at_top),
    Mistake("json fence with the wrong keys", ("expected one object",), _fenced_wrong_keys),
    Mistake("the same web Deployment", ("the need asks for",), _web_deployment),
    Mistake("a stated value changed", ("the need states",), _changed_value),
    Mistake("stubborn: the same web Deployment", (), _web_deployment),
)}

TABLE: list[tuple[str, str]] = [  # (need, the model's mistake)
    ("two standard.large instances on Exoscale with 100 GB disks", "removed resource (exoscale_compute)"),
    ("trois instances Ubuntu 22.04 sur Exoscale à de-muc-1", "removed resource (exoscale_compute)"),
    ("a 3-node K3s cluster on Exoscale in ch-gva-2", "unknown argument"),
    ("a managed Kubernetes SKS cluster with 4 nodes on Exoscale", "unknown argument"),
    ("une base PostgreSQL 16 gérée par Exoscale, plan hobbyist-2, à ch-gva-2", "unknown argument in a nested block"),
    ("un load balancer réseau Exoscale devant 2 instances, port 80", "unknown argument in a nested block"),
    ("a firewall on Exoscale opening ports 22, 80 and 443", "provider not pinned"),
    ("un réseau privé 172.16.0.0/16 sur Exoscale", "provider not pinned"),
    ("a 1 TB block storage volume named archive on Exoscale", "a stated value changed"),
    ("un enregistrement DNS api pour example.com qui pointe vers 203.0.113.45 chez Exoscale", "files at the top level"),
    ("a 200 GB network volume on RunPod in EU-SE-1", "json fence with the wrong keys"),
    ("a RunPod pod with 2 H100 GPUs", "prose around a json fence"),
    ("écrire le fichier /etc/app/config.ini avec terraform sur cette machine", "clean"),
    ("a namespace with a quota on k3s, by terraform", "files at the top level"),
    ("deploy nginx with 3 replicas on k3s", ":latest image"),
    ("déployer l'image ghcr.io/acme/api:1.4.2 avec 4 répliques sur le port 8080 sur k3s", "a stated value changed"),
    ("déployer une application web nommée shop sur k3s", "no resource limits"),
    ("expose the web service on app.example.com with an ingress on k3s", "the same web Deployment"),
    ("un ingress pour shop.example.fr vers le service shop sur le port 3000 sur k3s", "json fence with the wrong keys"),
    ("un volume persistant (pvc) de 20 Go sur k3s", "the same web Deployment"),
    ("a PVC of 50 GB named uploads on k3s", "a stated value changed"),
    ("a Kubernetes CronJob on k3s running \"pg_dump -h db\" every 6 hours", "the same web Deployment"),
    ("un cronjob de sauvegarde toutes les nuits sur k3s", ":latest image"),
    ("a postgres database on k3s with 20 GB", "no resource limits"),
    ("a HorizontalPodAutoscaler for the web deployment between 2 and 10 replicas on k3s", "the same web Deployment"),
    ("un autoscaler horizontal (HPA) pour le déploiement api, de 2 à 8 pods, sur k3s", "stubborn: the same web Deployment"),
    ("a DaemonSet running node-exporter on every node of k3s", "the same web Deployment"),
    ("un DaemonSet fluent-bit sur tous les nœuds du cluster k3s", "stubborn: the same web Deployment"),
    ("une ConfigMap app-settings sur k3s avec LOG_LEVEL=debug", "the same web Deployment"),
    ("un namespace ml avec un quota de 30 pods sur k3s", "prose around a json fence"),
]


def right_answer(need: str) -> dict[str, Any]:
    """What a good model answers: the offline template's draft for the need, as answer fields."""
    draft = offline_draft(need)[0]
    meta, spec = draft["metadata"], draft["spec"]
    return {"name": meta["name"], "description": meta["description"], **{k: spec[k] for k in
            ("tool", "providers", "inputs", "outputs", "credentials", "files")}}


class MediocreModel:
    """The scripted model's replies: the row's mistake, until the feedback names it (then the right answer)."""

    def __init__(self) -> None:
        self.rows = {need: (MISTAKES[mistake], right_answer(need)) for need, mistake in TABLE}

    def __call__(self, body: dict[str, Any]) -> str:
        messages = body["messages"]
        users = [m["content"] for m in messages if m["role"] == "user"]
        need = next(n for n in self.rows if users[0].startswith(n))
        mistake, right = self.rows[need]
        feedback = users[-1] if len(users) > 1 else ""
        if len(users) > 1 and mistake.fixed_by and any(w in feedback for w in mistake.fixed_by):
            return _json(right)
        return mistake.spoil(right)



@dataclass(frozen=True)
class Outcome:
    need: str
    mistake: str
    ok: bool  # valid, conformant and free of the mistake (the right answer's files) within the attempts
    attempts: int
    why: str = ""


def score(config: dict[str, Any], attempts: int = 3) -> list[Outcome]:
    """Every row through generate(…, llm=config): valid, conformant and without the mistake within `attempts`
    (a draft the checks let through with the mistake still in it counts as a miss), or why not."""
    from f.fractal.generation.generator import generate  # the pack's LLM path, as generate_entity calls it
    from f.fractal.model.errors import FractalError

    out = []
    for need, mistake in TABLE:
        try:
            result = generate(need, llm=config, attempts=attempts)
        except FractalError as e:
            tried = len((e.data or {}).get("attempts") or [])
            out.append(Outcome(need, mistake, False, tried, f"{e.code}: {e.message[:150]}"))
            continue
        report = result["report"]
        right = result["draft"]["spec"]["files"] == right_answer(need)["files"]
        why = "" if right else "accepted with the mistake still in it"
        out.append(Outcome(need, mistake, report["ok"] and right, len(result["attempts"]), why))
    return out
