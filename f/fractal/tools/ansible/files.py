"""An Ansible entity's file layout: which playbook a run starts from (checks and runs agree on it)."""

from __future__ import annotations

from f.fractal.model.errors import InvalidInput

PLAYBOOK_NAMES = ("site.yml", "site.yaml", "playbook.yml", "playbook.yaml", "main.yml", "main.yaml")
DESTROY_NAMES = ("destroy.yml", "destroy.yaml")


def playbook_name(files: dict[str, str], mode: str, ref: str = "the entity") -> str:
    """The playbook a run in `mode` starts from (refused when there is none)."""
    if mode == "destroy":
        found = next((n for n in DESTROY_NAMES if n in files), None)
        if not found:
            raise InvalidInput(
                f"{ref} has no destroy playbook",
                hint="add destroy.yml to the entity (it undoes what its playbook does); Ansible has no generic undo",
            )
        return found
    found = next((n for n in PLAYBOOK_NAMES if n in files), None)
    top = [n for n in files if "/" not in n and n.endswith((".yml", ".yaml")) and n not in DESTROY_NAMES]
    if found or len(top) == 1:
        return found or top[0]
    raise InvalidInput(f"{ref} has no playbook", hint=f"name the entry playbook one of {', '.join(PLAYBOOK_NAMES)}")
