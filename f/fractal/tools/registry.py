"""The one list of tools. Adding a tool: a folder `tools/<tool>/` (files, check, run, tool) and one line here.

Everything else that names tools — the item schema's `tool` enum, the scripts' `.script.yaml` enums,
the CLI's choices, the generator's and composer's tool lists — reads `TOOLS` or is checked against
it by tests/pack/test_registry.py.
"""

from __future__ import annotations

from f.fractal.model.errors import InvalidInput
from f.fractal.tools.ansible.tool import TOOL as ANSIBLE
from f.fractal.tools.argocd.tool import TOOL as ARGOCD
from f.fractal.tools.base import Tool
from f.fractal.tools.dockerfile.tool import TOOL as DOCKERFILE
from f.fractal.tools.github_actions.tool import TOOL as GITHUB_ACTIONS
from f.fractal.tools.helm.tool import TOOL as HELM
from f.fractal.tools.kubernetes.tool import TOOL as KUBERNETES
from f.fractal.tools.kustomize.tool import TOOL as KUSTOMIZE
from f.fractal.tools.secret.tool import TOOL as SECRET
from f.fractal.tools.terraform.tool import TOOL as TERRAFORM

TOOLS: dict[str, Tool] = {
    tool.name: tool for tool in (TERRAFORM, ANSIBLE, KUBERNETES, SECRET, KUSTOMIZE, ARGOCD, HELM, DOCKERFILE,
                                     GITHUB_ACTIONS)
}


def get_tool(name: str) -> Tool:
    """The tool called `name`; InvalidInput naming the tools there are."""
    tool = TOOLS.get(name) if isinstance(name, str) else None
    if tool is None:
        raise InvalidInput(f"no tool {name!r:.40} yet", hint=f"use one of {', '.join(TOOLS)}")
    return tool
