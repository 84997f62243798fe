"""Form templates are checked before they are stored: the schema against the draft
2020-12 metaschema, the UI description against its own schema, both against each
other; every problem is named with its path. The shipped samples pass."""

from __future__ import annotations

import json
from typing import Any

import pytest
from forms_samples import edited, every_kind

from visavis.errors import VisavisError
from visavis.forms.samples import sample_templates
from visavis.forms.templates import check_template, parse_template, visible


def refusal(data: object) -> str:
    with pytest.raises(VisavisError) as caught:
        check_template(data)
    assert caught.value.code == "template_invalid"
    return caught.value.message


def test_the_samples_and_the_test_template_are_valid() -> None:
    ids = [t.id for t in sample_templates()]
    assert ids == ["account-opening", "credit-enquiry", "change-of-address"]
    t = check_template(every_kind())
    assert t.fields[:3] == ("name", "note", "count") and len(t.fields) == 16
    # the order shown is the groups' order, not the schema's
    assert t.fields.index("why") < t.fields.index("agree")


def _set(path: str, value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value

    return edited(change)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("not an object", "template: 'not an object' is not of type 'object'"),
        (_set("id", "Bad Id"), "id: 'Bad Id' does not match"),
        (_set("title.en", KeyError), "title: 'en' is a required property"),
        (_set("extra", 1), "Additional properties are not allowed ('extra'"),
        # the metaschema
        (_set("schema.properties.count.minimum", "one"), "schema.properties.count.minimum: 'one' is not of type 'number'"),
        (_set("schema.required", "name"), "schema.required: 'name' is not of type 'array'"),
        (_set("schema.$schema", "http://json-schema.org/draft-07/schema#"), "only draft 2020-12"),
        # the UI description's own schema
        (_set("ui.fields.name.kind", "slider"), "ui.fields.name.kind: 'slider' is not one of"),
        (_set("ui.fields.name.label", {"de": "Name"}), "ui.fields.name.label: 'en' is a required property"),
        (_set("ui.groups", "a"), "ui.groups: 'a' is not of type 'array'"),
        # what a form can be
        (_set("schema.additionalProperties", True), "schema.additionalProperties: must be false"),
        (_set("schema.properties.name.type", "object"), "schema.properties.name.type: one of string"),
        (_set("schema.properties.Name", {"type": "string"}), "a field name is a-z"),
        (_set("schema.oneOf", [{"required": ["name"]}]), "schema.oneOf: not supported"),
        (_set("schema.properties.code.pattern", "(["), "schema.properties.code.pattern: not a regular expression"),
        (_set("schema.properties.plz.format", "zip"), "schema.properties.plz.format: 'zip' is not one of"),
        (_set("schema.required", ["name", "ghost"]), "schema.required: no field 'ghost'"),
        # schema and UI together
        (_set("ui.groups.0.fields", ["name"]), "ui.groups: field 'note' is in no group"),
        (_set("ui.groups.1.fields", ["agree", "name"]), "'name' is in group 'a' already"),
        (_set("ui.fields.ghost", {"kind": "text", "label": {"de": "x", "en": "x"}}), "ui.fields.ghost: no such field in the schema"),
        (_set("ui.fields.agree.kind", "text"), "ui.fields.agree.kind: 'text' edits string, but the schema says 'boolean'"),
        (_set("schema.properties.iban.format", "bic"), 'kind \'iban\' needs "format": "iban"'),
        (_set("schema.properties.colour.enum", ["ja", "vielleicht"]), "ui.fields.colour.options: no label for 'vielleicht'"),
        (_set("schema.properties.answer", {"type": "string"}), "a radio needs an enum"),
        # conditions
        (_set("schema.allOf", [{"if": {"minProperties": 2}, "then": {"required": ["why"]}}]), "schema.allOf.0: expected"),
        (_set("schema.allOf.0.then.required", ["ghost"]), "schema.allOf.0.then: no field 'ghost'"),
        (_set("schema.dependentRequired", {"phone": ["ghost"]}), "schema.dependentRequired.phone: no field 'ghost'"),
    ],
)  # fmt: skip
def test_a_wrong_template_is_refused_naming_the_problem(data: object, expected: str) -> None:
    assert expected in refusal(data)


def test_every_problem_is_named_in_one_refusal() -> None:
    def three(data: dict[str, Any]) -> None:
        data["schema"]["properties"]["code"]["pattern"] = "(["
        data["ui"]["fields"]["agree"]["kind"] = "text"
        data["ui"]["groups"][0]["fields"].append("ghost")

    text = refusal(edited(three))
    for part in ("code.pattern", "ui.fields.agree.kind", "'ghost' is no field"):
        assert part in text


def test_not_json_and_too_large() -> None:
    with pytest.raises(VisavisError, match="not JSON"):
        parse_template(b"{nope")
    with pytest.raises(VisavisError, match="at most"):
        parse_template(json.dumps({"id": "x" * 300_000}))


def test_conditional_fields_are_shown_by_the_schema_rule() -> None:
    t = check_template(every_kind())
    hidden = set(t.fields) - set(visible(t, {}))
    assert hidden == {"why", "when"}
    assert "why" in visible(t, {"answer": "nein"}) and "why" not in visible(t, {"answer": "ja"})
    assert "when" in visible(t, {"phone": "030 1234567"})
    assert "when" not in visible(t, {"phone": ""})  # an emptied field has no value
