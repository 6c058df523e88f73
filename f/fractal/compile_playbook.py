# Worker requirements, generated from requirements.txt by scripts/worker_requirements.py (do not edit):
# requirements:
#ansible-core==2.19.14
#ansible-lint==26.10.1
#ansible-runner==2.4.3
#detect-secrets==1.5.0
#fastjsonschema==2.22.3
#lark==1.3.1
#python-hcl2==8.1.4
#PyYAML==6.0.3
#requests==2.34.2
#wmill==1.850.0

"""Fractal: compile an Ansible entity into a Windmill-native `.playbook.yml` script.

Use it to run an entity as a first-class Windmill script (its own form, schedules,
permissions); use f/fractal/run_item for dry runs, destroy, provider choice at launch, pipelines
and the structured result.
"""

from typing import Any

import f.fractal.platform.workspace as workspace
from f.fractal.catalog.items import get
from f.fractal.model.errors import InvalidInput
from f.fractal.platform.windmill import call, ensure_folder
from f.fractal.platform.yamlio import dump
from f.fractal.tools.ansible.playbook import compile_entity, script_meta

FOLDER = "f/fractal_playbooks"


def main(ref: str, targets: list[str] | None = None, script_path: str = "", deploy: bool = False) -> dict[str, Any]:
    resolved = get(ref, targets)
    item = resolved["item"]
    if item["kind"] != "Entity" or item["spec"].get("tool") != "ansible":
        raise InvalidInput(f"{resolved['ref']} is not an Ansible entity", hint="only Ansible entities compile to .playbook.yml")
    path = workspace.check_path(script_path or f"{FOLDER}/{item['metadata']['name'].replace('-', '_')}", "script path")
    content = compile_entity(resolved)
    meta = script_meta(resolved, content)
    files = {f"{path}.playbook.yml": content, f"{path}.script.yaml": dump(meta)}
    if path.startswith(FOLDER + "/"):
        files[f"{FOLDER}/folder.meta.yaml"] = dump({"summary": "Playbooks compiled from Fractal entities",
                                                           "display_name": "fractal_playbooks", "owners": [], "extra_perms": {}})
    deployed = _deploy(path, content, meta, files) if deploy else ""
    return {"ref": resolved["ref"], "commit": resolved["commit"], "script_path": path, "files": files, "deployed": deployed}


def _deploy(path: str, content: str, meta: dict[str, Any], files: dict[str, str]) -> str:
    """Inside Windmill: create the script (a new version if it exists). Outside: write it to $FRACTAL_HOME."""
    if not workspace.in_windmill():
        for rel, text in files.items():
            dest = workspace.home() / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text)
        return str(workspace.home() / f"{path}.playbook.yml")
    if path.startswith("f/"):
        ensure_folder(path.split("/")[1])
    body = {"path": path, "summary": meta["summary"], "description": meta["description"], "content": content,
            "language": "ansible", "schema": meta["schema"]}
    if call("GET", f"scripts/exists/p/{path}") is True:  # a new version replaces the old one: name its parent
        body["parent_hash"] = call("GET", f"scripts/get/p/{path}")["hash"]
    call("POST", "scripts/create", body)
    return path
