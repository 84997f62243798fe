"""The conversation state machine: the only way a conversation's status changes.

    queued ──accept──▶ active ──end──▶ ended
    queued ──end──▶ ended             active ──requeue──▶ queued  (blind transfer to a team)
    offline ──accept──▶ active        offline ──end──▶ ended      (messages, call-backs)
    scheduled ──join──▶ active        scheduled ──end──▶ ended    (appointments)

A conversation is created in `queued`, `offline`, `scheduled` or (invitation link,
phone code) `active`; every later change goes through `check_transition`.
"""

from __future__ import annotations

from enum import StrEnum

from visavis.errors import VisavisError


class Status(StrEnum):
    QUEUED = "queued"
    ACTIVE = "active"
    ENDED = "ended"
    OFFLINE = "offline"  # a message or call-back request, worked when advisers are back
    SCHEDULED = "scheduled"  # an appointment: becomes active when the customer comes


_ALLOWED: dict[tuple[Status, str], Status] = {
    (Status.QUEUED, "accept"): Status.ACTIVE,
    (Status.QUEUED, "end"): Status.ENDED,
    (Status.ACTIVE, "end"): Status.ENDED,
    (Status.ACTIVE, "requeue"): Status.QUEUED,
    (Status.OFFLINE, "accept"): Status.ACTIVE,
    (Status.OFFLINE, "end"): Status.ENDED,
    (Status.SCHEDULED, "join"): Status.ACTIVE,
    (Status.SCHEDULED, "end"): Status.ENDED,
}


def check_transition(current: str, action: str) -> Status:
    """Return the state after `action`, or refuse with `invalid_state` naming both."""
    try:
        return _ALLOWED[(Status(current), action)]
    except (KeyError, ValueError):
        expected = sorted(s.value for (s, a) in _ALLOWED if a == action)
        raise VisavisError(
            "invalid_state",
            f"cannot {action} a conversation in state {current!r}; expected one of {expected}",
        ) from None


def check_can_write(current: str) -> None:
    if current == Status.ENDED:
        raise VisavisError("invalid_state", "conversation has ended; start a new one")
