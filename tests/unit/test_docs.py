"""Docs are part of the product: every message type, field and setting is documented."""

from __future__ import annotations

import re
from pathlib import Path

from visavis.config import SETTING_NAMES
from visavis.errors import HTTP_STATUS
from visavis.protocol.messages import CLIENT_MESSAGES, SERVER_MESSAGES

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _sections(text: str, start: str, end: str) -> dict[str, str]:
    part = text.split(start, 1)[1].split(end, 1)[0]
    out = {}
    for block in re.split(r"^### ", part, flags=re.M)[1:]:
        title, _, body = block.partition("\n")
        out[title.strip().strip("`")] = body
    return out


def test_every_message_type_and_field_is_documented() -> None:
    text = (DOCS / "protocol.md").read_text()
    client = _sections(text, "## Client → server messages", "## Server → client messages")
    server = _sections(text, "## Server → client messages", "## Conversation summary")
    for documented, declared in ((client, CLIENT_MESSAGES), (server, SERVER_MESSAGES)):
        assert set(documented) == set(declared), set(documented) ^ set(declared)
        for name, model in declared.items():
            for attr, info in model.model_fields.items():
                field = info.alias or attr  # the name on the wire (`from`)
                if field in ("v", "type") or (field == "id" and name in CLIENT_MESSAGES):
                    continue
                assert f"`{field}`" in documented[name], f"{name}.{field} is not documented"


def test_every_error_code_is_documented() -> None:
    text = (DOCS / "protocol.md").read_text()
    for code in HTTP_STATUS:
        assert f"| `{code}` |" in text, code


def test_every_setting_is_documented() -> None:
    text = (DOCS / "operations.md").read_text()
    for name in SETTING_NAMES:
        assert f"`VISAVIS_{name.upper()}`" in text, name


def test_every_package_is_in_the_layer_table() -> None:
    """docs/architecture.md lists every package with what it owns, and every module of
    it by name, so the table cannot fall behind the code."""
    text = (DOCS / "architecture.md").read_text()
    src = Path(__file__).resolve().parents[2] / "src" / "visavis"
    rows = {
        m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \| (.*) \|$", text, flags=re.M)
    }
    packages = {p.parent.name for p in src.glob("*/__init__.py")}
    assert packages <= set(rows), f"missing from the layer table: {packages - set(rows)}"
    for package in packages:
        for module in (src / package).glob("*.py"):
            if module.name != "__init__.py":
                assert f"`{module.name}`" in rows[package], f"{package}/{module.name}"


def test_the_repository_stands_on_its_own() -> None:
    """Code, docs and tests cite requirements only by the ids docs/requirements.md
    defines, and never point at files or issue numbers a contributor cannot see."""
    root = DOCS.parent
    defined = set(re.findall(r"\*\*(R\d+\.\d+)\*\*", (DOCS / "requirements.md").read_text()))
    defined |= {r.split(".")[0] for r in defined}
    paths = [root / "README.md", root / "CHANGELOG.md", root / "pyproject.toml"]
    for folder, pattern in (("src", "*.py"), ("tests", "*.py"), ("bench", "*.py"),
                            ("docs", "*.md"), ("scripts", "*.sh"), ("frontend/src", "*.ts"),
                            ("frontend", "*.md")):  # fmt: skip
        paths += [p for p in (root / folder).rglob(pattern) if "node_modules" not in p.parts]
    for path in paths:
        text = path.read_text()
        rel = path.relative_to(root)
        for ref in re.findall(r"\bR\d+(?:\.\d+)?\b", text):
            assert ref in defined, f"{rel}: {ref} is not in docs/requirements.md"
        # (bracketed letters: so that this line does not match itself)
        assert not re.search(r"shar[e]d/|DESIG[N]\.md|REQUIREMENT[S]\.md|\bissu[e] \d", text), rel
