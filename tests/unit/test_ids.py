"""Record ids never begin with "-", so that a command line takes them as values."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from visavis.storage.ids import new_id


def test_an_id_beginning_with_a_dash_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: Iterator[str] = iter(["-HP1pVw9", "-x", "aB-_c"])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda nbytes: next(drawn))
    assert new_id(6) == "aB-_c"


def test_ids_are_url_safe_of_the_asked_length() -> None:
    made = [new_id(16) for _ in range(2000)]
    assert all(len(i) == len(secrets.token_urlsafe(16)) for i in made)
    assert not any(i.startswith("-") for i in made)
    assert all(
        set(i) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for i in made
    )
    assert len(set(made)) == len(made)
