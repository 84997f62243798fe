"""Co-browsing frames are checked strictly before anything is relayed: which fields an
input takes, a batch's chunk of the mirror stream, the larger frame limit of batches only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from visavis.errors import VisavisError
from visavis.protocol import messages as m
from visavis.protocol.client import parse_client_frame

CID = "conv-1"


def _frame(**fields: Any) -> str:
    return json.dumps({"v": 1, "conversation_id": CID, **fields}, ensure_ascii=False)


def _refused(raw: str) -> VisavisError:
    with pytest.raises(VisavisError) as info:
        parse_client_frame(raw)
    return info.value


@pytest.mark.parametrize(
    "fields",
    [
        {"action": "click", "x": 10, "y": 20.5},
        {"action": "click", "x": 10, "y": 20, "target": 7},
        {"action": "scroll", "dx": 0, "dy": -300},
        {"action": "scroll", "dx": 0, "dy": 300, "target": 12},
        {"action": "type", "target": 5, "text": "Müller"},
        {"action": "key", "target": 5, "key": "Backspace"},
    ],
)
def test_inputs_with_the_fields_of_their_action_pass(fields: dict[str, Any]) -> None:
    msg = parse_client_frame(_frame(type="cobrowse.input", **fields))
    assert isinstance(msg, m.CobrowseInput)
    assert msg.action == fields["action"]


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"action": "click", "x": 10}, "needs y"),
        ({"action": "click", "x": 1, "y": 2, "text": "a"}, "takes no text"),
        ({"action": "type", "text": "a"}, "needs target"),
        ({"action": "key", "target": 1, "key": "F5"}, "key"),
        ({"action": "key", "target": 1, "key": "Backspace", "dx": 1}, "takes no dx"),
        ({"action": "scroll", "dx": "1", "dy": 2}, "dx"),  # strict: no strings for numbers
        ({"action": "click", "x": -1, "y": 2}, "x"),
        ({"action": "type", "target": 1, "text": "x" * 201}, "text"),
        ({"action": "click", "x": 1, "y": 2, "extra": 1}, "extra"),
    ],
)
def test_inputs_with_wrong_fields_are_refused(fields: dict[str, Any], says: str) -> None:
    err = _refused(_frame(type="cobrowse.input", **fields))
    assert err.code == "bad_request"
    assert says in err.message


def test_a_batch_is_no_json_frame() -> None:
    """The mirror comes only as the binary frame (tests/unit/test_mirror_frame.py)."""
    frame = _frame(type="cobrowse.batch", sent_at=1.0e12, stream="page-0001", n=0, data="q1Y=")
    assert _refused(frame).code == "unknown_type"
