"""The item model: refs, versions, validation, and the published JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.items import entity
from support.paths import ROOT

from f.fractal.model.errors import InvalidInput
from f.fractal.model.item import Ref, bump, normalize_item, parse_ref, schema_for, summary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("entity:k3s-cluster@1.2.0", Ref("Entity", "k3s-cluster", "1.2.0")),
        ("pipeline:gpu-training", Ref("Pipeline", "gpu-training", "latest")),
        ("meta-pipeline:platform@latest", Ref("MetaPipeline", "platform", "latest")),
    ],
)
def test_parse_ref(text: str, expected: Ref) -> None:
    assert parse_ref(text) == expected
    assert str(parse_ref(text)) == str(expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "entity",
        "entity:",
        "thing:x@1.0.0",
        "entity:Bad_Name",
        "entity:x@1.2",
        "entity:x@v1.0.0",
        "entity:-x",
        "entity:x@1.0.0@2",
        42,
        None,
        "entity:" + "a" * 300,
    ],
)
def test_bad_refs_are_refused(text: object) -> None:
    with pytest.raises(InvalidInput):
        parse_ref(text)


def test_bump() -> None:
    assert bump("1.2.3") == "1.2.4"
    assert bump("1.2.3", "minor") == "1.3.0"
    assert bump("1.2.3", "major") == "2.0.0"
    with pytest.raises(InvalidInput):
        bump("1.2.3", "huge")


def test_normalize_orders_keys_and_fills_metadata() -> None:
    raw = entity("web")
    raw = {"spec": raw["spec"], "metadata": raw["metadata"], "kind": "Entity", "apiVersion": "fractal/v1"}
    item = normalize_item(raw)
    assert list(item) == ["apiVersion", "kind", "metadata", "spec"]
    assert item["metadata"] == {"name": "web", "version": "", "description": "web entity", "tags": [], "owner": ""}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda i: i.update(kind="Widget"), "unknown kind"),
        (lambda i: i.update(apiVersion="fractal/v2"), "apiVersion"),
        (lambda i: i["metadata"].update(name="Not Kebab"), "name"),
        (lambda i: i["metadata"].update(version="1.0"), "version"),
        (lambda i: i["spec"].update(tool="chef"), "tool"),
        (lambda i: i["spec"].update(files={"../escape.tf": "x"}), "files"),
        (lambda i: i["spec"].update(files={"fractal.yaml": "x"}), "reserved"),
        (lambda i: i.update(extra=1), "must not contain"),
    ],
)
def test_invalid_items_are_refused_with_the_field_named(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    raw = entity("web")
    mutate(raw)
    with pytest.raises(InvalidInput, match=message):
        normalize_item(raw)


def test_normalize_is_idempotent() -> None:
    once = normalize_item(entity("web"))
    assert normalize_item(once) == once


def test_composite_steps_are_checked() -> None:
    pipeline = {
        "apiVersion": "fractal/v1",
        "kind": "Pipeline",
        "metadata": {"name": "p"},
        "spec": {"steps": [{"id": "a", "ref": "entity:x@1.0.0"}, {"id": "a", "ref": "entity:y@1.0.0"}]},
    }
    with pytest.raises(InvalidInput, match="duplicate step ids"):
        normalize_item(pipeline)
    pipeline["spec"]["steps"] = [{"id": "a", "ref": "entity:x@1.0.0", "needs": ["zz"]}]
    with pytest.raises(InvalidInput, match="unknown step"):
        normalize_item(pipeline)
    pipeline["spec"]["steps"] = [{"id": "a", "ref": "pipeline:x@1.0.0"}]
    with pytest.raises(InvalidInput):
        normalize_item(pipeline)  # a Pipeline's members are entities


def test_summary_of_a_composite_keeps_its_graph() -> None:
    meta = normalize_item(
        {
            "apiVersion": "fractal/v1",
            "kind": "MetaPipeline",
            "metadata": {"name": "m", "version": "1.0.0"},
            "spec": {
                "steps": [{"id": "a", "ref": "pipeline:p@1.0.0"}, {"id": "b", "ref": "meta-pipeline:q@2.0.0", "needs": ["a"]}]
            },
        }
    )
    row = summary(meta)
    assert row["ref"] == "meta-pipeline:m@1.0.0"
    assert row["steps"][1] == {"id": "b", "ref": "meta-pipeline:q@2.0.0", "needs": ["a"]}


@pytest.mark.parametrize("slug", ["entity", "pipeline", "meta-pipeline"])
def test_published_schemas_match_the_model(slug: str) -> None:
    """resources/schemas/ is what outside tools read: it must equal what the code validates with."""
    from fractal_local.schemas import render

    from f.fractal.model.item import SLUG_KINDS

    published = Path(ROOT / "resources" / "schemas" / f"{slug}.schema.json").read_text()
    assert published == render(SLUG_KINDS[slug]), "run: scripts/fractal schemas"
    assert json.loads(published)["properties"]["kind"] == {"const": SLUG_KINDS[slug]}


def test_samples_are_valid_items() -> None:
    import f.fractal.platform.yamlio as yamlio

    for sample in (ROOT / "resources" / "samples").glob("*.yaml"):
        normalize_item(yamlio.load_untrusted(sample.read_text()))


def test_schema_for_every_kind_is_a_json_schema() -> None:
    for kind in ("Entity", "Pipeline", "MetaPipeline"):
        schema = schema_for(kind)
        assert schema["required"] == ["apiVersion", "kind", "metadata", "spec"]
