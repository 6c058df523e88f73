"""The catalog side of composite checks: member items read once per ref (model.composite.Resolver)."""

from __future__ import annotations

from collections.abc import Callable

from f.fractal.model.records import Found

Read = Callable[[str], Found]


class Resolver:
    """Reads member items through `read` (catalog.items.resolver gives one over catalog targets), once per ref."""

    def __init__(self, targets: list[str] | str | None, read: Read) -> None:
        self.targets = targets
        self._read = read
        self._items: dict[str, Found] = {}

    def get(self, ref: str) -> Found:
        """{ref (pinned), item, target, commit} for a ref; raises NotFound."""
        if ref not in self._items:
            found = self._read(ref)
            self._items[ref] = found
            self._items[found["ref"]] = found
        return self._items[ref]

    def seed(self, found: Found) -> None:
        """Make an item known without reading the catalog (for drafts and tests)."""
        self._items[found["ref"]] = found
