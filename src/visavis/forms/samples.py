"""The demo's form templates, shipped as package data (forms/samples/*.json) and
added by `visavis demo`: an account opening, a credit enquiry, a change of address.
Each shows a part of what templates can do (conditional fields, IBAN, phone,
postcodes, money, choices, consents)."""

from __future__ import annotations

from importlib import resources

from visavis.forms.templates import Template, parse_template

SAMPLE_FILES = ("account-opening.json", "credit-enquiry.json", "change-of-address.json")


def sample_templates() -> list[Template]:
    folder = resources.files("visavis.forms").joinpath("samples")
    return [parse_template(folder.joinpath(name).read_text("utf-8")) for name in SAMPLE_FILES]
