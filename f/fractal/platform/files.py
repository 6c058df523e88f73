"""Writing an item's tool files to disk: the one writer the catalog, the checkers and the runners share."""

from __future__ import annotations

from pathlib import Path


def write_files(root: Path, files: dict[str, str]) -> None:
    """Write tool files under root, exactly as given (UTF-8; paths already checked by the item schema).

    The one writer of item files: the catalog, the validators and the runners all use it."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
