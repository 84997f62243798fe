"""A form template, checked: JSON Schema (draft 2020-12) for what the values must be,
and a UI description for how the fields are shown.

A template file is `{"id", "title": {"de", "en"}, "schema", "ui"}`. `check_template`
refuses a file with every problem it finds named (`template_invalid`): the schema is
checked against the draft 2020-12 metaschema, the UI description against its own
schema (the JSON Schema of `protocol.forms.FormUi`), and then both against each other
and against what a form can show:

- a flat object: each property is one field of type string, number, integer or boolean,
  `additionalProperties: false`;
- every field in exactly one group, and in `ui.fields` with a kind that fits its type;
  kinds that are a format (e-mail, phone, IBAN, BIC, postcode, date) say so in the
  schema (`"format": "iban"`), choices (`select`, `radio`) have an `enum` and a label
  for each value;
- conditional fields: `allOf` of `{"if": {"properties": {F: {"const": v}} or {F:
  {"enum": [...]}}, "required": [F]}, "then": {...}}` and `dependentRequired`. A field
  named in a `then` (its `required` or `properties`) is shown only while its `if`
  holds; a field named in `dependentRequired[F]` only while F has a value. The browser
  evaluates the same rule (frontend/src/forms/rules.ts).

"Has a value" means: not null, not "", not false (an unticked box is no answer).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, cast

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from visavis.errors import VisavisError
from visavis.forms.formats import FORMATS
from visavis.protocol import frames as f
from visavis.protocol.forms import FieldValue, FormUi
from visavis.protocol.wire import loads

MAX_TEMPLATE_BYTES = 256 * 1024
MAX_FIELDS = 100
MAX_PROBLEMS = 12  # named in one refusal; more would bury the first
DRAFT = "https://json-schema.org/draft/2020-12/schema"
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TEMPLATE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")

# the JSON type each kind of input edits
KIND_TYPES: dict[str, tuple[str, ...]] = {
    "text": ("string",),
    "textarea": ("string",),
    "number": ("number", "integer"),
    "money": ("number",),
    "date": ("string",),
    "select": ("string",),
    "radio": ("string",),
    "checkbox": ("boolean",),
    "email": ("string",),
    "phone": ("string",),
    "iban": ("string",),
    "bic": ("string",),
    "postcode_de": ("string",),
}
# kinds whose values the schema must check with a format
KIND_FORMATS: dict[str, str] = {
    "email": "email",
    "phone": "phone",
    "iban": "iban",
    "bic": "bic",
    "postcode_de": "postcode-de",
    "date": "date",
}
CHOICE_KINDS = frozenset({"select", "radio"})
JSON_TYPES = ("string", "number", "integer", "boolean")
TOP_KEYWORDS = frozenset(
    {"$schema", "$id", "title", "description", "type", "properties", "required",
     "additionalProperties", "allOf", "dependentRequired"}
)  # fmt: skip

_FILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "title", "schema", "ui"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": TEMPLATE_ID.pattern},
        "title": {
            "type": "object",
            "required": ["de", "en"],
            "additionalProperties": False,
            "properties": {
                "de": {"type": "string", "minLength": 1, "maxLength": 200},
                "en": {"type": "string", "minLength": 1, "maxLength": 200},
            },
        },
        "schema": {"type": "object"},
        "ui": {"type": "object"},
    },
}
_FILE_CHECK = Draft202012Validator(_FILE_SCHEMA)
_META_CHECK = Draft202012Validator(Draft202012Validator.META_SCHEMA)
_UI_CHECK = Draft202012Validator(FormUi.model_json_schema())


@dataclass(frozen=True)
class Condition:
    """A conditional field is shown while `source` has one of `values` (None: any value)."""

    source: str
    values: tuple[FieldValue, ...] | None


@dataclass(frozen=True)
class Template:
    """A checked template (one version of it, once stored)."""

    id: str
    title: f.LocalText
    schema: dict[str, Any]
    ui: f.FormUi
    fields: tuple[str, ...]  # in the order shown
    conditions: dict[str, tuple[Condition, ...]]  # conditional field -> when it is shown

    def kind(self, field: str) -> str:
        return self.ui["fields"][field]["kind"]

    def types(self, field: str) -> tuple[str, ...]:
        return (cast(str, self.schema["properties"][field]["type"]),)

    def file(self) -> dict[str, Any]:
        """The template as its file says it (what is stored, canonical)."""
        return {"id": self.id, "title": self.title, "schema": self.schema, "ui": self.ui}


def has_value(value: object) -> bool:
    return value is not None and value != "" and value is not False


def visible(template: Template, values: dict[str, FieldValue]) -> list[str]:
    """The fields shown with these values, in order."""
    shown = []
    for name in template.fields:
        conds = template.conditions.get(name)
        if conds is None or any(_holds(c, values.get(c.source)) for c in conds):
            shown.append(name)
    return shown


def _holds(cond: Condition, value: FieldValue) -> bool:
    if cond.values is None:
        return has_value(value)
    return has_value(value) and value in cond.values


def canonical(data: object) -> str:
    """One text per content (sorted keys, no spaces): digests and stored bodies."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def parse_template(text: str | bytes) -> Template:
    """A template file's text, checked (`template_invalid` with what is wrong)."""
    if len(text) > MAX_TEMPLATE_BYTES:
        raise VisavisError(
            "template_invalid", f"the template has {len(text)} bytes; at most {MAX_TEMPLATE_BYTES}"
        )
    try:
        data = loads(text, "the template")  # not JSON, or nested too deep
    except VisavisError as exc:
        raise VisavisError("template_invalid", exc.message) from None
    return check_template(data)


def check_template(data: object) -> Template:
    """The template, or `template_invalid` naming every problem (up to 12)."""
    problems = _problems(_FILE_CHECK, data, "")
    if problems:
        _refuse(problems)
    assert isinstance(data, dict)
    schema, ui = data["schema"], data["ui"]
    problems += _problems(_META_CHECK, schema, "schema")
    if schema.get("$schema", DRAFT) != DRAFT:
        problems.append(f"schema.$schema: only draft 2020-12 ({DRAFT}) is supported")
    problems += _problems(_UI_CHECK, ui, "ui")
    if problems:
        _refuse(problems)
    problems += _check_shape(schema)
    props = schema.get("properties")
    if not isinstance(props, dict) or not all(
        isinstance(p, dict) and p.get("type") in JSON_TYPES for p in props.values()
    ):
        _refuse(problems)  # the cross-checks below need typed fields
    problems += _check_ui(props, cast(f.FormUi, ui))
    conditions, more = _conditions(schema)
    problems += more
    if problems:
        _refuse(problems)
    ordered = tuple(name for group in ui["groups"] for name in group["fields"])
    return Template(data["id"], data["title"], schema, cast(f.FormUi, ui), ordered, conditions)


def _refuse(problems: list[str]) -> None:
    shown = problems[:MAX_PROBLEMS]
    more = len(problems) - len(shown)
    text = "; ".join(shown) + (f"; and {more} more" if more else "")
    raise VisavisError("template_invalid", f"the template is not valid: {text}")


def _problems(check: Draft202012Validator, data: object, where: str) -> list[str]:
    errors = sorted(check.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    return [_say(where, e) for e in errors]


def _say(where: str, error: ValidationError) -> str:
    path = ".".join([where, *map(str, error.absolute_path)]).strip(".") or "template"
    return f"{path}: {error.message}"


def _check_shape(schema: dict[str, Any]) -> list[str]:
    out = []
    if schema.get("type") != "object":
        out.append('schema.type: a form is an object ("type": "object")')
    if schema.get("additionalProperties") is not False:
        out.append("schema.additionalProperties: must be false (no fields beyond the template's)")
    for key in sorted(set(schema) - TOP_KEYWORDS):
        out.append(f"schema.{key}: not supported in a form template")
    props = schema.get("properties")
    if not isinstance(props, dict) or not props:
        return [*out, "schema.properties: a form needs at least one field"]
    if len(props) > MAX_FIELDS:
        out.append(f"schema.properties: {len(props)} fields; at most {MAX_FIELDS}")
    for name, prop in props.items():
        at = f"schema.properties.{name}"
        if not FIELD_NAME.match(name):
            out.append(f"{at}: a field name is a-z, 0-9 and _, starting with a letter")
        if not isinstance(prop, dict) or prop.get("type") not in (
            "string",
            "number",
            "integer",
            "boolean",
        ):
            out.append(f"{at}.type: one of string, number, integer, boolean")
            continue  # fmt: skip
        fmt = prop.get("format")
        if fmt is not None and fmt not in FORMATS:
            out.append(f"{at}.format: {fmt!r} is not one of {', '.join(sorted(FORMATS))}")
        pattern = prop.get("pattern")
        if isinstance(pattern, str):
            try:
                re.compile(pattern)
            except re.error as exc:
                out.append(f"{at}.pattern: not a regular expression ({exc})")
    required = schema.get("required", [])
    out += [f"schema.required: no field {n!r}" for n in required if n not in props]
    return out


def _check_ui(props: dict[str, dict[str, Any]], ui: f.FormUi) -> list[str]:
    out = []
    seen: dict[str, str] = {}
    for group in ui["groups"]:
        for name in group["fields"]:
            if name in seen:
                out.append(f"ui.groups.{group['id']}: {name!r} is in group {seen[name]!r} already")
            seen[name] = group["id"]
            if name not in props:
                out.append(f"ui.groups.{group['id']}: {name!r} is no field of the schema")
    out += [f"ui.groups: field {n!r} is in no group" for n in props if n not in seen]
    fields = ui["fields"]
    out += [f"ui.fields.{n}: no such field in the schema" for n in fields if n not in props]
    for name, prop in props.items():
        look = fields.get(name)
        if look is None:
            out.append(f"ui.fields: field {name!r} has no label and kind")
            continue
        kind, at = look["kind"], f"ui.fields.{name}"
        if prop["type"] not in KIND_TYPES[kind]:
            out.append(f"{at}.kind: {kind!r} edits {' or '.join(KIND_TYPES[kind])}, "
                       f"but the schema says {prop['type']!r}")  # fmt: skip
        needed = KIND_FORMATS.get(kind)
        if needed is not None and prop.get("format") != needed:
            out.append(f'schema.properties.{name}: kind {kind!r} needs "format": "{needed}"')
        if kind in CHOICE_KINDS:
            enum = prop.get("enum")
            options = look.get("options") or {}
            if not isinstance(enum, list) or not enum:
                out.append(f"schema.properties.{name}: a {kind} needs an enum of its values")
            else:
                out += [f"{at}.options: no label for {v!r}" for v in enum if v not in options]
    return out


def _conditions(schema: dict[str, Any]) -> tuple[dict[str, tuple[Condition, ...]], list[str]]:
    """Which fields are conditional, and when they are shown (see the module docstring)."""
    props = schema["properties"]
    found: dict[str, list[Condition]] = {}
    out: list[str] = []
    for i, part in enumerate(schema.get("allOf", [])):
        at = f"schema.allOf.{i}"
        cond = _if_condition(part.get("if") if isinstance(part, dict) else None, props)
        then = part.get("then") if isinstance(part, dict) else None
        if cond is None or not isinstance(then, dict):
            out.append(f'{at}: expected {{"if": {{"properties": {{FIELD: {{"const": VALUE}}}}, '
                       f'"required": [FIELD]}}, "then": {{...}}}}')  # fmt: skip
            continue
        names = [*then.get("required", []), *then.get("properties", {})]
        for name in names:
            if name not in props:
                out.append(f"{at}.then: no field {name!r}")
            elif name == cond.source:
                out.append(f"{at}.then: {name!r} cannot depend on itself")
            else:
                found.setdefault(name, []).append(cond)
    for source, targets in schema.get("dependentRequired", {}).items():
        if source not in props:
            out.append(f"schema.dependentRequired: no field {source!r}")
            continue
        for name in targets:
            if name not in props:
                out.append(f"schema.dependentRequired.{source}: no field {name!r}")
            else:
                found.setdefault(name, []).append(Condition(source, None))
    return {name: tuple(conds) for name, conds in found.items()}, out


def _if_condition(part: object, props: dict[str, Any]) -> Condition | None:
    if not isinstance(part, dict) or set(part) != {"properties", "required"}:
        return None
    cond_props, required = part["properties"], part["required"]
    if not isinstance(cond_props, dict) or len(cond_props) != 1 or required != list(cond_props):
        return None
    ((source, test),) = cond_props.items()
    if source not in props or not isinstance(test, dict) or len(test) != 1:
        return None
    if "const" in test:
        return Condition(source, (test["const"],))
    if isinstance(test.get("enum"), list):
        return Condition(source, tuple(test["enum"]))
    return None
