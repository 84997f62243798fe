"""The audit page's shortcuts change nothing: line breaking once per cell width gives
the same PDF as reportlab's own repeated breaking, and the plain-text fast path of
`_text` gives what the character loop gives."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from reportlab import rl_config
from reportlab.platypus import Paragraph
from sample_files import pdf
from signing_samples import NOW, audit, mark

from visavis.signing import audit as audit_module
from visavis.signing.model import AuditStep


@pytest.fixture
def invariant() -> Iterator[None]:
    # reportlab's invariant mode: no creation date or random document id in the file
    before = rl_config.invariant
    rl_config.invariant = 1
    yield
    rl_config.invariant = before


def test_breaking_lines_once_per_width_gives_the_same_pages(
    invariant: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ua = "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 " * 8
    original = pdf(pages=1)
    record = audit(original, steps=40, user_agent=ua)
    odd = AuditStep("Unterschrieben / Signed", "Łukasz Żółw 李雷", "customer", NOW, 99, "::1", ua)
    record = dataclasses.replace(record, steps=(*record.steps, odd), consent_text="Ja. " * 400)
    marks = [mark(), mark(name="Anna Berger", role="adviser")]
    cached = audit_module.audit_pdf(record, marks, NOW)
    monkeypatch.setattr(audit_module, "_Cell", Paragraph)
    plain = audit_module.audit_pdf(record, marks, NOW)
    assert cached.count(b"/Type /Page\n") >= 3  # the table is split over pages
    assert cached == plain


@pytest.mark.parametrize(
    "text",
    [
        "Erika Mustermann",
        "Prüfprotokoll: Gespräch über 1.000 € — „Zitat“",
        "Zeile 1\nZeile 2",
        "soft\xadhyphen",
        "tab\there and\x00nul",
        "nbsp\xa0and\xffÿ",
        "Łukasz Żółw 李雷 Ωmega",
        "zero\u200bwidth",
        "",
    ],
)
def test_plain_text_passes_as_the_character_loop_would_pass_it(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = audit_module._text(text)
    monkeypatch.setattr(audit_module, "_LATIN1_PRINTABLE", _NeverMatches())
    assert fast == audit_module._text(text)


class _NeverMatches:
    def fullmatch(self, text: str) -> None:
        return None
