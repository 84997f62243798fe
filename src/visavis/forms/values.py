"""A form's values: what a change may be at all (structure), and what is wrong with
the values (validation).

Two kinds of wrong, handled differently:

- **Structure** (`check_value`): a field the template does not have, a JSON type the
  field cannot hold, a value over our size limits. Such a change cannot come from our
  UI; it is refused (`form_invalid_change`) and nothing is stored.
- **Validation** (`errors_of`): the value is of the right type but breaks the
  template's rules — a pattern, a format (IBAN, phone …), required, min/max. That is
  what a person typing produces on the way to a right value: it is stored with the
  change, and the errors go out with the event so both sides see them at the field.
  `jsonschema` checks the whole form on every change (a change may make another field
  required), with the hidden fields left out.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, cast

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from visavis.errors import VisavisError
from visavis.forms.formats import FORMAT_CHECKER
from visavis.forms.templates import Template, canonical, has_value, visible
from visavis.protocol import frames as f
from visavis.protocol.forms import FieldValue

MAX_LINE_CHARS = 500  # one-line fields
MAX_TEXTAREA_CHARS = 4000
MAX_NUMBER = 1e15  # beyond any amount a form asks for, and exact as a double

Errors = dict[str, list[f.FormFieldError]]

# jsonschema keyword -> our stable code (the UI words it; unknown keywords: "invalid")
CODES: dict[str, f.FormErrorCode] = {
    "required": "required",
    "dependentRequired": "required",
    "type": "type",
    "pattern": "pattern",
    "format": "format",
    "minimum": "minimum",
    "exclusiveMinimum": "minimum",
    "maximum": "maximum",
    "exclusiveMaximum": "maximum",
    "minLength": "min_length",
    "maxLength": "max_length",
    "enum": "enum",
    "const": "enum",
}


def check_value(template: Template, field: str, value: object) -> FieldValue:
    """The value, if it may be stored in `field` at all (else `form_invalid_change`)."""
    if field not in template.schema["properties"]:
        raise VisavisError(
            "form_invalid_change",
            f"{template.id} has no field {field[:64]!r}",
            field=field[:64],
        )
    if value is None:
        return None
    kind = template.kind(field)
    (json_type,) = template.types(field)
    if json_type == "string":
        if not isinstance(value, str):
            raise _wrong(field, f"{kind} field {field!r} takes a string, not {_json(value)}")
        limit = MAX_TEXTAREA_CHARS if kind == "textarea" else MAX_LINE_CHARS
        if len(value) > limit:
            raise _wrong(field, f"{field!r} has {len(value)} characters; at most {limit}")
        return value
    if json_type == "boolean":
        if not isinstance(value, bool):
            raise _wrong(field, f"checkbox {field!r} takes true or false, not {_json(value)}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong(field, f"{kind} field {field!r} takes a number, not {_json(value)}")
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise _wrong(field, f"{field!r} is out of range: at most {MAX_NUMBER:.0e} either way")
    return value


def _wrong(field: str, message: str) -> VisavisError:
    return VisavisError("form_invalid_change", message, field=field)


def _json(value: object) -> str:
    return {str: "a string", bool: "true/false", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


def filled(template: Template, values: dict[str, FieldValue]) -> dict[str, FieldValue]:
    """The visible fields that have a value (what is validated and submitted)."""
    return {name: values[name] for name in visible(template, values) if has_value(values.get(name))}


def errors_of(template: Template, values: dict[str, FieldValue]) -> Errors:
    """Every visible field's validation errors, by field (empty: the form is valid)."""
    instance = filled(template, values)
    validator = Draft202012Validator(template.schema, format_checker=FORMAT_CHECKER)
    shown = set(visible(template, values))
    out: Errors = {}
    for error in validator.iter_errors(instance):
        for field, item in _field_errors(error, instance):
            if field in shown and item not in out.setdefault(field, []):
                out[field].append(item)
    for name in instance:  # money: whole cents (multipleOf 0.01 fails on binary floats)
        value = instance[name]
        if template.kind(name) == "money" and isinstance(value, float):
            if round(value, 2) != value:
                out.setdefault(name, []).append({"code": "invalid", "detail": "cents"})
    return {name: out[name] for name in template.fields if out.get(name)}


def _field_errors(
    error: ValidationError, instance: dict[str, Any]
) -> list[tuple[str, f.FormFieldError]]:
    keyword = str(error.validator)
    code = CODES.get(keyword, "invalid")
    if keyword in ("required", "dependentRequired") and not error.absolute_path:
        spec: Any = error.validator_value
        names: list[str] = list(spec) if keyword == "required" else []
        if keyword == "dependentRequired":  # {source: [names]}: the sources that have a value
            names = [n for source, ns in spec.items() if source in instance for n in ns]
        return [(n, {"code": code, "detail": None}) for n in names if n not in instance]
    if not error.absolute_path:
        return []
    field = str(error.absolute_path[0])
    detail: object = None
    if keyword in ("pattern", "format"):
        detail = error.validator_value
    elif code in ("minimum", "maximum", "min_length", "max_length"):
        detail = error.validator_value
    return [(field, {"code": code, "detail": None if detail is None else str(detail)})]


def submission(
    template: Template, version: int, values: dict[str, FieldValue]
) -> tuple[dict[str, FieldValue], str]:
    """What is submitted (the visible, filled fields) and its SHA-256: of the template,
    its version and the values, canonical JSON — what a later signature signs."""
    agreed = filled(template, values)
    text = canonical({"template_id": template.id, "version": version, "values": agreed})
    return agreed, hashlib.sha256(text.encode()).hexdigest()


def as_values(text: str) -> dict[str, FieldValue]:
    return cast(dict[str, FieldValue], json.loads(text))
