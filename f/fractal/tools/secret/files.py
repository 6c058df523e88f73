"""A secret entity's file layout: one binding file (checks and runs agree on its name)."""

from __future__ import annotations

from f.fractal.model.errors import InvalidInput

BINDING_FILES = ("secret.yaml", "secret.yml")


def binding_file(files: dict[str, str], ref: str = "the entity") -> str:
    """The entity's binding file; refused when it has none under an accepted name."""
    name = next((n for n in BINDING_FILES if n in files), None)
    if name is None:
        raise InvalidInput(f"{ref} has no secret.yaml (got {', '.join(sorted(files)) or 'no file'})",
                           hint="a secret entity holds one file, secret.yaml: resource_type, path, env, description")
    return name
