"""What the host page's co-browsing recorder loads from us: the script (/cobrowse.js,
built from frontend/src/cobrowse/host.ts) and its settings (the operator's extra mask
selectors). Both are public and credential-less, with CORS (security.py): the recorder
runs on the company's site, another origin.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

# The script's URL is stable (the loader knows no hash), so "long" is a day: an upgrade
# reaches host pages within a day; until then the old recorder speaks the same bridge.
SCRIPT_CACHE = "public, max-age=86400"


class CobrowseHostRoutes:
    def __init__(self, app_dir: Path, mask_selectors: str) -> None:
        self.script_path = app_dir / "cobrowse.js"
        self.mask = mask_selectors.strip()

    async def script(self, request: Request) -> Response:
        if not self.script_path.is_file():
            return Response(
                "cobrowse.js is not built: run `npm run build` in frontend/",
                status_code=503,
                media_type="text/plain",
            )
        return FileResponse(
            self.script_path,
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": SCRIPT_CACHE},
        )

    async def config(self, request: Request) -> Response:
        """The CSS selector list the recorder masks besides [data-visavis-mask]
        (VISAVIS_COBROWSE_MASK); the recorder refuses to record when it is not valid CSS."""
        return JSONResponse({"mask": self.mask}, headers={"Cache-Control": "max-age=60"})
