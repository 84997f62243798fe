"""The committed TypeScript protocol types match the pydantic schemas."""

from __future__ import annotations

import re

from visavis.protocol import typescript
from visavis.protocol.messages import CLIENT_MESSAGES, SERVER_MESSAGES


def test_committed_file_is_current() -> None:
    committed = typescript.OUTPUT.read_text(encoding="utf-8")
    assert committed == typescript.render(), (
        "frontend/src/lib/protocol.gen.ts is stale: run `visavis protocol-ts` "
        "(or `python -m visavis.protocol.typescript`) and commit the result"
    )


def test_every_message_type_is_in_the_unions() -> None:
    text = typescript.render()
    for kind in CLIENT_MESSAGES:
        assert re.search(rf'^  "{re.escape(kind)}": \w+Msg;$', text, re.M), kind
    for kind in SERVER_MESSAGES:
        assert f'type: "{kind}";' in text, kind


def test_render_is_deterministic() -> None:
    assert typescript.render() == typescript.render()
