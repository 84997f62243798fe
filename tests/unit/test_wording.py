"""One gender-inclusive German style in every text customers and advisers read: paired
forms ("Beraterin oder Berater", "Kundinnen und Kunden"), the style most texts used,
never a colon, star, slash or capital-I form, nor "bzw."."""

from __future__ import annotations

import re

from conftest import ROOT

# The widget loader (frontend/src/widget) has its own owner and byte budget; its one
# "Berater:in" is left to that work.
SOURCES = [
    p
    for p in [*(ROOT / "frontend" / "src").rglob("*.ts"), *(ROOT / "src" / "visavis").rglob("*.py")]
    if "widget" not in p.parts and not p.name.endswith(".test.ts") and "static" not in p.parts
]
OTHER_STYLES = re.compile(
    r"\b\w+(?::in|:innen|\*in|\*innen|/in|/innen|Innen)\b|\b(?:Kollegin|Beraterin|Kundin) / "
    r"|\bbzw\. (?:ein|eine|der|die|den)\b|\b(?:Kundin|Kunde|Beraterin|Berater|Kollegin)/\w"
)


def test_one_inclusive_style_everywhere() -> None:
    found = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in SOURCES
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if OTHER_STYLES.search(line)
    ]
    assert found == []


def test_no_double_full_stop_after_an_abbreviation() -> None:
    """ "unter 1 Min.." came from a template ending in "." around an estimate that ends
    in an abbreviation: a placeholder for it must not be followed by a full stop."""
    text = (ROOT / "frontend" / "src" / "customer" / "start-options.ts").read_text()
    assert "{estimate}." not in text
