"""While the app runs, what its start made is frozen for the garbage collector (a full
collection does not walk it); on shutdown it is thawed again."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from visavis.app import create_app
from visavis.config import Settings
from visavis.storage.migrate import do_migrate


def test_startup_objects_are_frozen_while_the_app_runs(tmp_path: Path) -> None:
    settings = Settings.from_env({"VISAVIS_DATA_DIR": str(tmp_path)})
    app = create_app(settings)
    seen: list[int] = []

    async def run() -> None:
        await do_migrate(settings.database_url)
        async with app.router.lifespan_context(app):
            seen.append(gc.get_freeze_count())

    assert gc.get_freeze_count() == 0
    asyncio.run(run())
    assert seen[0] > 10_000
    assert gc.get_freeze_count() == 0
