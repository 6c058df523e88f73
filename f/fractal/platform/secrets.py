"""The one secret detector of the pack, and the one redaction.

Items may *reference* secrets ($var:…, $res:…, var.x, {{ lookup(...) }}, ${VAR}) but never hold a
value. The same detector runs at save, on a model's answer (before it is echoed anywhere), on LLM
prompts, and on run results and logs (there it masks instead of refusing):

    scan(value, root)          → [Finding]  every plaintext secret in a nested value (never the value)
    ensure_no_secrets(value, root)  raises SecretInItem naming each field, rule and where the value belongs
    mask(text, known)          every detected secret and every known value, in every form, as ***
    secret_payloads(value)     the data values of every Kubernetes Secret a text or value shows (to mask them)
    is_secret_name(name)       THE rule for secret-like names (inputs, env variables, attributes, keys)
    known_values()             every credential value this process can see (env, workspace)

Rules: detect-secrets' pattern plugins (imported on the first scan), the pack's own patterns
(providers it serves: Exoscale, RunPod, Vast.ai, kubeconfigs; more token formats), keyword
assignments whatever the value's shape, Kubernetes Secret payloads, secret-named inputs with a
literal default, and the same rules again inside base64 and escape-encoded text. Each rule runs only on
a text holding one of its literal anchors (derived from its pattern), the keyword rule only on lines
holding a secret-name stem, so a large log costs a few regex passes, not ~80.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import importlib
import importlib.util
import itertools
import json
import math
import os
import re
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

import f.fractal.platform.workspace as workspace
from f.fractal.model.errors import ConfigError, FractalError, SecretInItem
from f.fractal.model.providers import PROVIDERS
from f.fractal.platform.windmill import call
from f.fractal.platform.yamlio import compose_documents, load_trusted

MASK = "***"
MIN_KNOWN = 4  # a shorter value is not masked (it would mask ordinary words)
MIN_ENCODED = 8  # from this length a value's encodings and each line of a multi-line value are masked too
MIN_SEEN = 6  # a credential found in the environment or the workspace is masked from this length
MAX_DEPTH = 2  # base64 / escape layers decoded inside one another

# ------------------------------------------------------------------ THE secret-name rule

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_SECRET_HEADS = frozenset({
    "password", "passwords", "passwd", "pwd", "pass", "passphrase", "secret", "secrets", "token", "credential",
    "credentials", "kubeconfig", "apikey", "privatekey", "secretkey", "accesskey", "auth", "pat",
})
_KEY_QUALIFIERS = frozenset({"api", "access", "secret", "private", "client", "account", "master", "encryption",
                             "signing", "auth", "license", "storage", "shared", "gpg"})
_TRANSPARENT = frozenset({"value", "data", "b64", "base64", "text", "string", "str", "raw", "plain", "plaintext", "hash"})
_NOT_A_VALUE = frozenset({"update", "enable", "disable", "use", "require", "generate", "rotate", "no", "show", "hide",
                          "check", "validate", "verify", "allow", "is", "has", "create", "expire", "reset", "change",
                          "min", "max", "num", "length"})


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a name (input, env variable, attribute, key) holds a secret: its last word, in any case style, is
    password/secret/token/… or <api|access|private|…> key (`db_password`, `apiToken`, `EXOSCALE_API_SECRET`,
    `client-key-data`); a name about a secret is not one (`token_ttl`, `secret_name`, `update_password`)."""
    words = [w.lower() for w in _WORDS.findall(name) if not w.isdigit()]
    while len(words) > 1 and words[-1] in _TRANSPARENT:
        words.pop()
    if not words or (words[0] in _NOT_A_VALUE and len(words) > 1):
        return False
    last = words[-1]
    return last in _SECRET_HEADS or (last == "key" and len(words) > 1 and words[-2] in _KEY_QUALIFIERS)


# ------------------------------------------------------------------ what a value that only points at a secret looks like

_REFERENCE = re.compile(
    r"""^(?:\$(?:var|res|env):|\$\{|\$\(|\$[A-Za-z_]\w*$|\{\{|\{%|<%|%\{|!vault|\$ANSIBLE_VAULT|lookup\(|query\(|env\(|os\.environ
    |(?:var|local|data|module|each|count|path|self|terraform)\.[A-Za-z_]      # HCL references
    |[a-z][a-z0-9]*_[a-z0-9_]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_]+                   # a Terraform resource attribute
    |[a-z_][a-z0-9_]*\(                                                         # a function call
    |[fu]/[\w-]+/                                                               # a Windmill path
    |(?:/|~/|\./)[\w./-]+$                                                      # a file path
    |[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$                                             # an environment variable's name
    )""", re.X)
_PLACEHOLDER = re.compile(
    r"(?i)^(?:x+|\*+|-+|\.+|…|changeme|change[-_]me|replace[-_]?me|todo|tbd|fixme|placeholder|dummy|sample|none|null|nil"
    r"|undefined|redacted|secret|password|token|true|false|yes|no|on|off|~)$"
    r"|\.\.\.|…|xxxx|example|<[^<>]+>|\byour[-_ ]|\bmy[-_ ]?(?:api[-_ ]?)?(?:key|token|secret|password)\b|\*\*\*"
)


def is_reference(value: str) -> bool:
    """Whether a value only points at a secret held elsewhere, or stands in for one (placeholders, examples)."""
    text = value.strip().strip("\"'").strip()
    return (not text or bool(_REFERENCE.match(text)) or bool(_PLACEHOLDER.search(text))
            or (re.fullmatch(r"[a-z][a-z_]*", text) is not None and is_secret_name(text)))  # a field name: api_key


def _literal(value: Any) -> bool:
    """A literal that can be a secret: a number, or a text of 4+ characters that is no reference."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, str) and len(value.strip().strip("\"'")) >= 4 and not is_reference(value)


# ------------------------------------------------------------------ the rules


@dataclass(frozen=True)
class Rule:
    id: str
    why: str  # what was found, e.g. "a GitHub token"
    pattern: re.Pattern[str]
    group: int = 0  # the group holding the value (0: the whole match)
    belongs: str = ""  # where the value belongs ('' = a Windmill secret variable)
    checked: bool = False  # the value must not be a reference or a placeholder
    unless: re.Pattern[str] | None = None  # a match on a line this finds is no secret (a digest's line)


def _rule(rule_id: str, why: str, pattern: str, group: int = 0, belongs: str = "", checked: bool = False,
          unless: str = "") -> Rule:
    return Rule(rule_id, why, re.compile(pattern), group, belongs, checked, re.compile(unless) if unless else None)


DEFAULT_BELONGS = "a Windmill secret variable or resource (reference it by path: $var:f/<folder>/<name>, $res:…)"


def _provider_home(name: str) -> str:
    """Where a provider's credential belongs: its resource, and the variables the tools read."""
    cred = PROVIDERS[name].credential
    if cred is None:
        return DEFAULT_BELONGS
    fields = ", ".join(f"{env} from field {field}" for env, field in cred.env.items())
    return f"the Windmill resource {cred.default_path} (type {cred.resource_type}; the tools read {fields})"


_EXOSCALE, _VASTAI, _RUNPOD = (_provider_home(p) for p in ("exoscale", "vastai", "runpod"))
_KUBECONFIG = "a Windmill resource of type kubeconfig (f/fractal/k3s_kubeconfig for k3s), given to runs as the kubeconfig input"

_URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@\"']+:([^/\s@\"']{3,})@")
# The pack's own patterns (detect-secrets' pattern plugins are added on the first scan).
RULES: tuple[Rule, ...] = (
    _rule("private-key", "a private key", r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----"),
    _rule("putty-private-key", "a PuTTY private key", r"PuTTY-User-Key-File-\d+:"),
    _rule("age-secret-key", "an age secret key", r"\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b"),
    _rule("aws-access-key", "an AWS access key id", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    _rule("github-token", "a GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})"),
    _rule("gitlab-token", "a GitLab token", r"\bgl(?:pat|dt|ft|rt|soat|cbt)-[A-Za-z0-9_-]{20,}"),
    _rule("llm-api-key", "an OpenAI/Anthropic API key",
          r"\bsk-(?:ant-[a-z0-9]+-|proj-|svcacct-|admin-)?(?=[A-Za-z_-]*\d)[A-Za-z0-9_-]{20,}"),
    _rule("stripe-key", "a Stripe secret key", r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{20,}"),
    _rule("huggingface-token", "a Hugging Face token", r"\bhf_[A-Za-z0-9]{30,}\b"),
    _rule("slack-token", "a Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    _rule("slack-webhook", "a Slack webhook URL",
          r"https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9_/-]{20,}"),
    _rule("discord-webhook", "a Discord webhook URL",
          r"https://(?:\w+\.)?discord(?:app)?\.com/api/webhooks/\d+/[\w-]{20,}"),
    _rule("google-api-key", "a Google API key", r"\bAIza[0-9A-Za-z_-]{35}"),
    _rule("gcp-service-account", "a GCP service account key (private_key_id)",
          r"[\"']?private_key_id[\"']?\s*[:=]\s*[\"']?[0-9a-f]{40}"),
    _rule("azure-storage-key", "an Azure storage account key", r"(?:AccountKey|SharedAccessKey)=[A-Za-z0-9+/=]{20,}"),
    _rule("azure-sas-signature", "an Azure SAS signature", r"[?&]sig=[A-Za-z0-9%+/=]{30,}"),
    _rule("exoscale-api-key", "an Exoscale API key", r"\bEXO[0-9a-f]{24}\b", belongs=_EXOSCALE),
    _rule("exoscale-api-secret", "an Exoscale API secret",
          r"(?i:exo\w*+)[^\n]{0,60}?(?<![\w-])((?=[\w-]*[A-Z])(?=[\w-]*[a-z])(?=[\w-]*\d)[A-Za-z0-9_-]{40,44})(?![\w-])", 1,
          belongs=_EXOSCALE),
    _rule("runpod-api-key", "a RunPod API key", r"\brpa_[A-Za-z0-9]{20,}\b", belongs=_RUNPOD),
    _rule("vastai-api-key", "a 64-hex API key (Vast.ai's format)",
          r"(?<![0-9a-fA-F:])[0-9a-f]{64}(?![0-9a-fA-F])", belongs=_VASTAI,
          unless=r"(?i)sha-?256|sha-?512|digest|checksum|hash"),
    _rule("kubeconfig-credential", "a kubeconfig client key or token",
          r"(?m)^\s*(?:client-key-data|token|id-token|refresh-token)\s*:\s*[\"']?([^\s\"']{16,})", 1, belongs=_KUBECONFIG,
          checked=True),
    _rule("jwt", "a JSON Web Token", r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    _rule("vault-token", "a HashiCorp Vault token", r"\bhvs\.[A-Za-z0-9_-]{24,}"),
    _rule("digitalocean-token", "a DigitalOcean token", r"\bdo[por]_v1_[a-f0-9]{64}\b"),
    _rule("npm-token", "an npm token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    _rule("sendgrid-key", "a SendGrid API key", r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b"),
    _rule("mailgun-key", "a Mailgun API key", r"\bkey-[0-9a-f]{32}\b"),
    _rule("databricks-token", "a Databricks token", r"\bdapi[a-f0-9]{32}\b"),
    _rule("shopify-token", "a Shopify token", r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b"),
    _rule("grafana-token", "a Grafana service account token", r"\bglsa_[A-Za-z0-9]{32}_[a-f0-9]{8}\b"),
    _rule("tailscale-key", "a Tailscale key", r"\btskey-[a-z]+-[A-Za-z0-9]{8,}-[A-Za-z0-9]{16,}"),
    Rule("password-in-url", "a password in a URL", _URL_PASSWORD, 1, checked=True),
    _rule("bearer-token", "a bearer token", r"(?i)\bbearer\s+([A-Za-z0-9._~+/=-]{16,})", 1, checked=True),
    _rule("basic-auth-header", "an HTTP basic-auth header", r"\bBasic\s+([A-Za-z0-9+/]{12,}={0,2})(?![\w+/=])", 1),
    _rule("netrc-password", "a .netrc password", r"(?m)\bmachine\s+\S+.*?\bpassword\s+(\S+)", 1, checked=True),
)
# A keyword assignment: a secret-like name given a value (YAML/JSON keys at the start of a line or after { , - ;
# shell/HCL/INI/URL `name=value` anywhere). The name and value are checked by is_secret_name and _literal.
_ASSIGNMENT = re.compile(
    r"""(?:(?:^|[{,\[]|^[ \t]*-)[ \t]*(?P<q>["']?)(?P<key>[A-Za-z_][\w.-]*)(?P=q)[ \t]*:(?![:/])
          |(?<=[ \t])(?P<key3>[A-Za-z_][\w-]*)[ \t]*:(?![:/])
          |(?:^|(?<=[\s{,;(&?|]))(?:export[ \t]+)?(?P<q2>["']?)(?P<key2>[A-Za-z_][\w.-]*)(?P=q2)[ \t]*(?::=|=>|(?<![=!<>])=(?!=)))
       [ \t]*(?P<value>"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s,;{}&#\[\]"'`]+)""",
    re.M | re.X,
)
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{24,}={0,2}(?![A-Za-z0-9+/=_-])")
_ESCAPE = r"\\u[0-9a-fA-F]{4}|\\U[0-9a-fA-F]{8}|\\x[0-9a-fA-F]{2}|%[0-9a-fA-F]{2}|&#x?[0-9a-fA-F]+;"
_ESCAPE_AT = re.compile(_ESCAPE)
_RUN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+/=.:-")
_ESCAPED_RUN = re.compile(rf"(?:[A-Za-z0-9_+/=.:-]|{_ESCAPE})*+")
_TF_VARIABLE = re.compile(r'variable\s+"(?P<name>[^"]+)"\s*\{(?P<body>(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*)\}')
_TF_DEFAULT = re.compile(r'(?m)^\s*default\s*=\s*(?P<value>"(?:[^"\\\n]|\\.)*"|-?\d[\d.]*)\s*$')
_FLAGGED = ("writeOnly", "password", "x-secret")

# detect-secrets' pattern plugins. Left out: KeywordDetector and BasicAuthDetector (the pack's keyword and URL
# rules replace them: they know references and the one secret-name rule), IPPublicDetector (not a secret), the
# high-entropy detectors (they flag every digest and checksum; encoded secrets are decoded and scanned instead).
_DS_PLUGINS = (
    "aws.AWSKeyDetector", "artifactory.ArtifactoryDetector", "azure_storage_key.AzureStorageKeyDetector",
    "cloudant.CloudantDetector", "discord.DiscordBotTokenDetector", "github_token.GitHubTokenDetector",
    "gitlab_token.GitLabTokenDetector", "ibm_cloud_iam.IbmCloudIamDetector", "ibm_cos_hmac.IbmCosHmacDetector",
    "jwt.JwtTokenDetector", "mailchimp.MailchimpDetector", "npm.NpmDetector", "openai.OpenAIDetector",
    "private_key.PrivateKeyDetector", "pypi_token.PypiTokenDetector", "sendgrid.SendGridDetector", "slack.SlackDetector",
    "softlayer.SoftlayerDetector", "square_oauth.SquareOAuthDetector", "stripe.StripeDetector",
    "telegram_token.TelegramBotTokenDetector", "twilio.TwilioKeyDetector",
)


@lru_cache(maxsize=1)
def detect_secrets_rules() -> tuple[Rule, ...]:
    """detect-secrets' pattern plugins as rules. Importing them costs about one `import git, yaml` (they pull in
    requests), so their patterns are kept in the worker cache, keyed by the installed package, and read from there."""
    spec = importlib.util.find_spec("detect_secrets")
    if spec is None or spec.origin is None:
        raise ConfigError("detect-secrets is not installed", hint="pip install -r requirements.txt (it pins detect-secrets)")
    key = f"{spec.origin}:{os.stat(spec.origin).st_mtime_ns}"
    cache = workspace.cache_dir("secrets") / "detect-secrets-patterns.json"
    try:
        saved = json.loads(cache.read_text(encoding="utf-8"))
        if saved["key"] == key:
            return tuple(Rule(r, w, re.compile(p, f)) for r, w, p, f in saved["rules"])
    except (OSError, ValueError, KeyError, TypeError, re.error):
        pass
    rules = _import_detect_secrets()
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"key": key, "rules": [[r.id, r.why, r.pattern.pattern, r.pattern.flags] for r in rules]}))
    os.replace(tmp, cache)
    return rules


def _import_detect_secrets() -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for plugin_path in _DS_PLUGINS:
        module, name = plugin_path.rsplit(".", 1)
        plugin = getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), name)()
        rule_id = "ds-" + re.sub(r"[^a-z0-9]+", "-", plugin.secret_type.lower()).strip("-")
        rules.extend(Rule(rule_id, f"a {plugin.secret_type} (detect-secrets)", p) for p in plugin.denylist)
    return tuple(rules)


# ------------------------------------------------------------------ the prefilter: a rule's literal anchors

_parser: Any = importlib.import_module("re._parser")  # the standard library's own regex parser
_op: Any = importlib.import_module("re._constants")
_REPEATS = frozenset({_op.MAX_REPEAT, _op.MIN_REPEAT, _op.POSSESSIVE_REPEAT})
_MAX_SPELLINGS = 32  # a fixed run is kept as literals while it has at most this many spellings


@lru_cache(maxsize=512)
def requirements(pattern: re.Pattern[str]) -> tuple[frozenset[str], ...]:
    """Sets of lower-case literals every text the pattern matches holds one of, each set (the best first). A rule
    runs only on a text meeting them all: ~80 rules cost ~80 substring tests on most texts, not ~80 regex passes."""
    try:
        found = _required(list(_parser.parse(pattern.pattern, pattern.flags)))
    except (re.error, TypeError, ValueError, IndexError, AttributeError):
        return ()
    return tuple(sorted(found, key=lambda o: -min(map(len, o))))


_DIGITS = frozenset("0123456789")


def _chars(item: tuple[Any, Any]) -> set[str] | None:
    """The few characters one item matches (a literal, a small class), else None."""
    op, arg = item
    if op is _op.LITERAL:
        return {chr(arg).lower()}
    if op is _op.IN and all(o is _op.LITERAL or (o is _op.RANGE and a[1] - a[0] < 16)
                            or (o is _op.CATEGORY and a is _op.CATEGORY_DIGIT) for o, a in arg):
        found: set[str] = set()
        for o, a in arg:
            found.update(chr(a) if o is _op.LITERAL else _DIGITS if o is _op.CATEGORY else map(chr, range(a[0], a[1] + 1)))
        return {c.lower() for c in found}
    return None


def _required(items: list[tuple[Any, Any]]) -> list[frozenset[str]]:
    """Sets of literals one of each of which every match of this sequence holds."""
    options: list[frozenset[str]] = []
    run: set[str] = {""}
    for item in [*items, (None, None)]:
        chars = _chars(item) if item[0] is not None else None
        if chars is not None and len(run) * len(chars) <= _MAX_SPELLINGS:
            run = {s + c for s in run for c in chars}
            continue
        if min(map(len, run)) >= 2:
            options.append(frozenset(run))
        run = {""} if chars is None else chars
        op, arg = item
        if op is _op.SUBPATTERN:
            options += _required(list(arg[-1]))
        elif op is _op.ATOMIC_GROUP:
            options += _required(list(arg))
        elif op in _REPEATS and arg[0] >= 1:
            options += _required(list(arg[2]))
        elif op is _op.BRANCH:
            best = [max(o, key=lambda s: min(map(len, s))) if (o := _required(list(b))) else None for b in arg[1]]
            if all(b is not None for b in best):
                options.append(frozenset().union(*best))  # type: ignore[arg-type]
    return options


_NEVER = 1 << 30  # no bound on the newlines a match spans


@lru_cache(maxsize=512)
def reach(pattern: re.Pattern[str]) -> int:
    """How many line breaks a match (with its lookarounds) can span; _NEVER when unbounded or unknown."""
    try:
        return min(_newlines(list(_parser.parse(pattern.pattern, pattern.flags)), bool(pattern.flags & re.S)), _NEVER)
    except (re.error, TypeError, ValueError, IndexError, AttributeError):
        return _NEVER


_BREAKING_CATEGORIES = frozenset({_op.CATEGORY_SPACE, _op.CATEGORY_NOT_DIGIT, _op.CATEGORY_NOT_WORD})


def _newlines(items: list[tuple[Any, Any]], dotall: bool) -> int:
    total = 0
    for op, arg in items:
        if op is _op.LITERAL or op is _op.NOT_LITERAL:
            total += (arg == 10) == (op is _op.LITERAL)
        elif op is _op.ANY:
            total += dotall
        elif op is _op.IN:
            negated = any(o is _op.NEGATE for o, _ in arg)
            total += negated != any((o is _op.LITERAL and a == 10) or (o is _op.RANGE and a[0] <= 10 <= a[1])
                                    or (o is _op.CATEGORY and a in _BREAKING_CATEGORIES) for o, a in arg)
        elif op is _op.SUBPATTERN:
            total += _newlines(list(arg[-1]), dotall or bool(arg[1] & re.S))
        elif op in _REPEATS:
            inner = _newlines(list(arg[2]), dotall)
            total += 0 if inner == 0 else _NEVER if arg[1] is _op.MAXREPEAT else inner * arg[1]
        elif op is _op.BRANCH:
            total += max(_newlines(list(b), dotall) for b in arg[1])
        elif op in (_op.ASSERT, _op.ASSERT_NOT):
            total += _newlines(list(arg[1]), dotall)
        elif op is _op.ATOMIC_GROUP:
            total += _newlines(list(arg), dotall)
        elif op is not _op.AT:
            return _NEVER
    return total


def _line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    return len(text) if end < 0 else end


def _windows(text: str, lowered: str, needs: frozenset[str], lines: int) -> list[tuple[int, int]]:
    """Where a rule can match: around each occurrence of one of its anchors, the lines a match can span (its own
    line for most rules), merged."""
    spans: list[tuple[int, int]] = []
    for anchor in needs:
        at = lowered.find(anchor)
        while at >= 0:
            start, end = text.rfind("\n", 0, at) + 1, _line_end(text, at + len(anchor))
            for _ in range(lines):
                start = text.rfind("\n", 0, start - 1) + 1 if start > 0 else 0
                end = _line_end(text, end + 1) if end < len(text) else end
            spans.append((start, end))
            at = lowered.find(anchor, end)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


# ------------------------------------------------------------------ findings


@dataclass(frozen=True)
class Finding:
    rule: str
    why: str
    path: str  # the field: spec.files.main.tf, spec.inputs.properties.api_token.default
    line: int = 0  # in the field's text, 0 when not known
    belongs: str = DEFAULT_BELONGS

    def where(self) -> str:
        return f"{self.path}{f' line {self.line}' if self.line else ''}"

    def message(self) -> str:
        return f"{self.where()}: {self.why} ({self.rule}); store the value in {self.belongs}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "rule": self.rule, "kind": self.why, "belongs": self.belongs}


@dataclass(frozen=True)
class _Hit:
    rule: Rule
    start: int
    end: int  # the span to mask


def _rules() -> tuple[Rule, ...]:
    return RULES + detect_secrets_rules()


class _Literals:
    """Literals, and which of them a text holds: a substring test each, narrowed on a short text to the literals
    whose first two characters it holds (a ~150-character log line then costs a few tests, not hundreds)."""

    def __init__(self, literals: Iterable[str]) -> None:
        self.literals = tuple(dict.fromkeys(literals))
        self.by_start: dict[str, list[str]] = {}
        for literal in self.literals:
            self.by_start.setdefault(literal[:2], []).append(literal)

    def within(self, text: str) -> list[str]:
        if len(text) > _SMALL:
            return [literal for literal in self.literals if literal in text]
        starts = {text[i:i + 2] for i in range(len(text) - 1)}.intersection(self.by_start)
        return [literal for start in starts for literal in self.by_start[start] if literal in text]


@dataclass(frozen=True)
class _Plan:
    """How the rules are run: each with its requirements and reach; which rules each anchor of their best
    requirement calls for, and the rules with none (run on every text)."""

    rules: tuple[tuple[Rule, tuple[frozenset[str], ...], int], ...]
    called_by: dict[str, tuple[int, ...]]
    always: tuple[int, ...]
    anchors: _Literals


@lru_cache(maxsize=1)
def _plan() -> _Plan:
    rules = tuple((rule, requirements(rule.pattern), reach(rule.pattern)) for rule in _rules())
    called_by: dict[str, list[int]] = {}
    for i, (_rule, every, _lines) in enumerate(rules):
        for anchor in every[0] if every else ():
            called_by.setdefault(anchor, []).append(i)
    always = tuple(i for i, (_rule, every, _lines) in enumerate(rules) if not every)
    return _Plan(rules, {a: tuple(found) for a, found in called_by.items()}, always, _Literals(called_by))


_SMALL = 4096  # a text this short is searched whole by each rule it meets the requirements of


def _pattern_hits(text: str) -> Iterator[_Hit]:
    lowered = text.lower()
    plan = _plan()
    called = {*plan.always, *(i for a in plan.anchors.within(lowered) for i in plan.called_by[a])}
    for i in sorted(called):
        rule, every, lines = plan.rules[i]
        if not all(any(a in lowered for a in needs) for needs in every[1:]):
            continue
        exact = len(text) <= _SMALL or not every or lines >= _NEVER or len(lowered) != len(text)
        for start, end in [(0, len(text))] if exact else _windows(text, lowered, every[0], lines):
            for m in rule.pattern.finditer(text, start, end):
                group = rule.group if rule.group <= (rule.pattern.groups or 0) and m.group(rule.group) else 0
                if rule.checked and is_reference(m.group(group)):
                    continue
                if rule.unless and rule.unless.search(text, text.rfind("\n", 0, m.start()) + 1, _line_end(text, m.end())):
                    continue
                yield _Hit(rule, m.start(group), m.end(group))


_KEYWORD = Rule("keyword-assignment", "a secret-named key given a literal value", _ASSIGNMENT)


# Every secret-like name (is_secret_name) ends with one of these, then maybe transparent words (`_value`, `Data`,
# digits), then an assignment: the keyword rule runs only on the lines where a stem is followed so.
_NAME_STEMS = ("pass", "pwd", "secret", "token", "credential", "kubeconfig", "key", "auth", "pat")
_SECRET_KEY_END = re.compile(
    r"(?:pass(?:word|wd|phrase)?s?|pwd|secrets?|token|credentials?|kubeconfig|key|auth|pat)"
    r"(?:[\W_]*(?:value|data|b64|base64|text|string|str|raw|plain|plaintext|hash|\d+))*[\"']?[ \t]*[:=]")


def _assignment_lines(text: str) -> list[tuple[int, int]]:
    """The lines where a secret-like name is given a value (the whole text when case folding moves offsets)."""
    lowered = text.lower()
    if len(lowered) != len(text):
        return [(0, len(text))]
    lines: set[tuple[int, int]] = set()
    for stem in _NAME_STEMS:
        at = lowered.find(stem)
        while at >= 0:
            if _SECRET_KEY_END.match(lowered, at):
                lines.add((text.rfind("\n", 0, at) + 1, _line_end(text, at)))
            at = lowered.find(stem, at + 1)
    return sorted(lines)


def _keyword_hits(text: str) -> Iterator[_Hit]:
    for start, end in _assignment_lines(text):
        for m in _ASSIGNMENT.finditer(text, start, end):  # an assignment never spans lines
            key = m.group("key") or m.group("key2") or m.group("key3")
            value = _scalar(m.group("value"))
            if is_secret_name(key) and _literal(value) and (not m.group("key3") or _random_looking(str(value))):
                quoted = int(m.group("value")[:1] in "\"'")
                yield _Hit(_KEYWORD, m.start("value") + quoted, m.end("value") - quoted)


def _random_looking(text: str) -> bool:
    """Prose says `the token: see …`; a value in the middle of a line counts when it looks random."""
    counts = [text.count(c) for c in set(text)]
    entropy = -sum(n / len(text) * math.log2(n / len(text)) for n in counts)
    return len(text) >= 12 and any(c.isdigit() for c in text) and any(c.isalpha() for c in text) and entropy >= 3.0


def _scalar(value: str) -> Any:
    """A bare YAML/HCL value as its type (123 → int, true → bool), a quoted one as text."""
    if value[:1] in "\"'":
        return value[1:-1]
    if re.fullmatch(r"-?\d+(?:\.\d+)?", value):
        return float(value) if "." in value else int(value)
    return {"true": True, "false": False, "null": None, "~": None}.get(value.lower(), value)


def _decode_base64(run: str) -> str | None:
    urlsafe = "-" in run or "_" in run
    if (urlsafe and ("+" in run or "/" in run)) or len(run.rstrip("=")) % 4 == 1:  # no base64: a path, a word
        return None
    try:
        raw = base64.b64decode(run + "=" * (-len(run) % 4), altchars=b"-_" if urlsafe else None, validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    printable = sum(c.isprintable() or c in "\n\r\t" for c in text)
    return text if text and printable >= 0.9 * len(text) else None


def _decode_escapes(run: str) -> str:
    def one(m: re.Match[str]) -> str:
        token = m.group(0)
        if token.startswith("%"):
            return chr(int(token[1:], 16))
        if token.startswith("&#"):
            body = token[2:-1]
            return chr(int(body[1:], 16) if body[:1] in "xX" else int(body))
        return chr(int(token[2:], 16))

    try:
        return re.sub(_ESCAPE, one, run)
    except (ValueError, OverflowError):
        return run


def _hits(text: str, depth: int = 0) -> list[_Hit]:
    """Every secret in a text, as the spans to mask: plain, then inside base64 and escaped runs."""
    found = [*_pattern_hits(text), *_keyword_hits(text)]
    if depth < MAX_DEPTH:
        for m in _BASE64.finditer(text):
            decoded = _decode_base64(m.group(0))
            if decoded and (inner := _hits(decoded, depth + 1)):
                found.append(_Hit(_encoded(inner[0].rule, "base64"), m.start(), m.end()))
        for start, end in _escaped_runs(text):
            decoded = _decode_escapes(text[start:end])
            if decoded != text[start:end] and (inner := _hits(decoded, depth + 1)):
                found.append(_Hit(_encoded(inner[0].rule, "escape-encoded"), start, end))
    return found


def _escaped_runs(text: str) -> Iterator[tuple[int, int]]:
    """The spans of token-like runs holding an escape (`\\u0067hp_…`, `%67hp_…`), found from each escape: linear,
    where one regex over the whole text backtracks over every long run."""
    pos = 0
    while escape := _ESCAPE_AT.search(text, pos):
        start = escape.start()
        while start > pos and text[start - 1] in _RUN_CHARS:
            start -= 1
        run = _ESCAPED_RUN.match(text, start)
        end = run.end() if run else escape.end()
        yield start, end
        pos = end


_ENCODED_MARK = re.compile("")


@lru_cache(maxsize=256)
def _encoded(rule: Rule, how: str) -> Rule:
    """The rule of a secret found inside a decoded run (base64, escapes)."""
    return Rule(f"{how}-{rule.id}", f"{rule.why}, {how}", _ENCODED_MARK, belongs=rule.belongs)


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def scan_text(text: str, path: str = "text") -> list[Finding]:
    """Every secret in one text (a file, a prompt, an answer): one finding per span (the most specific rule), plus
    what only its structure shows (a Kubernetes Secret, a secret input's default) on lines not found already."""
    findings: list[Finding] = []
    end = -1
    for hit in sorted(_hits(text), key=lambda h: (h.start, -h.end, _priority(h.rule))):
        if hit.start >= end:
            end = hit.end
            belongs = hit.rule.belongs or DEFAULT_BELONGS
            findings.append(Finding(hit.rule.id, hit.rule.why, path, _line(text, hit.start), belongs))
    lines = {f.line for f in findings}
    findings.extend(f for f in _structured(text, path) if f.line not in lines)
    return sorted(findings, key=lambda f: (f.line, f.rule))


def _priority(rule: Rule) -> int:
    """Which rule names a span found by several: a pattern, then the keyword rule, then a decoded layer's."""
    return 1 if rule is _KEYWORD else 2 if rule.pattern is _ENCODED_MARK else 0


# ------------------------------------------------------------------ structure: YAML/JSON documents, Terraform variables


def _structured(text: str, path: str) -> list[Finding]:
    found: list[Finding] = []
    if path.endswith((".yml", ".yaml", ".json")) or text.lstrip().startswith(("apiVersion:", "{", "---")):
        seen: set[int] = set()
        for node in compose_documents(text):
            found.extend(_yaml_findings(node, path, seen))
    if path.endswith(".tf") or "variable \"" in text:
        for m in _TF_VARIABLE.finditer(text):
            default = _TF_DEFAULT.search(m.group("body"))
            secret = is_secret_name(m.group("name")) or re.search(r"(?m)^\s*sensitive\s*=\s*true", m.group("body"))
            if secret and default and _literal(_scalar(default.group("value"))):
                found.append(_default_finding(path, _line(text, m.start("body") + default.start("value")), m.group("name")))
    return found


_K8S_PAYLOAD_HOME = ("a Windmill resource (a secret entity binds it); the manifest references the Secret by name "
                  "(secretKeyRef) and the run creates it")


def _default_finding(path: str, line: int, name: str) -> Finding:
    return Finding("secret-input-default", f"the secret input {name} has a literal default", path, line,
                   "a secret input given at run time (from a Windmill secret variable or resource), with no default")


_SCALARS = yaml.SafeLoader("")


def _node_value(node: yaml.Node) -> Any:
    """A scalar node's value (123 → int, true → bool); None for collections and custom tags (!vault: encrypted)."""
    if not isinstance(node, yaml.ScalarNode) or node.tag.startswith("!"):
        return None
    try:
        return _SCALARS.construct_object(node)
    except (yaml.YAMLError, ValueError):
        return node.value


def _yaml_findings(node: yaml.Node, path: str, seen: set[int]) -> Iterator[Finding]:
    if id(node) in seen:  # an alias: walked once
        return
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            yield from _yaml_findings(child, path, seen)
        return
    if not isinstance(node, yaml.MappingNode):
        return
    pairs = [(k.value if isinstance(k, yaml.ScalarNode) else "", k, v) for k, v in node.value]
    kind = next((_node_value(v) for name, _k, v in pairs if name == "kind"), None)
    for name, key, payload in pairs if kind == "Secret" else []:
        if name in ("data", "stringData") and isinstance(payload, yaml.MappingNode) and any(
            _literal(_node_value(v)) for _k, v in payload.value
        ):
            yield Finding("kubernetes-secret-data", f"a Kubernetes Secret with {name}", path, key.start_mark.line + 1,
                          _K8S_PAYLOAD_HOME)
    for name, key, value in pairs:
        if isinstance(value, yaml.ScalarNode):
            if is_secret_name(name) and _literal(_node_value(value)):
                yield Finding("keyword-assignment", _KEYWORD.why, path, key.start_mark.line + 1)
            continue
        if isinstance(value, yaml.MappingNode):
            inner = {k.value: v for k, v in value.value if isinstance(k, yaml.ScalarNode)}
            default = inner.get("default")
            flagged = any(_node_value(inner[f]) is True for f in _FLAGGED if f in inner)
            if (is_secret_name(name) or flagged) and isinstance(default, yaml.ScalarNode) and _literal(_node_value(default)):
                yield _default_finding(path, default.start_mark.line + 1, name)
        yield from _yaml_findings(value, path, seen)


def _value_findings(value: Any, path: str) -> Iterator[Finding]:
    """Secret-named keys with literal values and secret inputs with literal defaults, in a nested value."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from _value_findings(item, f"{path}[{i}]")
        return
    if not isinstance(value, dict):
        return
    if value.get("kind") == "Secret" and any(isinstance(value.get(f), dict) and value[f] for f in ("data", "stringData")):
        yield Finding("kubernetes-secret-data", "a Kubernetes Secret with data", path, 0, _K8S_PAYLOAD_HOME)
    for key, child in value.items():
        name = str(key)
        here = f"{path}.{name}"
        if is_secret_name(name) and not isinstance(child, (dict, list)) and _literal(child):
            yield Finding("keyword-assignment", _KEYWORD.why, here)
        if isinstance(child, dict) and "default" in child and _literal(child["default"]) and (
            is_secret_name(name) or any(child.get(f) is True for f in _FLAGGED) or child.get("format") == "password"
        ):
            yield _default_finding(f"{here}.default", 0, name)
        yield from _value_findings(child, here)


# ------------------------------------------------------------------ the public detector


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(str(k), f"{path}.{k}(key)")
            yield from _strings(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")


def scan(value: Any, root: str = "item") -> list[Finding]:
    """Every plaintext secret in a nested value (an item, an answer's fields, a text), never the value itself."""
    found = {(f.path, f.line, f.rule): f for f in _value_findings(value, root)}
    for path, text in _strings(value, root):
        for f in scan_text(text, path):
            found.setdefault((f.path, f.line, f.rule), f)
    return list(found.values())


def refusal(findings: list[Finding], what: str = "the item") -> SecretInItem:
    """The error for findings: each field, rule and where its value belongs."""
    shown = "; ".join(f.message() for f in findings[:5]) + (f"; and {len(findings) - 5} more" if len(findings) > 5 else "")
    return SecretInItem(
        f"{what} holds {len(findings)} plaintext secret{'s' if len(findings) > 1 else ''}: {shown}",
        hint="keep only references in it: a Windmill variable or resource by path ($var:f/…, $res:f/…), a Terraform "
        "variable, an environment variable the tool reads; nothing was written",
        data={"findings": [f.to_dict() for f in findings]},
    )


def ensure_no_secrets(value: Any, root: str = "item", what: str = "the item") -> None:
    """Raise SecretInItem when the value holds any plaintext secret."""
    findings = scan(value, root)
    if findings:
        raise refusal(findings, what)


# ------------------------------------------------------------------ Kubernetes Secret payloads in output

# A Secret printed by kubectl (-o yaml: `data:` before `kind: Secret`; -o json; inside a JSON string or one JSON string
# per line, as Ansible prints stdout and stdout_lines): its data/stringData values, found to be masked.
_SECRET_KIND = re.compile(r"""["']?kind["']?[ \t]*:[ \t]*["']?Secret\b""")
_DATA_KEY = re.compile(r"""^(?P<indent>[ \t]*(?:-[ \t]+)?)["']?(?:data|stringData)["']?[ \t]*:[ \t]*(?P<rest>[^#\s][^\n]*)?$""")
_JSON_DATA = re.compile(r'"(?:data|stringData)"\s*:\s*(\{[^{}]*\})')
_JSON_PAIR = re.compile(r'"(?:[^"\\\n]|\\.)*"\s*:\s*"((?:[^"\\\n]|\\.)*)"')
_QUOTED_LINE = re.compile(r'(?m)^([ \t]*)"((?:[^"\\\n]|\\.)*)",?[ \t]*$')
_JSON_ESCAPE = re.compile(r'\\(["\\/nt])')


def _unwrapped(text: str) -> str:
    """The text with one-JSON-string-per-line lists unwrapped and JSON escapes decoded (a Secret inside a log)."""
    text = _QUOTED_LINE.sub(lambda m: m.group(1) + m.group(2), text)
    return _JSON_ESCAPE.sub(lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def _json_text(body: str) -> str:
    """A JSON string's text from its body (escapes decoded; as it is when they do not decode)."""
    try:
        return str(json.loads(f'"{body}"'))
    except ValueError:
        return body


def _block_values(lines: list[str]) -> list[str]:
    """The values of a YAML mapping's lines (a Secret's data block), parsed when it parses, else line by line."""
    with contextlib.suppress(yaml.YAMLError, RecursionError):
        doc = load_trusted(textwrap.dedent("\n".join(lines)))
        if isinstance(doc, dict):
            return [str(v) for v in doc.values() if isinstance(v, (str, int, float))]
    values = []
    for line in lines:
        key, colon, value = line.strip().partition(": ")
        values.append((value if colon else key).strip().strip("\"'"))
    return values


def _text_payloads(text: str) -> set[str]:
    found: set[str] = set()
    for view in dict.fromkeys((text, _unwrapped(text))):
        if _SECRET_KIND.search(view):
            for m in _JSON_DATA.finditer(view):
                found.update(_json_text(v) for v in _JSON_PAIR.findall(m.group(1)))
            found.update(_yaml_payloads(view.split("\n")))
    return found


def _yaml_payloads(lines: list[str]) -> Iterator[str]:
    """The values under each `data:`/`stringData:` key of YAML lines: its flow mapping, or the lines indented below."""
    for i, line in enumerate(lines):
        key = _DATA_KEY.match(line)
        rest = (key.group("rest") or "").strip() if key else ""
        if key is None or (rest and not rest.startswith("{")):
            continue
        if rest:
            yield from _block_values([rest])
            continue
        block = []
        for nxt in lines[i + 1:]:
            if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= len(key.group("indent")):
                break
            block.append(nxt)
        yield from _block_values(block)


def secret_payloads(value: Any) -> frozenset[str]:
    """The values of every Kubernetes Secret's data/stringData in a text or a nested value (a printed manifest, a
    parsed object, a list of output lines), base64-decoded too: what to mask wherever they appear."""
    found: set[str] = set()
    if isinstance(value, str):
        if "Secret" in value:
            found |= _text_payloads(value)
    elif isinstance(value, dict):
        if value.get("kind") == "Secret":
            found.update(v for f in ("data", "stringData") if isinstance(value.get(f), dict)
                         for v in value[f].values() if isinstance(v, str))
        for child in value.values():
            found |= secret_payloads(child)
    elif isinstance(value, (list, tuple)):
        if value and all(isinstance(v, str) for v in value):
            found |= secret_payloads("\n".join(value))
        else:
            for child in value:
                found |= secret_payloads(child)
    decoded = {d for v in found if (d := _decode_base64(v.strip())) is not None}
    return frozenset(v for v in found | decoded if len(v.strip()) >= MIN_SEEN and MASK not in v)


# ------------------------------------------------------------------ masking


def forms(value: str) -> list[str]:
    """The forms a secret takes in output: raw, JSON-escaped, and for a value long enough to be told from ordinary
    text: URL-encoded, hex, base64 (at any byte offset in a longer encoded text) and each line of a multi-line value."""
    found = [value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]]
    if len(value) >= MIN_ENCODED:
        raw = value.encode()
        found += [quote(value, safe=""), raw.hex(), base64.b64encode(raw).decode()]
        for offset in range(3):  # the base64 of the value inside a longer base64 text, at each alignment
            data = b"\0" * offset + raw
            encoded = base64.b64encode(data[: len(data) - len(data) % 3]).decode()[(0, 2, 3)[offset]:]
            found += [encoded, encoded.replace("+", "-").replace("/", "_")]
    if "\n" in value.strip():
        found += [line.strip() for line in value.splitlines() if len(line.strip()) >= MIN_ENCODED]
    return [f for f in dict.fromkeys(found) if len(f) >= MIN_KNOWN]


# base64 or hex wrapped over lines (base64, xxd -p): joined before looking for a known value's encodings.
_WRAPPED = re.compile(r"(?<![A-Za-z0-9+/=_-])(?:[A-Za-z0-9+/=_-]{16,}+(?:\r?\n|\\n))+[A-Za-z0-9+/=_-]+")
_BREAK = re.compile(r"\r?\n|\\n")


@lru_cache(maxsize=64)
def _known_forms(values: frozenset[str]) -> _Literals:
    """Every form of the values."""
    return _Literals(f for v in values for f in forms(v))


@lru_cache(maxsize=256)
def _alternation(literals: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, literals)))


def _mask_known(text: str, values: frozenset[str]) -> str:
    """The text with every form of the values masked: only the forms the text holds go into the regex (a substring
    test each), and wrapped base64/hex runs are joined and searched for any form."""
    every = _known_forms(values)
    if not every.literals:
        return text
    present = every.within(text)
    if present:  # the longest first: the alternation masks the longest form
        text = _alternation(tuple(sorted(present, key=lambda f: (-len(f), f)))).sub(MASK, text)
    if _WRAPPED.search(text):
        pattern = _alternation(tuple(sorted(every.literals, key=lambda f: (-len(f), f))))
        text = _WRAPPED.sub(lambda m: MASK if pattern.search(_BREAK.sub("", m.group(0))) else m.group(0), text)
    return text


def mask(text: str, known: Iterable[str] = (), *, detect: bool = True, key: str = "") -> str:
    """The text with every known value (in every form) masked as ***, and every detected secret (a Kubernetes
    Secret's data values too) unless `detect` is off.
    `key`: the name the text is the value of (a result's field): a span is masked only when the rules still find it
    with the key as the line's context, as in `key: value` (a `checksum` field's 64 hex digits are a digest, not a
    Vast.ai key)."""
    values = frozenset(known)
    if detect and "Secret" in text:
        values |= secret_payloads(text)
    text = _mask_known(text, values)
    spans = sorted((h.start, h.end) for h in _hits(text)) if detect else []
    if spans and key and "\n" not in key:  # only what the rules still find with the key before the value
        prefix = f"{key}: "
        keyed = {(h.start - len(prefix), h.end - len(prefix)) for h in _hits(prefix + text)}
        spans = [span for span in spans if span in keyed]
    out, last = [], 0
    for start, end in spans:
        if end > last:
            out += [text[last:max(start, last)], MASK]
            last = end
    return "".join(out) + text[last:]


def mask_value(value: Any, known: Iterable[str] = (), *, detect: bool = True, key: str = "") -> Any:
    """A nested value (a result, an error payload) with every string masked, keys too (each string seen with the
    key it is the value of, as `mask` explains); the data values of any Kubernetes Secret it shows, everywhere in it."""
    values = frozenset(known) | (secret_payloads(value) if detect else frozenset())
    return _mask_nested(value, values, detect, key)


def _mask_nested(value: Any, values: frozenset[str], detect: bool, key: str) -> Any:
    if isinstance(value, str):
        return mask(value, values, detect=detect, key=key)
    if isinstance(value, dict):
        return {mask(k, values, detect=detect) if isinstance(k, str) else k:
                _mask_nested(v, values, detect, k if isinstance(k, str) else "") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask_nested(v, values, detect, key) for v in value]
    return value


def mask_answer(value: Any, extra: Iterable[str] = ()) -> Any:
    """What a server or the CLI answers, with every credential this process can see masked (known values only:
    the scripts' results already went through the detector)."""
    return mask_value(value, known_values() | set(extra), detect=False)


# ------------------------------------------------------------------ what this process can see


_PLAIN_ENV = ("PWD", "OLDPWD")


def _resource_secrets(value: Any, credential: bool) -> Iterator[str]:
    """A resource's secret values: every string of a credential resource, else the secret-named fields and URL passwords."""
    for path, text in _strings(value, ""):
        if path.endswith("(key)"):
            continue
        name = re.split(r"[.\[]", path)[-1]
        if credential or is_secret_name(name):
            yield text
        yield from (m.group(1) for m in _URL_PASSWORD.finditer(text))


_CREDENTIAL_TYPES = frozenset({p.credential.resource_type for p in PROVIDERS.values() if p.credential} | {"fractal_llm"})
WINDMILL_PAGE = 1000  # Windmill's default page size (windmill-common utils::DEFAULT_PER_PAGE)
_also_known: set[str] = set()
_windmill_known: dict[str, frozenset[str]] = {}  # job id → what it can read (one read per job)
_file_values: dict[Path, tuple[tuple[int, int], frozenset[str]]] = {}  # file → (mtime, size), its values


def mask_also(values: Iterable[str]) -> None:
    """Values this process must mask though it cannot see them: the local server's own secrets (a job can read
    the server's /proc environ, its environment never holds them)."""
    _also_known.update(v for v in values if isinstance(v, str))


def known_values() -> frozenset[str]:
    """Every credential value this process can see, to mask (never shown): secret-named environment variables and
    the local variables (F_…, U_…); the workspace's variables and resources — locally the files under $FRACTAL_HOME
    (each file read again only when it changed), inside Windmill every secret variable the job can read and the
    providers' credential resources (read once per job)."""
    values = {v for k, v in os.environ.items() if (is_secret_name(k) or k.startswith(("F_", "U_"))) and k not in _PLAIN_ENV}
    values |= _also_known
    values |= _windmill_values() if workspace.in_windmill() else _local_values()
    return frozenset(v for v in values if isinstance(v, str) and len(v.strip()) >= MIN_SEEN and not is_reference(v))


def _windmill_values() -> frozenset[str]:
    """Inside Windmill: the values of every secret variable the job can list (variables/list answers them without
    their value; variables/get_value gives it), and of the providers' credential resources."""
    job = os.environ.get("WM_JOB_ID", "")
    if job not in _windmill_known:
        found: set[str] = set()
        with contextlib.suppress(FractalError):
            for row in _windmill_variables():
                if row.get("is_secret"):
                    with contextlib.suppress(FractalError):
                        found.add(str(call("GET", f"variables/get_value/{row['path']}")))
                elif is_secret_name(str(row.get("path", "")).rsplit("/", 1)[-1]) and isinstance(row.get("value"), str):
                    found.add(row["value"])
        for provider in PROVIDERS.values():
            with contextlib.suppress(Exception):  # absent or unreadable: nothing of it can leak
                if provider.credential:
                    found.update(_resource_secrets(workspace.get_resource(provider.credential.default_path), True))
        _windmill_known.clear()
        _windmill_known[job] = frozenset(found)
    return _windmill_known[job]


def _windmill_variables() -> Iterator[dict[str, Any]]:
    """Every variable the job can list, page by page (Windmill's variables/list: a secret's value is null)."""
    for page in itertools.count(1):
        rows = call("GET", f"variables/list?per_page={WINDMILL_PAGE}&page={page}")
        if not isinstance(rows, list):
            return
        yield from (row for row in rows if isinstance(row, dict))
        if len(rows) < WINDMILL_PAGE:
            return


def _local_values() -> set[str]:
    values: set[str] = set()
    for folder in ("f", "u"):
        for file in (workspace.home() / folder).rglob("*.yaml"):
            if file.name.endswith((".variable.yaml", ".resource.yaml")):
                values |= _file_secrets(file)
    return values


def _file_secrets(file: Path) -> frozenset[str]:
    """A variable's value, a resource's secret values; parsed again only when the file changed."""
    try:
        stat = file.stat()
    except OSError:
        return frozenset()
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _file_values.get(file)
    if cached is None or cached[0] != stamp:
        doc = _read_yaml(file)
        if file.name.endswith(".variable.yaml"):
            found = {str(doc.get("value") or "")}
        else:
            found = set(_resource_secrets(doc.get("value"), doc.get("resource_type") in _CREDENTIAL_TYPES))
        cached = _file_values[file] = (stamp, frozenset(found))
    return cached[1]


def _read_yaml(file: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}
    return doc if isinstance(doc, dict) else {}
