"""The `format`s a form template may name, as one jsonschema `FormatChecker`.

What a library knows better than we do comes from that library: IBANs (ISO 13616,
country length and mod-97 check digits) and BICs from `schwifty`, phone numbers from
Google's `phonenumbers` (numbers without a country code are read as German). Only
what is a plain shape stays a pattern here (a German postcode, an ISO date).

A checker is called for strings only; another type is the `type` keyword's error, not
the format's.
"""

from __future__ import annotations

import re
from datetime import date

import phonenumbers
from jsonschema import FormatChecker
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from visavis.auth.service import EMAIL_RE

PHONE_REGION = "DE"  # the region of a number written without +country code
POSTCODE_DE = re.compile(r"^(?!00)\d{5}$")  # five digits; no German postcode starts 00
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

FORMAT_CHECKER = FormatChecker(formats=())
"""Checks exactly the formats below (and no other: a template naming another format
is refused when it is added, so none is silently ignored)."""


@FORMAT_CHECKER.checks("iban", raises=SchwiftyException)
def is_iban(instance: object) -> bool:
    if isinstance(instance, str):
        IBAN(instance)  # raises on a wrong length, country or check digits
    return True


@FORMAT_CHECKER.checks("bic", raises=SchwiftyException)
def is_bic(instance: object) -> bool:
    if isinstance(instance, str):
        BIC(instance)
    return True


@FORMAT_CHECKER.checks("phone", raises=phonenumbers.NumberParseException)
def is_phone(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    return phonenumbers.is_valid_number(phonenumbers.parse(instance, PHONE_REGION))


@FORMAT_CHECKER.checks("postcode-de")
def is_postcode_de(instance: object) -> bool:
    return not isinstance(instance, str) or POSTCODE_DE.match(instance) is not None


@FORMAT_CHECKER.checks("email")
def is_email(instance: object) -> bool:
    return not isinstance(instance, str) or EMAIL_RE.match(instance.strip()) is not None


@FORMAT_CHECKER.checks("date", raises=ValueError)
def is_date(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    return ISO_DATE.match(instance) is not None and date.fromisoformat(instance) is not None


FORMATS = frozenset(FORMAT_CHECKER.checkers)
