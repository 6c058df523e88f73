"""Text folding and names, once for the pack: what retrieval, the generators and the composer share."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

from f.fractal.model.item import NAME_RE

_WORDS = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lowercase without accents: « Clé réseau, Œuvre » → 'cle reseau, oeuvre'."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("œ", "oe").replace("æ", "ae"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def name_slug(text: str, *, stop: Collection[str] = (), fallback: str, limit: int = 40, words: int = 5) -> str:
    """An item name from a sentence: its first content words, folded and joined by '-' (fallback if none)."""
    kept = [w for w in _WORDS.findall(fold(text)) if w not in stop][:words]
    name = "-".join(kept)[:limit].strip("-")
    return name if NAME_RE.match(name) else fallback
