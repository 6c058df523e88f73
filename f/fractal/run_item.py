# extra_requirements:
# ansible-core==2.19.14
# ansible-runner==2.4.3
# fastjsonschema==2.22.3
# quickjs==1.19.4
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
    if resolved["item"]["kind"] != "Entity":  # Pipeline / MetaPipeline: through its compiled flow
        from f.fractal import flowrun

        return flowrun.run_composite(resolved, provider, inputs, mode, targets)
    return execute.run_entity(resolved, provider, inputs, mode)
