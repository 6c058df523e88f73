# extra_requirements:
# ansible-core==2.19.14
# ansible-runner==2.4.3
# fastjsonschema==2.22.3
"""Fractal: run a catalog item now on the provider chosen at launch; returns a structured result.

Inside Windmill this is a script (and a webhook): its job log shows the tool's output live.
"""

from typing import Any, Literal

from f.fractal import catalog, execute
from f.fractal.errors import InvalidInput


def main(
    ref: str,
    provider: str | None = None,
    inputs: dict[str, Any] | None = None,
    mode: Literal["plan", "check", "apply", "destroy"] = "apply",
    targets: list[str] | None = None,
) -> dict[str, Any]:
    execute.check_mode(mode)
    if inputs is not None and not isinstance(inputs, dict):
        raise InvalidInput("inputs must be an object of input names to values")
    resolved = catalog.get(ref, targets)
    kind = resolved["item"]["kind"]
    if kind != "Entity":
        raise InvalidInput(
            f"{resolved['ref']} is a {kind}: running pipelines and meta-pipelines is not available yet",
            hint="run its entities one by one with run_item, in step order", data={"kind": kind},
        )
    return execute.run_entity(resolved, provider, inputs, mode)
