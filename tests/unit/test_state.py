import pytest

from visavis.conversations.state import Status, check_can_write, check_transition
from visavis.errors import VisavisError


def test_allowed_transitions() -> None:
    assert check_transition("queued", "accept") is Status.ACTIVE
    assert check_transition("queued", "end") is Status.ENDED
    assert check_transition("active", "end") is Status.ENDED


@pytest.mark.parametrize(
    ("state", "action"),
    [("active", "accept"), ("ended", "accept"), ("ended", "end"), ("bogus", "end")],
)
def test_refused_transitions_name_state_and_expectation(state: str, action: str) -> None:
    with pytest.raises(VisavisError) as err:
        check_transition(state, action)
    assert err.value.code == "invalid_state"
    assert repr(state) in err.value.message and "expected" in err.value.message


def test_no_writing_after_end() -> None:
    check_can_write("queued")
    check_can_write("active")
    with pytest.raises(VisavisError):
        check_can_write("ended")
