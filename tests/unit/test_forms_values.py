"""What a change may be at all (structure: refused, nothing stored) versus what is
wrong with the values (validation: stored, errors by field), and the format checkers
that come from libraries (schwifty, phonenumbers)."""

from __future__ import annotations

import pytest
from forms_samples import every_kind_template

from visavis.errors import VisavisError
from visavis.forms.formats import FORMAT_CHECKER
from visavis.forms.values import Errors, check_value, errors_of, submission
from visavis.protocol.forms import FieldValue

VALID: dict[str, FieldValue] = {"name": "Erika", "agree": True}


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("iban", ["DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "GB82WEST12345698765432",
                  "AT611904300234573201"],
         ["DE89370400440532013001", "DE8937040044053201300", "XX89370400440532013000", "hallo"]),
        ("bic", ["COBADEFFXXX", "DEUTDEFF"], ["COBADEF", "12345678", "DEUTXXFF"]),
        ("phone", ["+49 30 1234567", "030 1234567", "+44 20 7946 0958", "0151 23456789"],
         ["12", "030", "+49 1", "Telefon", "+999 1234567"]),
        ("postcode-de", ["10115", "80331", "01067"], ["1011", "101155", "00123", "A0115", " 10115"]),
        ("date", ["2024-02-29", "1990-12-31"], ["2023-02-29", "31.12.1990", "1990-13-01"]),
        ("email", ["erika@example.org"], ["erika", "a@b", "x y@example.org"]),
    ],
)  # fmt: skip
def test_format_checkers(fmt: str, good: list[str], bad: list[str]) -> None:
    for value in good:
        assert FORMAT_CHECKER.conforms(value, fmt), (fmt, value)
    for value in bad:
        assert not FORMAT_CHECKER.conforms(value, fmt), (fmt, value)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("ghost", "x", "no field 'ghost'"),
        ("__proto__", "x", "no field"),
        ("name", 5, "takes a string, not a number"),
        ("name", True, "takes a string, not true/false"),
        ("count", "5", "takes a number, not a string"),
        ("count", True, "takes a number, not true/false"),
        ("agree", "true", "takes true or false, not a string"),
        ("agree", 1, "takes true or false"),
        ("name", "x" * 501, "at most 500"),
        ("note", "x" * 4001, "at most 4000"),
        ("amount", 1e16, "out of range"),
        ("amount", float("nan"), "out of range"),
    ],
)
def test_structural_violations_are_refused(field: str, value: object, says: str) -> None:
    with pytest.raises(VisavisError) as caught:
        check_value(every_kind_template(), field, value)
    assert caught.value.code == "form_invalid_change"
    assert says in caught.value.message


def test_values_that_fit_their_field_pass_the_structure_check() -> None:
    t = every_kind_template()
    assert check_value(t, "note", "x" * 4000) == "x" * 4000
    assert check_value(t, "count", 3) == 3 and check_value(t, "amount", 12.5) == 12.5
    assert check_value(t, "agree", False) is False and check_value(t, "name", None) is None
    # a pattern, format or limit broken is no structural problem: it is validated
    assert check_value(t, "iban", "DE00") == "DE00"


def codes(errors: Errors) -> dict[str, list[object]]:
    return {k: [(e["code"], e["detail"]) for e in v] for k, v in errors.items()}


def test_semantic_errors_are_reported_by_field() -> None:
    t = every_kind_template()
    assert errors_of(t, VALID) == {}
    assert codes(errors_of(t, {})) == {"name": [("required", None)], "agree": [("required", None)]}
    wrong: dict[str, FieldValue] = {**VALID, "name": "E", "count": 11, "amount": -1, "code": "abc", "iban": "DE89370400440532013001",
             "phone": "12", "plz": "1234", "mail": "erika", "day": "2023-02-29", "colour": "blau",
             "bic": "XX"}  # fmt: skip
    assert codes(errors_of(t, wrong)) == {
        "name": [("min_length", "2")],
        "count": [("maximum", "10")],
        "amount": [("minimum", "0")],
        "colour": [("enum", None)],
        "day": [("format", "date")],
        "mail": [("format", "email")],
        "phone": [("format", "phone")],
        "when": [("required", None)],  # dependentRequired: a phone wants a time
        "iban": [("format", "iban")],
        "bic": [("format", "bic")],
        "plz": [("format", "postcode-de")],
        "code": [("pattern", "^[A-Z]{3}$")],
    }
    assert codes(errors_of(t, {**VALID, "amount": 10.005})) == {"amount": [("invalid", "cents")]}


def test_conditional_requirements_follow_the_condition_and_hidden_fields_are_ignored() -> None:
    t = every_kind_template()
    assert codes(errors_of(t, {**VALID, "answer": "nein"})) == {"why": [("required", None)]}
    # hidden again: its stale value is neither validated nor submitted
    stale: dict[str, FieldValue] = {**VALID, "answer": "ja", "why": "x"}
    assert errors_of(t, stale) == {}
    values, digest = submission(t, 3, stale)
    assert values == {"name": "Erika", "agree": True, "answer": "ja"}
    assert len(digest) == 64 and submission(t, 3, {**stale, "why": "y"})[1] == digest
    assert submission(t, 4, stale)[1] != digest  # the version is part of what is signed
