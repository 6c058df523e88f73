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
#quickjs==1.19.4
#requests==2.34.2
#wmill==1.850.0

"""Fractal: run a catalog item now on the provider chosen at launch; returns a structured result.

Inside Windmill this is a script (and a webhook): its job log shows the tool's output live.
"""

from typing import Any, Literal

from f.fractal.catalog.items import get
from f.fractal.execution.composite import run_composite
from f.fractal.execution.entity import check_mode, check_picks, run_entity
from f.fractal.execution.records import from_result, save
from f.fractal.learning.ledger import note_run
from f.fractal.model.errors import InvalidInput


def main(
    ref: str,
    provider: str | None = None,
    inputs: dict[str, Any] | None = None,
    mode: Literal["plan", "check", "apply", "destroy"] = "apply",
    targets: list[str] | None = None,
    credentials: dict[str, str] | None = None,
) -> dict[str, Any]:
    check_mode(mode)
    picks = check_picks(credentials)
    if inputs is not None and not isinstance(inputs, dict):
        raise InvalidInput("inputs must be an object of input names to values")
    resolved = get(ref, targets)
    if resolved["item"]["kind"] != "Entity":  # Pipeline / MetaPipeline: through its compiled flow
        result = run_composite(resolved, provider, inputs, mode, targets, picks=picks)
    else:
        result = run_entity(resolved, provider, inputs, mode, picks=picks)
    if picks:
        result["credentials"] = picks  # the resources chosen (paths, never values)
    result["run_id"] = save(from_result(result))  # the record: list_runs / get_run
    note_run(resolved["item"], result)  # a draft made from a Rune or an Orb: its run weighs the template
    return result
