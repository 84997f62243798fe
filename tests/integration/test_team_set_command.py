"""`visavis team set ID --option …` changes only the options given; resetting is
explicit (`--reset-hours`, `--no-chat-limit`, an empty `--topics` or `--holidays`)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveServer, make_server

from visavis.routing.hours import BusinessHours
from visavis.routing.teams import DEFAULT_HOURS, TeamService
from visavis.storage.engine import Database

NIGHTS = json.dumps({"sun": [["20:00", "24:00"]]})


@pytest.fixture
def shell(tmp_path: Path) -> LiveServer:
    """Only the command line on a migrated SQLite database: no server is needed."""
    server = make_server(tmp_path)
    server.cli("migrate")
    server.cli(
        "team", "set", "baufi", "--name", "Baufinanzierung", "--topics", "kredit",
        "--languages", "de", "--timezone", "America/New_York", "--hours", NIGHTS,
        "--holidays", "2026-12-24", "--chat-limit", "2",
    )  # fmt: skip
    return server


def stored(server: LiveServer) -> dict[str, Any]:
    """The team as the server would load it."""

    async def load() -> dict[str, Any]:
        db = Database(f"sqlite+aiosqlite:///{server.data_dir / 'visavis.db'}")
        try:
            teams = TeamService(db)
            await teams.load()
            t = teams.get("baufi")
            return {
                "name": t.name,
                "topics": t.topics,
                "languages": t.languages,
                "timezone": t.hours.timezone,
                "hours": t.hours.weekly,
                "holidays": sorted(d.isoformat() for d in t.hours.holidays),
                "chat_limit": t.chat_limit,
            }
        finally:
            await db.dispose()

    return asyncio.run(load())


def test_a_chat_limit_alone_keeps_topics_languages_hours_and_holidays(shell: LiveServer) -> None:
    before = stored(shell)
    assert before["topics"] == ("kredit",) and before["holidays"] == ["2026-12-24"]
    shell.cli("team", "set", "baufi", "--chat-limit", "1")
    assert stored(shell) == {**before, "chat_limit": 1}
    shell.cli("team", "set", "baufi", "--name", "Baufi")
    assert stored(shell) == {**before, "chat_limit": 1, "name": "Baufi"}


def test_resetting_is_explicit(shell: LiveServer) -> None:
    before = stored(shell)
    shell.cli("team", "set", "baufi", "--reset-hours", "--no-chat-limit")
    after = stored(shell)
    assert after["chat_limit"] is None
    assert after["hours"] == BusinessHours.parse("UTC", DEFAULT_HOURS, []).weekly
    assert {k: v for k, v in after.items() if k not in ("hours", "chat_limit")} == {
        k: v for k, v in before.items() if k not in ("hours", "chat_limit")
    }
    shell.cli("team", "set", "baufi", "--topics", "", "--holidays", "")
    assert stored(shell) == {**after, "topics": (), "holidays": []}


def test_contradicting_options_are_refused(shell: LiveServer) -> None:
    before = stored(shell)
    for args in (("--hours", NIGHTS, "--reset-hours"), ("--chat-limit", "1", "--no-chat-limit")):
        with pytest.raises(RuntimeError, match="not allowed with argument"):
            shell.cli("team", "set", "baufi", *args)
    assert stored(shell) == before
