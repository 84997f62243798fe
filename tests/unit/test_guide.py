"""The adviser's guide (docs/guide/) and its screenshots belong together: every picture a
page names exists, and every picture in img/ is named by a page (an unused one would be
a stale screenshot nobody sees). The pictures themselves come from
scripts/guide_shots.py, which is too slow for the suite."""

from __future__ import annotations

import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide"
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s#]+\.md)(?:#[^)]*)?\)")


def pages() -> list[Path]:
    found = sorted(GUIDE.glob("*.md"))
    assert found, f"no guide pages in {GUIDE}"
    return found


def test_every_named_picture_exists_and_every_picture_is_named() -> None:
    named: set[Path] = set()
    for page in pages():
        for target in IMAGE.findall(page.read_text()):
            path = (page.parent / target).resolve()
            assert path.is_file(), f"{page.name}: {target} does not exist"
            named.add(path)
    on_disk = {p.resolve() for p in (GUIDE / "img").glob("*.png")}
    assert on_disk, "no pictures in docs/guide/img"
    assert on_disk - named == set(), f"pictures no page shows: {sorted(on_disk - named)}"


def test_pages_link_to_pages_that_exist() -> None:
    for page in pages():
        for target in LINK.findall(page.read_text()):
            assert (page.parent / target).is_file(), f"{page.name}: link to {target}"


def test_the_index_lists_every_page() -> None:
    index = (GUIDE / "README.md").read_text()
    for page in pages():
        if page.name != "README.md":
            assert f"({page.name})" in index, f"README.md does not list {page.name}"
