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

"""Fractal: which pipelines and meta-pipelines use an item, directly or through other composites."""

from typing import Any

from f.fractal.catalog.questions import used_by


def main(ref: str, targets: list[str] | None = None) -> dict[str, Any]:
    return used_by(ref, targets)
