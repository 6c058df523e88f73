"""The policy for dangerous constructs in an entity's files, checked at generation, at save and before a run.

A finding names the rule, the file, the line and why it is dangerous. Every rule blocks unless the
item carries an explicit, reviewable allowance for it in its spec (shown in its catalog README):

    spec:
      allow:
        - rule: terraform-local-exec
          reason: runs the vendor's installer on the new VM; reviewed by the platform team

    findings(item)          → [Finding]  every finding, allowed ones marked
    ensure_allowed(item)    raises PolicyViolation listing the blocking findings (nothing runs, nothing is written)

The generator's loop gets the blocking findings as validation errors, so a model fixes them like any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from f.fractal.model.errors import PolicyViolation
from f.fractal.model.providers import PROVIDERS
from f.fractal.platform.yamlio import compose_documents
from f.fractal.tools.runs import ENV_ALLOWLIST


@dataclass(frozen=True)
class Rule:
    id: str
    tool: str  # the tool whose files it reads ("*": any)
    why: str


@dataclass(frozen=True)
class Finding:
    rule: str
    file: str
    line: int
    why: str
    allowed: bool = False

    def message(self) -> str:
        if self.allowed:
            return f"policy {self.rule}: {self.why} (allowed by spec.allow)"
        return f"policy {self.rule}: {self.why} (remove it, or after review add spec.allow: [{{rule: {self.rule}, reason: …}}])"

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "file": self.file, "line": self.line, "why": self.why, "allowed": self.allowed}


RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("terraform-local-exec", "terraform", "a local-exec provisioner runs any command on the worker during apply"),
    Rule("terraform-remote-exec", "terraform", "a remote-exec provisioner runs commands on the created host outside the plan"),
    Rule("terraform-external-data", "terraform", "the external data source runs a program on the worker during plan"),
    Rule("ansible-pipe-to-shell", "ansible", "a download piped to a shell runs unreviewed code; download it "
         "(get_url with a checksum) and run it in a separate task"),
    Rule("ansible-proc-environ", "*", "reads process environments (/proc/*/environ): other jobs' credentials"),
    Rule("ansible-worker-file", "ansible", "reads a file of the worker outside the run directory (lookups, src: and "
         "include_vars run on the worker; slurp and fetch in a task run on it)"),
    Rule("ansible-shell-read", "ansible", "a shell/command task run on the worker reads a file outside the run "
         "directory (the worker's credentials, kubeconfigs, other jobs' files)"),
    Rule("ansible-worker-command", "ansible", "the pipe lookup runs a command on the worker"),
    Rule("ansible-workspace-read", "*", "reads the workspace's resources, variables or caches (where credentials live)"),
    Rule("ansible-env-lookup", "ansible", "reads a worker environment variable that is not on the allowlist (only the "
         "allowlisted ones and the credential variables of the entity's providers are passed)"),
    Rule("kubernetes-privileged", "*", "a privileged container has full access to its node"),
    Rule("kubernetes-host-namespace", "*", "hostNetwork/hostPID/hostIPC shares the node's network or processes"),
    Rule("kubernetes-host-path", "*", "a hostPath volume mounts the node's filesystem"),
)}

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("terraform-local-exec", re.compile(r'provisioner\s+"?local-exec"?')),
    ("terraform-remote-exec", re.compile(r'provisioner\s+"?remote-exec"?')),
    ("terraform-external-data", re.compile(r'data\s+"?external"?\s+"')),
    ("ansible-pipe-to-shell", re.compile(
        r"\b(?:curl|wget|fetch)\b[^\n|;]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+)?(?:\w+=\S*\s+)*(?:/usr)?(?:/bin/)?(?:ba|z|da|k|fi|c)?sh\b")),
    ("ansible-proc-environ", re.compile(r"/proc\b[^\n]*\benviron\b|\benviron\b[^\n]*/proc\b")),
    ("ansible-workspace-read", re.compile(r"FRACTAL_HOME|\.fractal/|/tmp/windmill|\.(?:resource|variable)\.ya?ml\b")),
    ("kubernetes-privileged", re.compile(r"(?m)^\s*privileged\s*=\s*true")),
    ("kubernetes-host-namespace", re.compile(r"(?m)^\s*host_(?:network|pid|ipc)\s*=\s*true")),
    ("kubernetes-host-path", re.compile(r"(?m)^\s*host_path\s*\{")),
)
_LOOKUP = re.compile(r"""\b(?:lookup|query|q)\(\s*['"](?:ansible\.builtin\.)?(?P<plugin>\w+)['"]\s*(?P<args>(?:,[^)]*)?)\)""")
_FILE_PLUGINS = frozenset({"file", "template", "fileglob", "first_found", "ini", "csvfile", "lines", "unvault", "together"})
_SRC = re.compile(r"""(?m)^\s*(?:src|file|dir)\s*[:=]\s*['"]?(?P<path>[^\s'"]+)""")
_QUOTED = re.compile(r"""['"]([^'"]*)['"]""")
_HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


def _outside(path: str) -> bool:
    """A path that leaves the run directory: absolute, home-relative, or climbing out with .."""
    return path.startswith(("/", "~")) or ".." in path.split("/")


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def allowed_env(item: dict[str, Any]) -> frozenset[str]:
    """Environment variables a play may read: the worker's allowlist and the credential variables of the
    entity's providers and credentials."""
    spec = item.get("spec") or {}
    names = set(ENV_ALLOWLIST)
    for name in [*(spec.get("providers") or []), *(spec.get("credentials") or [])]:
        provider = PROVIDERS.get(str(name))
        if provider and provider.credential:
            names.update(provider.credential.env)
    return frozenset(names)


def _text_findings(path: str, text: str, tool: str, env_ok: frozenset[str]) -> Iterator[tuple[str, int]]:
    for rule_id, pattern in _PATTERNS:
        if RULES[rule_id].tool in (tool, "*"):
            for m in pattern.finditer(text):
                yield rule_id, _line(text, m.start())
    if tool != "ansible":
        return
    for m in _LOOKUP.finditer(text):
        plugin, args = m.group("plugin"), _QUOTED.findall(m.group("args"))
        if plugin == "env" and (not args or any(name not in env_ok for name in args)):
            yield "ansible-env-lookup", _line(text, m.start())
        elif plugin == "pipe":
            yield "ansible-worker-command", _line(text, m.start())
        elif plugin in _FILE_PLUGINS and (not args or any(_outside(a) for a in args)):
            yield "ansible-worker-file", _line(text, m.start())
    for m in _SRC.finditer(text):
        if _outside(m.group("path")) and "{{" not in m.group("path"):
            yield "ansible-worker-file", _line(text, m.start("path"))


def _manifest_findings(nodes: list[yaml.Node]) -> Iterator[tuple[str, int]]:
    """Privileged pods, host namespaces and hostPath volumes in any YAML document (manifests, Ansible k8s tasks)."""
    stack, seen = list(nodes), set()
    while stack:
        node = stack.pop()
        if id(node) in seen:  # an alias: walked once
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else ""
                true = isinstance(value, yaml.ScalarNode) and value.value.lower() == "true"
                if name == "privileged" and true:
                    yield "kubernetes-privileged", key.start_mark.line + 1
                elif name in _HOST_NAMESPACES and true:
                    yield "kubernetes-host-namespace", key.start_mark.line + 1
                elif name == "hostPath" and isinstance(value, (yaml.MappingNode, yaml.ScalarNode)):
                    yield "kubernetes-host-path", key.start_mark.line + 1
                stack.append(value)


# ------------------------------------------------------------------ Ansible tasks that read the worker's files

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_SHELL_MODULES = frozenset({"shell", "command", "raw"})
_FETCH_MODULES = frozenset({"slurp", "fetch"})
# Commands that read the files they name (cp, scp, rsync, install: every path but the last, their destination).
_READERS = frozenset({
    "cat", "tac", "head", "tail", "less", "more", "nl", "od", "xxd", "hexdump", "strings", "base64", "base32", "grep",
    "egrep", "fgrep", "zgrep", "rg", "awk", "sed", "sort", "uniq", "cut", "jq", "yq", "diff", "cmp", "md5sum",
    "sha1sum", "sha256sum", "sha512sum", "openssl", "gpg", "tar", "zip", "dd", "source", ".", "cp", "scp", "rsync",
    "install",
})
_COPIERS = frozenset({"cp", "scp", "rsync", "install"})
_SEGMENT = re.compile(r"[^;&|\n()`]+")  # one simple command of a shell line
_PATH = re.compile(r"""(?:^|(?<=[\s=<@'"]))(?P<path>(?:/|~/|\$\{?HOME\}?/)[^\s'";&|<>()`]*)""")
# Files that hold no credential: devices, system information, public system files.
_HARMLESS = re.compile(
    r"/(?:dev/(?:null|zero|u?random|std(?:in|out|err))$|proc/(?:cpuinfo|meminfo|loadavg|uptime|version|stat|mounts|swaps)$"
    r"|etc/(?:os-release|lsb-release|debian_version|redhat-release|alpine-release|hostname|hosts|timezone|localtime"
    r"|resolv\.conf|issue|passwd|group|machine-id)$|sys/|usr/(?:share|lib|lib64|bin|sbin|local/bin)/)"
)


def _read_paths(command: str) -> Iterator[int]:
    """The offset of each file outside the run directory a shell command reads: named to a reading command, or
    redirected into one (`< /path`); a redirection's target (`> /path`) is a write."""
    for segment in _SEGMENT.finditer(command):
        text = segment.group(0)
        paths = [m for m in _PATH.finditer(text) if not text[:m.start()].rstrip().endswith(">")]
        if not paths:
            continue
        words = {w.rsplit("/", 1)[-1] for w in text[:paths[0].start()].split()}
        reader = words & _READERS
        named = paths[:-1] if reader and reader <= _COPIERS else paths if reader else []
        redirected = [m for m in paths if text[:m.start()].rstrip().endswith("<")]
        for m in sorted({*named, *redirected}, key=lambda m: m.start()):
            path = m.group("path")
            if "{{" not in path and not _HARMLESS.match(path):
                yield segment.start() + m.start("path")


def _hosts(node: yaml.Node | None) -> set[str]:
    if isinstance(node, yaml.ScalarNode):
        return {h.strip() for h in re.split(r"[,:]", str(node.value))}
    if isinstance(node, yaml.SequenceNode):
        return {str(n.value).strip() for n in node.value if isinstance(n, yaml.ScalarNode)}
    return set()


def _pairs(node: yaml.MappingNode) -> dict[str, yaml.Node]:
    return {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _local(keys: dict[str, yaml.Node], host_key: str) -> bool:
    connection = keys.get("connection")
    return bool(_hosts(keys.get(host_key)) & _LOCAL_HOSTS) or (
        isinstance(connection, yaml.ScalarNode) and connection.value == "local")


def _worker_tasks(node: yaml.Node | None, on_worker: bool) -> Iterator[dict[str, yaml.Node]]:
    """Each task of a play list or a task list that runs on the worker: every task when the worker is the inventory
    (the local provider), else the tasks of localhost plays and those delegated to localhost."""
    if not isinstance(node, yaml.SequenceNode):
        return
    for item in node.value:
        if not isinstance(item, yaml.MappingNode):
            continue
        keys = _pairs(item)
        if "hosts" in keys:
            here = on_worker or _local(keys, "hosts")
            for name in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                yield from _worker_tasks(keys.get(name), here)
            continue
        here = on_worker or _local(keys, "delegate_to") or "local_action" in keys
        if here:
            yield keys
        for name in ("block", "rescue", "always"):
            yield from _worker_tasks(keys.get(name), here)


def _calls(task: dict[str, yaml.Node]) -> Iterator[tuple[str, yaml.Node, str]]:
    """(module, its arguments, the free-form text of its arguments) of a task, `local_action` unwrapped."""
    for name, args in task.items():
        module = name.removeprefix("ansible.builtin.").removeprefix("ansible.legacy.")
        text = str(args.value) if isinstance(args, yaml.ScalarNode) else ""
        if module == "local_action" and isinstance(args, yaml.MappingNode):
            inner = _pairs(args).get("module")
            module = str(inner.value) if isinstance(inner, yaml.ScalarNode) else ""
        elif module == "local_action":
            module, _, text = text.partition(" ")
        yield module.removeprefix("ansible.builtin.").removeprefix("ansible.legacy."), args, text


def _arguments(args: yaml.Node, text: str, names: tuple[str, ...]) -> Iterator[tuple[str, yaml.Node]]:
    """(text, node) of a module's free-form arguments, or of its named ones (an `argv` list joined by spaces)."""
    if isinstance(args, yaml.ScalarNode):
        yield text, args
    elif isinstance(args, yaml.MappingNode):
        for name, value in _pairs(args).items():
            if name in names and isinstance(value, yaml.ScalarNode):
                yield str(value.value), value
            elif name in names and isinstance(value, yaml.SequenceNode):
                yield " ".join(str(n.value) for n in value.value if isinstance(n, yaml.ScalarNode)), value


def _node_line(node: yaml.Node, text: str, offset: int) -> int:
    """The file line of `offset` in a scalar's text (a block scalar's text starts on the line after its `|`)."""
    block = isinstance(node, yaml.ScalarNode) and node.style in ("|", ">")
    return node.start_mark.line + 1 + int(block) + text.count("\n", 0, offset)


_KV_PATH = re.compile(r"(?:^|\s)(?:src|path)=(?P<path>\S+)")


def _worker_reads(nodes: list[yaml.Node], on_worker: bool) -> Iterator[tuple[str, int]]:
    """Shell/command reads of files outside the run directory, and slurp/fetch of them, in tasks run on the worker."""
    for doc in nodes:
        for task in _worker_tasks(doc, on_worker):
            for module, args, free in _calls(task):
                if module in _SHELL_MODULES:
                    for text, node in _arguments(args, free, ("cmd", "_raw_params", "argv")):
                        for offset in _read_paths(text):
                            yield "ansible-shell-read", _node_line(node, text, offset)
                elif module in _FETCH_MODULES:
                    for text, node in _arguments(args, free, ("src", "path")):
                        paths = [m.group("path") for m in _KV_PATH.finditer(text)] if node is args else [text]
                        if any(_outside(p) and "{{" not in p for p in paths):
                            yield "ansible-worker-file", _node_line(node, text, 0)


def allowances(item: dict[str, Any]) -> dict[str, str]:
    """{rule: reason} of the item's spec.allow (its shape is checked by the model)."""
    return {str(a.get("rule")): str(a.get("reason")) for a in (item.get("spec") or {}).get("allow") or [] if isinstance(a, dict)}


def findings(item: dict[str, Any]) -> list[Finding]:
    """Every dangerous construct in the entity's files, allowed ones marked; unknown allowances are findings too."""
    spec = item.get("spec") or {}
    tool = str(spec.get("tool") or "")
    allowed = allowances(item)
    env_ok = allowed_env(item)
    on_worker = not spec.get("providers") or "local" in spec["providers"]  # the local provider runs every task on it
    found: dict[tuple[str, str, int], Finding] = {}
    for path, text in sorted((spec.get("files") or {}).items()):
        if not isinstance(text, str):
            continue
        hits = list(_text_findings(path, text, tool, env_ok))
        if path.endswith((".yml", ".yaml", ".json")):
            nodes = compose_documents(text)
            hits.extend(_manifest_findings(nodes))
            if tool == "ansible":
                hits.extend(_worker_reads(nodes, on_worker))
        for rule_id, line in hits:
            found.setdefault((path, rule_id, line), Finding(rule_id, path, line, RULES[rule_id].why, rule_id in allowed))
    unknown = [
        Finding(rule, "fractal.yaml", 0, f"spec.allow names no policy rule; known rules: {', '.join(RULES)}")
        for rule in allowed if rule not in RULES
    ]
    return [*unknown, *sorted(found.values(), key=lambda f: (f.file, f.line, f.rule))]


def blocking(item: dict[str, Any]) -> list[Finding]:
    return [f for f in findings(item) if not f.allowed]


def ensure_allowed(item: dict[str, Any], ref: str = "the entity") -> None:
    """Refuse an entity with a blocking finding: each one with its rule, file, line and why."""
    found = blocking(item)
    if found:
        shown = "; ".join(f"{f.file}{f' line {f.line}' if f.line else ''}: {f.message()}" for f in found[:5])
        raise PolicyViolation(
            f"{ref} uses {len(found)} dangerous construct{'s' if len(found) > 1 else ''}: {shown}",
            hint="remove them, or, after review, add spec.allow: [{rule: <rule>, reason: <why it is needed>}] to the item",
            data={"findings": [f.to_dict() for f in found]},
        )
