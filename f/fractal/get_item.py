# Worker requirements, generated from requirements.txt by scripts/worker_requirements.py (do not edit):
# requirements:
#fastjsonschema==2.22.3
#PyYAML==6.0.3
#requests==2.34.2
#wmill==1.850.0

"""Fractal: get an item by ref (entity:name@1.2.0, @latest by default) from the first target holding it."""


from f.fractal.catalog.items import get
from f.fractal.model.records import Found


def main(ref: str, targets: list[str] | None = None) -> Found:
    return get(ref, targets)
