"""Form templates for tests: the shipped samples, and a small template with one field
of every kind (changed per test with `edited`)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from visavis.forms.templates import Template, check_template


def every_kind() -> dict[str, Any]:
    """A template file with one field of each kind, one conditional field (`if`/`then`)
    and one that depends on another (`dependentRequired`)."""

    def look(kind: str, de: str, en: str, **more: Any) -> dict[str, Any]:
        return {"kind": kind, "label": {"de": de, "en": en}, **more}

    yes_no = {"ja": {"de": "Ja", "en": "Yes"}, "nein": {"de": "Nein", "en": "No"}}
    return {
        "id": "every-kind",
        "title": {"de": "Alle Arten", "en": "Every kind"},
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 2, "maxLength": 40},
                "note": {"type": "string", "maxLength": 3000},
                "count": {"type": "integer", "minimum": 1, "maximum": 10},
                "amount": {"type": "number", "minimum": 0},
                "day": {"type": "string", "format": "date"},
                "colour": {"type": "string", "enum": ["ja", "nein"]},
                "answer": {"type": "string", "enum": ["ja", "nein"]},
                "agree": {"type": "boolean"},
                "mail": {"type": "string", "format": "email"},
                "phone": {"type": "string", "format": "phone"},
                "iban": {"type": "string", "format": "iban"},
                "bic": {"type": "string", "format": "bic"},
                "plz": {"type": "string", "format": "postcode-de"},
                "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
                "why": {"type": "string", "minLength": 3},
                "when": {"type": "string", "enum": ["ja", "nein"]},
            },
            "required": ["name", "agree"],
            "allOf": [
                {
                    "if": {"properties": {"answer": {"const": "nein"}}, "required": ["answer"]},
                    "then": {"required": ["why"]},
                }
            ],
            "dependentRequired": {"phone": ["when"]},
        },
        "ui": {
            "groups": [
                {"id": "a", "label": {"de": "Erste", "en": "First"},
                 "fields": ["name", "note", "count", "amount", "day", "colour", "answer", "why"]},
                {"id": "b", "label": {"de": "Zweite", "en": "Second"},
                 "fields": ["agree", "mail", "phone", "when", "iban", "bic", "plz", "code"]},
            ],
            "fields": {
                "name": look("text", "Name", "Name", prefill="name"),
                "note": look("textarea", "Notiz", "Note"),
                "count": look("number", "Anzahl", "Count"),
                "amount": look("money", "Betrag", "Amount"),
                "day": look("date", "Tag", "Day"),
                "colour": look("select", "Farbe", "Colour", options=yes_no),
                "answer": look("radio", "Antwort", "Answer", options=yes_no),
                "why": look("text", "Warum?", "Why?"),
                "agree": look("checkbox", "Einverstanden", "Agreed"),
                "mail": look("email", "E-Mail", "E-mail", prefill="email"),
                "phone": look("phone", "Telefon", "Phone"),
                "when": look("radio", "Wann?", "When?", options=yes_no),
                "iban": look("iban", "IBAN", "IBAN"),
                "bic": look("bic", "BIC", "BIC"),
                "plz": look("postcode_de", "PLZ", "Postcode"),
                "code": look("text", "Kürzel", "Code"),
            },
        },
    }  # fmt: skip


def edited(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    data = copy.deepcopy(every_kind())
    change(data)
    return data


def every_kind_template() -> Template:
    return check_template(every_kind())


def every_kind_json() -> bytes:
    return json.dumps(every_kind()).encode()
