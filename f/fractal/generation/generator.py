"""Generation: a need in plain words → a validated Entity draft, by an LLM (repaired in a loop) or offline.

    generate(need, tool=, provider=, name=, conversation=, llm=, attempts=3, targets=)
    refine(draft, message, conversation=, llm=, attempts=3)
      → {"draft": Entity, "report": validation report, "conversation": [...], "attempts": [...],
         "generator": "llm" | "offline"}  (+ "diff" for refine)

The LLM loop: a prompt (the tool's rules, the provider's facts, as examples the best matching learned
Runes then the most similar catalog entities) → the answer parsed (a JSON object, or fenced files) →
validated by the tool's own checker → the errors fed back → at most `attempts` answers. A draft that never passes raises
GenerationFailed with every attempt's errors (`data.attempts`) and the last draft (`data.draft`).
With no LLM configured (or `llm="offline"`) the template library answers instead, through the same
validators. Every draft carries its provenance: generator, model, need, prompt digest, attempts,
validation, time.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import time
from typing import Any

import f.fractal.catalog.items as catalog
import f.fractal.generation.conformance as conformance
import f.fractal.generation.offline as offline
import f.fractal.generation.templates as templates
import f.fractal.model.providers as providers
import f.fractal.platform.llm as llm_boundary
import f.fractal.tools.terraform.check as tf_check
import f.fractal.tools.validate as validate
from f.fractal.generation.specifics import extract as read_specifics
from f.fractal.learning.knowledge import decisive, identity_coverage, instantiate, knowledge_targets
from f.fractal.learning.knowledge import find as find_templates
from f.fractal.model.composite import literal_type
from f.fractal.model.errors import ConfigError, Conflict, FractalError, GenerationFailed, InvalidInput, NotFound
from f.fractal.model.item import NAME_RE, normalize_item, schema_for
from f.fractal.model.records import CheckReport, Finding, Found
from f.fractal.platform.secrets import scan
from f.fractal.platform.text import name_slug
from f.fractal.platform.yamlio import dump
from f.fractal.tools.registry import TOOLS, get_tool

OFFLINE = "offline"
OFFLINE_MODEL = "fractal-offline-templates"
MAX_NEED = 4000
MAX_ATTEMPTS = 10
MAX_EXAMPLE_FILE = 3000
MAX_EXAMPLES = 2
MIN_RUNE_IDENTITY = 0.5  # share of a Rune's own task words the need must say for it to be shown as an example
ANSWER_SHAPE = (
    '{"name": "kebab-case-name", "description": "one sentence", "tool": "<tool>", "providers": ["<provider>"], '
    '"inputs": {"type": "object", "properties": {"<input>": {"type": "string", "description": "…", "default": "…"}}, '
    '"required": []}, "outputs": {"<output>": {"description": "…"}}, "credentials": ["<resource type>"], '
    '"files": {"<relative path>": "<file text>"}}'
)


# ------------------------------------------------------------------ inputs


def check_inputs(need: Any, tool: Any, provider: Any, name: Any, attempts: Any, what: str = "need") -> None:
    if not isinstance(need, str) or not need.strip():
        raise InvalidInput(f"{what} must be a sentence in plain words", hint='e.g. "a 3-node K3s cluster on Exoscale"')
    if len(need) > MAX_NEED:
        raise InvalidInput(f"{what} is {len(need)} characters, over {MAX_NEED}", hint="ask for one thing at a time")
    if tool and tool not in TOOLS:
        raise InvalidInput(f"unknown tool {tool!r:.40}", hint=f"use one of {', '.join(TOOLS)}, or leave it empty")
    if provider:
        providers.get(provider)
    if name and (not isinstance(name, str) or not NAME_RE.match(name)):
        raise InvalidInput(f"bad name {name!r:.70}", hint="use kebab-case: lowercase letters, digits and dashes")
    if not isinstance(attempts, int) or isinstance(attempts, bool) or not 1 <= attempts <= MAX_ATTEMPTS:
        raise InvalidInput(f"attempts must be 1..{MAX_ATTEMPTS}, got {attempts!r:.20}")


def check_conversation(conversation: Any) -> list[dict[str, str]]:
    if conversation is None:
        return []
    if not isinstance(conversation, list) or not all(
        isinstance(m, dict) and m.get("role") in ("user", "assistant") and isinstance(m.get("content"), str) for m in conversation
    ):
        raise InvalidInput("conversation must be a list of {role: user|assistant, content: text}",
                           hint="pass back the conversation a previous call returned")
    return [{"role": m["role"], "content": m["content"]} for m in conversation]


# ------------------------------------------------------------------ drafts


NAME_STOP_WORDS = frozenset({"a", "an", "the", "on", "in", "of", "for", "with", "and", "to", "un", "une", "le", "la", "les",
                             "de", "des", "du", "sur", "avec", "pour", "et", "dans", "en", "my", "mon", "ma"})


def slug(text: str, fallback: str = "entity") -> str:
    """An entity name from a need (number words as digits)."""
    return name_slug(offline.normalize(text), stop=NAME_STOP_WORDS, fallback=fallback, limit=50)


def _tool_of(files: dict[str, str]) -> str:
    if any(p.endswith(".tf") for p in files):
        return "terraform"
    if "secret.yaml" in files:
        return "secret"
    return "ansible" if any(p in ("site.yml", "playbook.yml") for p in files) else "kubernetes"


def build_entity(fields: dict[str, Any], *, need: str, name: str | None, provider: str | None) -> dict[str, Any]:
    """An Entity from answer fields; the pack fills what it knows better (name asked, Terraform interface, credentials)."""
    files = fields.get("files")
    if not isinstance(files, dict) or not files or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        got = _shape(files) if not isinstance(files, dict) else "empty" if not files else "a mapping with non-text values"
        raise ValueError(f'"files" must map each relative path to its file text ({{"main.tf": "..."}}); it is {got}')
    tool = fields.get("tool") if fields.get("tool") in TOOLS else _tool_of(files)
    names = fields.get("providers")
    names = [str(n) for n in names] if isinstance(names, list) else ([str(names)] if isinstance(names, str) else [])
    names = names or ([provider] if provider else [])
    spec: dict[str, Any] = {"tool": tool, "providers": names}
    inputs, outputs = fields.get("inputs"), fields.get("outputs")
    interface = TOOLS[tool].interface if tool in TOOLS else None
    if interface is not None:  # a tool that declares its interface in its files (Terraform's variables/outputs)
        try:
            inputs, outputs = interface(files)
        except ValueError:
            pass  # files that do not parse: the validator reports it
    spec["inputs"] = inputs if isinstance(inputs, dict) and inputs else {"type": "object", "properties": {}, "required": []}
    spec["outputs"] = outputs if isinstance(outputs, dict) else {}
    creds = fields.get("credentials")
    known = [providers.PROVIDERS[n].credential for n in names if n in providers.PROVIDERS]
    spec["credentials"] = creds if isinstance(creds, list) and creds else [c.resource_type for c in known if c]
    spec["files"] = files
    raw_name = name or str(fields.get("name") or "")
    metadata = {"name": raw_name if NAME_RE.match(raw_name) else slug(raw_name or need),
                "version": str(fields.get("version") or ""),
                "description": str(fields.get("description") or need)[:4000],
                "tags": [t for t in dict.fromkeys([tool, *names]) if _TAG_RE.match(t)],
                "owner": ""}
    return published({"apiVersion": "fractal/v1", "kind": "Entity", "metadata": metadata, "spec": spec})


def published(item: dict[str, Any]) -> dict[str, Any]:
    """The item as callers get it: without an empty version (a draft has none until it is saved)."""
    meta = {k: v for k, v in item["metadata"].items() if k != "version" or v}
    return {**item, "metadata": meta}


# ------------------------------------------------------------------ reading an answer

_TAG_RE = re.compile(schema_for("Entity")["properties"]["metadata"]["properties"]["tags"]["items"]["pattern"])
_FENCE = re.compile(r"```([^\n`]*)\n(.*?)```", re.S)
_FILE_NAME = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_./-]*\.(?:tf|tfvars|ya?ml|json|j2|cfg|conf|sh|ini|txt|hcl))\b")


def _fields(obj: Any) -> dict[str, Any] | None:
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("spec"), dict):  # a whole item
        meta: dict[str, Any] = obj["metadata"] if isinstance(obj.get("metadata"), dict) else {}
        return {**obj["spec"], "name": meta.get("name"), "description": meta.get("description"), "version": meta.get("version")}
    return obj if "files" in obj else None


def _json_candidates(text: str) -> list[str]:
    stripped = text.strip()
    found = [stripped]
    found += [body for info, body in _FENCE.findall(text) if info.strip().lower() in ("json", "", "javascript")]
    if "{" in text:
        found.append(text[text.index("{"): text.rindex("}") + 1])
    return found


def _fenced_files(text: str, tool: str | None) -> dict[str, str]:
    files: dict[str, str] = {}
    for m in _FENCE.finditer(text):
        info, body = m.group(1).strip(), m.group(2)
        named = _FILE_NAME.search(info) or _FILE_NAME.search((text[: m.start()].rstrip().splitlines() or [""])[-1])
        if not named and info.lower() in ("json", "javascript"):
            continue  # an answer object with the wrong shape, not a file: parse_answer says what it holds
        guess = "main.tf" if "hcl" in info or "terraform" in info else "manifests.yaml"
        default = get_tool(tool).default_file if tool else guess
        path = named.group(1) if named else (default if default not in files else f"part{len(files) + 1}-{default}")
        files[path] = body if body.endswith("\n") else body + "\n"
    return files


def _shape(value: Any) -> str:
    """What a JSON value is, in a few words a model can act on."""
    if isinstance(value, dict):
        return f"an object with keys {', '.join(map(str, list(value)[:12])) or '(none)'}"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    return f"a {type(value).__name__}"


def parse_answer(text: str, tool: str | None = None) -> dict[str, Any]:
    """The entity fields in a model's answer: a JSON object (bare, fenced or inside prose), or fenced files.

    A JSON answer of another shape is a ValueError that says what was received and what is expected.
    """
    received: list[str] = []
    for candidate in _json_candidates(text):
        try:
            value = json.loads(candidate)
        except (json.JSONDecodeError, ValueError):
            continue
        fields = _fields(value)
        if fields is not None:
            return fields
        received.append(_shape(value))
    files = _fenced_files(text, tool)
    if files:
        return {"files": files}
    if received:
        raise ValueError(f"the answer is JSON but {received[0]}; expected one object with the keys name, description, tool, "
                         f'providers, inputs, outputs, credentials and files (files: {{"<path>": "<file text>"}}), '
                         f"shaped like {ANSWER_SHAPE}")
    raise ValueError("the answer holds neither a JSON object with \"files\" nor fenced code blocks")


# ------------------------------------------------------------------ prompts


def _provider_facts(name: str) -> str:
    p = providers.get(name)
    lines = [f"Provider {p.name} ({p.title}); tools: {', '.join(p.tools)}."]
    if p.credential:
        env = ", ".join(p.credential.env)
        lines.append(f"Credential: Windmill resource type {p.credential.resource_type} at {p.credential.default_path}; "
                     f"tools read it from {env} (never write the values).")
    if p.terraform_source:
        lines.append(f"Terraform provider: source {p.terraform_source}, version {p.terraform_version}.")
    schema = tf_check.SCHEMAS.get(p.name)
    if schema:
        current = [t for t, (_args, replaced) in schema[0].items() if not replaced]
        lines.append(f"Its resource types ({schema[2]}; any other type, a deprecated one or an unknown argument is "
                     f"rejected): {', '.join(current)}.")
    if p.regions:
        lines.append(f"Regions/zones: {', '.join(p.regions)} (default {p.default_region}).")
    lines += [f"- {fact}" for fact in p.facts]
    return "\n".join(lines)


def system_prompt(tool: str | None, provider: str | None) -> str:
    tools = [tool] if tool else [t for t in TOOLS if not provider or t in providers.get(provider).tools]
    parts = [
        "You are Fractal's infrastructure generator. Turn the operator's need into ONE catalog entity that passes "
        "the tool's own checks. Answer with a single JSON object and nothing else, shaped like:",
        ANSWER_SHAPE,
        f"tool is one of: {', '.join(tools)}.",
    ]
    for t in tools:
        parts.append(f"Rules for {t}:\n" + "\n".join(f"- {r}" for r in get_tool(t).rules))
    if provider:
        parts.append(_provider_facts(provider))
    else:
        parts.append("Providers (choose the one the need names; none named = local): "
                     + "; ".join(f"{p.name} ({', '.join(p.tools)})" for p in providers.PROVIDERS.values()))
    parts.append("Never write a credential value, even if the need asks for one: reference the resource type and the "
                 "environment variable instead.")
    return "\n\n".join(parts)


def _shown(item: dict[str, Any]) -> dict[str, Any]:
    spec = dict(item["spec"])
    spec["files"] = {p: t[:MAX_EXAMPLE_FILE] for p, t in (spec.get("files") or {}).items()}
    return {"name": item["metadata"]["name"], "description": item["metadata"].get("description", ""), **spec}


def _rune_examples(need: str, tool: str | None, provider: str | None) -> list[Found]:
    """The learned Runes that best match the need and are clearly about it (sanitized at intake; one a scan still
    flags is left out)."""
    try:
        hits = find_templates(need, tool=tool, provider=provider, limit=MAX_EXAMPLES)
        found = [catalog.get(h.row["ref"], knowledge_targets()) for h in hits]
    except FractalError:
        return []  # no knowledge catalog here
    return [f for f in found if identity_coverage(f, need) >= MIN_RUNE_IDENTITY and not scan(_shown(f["item"]), "example")]


def _examples(need: str, tool: str | None, provider: str | None, targets: list[str] | None
              ) -> tuple[str, list[str], list[str]]:
    """The best matching learned Runes, then the most similar catalog entities, as JSON the model can imitate:
    (prompt text, example refs, the Runes' refs)."""
    runes = _rune_examples(need, tool, provider)
    try:
        rows = catalog.list_items(targets, kind="Entity", query=need, tool=tool, provider=provider,
                                  limit=MAX_EXAMPLES)["items"][:MAX_EXAMPLES - len(runes)]
        items = [catalog.get(row["ref"], targets)["item"] for row in rows]
    except FractalError:
        items = []
    parts = []
    if runes:
        parts.append("Learned templates (Runes: solutions engineers validated; follow their structure closely, and give "
                     "their inputs the need's values, their defaults are one past use's):\n" + "\n".join(
                         f"```json\n{json.dumps(_shown(r['item']), ensure_ascii=False)}\n```" for r in runes))
    if items:
        parts.append("Similar entities already in the catalog (follow their style and conventions):\n" + "\n".join(
            f"```json\n{json.dumps(_shown(i), ensure_ascii=False)}\n```" for i in items))
    refs = [f"entity:{i['metadata']['name']}@{i['metadata'].get('version', '')}" for i in items]
    return "\n\n".join(parts), [str(r["ref"]) for r in runes] + refs, [str(r["ref"]) for r in runes]


def _feedback(checked: llm_boundary.Checked, attempt: int, attempts: int, warnings: bool) -> str:
    report: CheckReport = checked.report
    if warnings:
        lines = [f"Your answer passed the checks but has warnings (attempt {attempt} of {attempts}):"]
        findings = report["warnings"]
    else:
        lines = [f"Your answer did not pass the checks (attempt {attempt} of {attempts}):"]
        findings = report["errors"] + report["warnings"]
    for e in findings[:20]:
        where = e.get("file") or "answer"
        lines.append(f"- {where}{' line ' + str(e['line']) if e.get('line') else ''}: {e['message']}")
    lines.append("Fix every " + ("warning" if warnings else "error (and warning)")
                 + " and answer again with the complete JSON object only.")
    return "\n".join(lines)


def _parse_failure(error: str) -> CheckReport:
    return {"ok": False, "errors": [{"file": "", "message": f"could not read the answer: {error}"}], "warnings": [],
            "checks_run": ["answer format"], "checks_skipped": []}


# ------------------------------------------------------------------ the loop


def _check(answer: str, *, need: str, tool: str | None, provider: str | None, name: str | None
           ) -> tuple[dict[str, Any] | None, CheckReport]:
    """The draft in an answer and its report: the tool's checks, then conformance to the need (misses are errors)."""
    try:
        draft = build_entity(parse_answer(answer, tool), need=need, name=name, provider=provider)
    except ValueError as e:
        return None, _parse_failure(str(e))
    report = validate.validate_entity(draft, tool=tool, provider=provider)
    spec = draft["spec"]
    check = conformance.check(need, spec["tool"], spec["files"], spec["inputs"])
    report["checks_run"] = [*report["checks_run"], "conformance"]
    report["errors"] = [*report["errors"], *(Finding(file="", message=e) for e in check.errors)]
    report["warnings"] = [*report["warnings"], *(Finding(file="", message=f"the need mentions {u['text']!r} ({u['kind']}); "
                                                                             "no file carries it")
                                                 for u in check.unused if not u["required"])]
    report["unused"] = check.unused
    report["ok"] = not report["errors"]
    return draft, report


def _loop(messages: list[dict[str, str]], config: llm_boundary.LLMConfig, *, attempts: int, need: str, tool: str | None,
          provider: str | None, name: str | None) -> llm_boundary.Repaired:
    """The repair loop (platform.llm.repair) over the tool's checks and conformance; GenerationFailed when nothing passed."""

    def check(answer: str, leaked: list[Finding]) -> llm_boundary.Checked:
        draft, report = _check(answer, need=need, tool=tool, provider=provider, name=name)
        if leaked:  # the draft holds *** where the secrets were: never a valid answer
            report = {**report, "ok": False, "errors": [*leaked, *report["errors"]]}
        return llm_boundary.Checked(draft, report["errors"], report["warnings"], report)

    out = llm_boundary.repair(messages, config, check, _feedback, attempts=attempts)
    if not out.checked.ok:
        log = out.attempts
        summary = "; ".join(f"attempt {a['attempt']}: " + (a["errors"][0]["message"][:160] if a["errors"] else "failed")
                            for a in log)
        raise GenerationFailed(
            f"no valid entity after {attempts} attempts ({summary})",
            hint="make the need more specific (tool, provider), raise attempts, or try another model",
            data={"attempts": log, "draft": out.checked.made},
        )
    return out


def provenance(generator: str, model: str, need: str, digest: str, attempts: int, report: CheckReport, started: float,
               **extra: Any) -> dict[str, Any]:
    """The one provenance shape (platform.llm.provenance), with the draft's validation report."""
    return llm_boundary.provenance(generator, model, need, digest, attempts, started, validation=report, **extra)


def _config(llm: str | dict[str, Any] | None) -> llm_boundary.LLMConfig | None:
    return None if llm == OFFLINE else llm_boundary.load_config(llm or None)


def _masked(text: str, config: llm_boundary.LLMConfig | None) -> str:
    return llm_boundary.guard([{"role": "user", "content": text}], config)[0]["content"]


def generate(
    need: str,
    *,
    tool: str | None = None,
    provider: str | None = None,
    name: str | None = None,
    conversation: list[dict[str, str]] | None = None,
    llm: str | dict[str, Any] | None = None,
    attempts: int = 3,
    targets: list[str] | None = None,
) -> dict[str, Any]:
    """A validated Entity draft for a need (see the module doc for the result and the failure)."""
    check_inputs(need, tool, provider, name, attempts)
    history = check_conversation(conversation)
    started = time.perf_counter()
    config = _config(llm)
    safe_need = _masked(need, config)
    if config is None:
        learned = decisive(safe_need, tool or None, provider or None)
        if learned is not None:
            return _from_rune(safe_need, learned[0], tool or None, provider or None, name or None, history, started)
        return _offline(safe_need, tool or None, provider or None, name or None, history, started)
    examples, refs, runes = _examples(safe_need, tool, provider, targets)
    system = system_prompt(tool, provider) + (f"\n\n{examples}" if examples else "")
    ask = safe_need + "".join(f"\n{k}: {v}" for k, v in (("Tool", tool), ("Provider", provider), ("Name", name)) if v)
    ask += _hints(safe_need, tool, provider) + _requirements(safe_need, tool)
    messages = [{"role": "system", "content": system}, *history, {"role": "user", "content": ask}]
    out = _loop(messages, config, attempts=attempts, need=safe_need, tool=tool, provider=provider, name=name)
    draft = out.checked.made
    draft["provenance"] = provenance("llm", config.model, safe_need, out.digest, len(out.attempts), out.checked.report,
                                     started, examples=refs, **({"runes": runes} if runes else {}))
    convo = [*history, {"role": "user", "content": safe_need}, {"role": "assistant", "content": _masked(out.answer, config)}]
    return {"draft": draft, "report": out.checked.report, "conversation": convo, "attempts": out.attempts, "generator": "llm"}


def _requirements(need: str, tool: str | None) -> str:
    """The need's specifics restated as requirements the draft is checked against."""
    lines = conformance.summary(need, tool)
    return "\n\nRequirements read from the need (the draft is checked against them):\n" + "\n".join(lines) if lines else ""


def _hints(need: str, tool: str | None, provider: str | None) -> str:
    """What the wording suggests (keyword guesses), offered to the model as hints, never checked as rules."""
    text = offline.normalize(need)
    guessed_tool = None if tool else offline.detect_tool(text)
    guessed = [] if provider else offline.detect_providers(text)
    hints = ([f"tool {guessed_tool}"] if guessed_tool else []) + [f"provider {p}" for p in guessed]
    if not hints:
        return ""
    return f"\n(Hint, guessed from keywords and possibly wrong: {', '.join(hints)}. Follow what the need actually asks.)"


def _name_from(need: str, template: templates.Template, params: dict[str, Any]) -> str:
    """An entity name from the need: what it names ("named web", "namespace staging", a package…), else its words.

    Never the bare template id: two needs drafted from one template must not save over each other.
    """
    named = [s.value for s in read_specifics(need) if s.kind in ("name", "namespace", "service", "user", "package", "id")]
    if named:
        candidate = slug(f"{template.id} {' '.join(map(str, named[:2]))}")
        if NAME_RE.match(candidate):
            return candidate
    return slug(need, fallback=template.id)


def _report_unused(report: CheckReport, check: conformance.Conformance) -> None:
    """An offline draft says what of the need it does not carry: `unused`, and a warning for each required miss."""
    report["unused"] = check.unused
    report["warnings"] = [*report["warnings"], *(Finding(file="", message=e) for e in check.errors)]
    if "conformance" not in report["checks_run"]:
        report["checks_run"] = [*report["checks_run"], "conformance"]


Part = dict[str, Any]  # an object added to an offline draft by refinement: {"template": id, "params": {...}}


def _files(template: templates.Template, params: dict[str, Any], parts: list[Part]) -> dict[str, str]:
    """The files of a template with its parameters, and those of the parts added to it (a taken path is prefixed)."""
    files = template.build(params)
    for part in parts:
        made = templates.by_id(part["template"])
        assert made is not None  # checked by _stored_parts
        for path, text in made.build(part["params"]).items():
            files[path if path not in files else f"{made.id}-{path}"] = text
    return files


def offline_draft(need: str, tool: str | None = None, provider: str | None = None, name: str | None = None, *,
                  params: dict[str, Any] | None = None, template_id: str | None = None, parts: list[Part] | None = None
                  ) -> tuple[dict[str, Any], templates.Template, dict[str, Any], conformance.Conformance]:
    """An offline draft before validation: (draft, template, parameters, what of the need it does not carry)."""
    if template_id:
        template = templates.by_id(template_id)
        if template is None:
            raise InvalidInput(f"unknown template {template_id}")
        chosen = params or {}
    else:
        template, chosen = offline.pick(need, tool, provider)
    entity_name = name or _name_from(need, template, chosen)
    fields: dict[str, Any] = {"name": entity_name, "description": template.description, "tool": template.tool,
                              "providers": [template.provider] if template.provider else ([provider] if provider else []),
                              "credentials": list(template.credentials), "files": _files(template, chosen, parts or []),
                              "outputs": dict(template.outputs)}
    if template.tool == "ansible" and chosen:
        fields["inputs"] = {"type": "object", "required": [], "properties": {
            k: {"type": literal_type(v), "description": templates.PARAM_DOCS.get(k, k), "default": v} for k, v in chosen.items()}}
    draft = build_entity(fields, need=need, name=entity_name, provider=provider)
    spec = draft["spec"]
    return draft, template, chosen, conformance.check(need, template.tool, spec["files"], spec["inputs"])


def _offline(need: str, tool: str | None, provider: str | None, name: str | None, history: list[dict[str, str]],
             started: float, params: dict[str, Any] | None = None, template_id: str | None = None,
             parts: list[Part] | None = None) -> dict[str, Any]:
    draft, template, chosen, check = offline_draft(need, tool, provider, name, params=params, template_id=template_id,
                                                   parts=parts)
    report = validate.validate_entity(draft, tool=tool, provider=provider)
    _report_unused(report, check)
    attempt = {"attempt": 1, "ok": report["ok"], "errors": report["errors"], "llm_seconds": 0.0,
               "seconds": round(time.perf_counter() - started, 3)}
    if not report["ok"]:
        raise GenerationFailed(
            f"the offline template {template.id} produced an invalid entity: {report['errors'][0]['message']}",
            hint="report this as a bug; meanwhile configure an LLM", data={"attempts": [attempt], "draft": draft},
        )
    digest = hashlib.sha256(need.encode()).hexdigest()
    draft["provenance"] = provenance("offline", OFFLINE_MODEL, need, digest, 1, report, started, template=template.id,
                                     params=chosen, **({"parts": parts} if parts else {}))
    left = [u["text"] for u in check.unused]
    made = " + ".join([template.id, *(p["template"] for p in parts or [])])
    convo = [*history, {"role": "user", "content": need},
             {"role": "assistant", "content": f"Drafted entity {draft['metadata']['name']} ({template.tool}) from template "
                                              f"{made} with {json.dumps(chosen, ensure_ascii=False)}"
                                              + (f"; not carried: {', '.join(left)}" if left else "")}]
    return {"draft": draft, "report": report, "conversation": convo, "attempts": [attempt], "generator": "offline"}


def _from_rune(need: str, rune: Found, tool: str | None, provider: str | None, name: str | None,
               history: list[dict[str, str]], started: float) -> dict[str, Any]:
    """An offline draft built from a learned Rune: the need's values where the Rune has inputs of their kind."""
    inputs, files, used, _unused = instantiate(rune, need)
    spec = rune["item"]["spec"]
    fields = {"description": need, "tool": spec["tool"], "providers": spec.get("providers") or ([provider] if provider else []),
              "inputs": inputs, "outputs": spec.get("outputs") or {}, "files": files}
    draft = build_entity(fields, need=need, name=name, provider=provider)
    report = validate.validate_entity(draft, tool=tool, provider=provider)
    if not report["ok"]:  # the need does not fit the Rune after all: the templates decide
        return _offline(need, tool, provider, name, history, started)
    _report_unused(report, conformance.check(need, spec["tool"], draft["spec"]["files"], draft["spec"]["inputs"]))
    digest = hashlib.sha256(need.encode()).hexdigest()
    draft["provenance"] = provenance("offline", OFFLINE_MODEL, need, digest, 1, report, started, rune=rune["ref"],
                                     params=used)
    attempt = {"attempt": 1, "ok": True, "errors": [], "llm_seconds": 0.0, "seconds": round(time.perf_counter() - started, 3)}
    convo = [*history, {"role": "user", "content": need},
             {"role": "assistant", "content": f"Drafted entity {draft['metadata']['name']} ({spec['tool']}) from the learned "
                                              f"{rune['ref']} with {json.dumps(used, ensure_ascii=False)}"}]
    return {"draft": draft, "report": report, "conversation": convo, "attempts": [attempt], "generator": "offline",
            "rune": rune["ref"]}


# ------------------------------------------------------------------ saving


def _origin(item: dict[str, Any]) -> tuple[str, str]:
    prov = item.get("provenance") or {}
    return str(item["spec"].get("tool", "")), str(prov.get("template", "")) if prov.get("generator") == "offline" else ""


def save_draft(draft: dict[str, Any], targets: list[str] | None = None) -> dict[str, Any]:
    """Save a generated draft; a draft never silently becomes the next version of a different entity.

    Another tool, or another offline template, under the same name is a Conflict (choose another name,
    or replace it on purpose with save_item conflict=overwrite); the same kind of entity is saved as its
    next version and the result says which version it `replaces`.
    """
    name = draft["metadata"]["name"]
    try:
        current = catalog.get(f"entity:{name}", targets)["item"]
    except NotFound:
        return catalog.save(draft, targets)
    old, new = _origin(current), _origin(draft)
    version = current["metadata"].get("version", "")
    if old[0] != new[0] or (old[1] and new[1] and old[1] != new[1]):
        what = f"a {old[0]} entity" + (f" from template {old[1]}" if old[1] else "")
        raise Conflict(f"entity:{name}@{version} already exists and is {what}: saving this draft would make it its next version",
                       hint="give the draft another name (name=…), or refine the existing entity; to replace it on purpose, "
                            "save it with save_item conflict=overwrite",
                       data={"current": f"entity:{name}@{version}"})
    saved = catalog.save(draft, targets)
    return {**saved, "replaces": f"entity:{name}@{version}"}


# ------------------------------------------------------------------ refinement


def _readable(item: dict[str, Any]) -> dict[str, str]:
    spec = dict(item.get("spec") or {})
    files = spec.pop("files", None) or {}
    doc = {k: v for k, v in item.items() if k != "provenance"}
    return {"fractal.yaml": dump({**doc, "spec": spec}), **files}


def diff(old: dict[str, Any], new: dict[str, Any]) -> str:
    """A unified diff of two items: their YAML (without provenance) and every file."""
    a, b = _readable(old), _readable(new)
    chunks: list[str] = []
    for path in sorted(set(a) | set(b)):
        chunks += difflib.unified_diff(a.get(path, "").splitlines(True), b.get(path, "").splitlines(True),
                                       f"a/{path}" if path in a else "/dev/null", f"b/{path}" if path in b else "/dev/null")
    return "".join(chunks)


def refine(
    draft: dict[str, Any],
    message: str,
    *,
    conversation: list[dict[str, str]] | None = None,
    llm: str | dict[str, Any] | None = None,
    attempts: int = 3,
) -> dict[str, Any]:
    """The next draft after a change request, validated, with a readable diff."""
    if not isinstance(draft, dict) or not isinstance(draft.get("metadata"), dict):
        raise InvalidInput("draft must be an Entity item, as generate_entity returned it")
    current = published(normalize_item(published(draft)))
    if current["kind"] != "Entity":
        raise InvalidInput("refine works on Entity drafts", hint="compose pipelines with the composition scripts")
    check_inputs(message, None, None, None, attempts, what="message")
    history = check_conversation(conversation)
    started = time.perf_counter()
    config = _config(llm)
    safe = _masked(message, config)
    spec, meta = current["spec"], current["metadata"]
    tool, names = spec["tool"], spec.get("providers") or []
    provider = names[0] if len(names) == 1 else None
    if config is None:
        out = _refine_offline(current, safe, history, started)
    else:
        shown = {"name": meta["name"], "description": meta.get("description", ""), **spec}
        ask = (f"Current entity:\n```json\n{json.dumps(shown, ensure_ascii=False)}\n```\nChange request: {safe}\n"
               "Answer with the complete updated JSON object.")
        messages = [{"role": "system", "content": system_prompt(tool, provider)}, *history, {"role": "user", "content": ask}]
        loop = _loop(messages, config, attempts=attempts, need=safe, tool=tool, provider=provider, name=meta["name"])
        new = loop.checked.made
        new["provenance"] = provenance("llm", config.model, safe, loop.digest, len(loop.attempts), loop.checked.report, started,
                                       refined_from=meta.get("version") or "draft")
        convo = [*history, {"role": "user", "content": safe}, {"role": "assistant", "content": _masked(loop.answer, config)}]
        out = {"draft": new, "report": loop.checked.report, "conversation": convo, "attempts": loop.attempts, "generator": "llm"}
    out["draft"] = published({**out["draft"], "metadata": {**out["draft"]["metadata"], "version": meta.get("version", "")}})
    out["diff"] = diff(current, out["draft"])
    return out


ADDING = re.compile(r"\b(?:also|add|plus|ajoute[rz]?|aussi|en plus|et aussi)\b")
REMOVING = re.compile(r"\b(?:remove|drop|close|no longer|retire[rz]?|supprime[rz]?|enleve[rz]?|ferme[rz]?)\b")
REFINABLE = ("a parameter's new value (image, size, count, port, zone, schedule…); 'also'/'add' or 'remove' items of a "
             "list (ports, packages); adding a Kubernetes object (PVC, HPA, Ingress, ConfigMap, CronJob, DaemonSet) to "
             "Kubernetes manifests")


def _merged(old: dict[str, Any], changed: dict[str, Any], message: str) -> dict[str, Any]:
    """The parameters after a change request: lists grow with 'also/add', shrink with 'remove', else are replaced."""
    text = offline.normalize(message)
    new = dict(old)
    for key, value in changed.items():
        before = old.get(key)
        if isinstance(before, list) and isinstance(value, list) and REMOVING.search(text):
            new[key] = [v for v in before if v not in value]
        elif isinstance(before, list) and isinstance(value, list) and ADDING.search(text):
            new[key] = [*before, *(v for v in value if v not in before)]
        else:
            new[key] = value
    return new


def _new_parts(template: templates.Template, params: dict[str, Any], parts: list[Part], message: str,
               found: dict[str, Any]) -> list[Part]:
    """The objects a change request adds ("add a PVC of 20 GB"), each from the template that makes it alone."""
    made = conformance.kinds(_files(template, params, parts)) if template.tool == "kubernetes" else []
    added: list[Part] = []
    for obj in (str(s.value) for s in read_specifics(message) if s.kind == "object"):
        if obj in made:
            continue
        maker = offline.maker(obj, template.tool)
        if maker is None:
            raise InvalidInput(f"offline refinement cannot add a {obj} to a {template.tool} draft ({template.id})",
                               hint=f"offline refinement understands {REFINABLE}; configure an LLM for anything else")
        own = offline.fill(maker, found)
        for key in ("name", "namespace"):  # the new object goes with the draft's: same name and namespace unless stated
            if key in own and key in params and key not in found:
                own[key] = params[key]
        added.append({"template": maker.id, "params": own})
    return added


def _refine_offline(current: dict[str, Any], message: str, history: list[dict[str, str]], started: float) -> dict[str, Any]:
    prov = current.get("provenance") or {}
    template = templates.by_id(str(prov.get("template", "")))
    if prov.get("generator") != "offline" or template is None:
        raise ConfigError("refining this draft by dialogue needs an LLM (it was not made from an offline template)",
                          hint="pass an LLM resource, create f/fractal/llm, or export FRACTAL_LLM_MODEL")
    old = _stored_params(template, prov.get("params"))
    parts = _stored_parts(template, prov.get("parts"))
    names = _stored_providers(template, current["spec"].get("providers") or [])
    found = offline.extract(message, template.provider or None)
    added = _new_parts(template, old, parts, message, found)
    new = old
    if not added:  # the values of a request that adds an object are the new object's
        filled = offline.fill(template, found)
        new = _merged(old, {k: v for k, v in filled.items() if k in found or (k == "name" and "namespace" in found)}, message)
    if new == old and not added:
        raise InvalidInput(f"no change understood in {message[:100]!r}",
                           hint=f"offline refinement understands {REFINABLE} (this draft's parameters: {', '.join(old)}); "
                                "configure an LLM for free-form changes")
    out = _offline(message, template.tool, names[0] if names else None, current["metadata"]["name"], history, started,
                   params=new, template_id=template.id, parts=[*parts, *added])
    out["draft"]["provenance"]["need"] = f"{prov.get('need', '')} / {message}"[:2000]
    return out


def _stored_parts(template: templates.Template, raw: Any) -> list[Part]:
    """The objects earlier refinements added (provenance.parts), checked against the templates."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        raise InvalidInput("the draft's provenance.parts must be a list of {template, params}", hint=_TAMPERED)
    parts = []
    for part in raw:
        made = templates.by_id(str(part.get("template", "")))
        if made is None or made.tool != template.tool:
            raise InvalidInput(f"the draft's provenance.parts name {str(part.get('template'))[:40]!r}, not a {template.tool} "
                               "template", hint=_TAMPERED)
        parts.append({"template": made.id, "params": _stored_params(made, part.get("params"))})
    return parts


_TAMPERED = "refine the draft exactly as generate returned it, or generate a new one; configure an LLM for free-form changes"


def _fits(value: Any, default: Any) -> bool:
    """A parameter value of the default's JSON type (an integer may stand for a number, list items too)."""

    want, got = literal_type(default), literal_type(value)
    if got != want and not (want == "number" and got == "integer"):
        return False
    return not (isinstance(value, list) and default) or all(_fits(v, default[0]) for v in value)


def _stored_params(template: templates.Template, raw: Any) -> dict[str, Any]:
    """The template parameters an offline draft recorded (provenance.params), checked against the template."""
    if raw is None or raw == {}:
        return dict(template.params)
    if not isinstance(raw, dict):
        raise InvalidInput(f"the draft's provenance.params must be a mapping of template {template.id}'s parameters, "
                           f"not {type(raw).__name__}", hint=_TAMPERED)
    missing = [k for k in template.params if k not in raw]
    unknown = [str(k)[:40] for k in raw if k not in template.params]
    wrong = [k for k, v in raw.items() if k in template.params and not _fits(v, template.params[k])]
    problems = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"unknown {', '.join(unknown)}"] if unknown else []) \
        + ([f"wrong type for {', '.join(wrong)}"] if wrong else [])
    if problems:
        raise InvalidInput(f"the draft's provenance.params do not fit template {template.id}: {'; '.join(problems)}",
                           hint=_TAMPERED)
    return dict(raw)


def _stored_providers(template: templates.Template, names: list[str]) -> list[str]:
    """The draft's providers, checked against the template it was made from."""
    for name in names:
        if name not in providers.PROVIDERS:
            raise InvalidInput(f"unknown provider {name!r:.40} in the draft's spec.providers",
                               hint=f"use one of {', '.join(providers.PROVIDERS)}; {_TAMPERED}")
    fits = names == [template.provider] if template.provider else len(names) <= 1 and all(
        template.tool in providers.PROVIDERS[n].tools for n in names)
    if not fits:
        made_for = template.provider or f"any one provider supporting {template.tool}"
        raise InvalidInput(f"spec.providers {', '.join(names) or '(none)'} do not fit template {template.id} (made for "
                           f"{made_for})", hint=f"offline refinement keeps the provider; {_TAMPERED}")
    return names
