"""Drafts round-trip (what generate -o, show and the API write is read back as is) and `import DIR`.

No LLM (offline templates); real Git bare repos as catalogs, the real CLI in a subprocess, real validators.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.cli import run_cli

import f.fractal.generation.drafts as drafts
from f.fractal.generation.generator import offline_draft
from f.fractal.model.errors import InvalidInput
from f.fractal.platform.yamlio import dump, load_untrusted
from f.fractal.tools.validate import validate_entity


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"FRACTAL_HOME": str(home), "FRACTAL_LLM_MODEL": "", "FRACTAL_LLM_API_BASE": "", "FRACTAL_LLM_API_KEY": ""}
    return run_cli(*args, env=env)


def test_a_draft_sharing_a_value_is_written_without_anchors() -> None:
    """An Ansible draft's list parameter sits in its inputs and its provenance: written twice, never &id001/*id001."""
    draft, _t, params, _c = offline_draft("install git and htop on this machine")
    draft["provenance"] = {"params": params}
    text = dump({"draft": draft, "conversation": []})
    assert "&id" not in text and "*id" not in text
    assert load_untrusted(text)["draft"] == json.loads(json.dumps(draft))


def test_show_output_and_generate_out_files_are_read_back() -> None:
    draft, _t, _p, _c = offline_draft("a PVC of 50 GB named uploads on k3s")
    spec = {k: v for k, v in draft["spec"].items() if k != "files"}
    files = {"pvc.yaml": draft["spec"]["files"]["pvc.yaml"], "extra.tf": 'resource "x" "y" {}'}
    shown = "# entity:x@1.0.0  (from f/fractal/a at 0123456789)\n" + dump({**draft, "spec": spec})
    for path, text in files.items():  # exactly as `show` prints them
        shown += f"\n--- {path}\n{text}" + ("" if text.endswith("\n") else "\n")
    item, conversation = drafts.read_draft(shown, "x.yaml")
    assert item["spec"]["files"] == {"pvc.yaml": files["pvc.yaml"], "extra.tf": 'resource "x" "y" {}\n'} and conversation is None
    item, conversation = drafts.read_draft(dump({"draft": draft, "conversation": [{"role": "user", "content": "hi"}]}))
    assert item == draft and conversation == [{"role": "user", "content": "hi"}]
    with pytest.raises(InvalidInput, match="holds no item"):
        drafts.read_draft("just: a mapping\n")


def _module(root: Path) -> Path:
    root.mkdir()
    (root / "main.tf").write_text('resource "local_file" "motd" {\n  filename = var.path\n  content  = "hello"\n}\n')
    (root / "variables.tf").write_text('variable "path" {\n  type        = string\n  description = "Where"\n'
                                       '  default     = "/tmp/motd"\n}\n')
    (root / "versions.tf").write_text('terraform {\n  required_providers {\n    local = {\n      source  = "hashicorp/local"\n'
                                      '      version = "~> 2.5"\n    }\n  }\n}\n')
    (root / ".terraform").mkdir()
    (root / ".terraform" / "junk.bin").write_bytes(b"\x00\xff")
    (root / "terraform.tfstate").write_text("{}")
    return root


def test_import_a_terraform_module_and_an_ansible_playbook(tmp_path: Path) -> None:
    item = drafts.import_folder(_module(tmp_path / "motd_module"))
    assert item["metadata"]["name"] == "motd-module" and item["spec"]["tool"] == "terraform"
    assert sorted(item["spec"]["files"]) == ["main.tf", "variables.tf", "versions.tf"]  # state and .terraform/ left out
    assert item["spec"]["inputs"]["properties"]["path"]["default"] == "/tmp/motd"
    assert validate_entity(item)["ok"]
    play = tmp_path / "play"
    play.mkdir()
    (play / "site.yml").write_text("- name: Motd\n  hosts: localhost\n  vars:\n    motd: hello\n    ports: [80, 443]\n"
                                   "  tasks:\n    - name: Say\n      ansible.builtin.debug:\n"
                                   "        msg: '{{ motd }} {{ ports }}'\n")
    imported = drafts.import_folder(play, name="motd-play", provider="local")
    props: dict[str, Any] = imported["spec"]["inputs"]["properties"]
    assert imported["spec"]["tool"] == "ansible" and props["motd"]["default"] == "hello" and props["ports"]["type"] == "array"
    (play / "blob.bin").write_bytes(b"\xff\xfe")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        drafts.import_folder(play)


@pytest.mark.slow
def test_cli_round_trip_generate_show_save_refine_import(make_target: Callable[..., str], fractal_home: Path,
                                                         tmp_path: Path) -> None:
    target = make_target("rt")
    out = tmp_path / "d.yaml"
    done = cli(fractal_home, "generate", "a PVC of 50 GB named uploads on k3s", "-o", str(out), "--save", "--target", target)
    assert done.returncode == 0, done.stderr
    ref = done.stdout.rsplit("# saved ", 1)[1].split()[0]
    shown = cli(fractal_home, "show", ref, "--target", target)
    (tmp_path / "x.yaml").write_text(shown.stdout)
    saved = cli(fractal_home, "save", str(tmp_path / "x.yaml"), "--target", target)
    assert saved.returncode == 0 and json.loads(saved.stdout)["ok"], saved.stderr  # show → save: unchanged, accepted
    refined = cli(fractal_home, "refine", str(out), "avec 80 Go", "--json")
    assert refined.returncode == 0, refined.stderr
    assert "storage: 80Gi" in json.loads(refined.stdout)["draft"]["spec"]["files"]["pvc.yaml"]
    imported = cli(fractal_home, "import", str(_module(tmp_path / "motd")), "--save", "--target", target, "--json")
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["saved"]["ref"] == "entity:motd@1.0.0"


def test_names_come_from_the_need_and_a_draft_never_silently_replaces_another_entity(make_target: Callable[..., str]) -> None:
    """Two needs, one template: two names. Same name, other template: a Conflict. Same template: a new version, said so."""
    import f.fractal.generate_entity as generate_entity
    from f.fractal.model.errors import Conflict

    names = {offline_draft(need)[0]["metadata"]["name"] for need in ("install nginx on this machine",
                                                                       "install postgresql-client on this machine")}
    assert names == {"local-packages-nginx", "local-packages-postgresql-client"}
    targets = [make_target("names")]
    first = generate_entity.main("a PVC of 50 GB named uploads on k3s", llm="offline", save=True, targets=targets)
    assert first["saved"]["ref"] == "entity:k3s-volume-claim-uploads@1.0.0" and "replaces" not in first["saved"]
    with pytest.raises(Conflict) as e:
        generate_entity.main("un namespace uploads sur k3s", name="k3s-volume-claim-uploads", llm="offline", save=True,
                             targets=targets)
    assert "k3s-volume-claim-uploads@1.0.0" in e.value.message and "another name" in e.value.hint
    again = generate_entity.main("a PVC of 80 GB named uploads on k3s", llm="offline", save=True, targets=targets)
    assert again["saved"]["ref"] == "entity:k3s-volume-claim-uploads@1.0.1"
    assert again["saved"]["replaces"] == "entity:k3s-volume-claim-uploads@1.0.0"
