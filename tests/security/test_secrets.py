"""The one secret detector: a table of 80 kinds it refuses (the 31 of issue 10 among them, saved through the real
catalog into a real bare repository: nothing is written) and 44 look-alikes it lets through."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from security.secret_cases import ISSUE_KINDS, LOOKALIKES, MORE_KINDS, RULE_OF
from support.items import entity

import f.fractal.platform.secrets as secrets
from f.fractal.catalog.items import save
from f.fractal.model.errors import SecretInItem

KINDS = ISSUE_KINDS + MORE_KINDS
FIELDS = ("spec", "metadata", "provenance")


def _item(where: str, text: str) -> dict[str, Any]:
    """An entity holding `text` in a file (`where` is a path) or in a field (`where` is spec.…/metadata.…/provenance.…)."""
    item = entity("leaky")
    head, _, rest = where.partition(".")
    if head in FIELDS and rest:
        node = item.setdefault(head, {})
        *parents, last = rest.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = json.loads(text) if text.startswith("{") else text
    else:
        item["spec"]["files"][where] = text
    return item


def test_the_table_is_big_enough() -> None:
    assert len(ISSUE_KINDS) == 31 and len(KINDS) >= 60 and len({c[0] for c in KINDS}) == len(KINDS)
    assert set(RULE_OF) == {c[0] for c in KINDS}


@pytest.mark.parametrize(("kind", "where", "text"), KINDS, ids=[c[0] for c in KINDS])
def test_each_kind_is_found_by_its_rule_without_showing_the_value(kind: str, where: str, text: str) -> None:
    found = secrets.scan(_item(where, text))
    assert found, f"{kind} not found"
    assert found[0].rule == RULE_OF[kind]
    assert found[0].path.startswith(f"item.{where}" if where.split(".")[0] in FIELDS else f"item.spec.files.{where}")
    error = secrets.refusal(found)
    shown = json.dumps(error.to_dict())
    assert "Windmill" in shown and RULE_OF[kind] in error.message
    long_words = [w for w in re.split(r"[\s\"'=:,{}]+", text) if len(w) >= 16 and w.isalnum()]
    assert not [w for w in long_words if w in shown]


@pytest.mark.parametrize(("case", "where", "text"), LOOKALIKES, ids=[c[0] for c in LOOKALIKES])
def test_lookalikes_pass(case: str, where: str, text: str) -> None:
    assert secrets.scan(_item(where, text)) == []


@pytest.fixture
def bare(tmp_path: Path, make_target) -> tuple[str, Path]:  # type: ignore[no-untyped-def]
    target = make_target("leaks")
    return target, tmp_path / "remotes" / "leaks.git"


@pytest.mark.parametrize(("kind", "where", "text"), ISSUE_KINDS, ids=[c[0] for c in ISSUE_KINDS])
def test_the_31_kinds_of_the_issue_are_refused_at_save_with_nothing_written(
    kind: str, where: str, text: str, bare: tuple[str, Path]
) -> None:
    target, repo = bare
    with pytest.raises(SecretInItem) as err:
        save(_item(where, text), [target])
    assert err.value.data["findings"][0]["rule"] == RULE_OF[kind]
    refs = subprocess.run(["git", "-C", str(repo), "for-each-ref"], capture_output=True, text=True, check=True).stdout
    assert refs == ""


def test_the_one_name_rule() -> None:
    secret = ["password", "db_password", "DB_PASSWORD", "apiToken", "api_key", "x-api-key", "EXOSCALE_API_SECRET",
              "client-key-data", "ssh_private_key", "ansible_become_pass", "kubeconfig", "github_pat", "secret_value"]
    plain = ["token_ttl", "max_tokens", "secret_name", "secretKeyRef", "update_password", "password_length",
             "kubeconfig_path", "access_key_id", "ssh_key", "monkey", "passwordless", "key"]
    assert [n for n in secret if not secrets.is_secret_name(n)] == []
    assert [n for n in plain if secrets.is_secret_name(n)] == []


def test_masking_every_form_of_a_known_value() -> None:
    value = "k3y-9f8e7d6c5b4a39281706"
    environ = f"HOME=/root\0FRACTAL_API_TOKEN={value}\0LANG=C\0".encode()
    texts = [environ.decode(), json.dumps(environ.decode()), environ.hex()]
    for offset in range(3):  # inside a longer base64 text, at each alignment, wrapped or not
        encoded = base64.b64encode(b"x" * offset + environ).decode()
        texts += [encoded, "\n".join(encoded[i:i + 20] for i in range(0, len(encoded), 20))]
    for text in texts:
        masked = secrets.mask(text, [value])
        assert "***" in masked and not [form for form in secrets.forms(value) if form in masked.replace("\n", "")]


def test_masking_detected_secrets_and_lines_of_a_multiline_value() -> None:
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAA\n-----END OPENSSH PRIVATE KEY-----"
    log = 'ok: [localhost] => {"changed": false, "password": "hunter22"}\nline b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAA\n'
    masked = secrets.mask(log + "github " + "ghp_" + "a1B2" * 9, [key])
    assert "hunter22" not in masked and "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAA" not in masked and "ghp_" not in masked
    assert masked.startswith('ok: [localhost] => {"changed": false, "password": "***"}')


def test_known_values_are_what_the_process_can_see(fractal_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import f.fractal.platform.workspace as workspace

    monkeypatch.setenv("SOME_SERVICE_TOKEN", "env-token-value-123")
    monkeypatch.setenv("F_FRACTAL_DEPLOY", "variable-from-env-456")
    workspace.write_resource("f/fractal/runpod", "runpod", {"api_key": "resource-key-789", "region": "eu"})
    workspace.write_resource("f/fractal/catalog", "git_repository", {"url": "https://bot:url-pass-0001@git.example/x",
                                                                       "branch": "main", "folder": ""})
    (fractal_home / "f/fractal/deploy_key.variable.yaml").write_text("value: variable-file-value-321\n")
    known = secrets.known_values()
    assert {"env-token-value-123", "variable-from-env-456", "resource-key-789", "url-pass-0001",
            "variable-file-value-321"} <= known
    assert "main" not in known and "eu" not in known


def test_a_masked_text_holds_nothing_the_detector_refuses() -> None:
    """The LLM guard masks a prompt, checks it again, then sends it: mask() must leave nothing to find."""
    structural = {"kubernetes-secret-data", "secret-input-default"}
    for kind, _where, text in KINDS:
        if RULE_OF[kind] not in structural:
            assert [f.rule for f in secrets.scan_text(secrets.mask(text), "text")] == [], kind


def test_the_prefilter_finds_exactly_what_every_rule_over_the_whole_text_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rules run only where their literal anchors are (the lines a match can span), the keyword rule only on lines
    where a secret-like name is assigned: on the table's texts, and on one long log holding them all, the findings
    are those of every rule run over the whole text."""
    texts = [text for _kind, _where, text in KINDS + LOOKALIKES]
    filler = "".join(f'ok: [localhost] => {{"path": "/usr/lib/x{i}.py", "checksum": "sha256:{i:064x}"}}\n' for i in range(40))
    texts.append(filler.join(texts))  # longer than _SMALL: searched in windows
    texts.append(filler + "AKCp" + "x1Y2" * 18 + "\n" + filler)  # a match that starts on the line before its anchor

    def spans(text: str) -> list[tuple[str, int, int]]:
        return sorted((hit.rule.id, hit.start, hit.end) for hit in secrets._hits(text))

    fast = [spans(text) for text in texts]
    assert "ds-artifactory-credentials" in {rule for rule, _start, _end in fast[-1]}
    assert sum(bool(secrets.requirements(rule.pattern)) for rule in secrets._rules()) >= 0.9 * len(secrets._rules())
    every_rule = tuple(range(len(secrets._rules())))
    monkeypatch.setattr(secrets, "_plan", lambda: secrets._Plan(tuple((r, (), 0) for r in secrets._rules()), {}, every_rule,
                                                                 secrets._Literals(())))
    monkeypatch.setattr(secrets, "_assignment_lines", lambda text: [(0, len(text))])
    assert fast == [spans(text) for text in texts]


VALUE = "pg-conn-Qx7Lm2Vt9Rk4wZ"
B64 = base64.b64encode(VALUE.encode()).decode()
MANIFEST = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "app", "namespace": "default"}, "type": "Opaque",
            "data": {"api-user": base64.b64encode(b"deploy-bot").decode(), "db-connection": B64}}
KUBECTL_YAML = yaml.safe_dump(MANIFEST)  # kubectl -o yaml: keys sorted, data before kind
KUBECTL_JSON = json.dumps(MANIFEST, indent=4)


def test_kubernetes_secret_payloads_are_masked_in_every_printed_form() -> None:
    """As kubectl prints a Secret (-o yaml, -o json) and as Ansible shows it (stdout in a JSON string, stdout_lines
    one JSON string per line), its data values and their decoded text are masked; a ConfigMap's data is not."""
    string_data = KUBECTL_YAML.replace("data:", "stringData:").replace(B64, VALUE)
    shown = {"stdout": KUBECTL_YAML, "msg": KUBECTL_JSON}
    texts = [KUBECTL_YAML, KUBECTL_JSON, string_data, json.dumps(shown),
             json.dumps({"lines": KUBECTL_YAML.splitlines()}, indent=4), f"ok: [localhost] => {json.dumps(shown, indent=4)}\n"]
    for text in texts:
        masked = secrets.mask(text)
        assert VALUE not in masked and B64 not in masked and "***" in masked, text
    value = {"parsed": MANIFEST, "lines": KUBECTL_YAML.splitlines(), "decoded": VALUE}
    assert VALUE not in json.dumps(secrets.mask_value(value)) and B64 not in json.dumps(secrets.mask_value(value))
    config_map = KUBECTL_YAML.replace("kind: Secret", "kind: ConfigMap")
    assert secrets.mask(config_map) == config_map
