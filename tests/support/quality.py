"""The generation quality table (tests/generation/quality_needs.yaml) and its judge.

A need's outcome is one of:
    exact        the right template (or a clear no_template failure for a need no template covers),
                 and every specific of the need shown in the files
    honest       the right template; the specifics the files do not show are all listed in the
                 report's `unused`
    refused      a clear no_template failure for a need a template covers (honest, not useful)
    silent-wrong an artifact for a need no template covers, the wrong tool/provider/template, or a
                 specific neither in the files nor listed as unused
    broken       another failure (invalid draft, crash)
Shared by tests/generation/test_quality.py and bench/bench_generation_quality.py.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TABLE = Path(__file__).resolve().parents[1] / "generation" / "quality_needs.yaml"
VERDICTS = ("exact", "honest", "refused", "silent-wrong", "broken")


@dataclass(frozen=True)
class Need:
    need: str
    lang: str
    tool: str
    provider: str
    template: str | None
    specifics: tuple[dict[str, Any], ...]


@dataclass
class Verdict:
    verdict: str
    why: str = ""
    missing: list[str] = field(default_factory=list)


def load() -> list[Need]:
    rows = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    return [Need(r["need"], r["lang"], r["tool"], r["provider"] or "", r["template"], tuple(r.get("specifics") or ()))
            for r in rows]


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).lower().split())


def _same(found: Any, wanted: Any) -> bool:
    if isinstance(wanted, list):
        return isinstance(found, list) and sorted(map(str, found)) == sorted(map(str, wanted))
    if isinstance(found, list):
        return any(_same(f, wanted) for f in found)
    if isinstance(wanted, float) or isinstance(found, float):
        try:
            return abs(float(found) - float(wanted)) < 1e-9
        except (TypeError, ValueError):
            return False
    return str(found) == str(wanted) and not isinstance(found, bool)


def _walk(node: Any, key: str) -> list[Any]:
    """Every value of a mapping key anywhere in a parsed document."""
    out: list[Any] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                out.append(v)
            out += _walk(v, key)
    elif isinstance(node, list):
        for v in node:
            out += _walk(v, key)
    return out


def _yaml_docs(files: dict[str, str]) -> list[Any]:
    docs: list[Any] = []
    for path, text in files.items():
        if path.endswith((".yaml", ".yml")):
            try:
                docs += [d for d in yaml.safe_load_all(text) if d is not None]
            except yaml.YAMLError:
                pass
    return docs


def shows(files: dict[str, str], inputs: dict[str, Any], key: str | None, value: Any) -> bool:
    """The files (or the entity's input defaults) carry this value, under this key when one is given."""
    props = (inputs or {}).get("properties") or {}
    if key:
        if key in props and "default" in props[key] and _same(props[key]["default"], value):
            return True
        if any(_same(v, value) for v in _walk(_yaml_docs(files), key)):
            return True
        literal = re.escape(str(value))
        hcl = re.compile(rf'(?m)^\s*{re.escape(key)}\s*=\s*"?{literal}"?\s*$')
        return any(hcl.search(text) for path, text in files.items() if path.endswith(".tf"))
    wanted = fold(value)
    texts = [fold(t) for t in files.values()] + [fold(p.get("default", "")) for p in props.values()]
    return any(wanted in t for t in texts)


def _words(text: str) -> str:
    """Folded, number words as digits ("two" and "2" read alike), punctuation spaced."""
    digits = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "deux": "2", "trois": "3", "quatre": "4",
              "cinq": "5"}
    return " ".join(digits.get(w, w) for w in re.sub(r"[,;()\"«»]", " ", fold(text)).split())


def _listed(said: str, unused: list[Any]) -> bool:
    """The report's `unused` quotes the need's words (or the value they stand for)."""
    wanted = _words(said)
    for item in unused:
        texts = [item.get("text", ""), str(item.get("value", ""))] if isinstance(item, dict) else [str(item)]
        for text in map(_words, texts):
            if re.search(rf"(?<![\w.-]){re.escape(wanted)}(?![\w-])", text):
                return True
    return False


def judge(need: Need, *, draft: dict[str, Any] | None = None, unused: list[Any] | None = None,
          error: Exception | None = None) -> Verdict:
    """The outcome of one need: a draft (with the report's `unused`) or the error raised."""
    if draft is None:
        code = getattr(error, "code", "")
        message = str(getattr(error, "message", error))
        clear = code == "no_template" or (code == "invalid_input" and "no template" in message)
        if not clear:
            return Verdict("broken", f"{code or type(error).__name__}: {message[:120]}")
        return Verdict("exact" if need.template is None else "refused", "no_template")
    spec, prov = draft["spec"], draft.get("provenance") or {}
    if need.template is None:
        return Verdict("silent-wrong", f"an artifact ({prov.get('template')}) for a need no template covers")
    got = (spec["tool"], (spec.get("providers") or [""])[0], prov.get("template"))
    if got != (need.tool, need.provider, need.template):
        return Verdict("silent-wrong", f"got {'/'.join(map(str, got))}, wanted {need.tool}/{need.provider}/{need.template}")
    files, inputs = spec.get("files") or {}, spec.get("inputs") or {}
    missing = [s["said"] for s in need.specifics if not shows(files, inputs, s.get("key"), s["value"])]
    if not missing:
        return Verdict("exact")
    silent = [s for s in missing if not _listed(str(s), unused or [])]
    if silent:
        return Verdict("silent-wrong", f"dropped without a word: {', '.join(map(str, silent))}", missing)
    return Verdict("honest", f"listed as unused: {', '.join(map(str, missing))}", missing)
