"""While the app runs, what its start made is frozen for the garbage collector (a full
collection does not walk it) and full collections are rare (web/heap.py); on shutdown
both are undone."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from visavis.app import create_app
from visavis.config import Settings
from visavis.storage.migrate import do_migrate
from visavis.web.heap import FULL_EVERY, do_quiet_start


def test_startup_objects_are_frozen_and_full_collections_rare_while_the_app_runs(
    tmp_path: Path,
) -> None:
    settings = Settings.from_env({"VISAVIS_DATA_DIR": str(tmp_path)})
    app = create_app(settings)
    seen: list[tuple[int, tuple[int, int, int]]] = []

    async def run() -> None:
        await do_migrate(settings.database_url)
        async with app.router.lifespan_context(app):
            seen.append((gc.get_freeze_count(), gc.get_threshold()))

    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    asyncio.run(run())
    frozen, threshold = seen[0]
    assert frozen > 10_000
    assert threshold == (before[0], before[1], FULL_EVERY)
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_a_starting_server_makes_full_collections_rare_before_it_imports_the_app() -> None:
    before = gc.get_threshold()
    try:
        do_quiet_start()
        assert gc.get_threshold() == (before[0], before[1], FULL_EVERY)
    finally:
        gc.set_threshold(*before)
