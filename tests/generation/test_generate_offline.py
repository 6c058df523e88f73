"""The offline generator end to end: needs in English and French → valid entities, saved, refined, from the CLI.

No LLM anywhere here (none is configured): the template library answers, and every draft goes
through the real validators (python-hcl2, terraform fmt when present, ansible-playbook
--syntax-check, ansible-lint, the manifest and binding checks). Saves go to real bare Git repos.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.cli import run_cli
from support.git import git_out

import f.fractal.generate_entity as generate_entity
import f.fractal.refine_entity as refine_entity
from f.fractal.generation.generator import generate
from f.fractal.generation.templates import TEMPLATES
from f.fractal.model.errors import ConfigError, InvalidInput

# (need, tool, provider, template, parameters the sentence must have set)
NEEDS: list[tuple[str, str, str, str, dict[str, Any]]] = [
    ("a 3-node K3s cluster on Exoscale in ch-gva-2", "terraform", "exoscale", "exoscale-k3s-cluster",
     {"node_count": 3, "zone": "ch-gva-2"}),
    ("un cluster K3s de 5 nœuds sur Exoscale à de-fra-1", "terraform", "exoscale", "exoscale-k3s-cluster",
     {"node_count": 5, "zone": "de-fra-1"}),
    ("a managed Kubernetes SKS cluster with 4 nodes on Exoscale", "terraform", "exoscale", "exoscale-sks-cluster",
     {"node_count": 4}),
    ("un cluster Kubernetes managé SKS sur Exoscale", "terraform", "exoscale", "exoscale-sks-cluster", {"zone": "ch-gva-2"}),
    ("two standard.large instances on Exoscale with 100 GB disks", "terraform", "exoscale", "exoscale-instances",
     {"instance_count": 2, "instance_type": "standard.large", "disk_size_gb": 100}),
    ("deux machines virtuelles sur Exoscale nommées web", "terraform", "exoscale", "exoscale-instances",
     {"instance_count": 2, "name": "web"}),
    ("a firewall on Exoscale opening ports 22, 80 and 443", "terraform", "exoscale", "exoscale-firewall",
     {"ports": [22, 80, 443]}),
    ("un pare-feu Exoscale qui ouvre le port 8443", "terraform", "exoscale", "exoscale-firewall", {"ports": [8443]}),
    ("a private network on Exoscale in at-vie-1", "terraform", "exoscale", "exoscale-private-network", {"zone": "at-vie-1"}),
    ("un volume de stockage bloc de 500 Go sur Exoscale", "terraform", "exoscale", "exoscale-block-volume", {"size_gb": 500}),
    ("a DNS record for www on exoscale for example.org", "terraform", "exoscale", "exoscale-dns-record",
     {"domain": "example.org", "record": "www"}),
    ("rent a GPU instance on Vast.ai with 2 RTX 4090 and 100 GB disk", "ansible", "vastai", "vastai-gpu-instance",
     {"gpu_count": 2, "gpu_type": "RTX 4090", "disk_size_gb": 100}),
    ("louer une machine GPU A100 sur Vast.ai", "ansible", "vastai", "vastai-gpu-instance", {"gpu_type": "A100 SXM4"}),
    ("une instance GPU sur RunPod avec un volume de 50 Go", "terraform", "runpod", "runpod-gpu-pod", {"size_gb": 50}),
    ("a RunPod pod with 2 H100 GPUs", "terraform", "runpod", "runpod-gpu-pod",
     {"gpu_count": 2, "gpu_type": "NVIDIA H100 80GB HBM3"}),
    ("un volume réseau de 1 To sur RunPod", "terraform", "runpod", "runpod-network-volume", {"size_gb": 1000}),
    ("write a file on this machine with terraform", "terraform", "local", "local-file", {}),
    ("a namespace with a quota on k3s, by terraform", "terraform", "k3s", "k3s-namespace-terraform", {}),
    ("install git, curl and htop on this machine", "ansible", "local", "local-packages", {"packages": ["git", "curl", "htop"]}),
    ("installer nginx et jq sur cette machine", "ansible", "local", "local-packages", {"packages": ["nginx", "jq"]}),
    ("créer un utilisateur ops sur cette machine", "ansible", "local", "local-user", {"user": "ops"}),
    ("écrire le message du jour sur cette machine", "ansible", "local", "local-motd", {}),
    ("installer k3s sur cette machine", "ansible", "local", "local-k3s-install", {}),
    ("une tâche planifiée chaque jour à 2h sur cette machine", "ansible", "local", "local-cron", {"schedule": "0 2 * * *"}),
    ("keep the nginx service running on this machine", "ansible", "local", "local-service", {"service": "nginx"}),
    ("configure and harden the Exoscale servers", "ansible", "exoscale", "exoscale-server-bootstrap", {}),
    ("préparer un environnement d'entraînement Python sur Vast.ai avec torch", "ansible", "vastai", "vastai-training-setup",
     {"packages": ["torch"]}),
    ("trouver les offres GPU les moins chères sur Vast.ai", "ansible", "vastai", "vastai-gpu-offers", {}),
    ("démarrer le pod RunPod xyz98765abc", "ansible", "runpod", "runpod-pod-control",
     {"pod_id": "xyz98765abc", "pod_action": "start"}),
    ("un espace de noms equipe-data sur le cluster k3s", "kubernetes", "k3s", "k3s-namespace", {"namespace": "equipe-data"}),
    ("deploy nginx with 3 replicas on k3s", "kubernetes", "k3s", "k3s-web-app", {"replicas": 3, "image": "nginx:1.27"}),
    ("expose the web service on app.example.com with an ingress on k3s", "kubernetes", "k3s", "k3s-ingress",
     {"host": "app.example.com"}),
    ("un volume persistant (pvc) de 20 Go sur k3s", "kubernetes", "k3s", "k3s-volume-claim", {"size_gb": 20}),
    ("un cronjob de sauvegarde toutes les nuits sur k3s", "kubernetes", "k3s", "k3s-cronjob", {"schedule": "0 3 * * *"}),
    ("a postgres database on k3s with 20 GB", "kubernetes", "k3s", "k3s-postgres", {"size_gb": 20}),
    ("a HorizontalPodAutoscaler for the web deployment between 2 and 10 replicas on k3s", "kubernetes", "k3s", "k3s-hpa",
     {"name": "web", "min_replicas": 2, "max_replicas": 10}),
    ("un DaemonSet fluent-bit sur tous les nœuds du cluster k3s", "kubernetes", "k3s", "k3s-daemonset",
     {"name": "fluent-bit", "image": "fluent/fluent-bit:3.1.9"}),
    ("une ConfigMap app-settings sur k3s avec LOG_LEVEL=debug", "kubernetes", "k3s", "k3s-configmap",
     {"name": "app-settings", "data": {"LOG_LEVEL": "debug"}}),
    ("une base PostgreSQL 16 gérée par Exoscale, plan hobbyist-2, à de-fra-1", "terraform", "exoscale", "exoscale-dbaas",
     {"plan": "hobbyist-2", "zone": "de-fra-1"}),
    ("an Exoscale network load balancer forwarding port 443 to a pool of 3 instances", "terraform", "exoscale",
     "exoscale-nlb-pool", {"port": 443, "instance_count": 3}),
    ("the API key for Vast.ai", "secret", "vastai", "vastai-credentials", {}),
    ("la clé API Exoscale", "secret", "exoscale", "exoscale-credentials", {}),
    ("le token RunPod", "secret", "runpod", "runpod-credentials", {}),
    ("the kubeconfig of the k3s cluster", "secret", "k3s", "k3s-credentials", {}),
    ("la clé API du LLM", "secret", "", "llm-api-key", {}),
    ("le jeton git du dépôt du catalogue", "secret", "", "git-credentials", {}),
]


@pytest.fixture(autouse=True)
def no_llm(fractal_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("FRACTAL_LLM_MODEL", "FRACTAL_LLM_API_BASE", "FRACTAL_LLM_API_KEY"):
        monkeypatch.delenv(var, raising=False)


def test_every_template_is_reached_by_a_need_of_the_table() -> None:
    """The library: every template is the pick for at least one need below (checked by the next test), half in French."""
    french = [n for n, *_ in NEEDS if any(w in n for w in ("une ", "un ", "le ", "la ", "les ", "sur ", "cette"))]
    assert len(NEEDS) >= 30 and len(french) * 2 >= len(NEEDS)
    unreached = sorted({t.id for t in TEMPLATES} - {template for _n, _t, _p, template, _params in NEEDS})
    assert not unreached, f"templates no need of the table picks: {unreached}"
    assert {t.tool for t in TEMPLATES} == {"terraform", "ansible", "kubernetes", "secret"}
    assert {t.provider for t in TEMPLATES} >= {"local", "k3s", "exoscale", "vastai", "runpod"}


@pytest.mark.parametrize(("need", "tool", "provider", "template", "params"), NEEDS, ids=[n[3] + ":" + n[0][:30] for n in NEEDS])
def test_offline_need_gives_a_valid_entity(need: str, tool: str, provider: str, template: str, params: dict[str, Any]) -> None:
    """No LLM: the template library answers; the draft passes the real validators."""
    result = generate_entity.main(need)
    draft, report = result["draft"], result["report"]
    assert report["ok"], report["errors"]
    assert result["generator"] == "offline"
    assert draft["kind"] == "Entity" and draft["spec"]["tool"] == tool
    assert draft["spec"]["providers"] == ([provider] if provider else [])
    assert draft["provenance"]["template"] == template
    assert draft["provenance"]["params"].items() >= params.items()
    assert not [w for w in report["warnings"] if "terraform fmt" in w["message"]]  # templates are canonical HCL
    if tool == "terraform":
        assert set(draft["spec"]["inputs"]["properties"]) == set(draft["provenance"]["params"])
        assert {"hcl2 parse", "terraform structure"} <= set(report["checks_run"])
    if tool == "ansible":
        assert {"ansible-playbook --syntax-check", "ansible-lint --offline"} <= set(report["checks_run"])
    if provider and provider != "local" and tool != "kubernetes":
        assert draft["spec"]["credentials"], "cloud entities name the credential they need"


def test_every_template_builds_a_valid_entity_from_defaults() -> None:
    """Templates never matched by the table above are still checked (terraform/kubernetes/secret: fast)."""
    from f.fractal.tools.validate import validate_files

    for t in TEMPLATES:
        if t.tool != "ansible":
            report = validate_files(t.tool, t.build(dict(t.params)))
            assert report["ok"], (t.id, report["errors"])


@pytest.mark.parametrize("need", ["make me a sandwich", "fais-moi un café", "   "])
def test_unknown_or_empty_need_is_a_clear_error(need: str) -> None:
    with pytest.raises(InvalidInput) as e:
        generate(need)
    assert e.value.hint


def test_tool_and_provider_narrow_the_choice() -> None:
    draft = generate("a namespace for team a", tool="kubernetes", provider="k3s")["draft"]
    assert draft["spec"]["tool"] == "kubernetes"
    with pytest.raises(InvalidInput, match="provider"):
        generate("a namespace", provider="aws")
    with pytest.raises(InvalidInput, match="tool"):
        generate("a namespace", tool="pulumi")


def test_saved_to_the_chosen_targets(make_target: Callable[..., str], tmp_path: Path) -> None:
    """generate_entity(save=True) writes the validated draft to every chosen catalog repo."""
    targets = [make_target("alpha"), make_target("beta")]
    result = generate_entity.main("a 3-node K3s cluster on Exoscale in ch-gva-2", name="edge-cluster", save=True, targets=targets)
    saved = result["saved"]
    assert saved["ok"] and saved["ref"] == "entity:edge-cluster@1.0.0"
    for name in ("alpha", "beta"):
        tree = git_out(tmp_path / "remotes" / f"{name}.git", "ls-tree", "-r", "--name-only", "main")
        assert "entities/edge-cluster/main.tf" in tree and "entities/edge-cluster/fractal.yaml" in tree
        item = git_out(tmp_path / "remotes" / f"{name}.git", "show", "main:entities/edge-cluster/fractal.yaml")
        assert "generator: offline" in item and "exoscale-k3s-cluster" in item


def test_refine_offline_changes_parameters_and_shows_a_diff() -> None:
    first = generate_entity.main("a 3-node K3s cluster on Exoscale")
    second = refine_entity.main(first["draft"], "use 5 nodes in de-fra-1", conversation=first["conversation"])
    params = second["draft"]["provenance"]["params"]
    assert params["node_count"] == 5 and params["zone"] == "de-fra-1"
    assert second["report"]["ok"]
    assert '-  default     = 3\n+  default     = 5' in second["diff"] and "+  default     = \"de-fra-1\"" in second["diff"]
    assert len(second["conversation"]) == 4
    with pytest.raises(InvalidInput, match="no change"):
        refine_entity.main(second["draft"], "make it nicer")


def test_refine_without_llm_of_a_handmade_draft_says_what_to_configure() -> None:
    from support.items import entity

    with pytest.raises(ConfigError) as e:
        refine_entity.main(entity("hand-made"), "add a task")
    assert "FRACTAL_LLM_MODEL" in e.value.hint


def test_cli_generate_save_and_refine(make_target: Callable[..., str], fractal_home: Path, tmp_path: Path) -> None:
    """`scripts/fractal generate … --save --target …` end to end, then `refine` from the written draft."""
    target = make_target("cli")
    out = tmp_path / "draft.yaml"
    need = "une instance GPU sur RunPod avec un volume de 50 Go"
    done = run_cli("generate", need, "--save", "--target", target, "-o", str(out), env={"FRACTAL_HOME": str(fractal_home)})
    assert done.returncode == 0, done.stderr
    assert "resource \"runpod_pod\"" in done.stdout and "# saved entity:instance-gpu-runpod-volume-50@1.0.0" in done.stdout
    refined = run_cli("refine", str(out), "avec 2 GPU et 200 Go", "--json", env={"FRACTAL_HOME": str(fractal_home)})
    assert refined.returncode == 0, refined.stderr
    result = json.loads(refined.stdout)
    assert result["draft"]["provenance"]["params"]["size_gb"] == 200 and "+  default     = 200" in result["diff"]
    bad = run_cli("generate", "make me a sandwich", env={"FRACTAL_HOME": str(fractal_home)})
    assert bad.returncode == 1 and json.loads(bad.stderr)["error"] == "no_template"


def test_cli_checks_the_draft_file_before_generating_or_saving(make_target: Callable[..., str], fractal_home: Path,
                                                              tmp_path: Path) -> None:
    """`generate --save -o <missing folder>/d.yaml` refuses at once: nothing generated, nothing pushed."""
    target = make_target("guarded")
    env = {"FRACTAL_HOME": str(fractal_home)}
    done = run_cli("generate", "a 3-node K3s cluster on Exoscale", "--save", "--target", target,
                   "-o", str(tmp_path / "missing" / "d.yaml"), env=env)
    assert done.returncode == 1, done.stdout
    error = json.loads(done.stderr)
    assert error["error"] == "invalid_input" and "missing" in error["message"] and error["hint"]
    remote = tmp_path / "remotes" / "guarded.git"
    assert "entities/" not in subprocess.run(["git", "-C", str(remote), "log", "--all", "--name-only", "--format="],
                                             capture_output=True, text=True).stdout
    folder = run_cli("generate", "a 3-node K3s cluster on Exoscale", "-o", str(tmp_path), env=env)
    assert folder.returncode == 1 and json.loads(folder.stderr)["error"] == "invalid_input"


def test_cli_writes_drafts_atomically_and_refuses_a_missing_draft(fractal_home: Path, tmp_path: Path) -> None:
    """The draft file is replaced whole (no temporary file left); refine of a missing/unreadable file is invalid input."""
    env = {"FRACTAL_HOME": str(fractal_home)}
    drafts = tmp_path / "drafts"
    drafts.mkdir()
    out = drafts / "d.yaml"
    out.write_text("old\n")
    assert run_cli("generate", "a 3-node K3s cluster on Exoscale", "-o", str(out), env=env).returncode == 0
    assert "exoscale-k3s-cluster" in out.read_text() and [p.name for p in drafts.iterdir()] == ["d.yaml"]
    for draft in (drafts / "nope.yaml", drafts):
        done = run_cli("refine", str(draft), "use 5 nodes", env=env)
        assert done.returncode == 1, done.stdout
        error = json.loads(done.stderr)
        assert error["error"] == "invalid_input" and str(draft) in error["message"] and "generate" in error["hint"]
    binary = drafts / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00draft")
    error = json.loads(run_cli("refine", str(binary), "use 5 nodes", env=env).stderr)
    assert error["error"] == "invalid_input"


def _with(draft: dict[str, Any], where: str, key: str, value: Any) -> dict[str, Any]:
    changed = json.loads(json.dumps(draft))
    changed[where][key] = value
    return changed


@pytest.mark.parametrize(("where", "key", "value", "error"), [
    ("provenance", "params", [1, 2], "must be a mapping"),
    ("provenance", "params", "node_count=5", "must be a mapping"),
    ("provenance", "params", {"node_count": 3}, "missing"),
    ("provenance", "params", "EXTRA", "unknown"),
    ("provenance", "params", "WRONG-TYPE", "instance_type"),
    ("spec", "providers", ["nope"], "unknown provider 'nope'"),
    ("spec", "providers", ["runpod"], "exoscale"),
], ids=["list", "string", "missing-keys", "extra-key", "wrong-type", "unknown-provider", "other-provider"])
def test_refine_offline_refuses_a_tampered_draft(where: str, key: str, value: Any, error: str) -> None:
    """Offline refinement trusts nothing in the draft it is given: odd provenance/providers are invalid input."""
    draft = generate_entity.main("a 3-node K3s cluster on Exoscale")["draft"]
    params = draft["provenance"]["params"]
    value = {**params, "bogus": 1} if value == "EXTRA" else {**params, "instance_type": 7} if value == "WRONG-TYPE" else value
    with pytest.raises(InvalidInput) as e:
        refine_entity.main(_with(draft, where, key, value), "use 5 nodes in de-fra-1")
    assert error in e.value.message and e.value.hint and "bug" not in e.value.hint


@pytest.mark.parametrize(("need", "ports"), [
    ("a firewall that supports 20 instances", None),
    ("a network for the transport of 50 GB on Exoscale", None),
    ("un réseau privé qui supporte 30 machines", None),
    ("un pare-feu pour le transport de 50 Go", None),
    ("support for 50 users, opening port 443", [443]),
    ("a firewall on Exoscale opening ports 22, 80 and 443", [22, 80, 443]),
    ("un pare-feu qui ouvre les ports 80 et 443", [80, 443]),
    ("le port 8443 uniquement", [8443]),
])
def test_ports_are_read_after_the_word_port_only(need: str, ports: list[int] | None) -> None:
    """'support', 'transport', 'supporte' hold 'port' but name no port (EN and FR)."""
    from f.fractal.generation.offline import extract

    assert extract(need).get("ports") == ports


@pytest.mark.parametrize("attempts", [True, False, 0, 11, 2.0, "3"])
def test_attempts_must_be_a_real_count(attempts: Any) -> None:
    """A boolean is not a count, even though Python treats True as 1."""
    with pytest.raises(InvalidInput, match="attempts"):
        generate("a 3-node K3s cluster on Exoscale", attempts=attempts)


def test_template_yaml_indents_lists_without_aliases() -> None:
    """templates.to_yaml is yamlio.dump(indent_lists=True): lists under their key, no &anchors; the default dump is unchanged."""
    import f.fractal.generation.templates as templates
    import f.fractal.platform.yamlio as yamlio

    shared = ["a"]
    assert templates.to_yaml({"x": shared, "y": shared}) == "x:\n  - a\ny:\n  - a\n"
    assert yamlio.dump({"x": ["a"], "t": "1\n2"}) == "x:\n- a\nt: |-\n  1\n  2\n"


def test_terraform_files_are_parsed_once_per_draft(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building the entity's interface and validating it share one parse of each .tf file."""
    import hcl2

    import f.fractal.tools.terraform.check as terraform

    calls: list[str] = []
    real = hcl2.loads

    def counted(text: str, **kwargs: Any) -> Any:
        calls.append(text)
        return real(text, **kwargs)

    monkeypatch.setattr(hcl2, "loads", counted)
    terraform._parse_cached.cache_clear()
    draft = generate("a 3-node K3s cluster on Exoscale named parse-once")["draft"]
    tf = [p for p in draft["spec"]["files"] if p.endswith(".tf")]
    assert len(calls) == len(tf) == len(set(calls))
