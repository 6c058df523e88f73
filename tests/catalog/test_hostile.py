"""100+ hostile inputs: each is refused with a clear error and nothing is written to any repo."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.git import git_out
from support.items import entity

import f.fractal.catalog.items as catalog
import f.fractal.platform.yamlio as yamlio
from f.fractal.model.errors import FractalError

Mutation = Callable[[dict[str, Any]], Any]


def _set(path: str, value: Any) -> Mutation:
    def mutate(item: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = item
        for key in parents:
            node = node[key]
        node[last] = value

    return mutate


def _file(name: str, text: str = "x\n") -> Mutation:
    return lambda item: item["spec"]["files"].update({name: text})


class Replacement:
    def __init__(self, value: Any) -> None:
        self.value = value


def _replace(value: Any) -> Mutation:
    return lambda item: Replacement(value)


BAD_NAMES = [
    "../../etc",
    "a/b",
    "UPPER",
    "with space",
    "-lead",
    "trail-",
    "",
    "a" * 64,
    "dot.name",
    "under_score",
    "tab\tname",
    "nul\x00byte",
    "émoji-☃",
    "$(touch x)",
    "`id`",
    ".git",
    "name\nnewline",
    42,
    None,
    ["list"],
]
BAD_PATHS = [
    "../escape.tf",
    "/etc/passwd",
    ".git/config",
    "a/../../b",
    "a\\b.tf",
    "",
    " lead.tf",
    "a//b.tf",
    "x/" * 9 + "deep.tf",
    "fractal.yaml",
    "README.md",
    "-rf",
    ".gitmodules",
    "dir/",
    "a/./b.tf",
    "~/.ssh/id",
]
SECRETS = [
    ("aws key", _file("main.tf", 'provider "aws" {\n  access_key = "AKIAIOSFODNN7EXAMPLE"\n}\n')),
    ("private key", _file("id_rsa", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n")),
    (
        "openssh key",
        _file("key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"),
    ),
    ("github token", _file("ci.yml", "token: ghp_16C7e42F292c6912E7710c838347Ae178B4a00\n")),
    ("openai key", _set("metadata.description", "use sk-proj-abcdefghijklmnopqrstuvwx1234 for the model")),
    ("slack token", _file("notify.yml", "webhook: xoxb-123456789012-abcdefghijkl\n")),
    ("exoscale key", _file("vars.tf", 'default = "EXO0123456789abcdef01234567"\n')),
    ("jwt", _set("provenance", {"prompt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N"})),
    ("url password", _set("metadata.description", "clone https://deploy:Sup3rS3cretPassw0rd@git.example.com/x.git")),
    ("password assignment", _file("site.yml", "- hosts: all\n  vars:\n    db_password: 'Xk9#mQ2$vL7pR4wZ'\n")),
    ("api_key assignment", _file("main.tf", 'locals {\n  api_key = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"\n}\n')),
    ("secret in provenance", _set("provenance", {"prompt": "my token: 7c4a8d09ca3762af61e59520943dc26494f8941b"})),
    ("google key", _file("g.tf", 'key = "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI"\n')),
    ("secret in a key name", _set("spec.outputs", {"x": {"description": "token=AKIAIOSFODNN7EXAMPLE"}})),
    ("anthropic key", _file("llm.yml", "key: sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123\n")),
]
OTHERS: list[tuple[str, Mutation]] = [
    ("not a mapping: list", _replace([1, 2])),
    ("not a mapping: string", _replace("apiVersion: fractal/v1")),
    ("not a mapping: None", _replace(None)),
    ("unknown kind", _set("kind", "Playbook")),
    ("missing kind", lambda i: i.pop("kind")),
    ("api version", _set("apiVersion", "fractal/v0")),
    ("missing spec", lambda i: i.pop("spec")),
    ("missing metadata", lambda i: i.pop("metadata")),
    ("unknown top-level key", _set("status", {"x": 1})),
    ("unknown metadata key", _set("metadata.labels", {"a": "b"})),
    ("bad tool", _set("spec.tool", "puppet")),
    ("tool missing", lambda i: i["spec"].pop("tool")),
    ("bad provider name", _set("spec.providers", ["Bad Provider"])),
    ("providers not a list", _set("spec.providers", "local")),
    ("version 1.0", _set("metadata.version", "1.0")),
    ("version v1.0.0", _set("metadata.version", "v1.0.0")),
    ("version leading zero", _set("metadata.version", "01.0.0")),
    ("version huge", _set("metadata.version", "99999999.0.0")),
    ("version int", _set("metadata.version", 1)),
    ("bad tag", _set("metadata.tags", ["Bad Tag"])),
    ("too many tags", _set("metadata.tags", [f"t{i}" for i in range(31)])),
    ("description too long", _set("metadata.description", "x" * 4001)),
    ("file not text", _set("spec.files", {"main.tf": 42})),
    ("files not a mapping", _set("spec.files", ["main.tf"])),
    ("file too big", _file("big.tf", "x" * (512 * 1024 + 1))),
    ("files too big in total", _set("spec.files", {f"f{i}.tf": "x" * 500_000 for i in range(5)})),
    ("too many files", _set("spec.files", {f"f{i}.tf": "x" for i in range(201)})),
    ("inputs not an object schema", _set("spec.inputs", {"type": "array"})),
    ("output name", _set("spec.outputs", {"bad name": {}})),
    ("input name with code", _set("spec.inputs", {"type": "object", "properties": {"x||(()=>{while(1){}})()": {}}})),
    ("input name with a regex", _set("spec.inputs", {"type": "object", "properties": {"x||/(a+)+$/[`test`]": {}}})),
    ("credentials not a list", _set("spec.credentials", "exoscale")),
]
COMPOSITES: list[tuple[str, dict[str, Any]]] = [
    ("pipeline of pipelines", {"steps": [{"id": "a", "ref": "pipeline:x@1.0.0"}]}),
    ("meta of entities", {"steps": [{"id": "a", "ref": "entity:x@1.0.0"}], "_kind": "MetaPipeline"}),
    ("no steps", {"steps": []}),
    ("unpinned ref", {"steps": [{"id": "a", "ref": "entity:x"}]}),
    ("bad ref version", {"steps": [{"id": "a", "ref": "entity:x@1.0"}]}),
    ("bad step id", {"steps": [{"id": "Bad-Id", "ref": "entity:x@1.0.0"}]}),
    ("duplicate ids", {"steps": [{"id": "a", "ref": "entity:x@1.0.0"}, {"id": "a", "ref": "entity:y@1.0.0"}]}),
    ("unknown need", {"steps": [{"id": "a", "ref": "entity:x@1.0.0", "needs": ["b"]}]}),
    ("too many steps", {"steps": [{"id": f"s{i}", "ref": "entity:x@1.0.0"} for i in range(101)]}),
    ("step extra key", {"steps": [{"id": "a", "ref": "entity:x@1.0.0", "run": "rm -rf /"}]}),
]
BAD_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("targets not a list", {"targets": 42}),
    ("too many targets", {"targets": [f"f/fractal/t{i}" for i in range(11)]}),
    ("duplicate targets", {"targets": ["f/fractal/a", "f/fractal/a"]}),
    ("traversal target", {"targets": ["f/../../etc/passwd"]}),
    ("absolute target", {"targets": ["/etc/passwd"]}),
    ("missing resource", {"targets": ["f/fractal/does_not_exist"]}),
    ("bad expected version", {"expected_version": "latest"}),
    ("bad bump", {"bump_part": "huge"}),
    ("bad policy", {"conflict": "merge"}),
]
HOSTILE_YAML = [
    ("alias bomb", "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"),
    ("python object tag", "!!python/object/apply:os.system ['touch /tmp/pwned']\n"),
    ("invalid syntax", "apiVersion: fractal/v1\nkind: [Entity\n"),
    ("tab indentation", "apiVersion: fractal/v1\nmetadata:\n\tname: x\n"),
    ("huge document", "description: " + "x" * (3 * 1024 * 1024) + "\n"),
    ("binary junk", "\x00\x01\x02 not yaml \x7f"),
]


def _cases() -> list[Any]:
    cases = [pytest.param(_set("metadata.name", n), id=f"name:{n!r:.20}") for n in BAD_NAMES]
    cases += [pytest.param(_set("spec.files", {p: "x\n"}), id=f"path:{p!r:.24}") for p in BAD_PATHS]
    cases += [pytest.param(m, id=f"secret:{label}") for label, m in SECRETS]
    cases += [pytest.param(m, id=label) for label, m in OTHERS]
    for label, spec in COMPOSITES:
        kind = spec.pop("_kind", "Pipeline")
        cases.append(
            pytest.param(
                _replace({"apiVersion": "fractal/v1", "kind": kind, "metadata": {"name": "p"}, "spec": spec}),
                id=f"composite:{label}",
            )
        )
    return cases


@pytest.fixture
def target(make_target) -> str:
    return make_target("a")


def _assert_nothing_written(tmp_path: Path) -> None:
    remote = tmp_path / "remotes" / "a.git"
    assert git_out(remote, "for-each-ref").strip() == "", "no branch, no tag in the remote"
    outbox = tmp_path / "home" / "cache" / "outbox"
    assert not outbox.exists() or not any(outbox.rglob("*.json")), "nothing queued"


@pytest.mark.parametrize("mutate", _cases())
def test_hostile_item_is_refused(mutate: Mutation, target: str, tmp_path: Path) -> None:
    item = entity("web")
    replaced = mutate(item)
    payload = copy.deepcopy(replaced.value if isinstance(replaced, Replacement) else item)
    with pytest.raises(FractalError) as err:
        catalog.save(payload, [target])
    assert len(err.value.message) > 10
    _assert_nothing_written(tmp_path)


@pytest.mark.parametrize(("label", "kwargs"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_hostile_call_is_refused(label: str, kwargs: dict[str, Any], target: str, tmp_path: Path) -> None:
    args = {"targets": [target], **kwargs}
    with pytest.raises(FractalError) as err:
        catalog.save(entity("web"), **args)
    assert err.value.message
    _assert_nothing_written(tmp_path)


@pytest.mark.parametrize(("label", "text"), HOSTILE_YAML, ids=[c[0] for c in HOSTILE_YAML])
def test_hostile_yaml_is_refused_before_parsing_into_an_item(label: str, text: str, target: str, tmp_path: Path) -> None:
    from support.cli import run_cli

    file = tmp_path / "item.yaml"
    file.write_text(text)
    proc = run_cli("save", str(file), "-t", target, env={"FRACTAL_HOME": str(tmp_path / "home")})
    assert proc.returncode == 1
    assert '"error"' in proc.stderr and '"message"' in proc.stderr
    assert not Path("/tmp/pwned").exists()
    _assert_nothing_written(tmp_path)


def test_the_alias_bomb_is_refused_by_the_loader_itself() -> None:
    with pytest.raises(FractalError, match="aliases"):
        yamlio.load_untrusted(HOSTILE_YAML[0][1])


def test_secret_errors_name_the_place_not_the_value(target: str) -> None:
    item = entity("web")
    item["spec"]["files"]["main.tf"] = 'access_key = "AKIAIOSFODNN7EXAMPLE"\n'
    with pytest.raises(FractalError) as err:
        catalog.save(item, [target])
    text = str(err.value.to_dict())
    assert "item.spec.files.main.tf" in text and "AKIAIOSFODNN7EXAMPLE" not in text


@pytest.mark.parametrize(
    "text",
    [
        "api_key = var.api_key",
        "token: \"{{ lookup('env', 'EXOSCALE_API_KEY') }}\"",
        "password: $var:f/fractal/db_password",
        'secret = "${var.secret}"',
        "api_key: <API_KEY>",
        "token: changeme",
        "https://$var:f/x/token@git.example.com",
    ],
)
def test_references_to_secrets_are_accepted(text: str, target: str) -> None:
    item = entity("web", providers=["exoscale"])  # its plays may read the provider's credential variables
    item["spec"]["files"]["vars.yml"] = text + "\n"
    assert catalog.save(item, [target])["ok"]


def test_the_table_holds_over_100_hostile_inputs() -> None:
    assert len(_cases()) + len(BAD_CALLS) + len(HOSTILE_YAML) >= 100


def test_a_redacted_url_is_no_longer_a_secret() -> None:
    """mask() masks a URL's password as ***; the scanner must then see nothing left to refuse."""
    from f.fractal.platform.secrets import mask, scan

    text = "clone https://bob:hunter2pass@github.com/x/y"
    assert scan(text)
    assert scan(mask(text)) == []


@pytest.mark.parametrize("name", [["local"], {"a": 1}, None, 3])
def test_a_provider_that_is_not_a_name_is_refused_clearly(name: object) -> None:
    import f.fractal.model.providers as providers
    from f.fractal.model.errors import InvalidInput

    with pytest.raises(InvalidInput, match="unknown provider"):
        providers.get(name)  # type: ignore[arg-type]
