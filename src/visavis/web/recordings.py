"""The console's recordings: the list of a conversation's recordings, and each file
decrypted on the way out, with HTTP Range so the <video> player can seek.

Only the conversation's adviser and admins. Every access is an entry in the
hash-chained audit log (`audit/log.py`): `recording.list`, `recording.play`,
`recording.download` and `recording.refused` — who (actor and role), which recording
and conversation, the byte range and, for a refusal, its code; never content. The
entry is committed before a byte leaves. A request without a session is refused
before it names anyone and is not an entry (nobody to name, and anyone could grow
the chain with them). In the medical profile (or without a recorder) every path is
refused, like the WebSocket's.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from visavis.auth.service import AdviserView
from visavis.collab.recording import RecordingService
from visavis.conversations.service import ConversationService
from visavis.errors import VisavisError
from visavis.recording.sealed_file import plain_size, read_range
from visavis.web.http import Api

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
FILE_CSP = "default-src 'none'; sandbox"


class RecordingRoutes:
    def __init__(
        self, api: Api, conversations: ConversationService, recording: RecordingService
    ) -> None:
        self.api = api
        self.conversations = conversations
        self.recording = recording

    async def _audit(
        self, me: AdviserView, action: str, cid: str, rid: str | None, **detail: Any
    ) -> None:
        # ids from the path may be anything a signed-in adviser typed: capped
        cid, rid = cid[:64], rid[:64] if rid else None
        await self.api.audit.do_record(
            actor=f"adviser:{me.id}",
            action=f"recording.{action}",
            subject=f"recording:{rid}" if rid else f"conversation:{cid}",
            detail={"role": me.role, "conversation_id": cid, "recording_id": rid, **detail},
        )

    async def _audited(
        self, request: Request, what: str, serve: Callable[[AdviserView, str], Awaitable[Response]]
    ) -> Response:
        """`serve` for a signed-in adviser; a refusal is audited (then raised) too."""
        me = await self.api.adviser(request)
        cid = request.path_params["conversation_id"]
        try:
            return await serve(me, cid)
        except VisavisError as err:
            await self._audit(
                me, "refused", cid, request.path_params.get("recording_id"), what=what,
                participant=(request.path_params.get("participant") or "")[:32] or None,
                code=err.code,
            )  # fmt: skip
            raise

    async def _permitted(self, me: AdviserView, cid: str) -> None:
        self.recording.check_allowed()
        conv = await self.conversations.get(cid)
        mine = conv["adviser"] is not None and conv["adviser"]["id"] == me.id
        if not (mine or me.role == "admin"):
            raise VisavisError(
                "forbidden", "recordings are for the conversation's adviser and admins only"
            )

    async def _ready(self, cid: str) -> list[dict[str, Any]]:
        out = []
        for event in await self.conversations.full_history(cid):
            if event["kind"] == "recording.ready":
                body = dict(event["body"])
                out.append({**body, "at": event["at"]})
        return out

    async def list(self, request: Request) -> Response:
        return await self._audited(request, "list", self._list)

    async def _list(self, me: AdviserView, cid: str) -> Response:
        await self._permitted(me, cid)
        items = await self._ready(cid)
        await self._audit(me, "list", cid, None, recording_ids=[i["recording_id"] for i in items])
        return JSONResponse({"recordings": items})

    async def file(self, request: Request) -> Response:
        download = request.query_params.get("download") == "1"
        what = "download" if download else "play"
        return await self._audited(
            request, what, lambda me, cid: self._file(request, me, cid, download)
        )

    async def _file(self, request: Request, me: AdviserView, cid: str, download: bool) -> Response:
        await self._permitted(me, cid)
        rid = request.path_params["recording_id"]
        who = request.path_params["participant"]
        known = {
            (r["recording_id"], f["participant"])
            for r in await self._ready(cid)
            for f in r["files"]
        }
        if (rid, who) not in known:
            raise VisavisError("not_found", f"no recording {rid!r} of the {who} here")
        recorder = self.recording.check_allowed()
        path = recorder.sealed_path(rid, who)
        if not path.is_file():
            raise VisavisError("file_missing", f"the file of recording {rid} is gone")
        size = plain_size(path)
        start, end, status = 0, size, 200
        header = request.headers.get("range")
        if header:
            m = RANGE_RE.match(header.strip())
            if m is None or (not m.group(1) and not m.group(2)):
                raise VisavisError("bad_request", "Range: one bytes=a-b range")
            if m.group(1):
                start = int(m.group(1))
                end = min(size, int(m.group(2)) + 1) if m.group(2) else size
            else:
                start = max(0, size - int(m.group(2)))
            if start >= size or start >= end:
                await self._audit(me, "refused", cid, rid, what="download" if download else "play",
                                  participant=who, code="range_not_satisfiable")  # fmt: skip
                return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
            status = 206
        await self._audit(
            me, "download" if download else "play", cid, rid, participant=who,
            range=f"{start}-{end - 1}" if status == 206 else None,
        )  # fmt: skip
        key = recorder.key

        def body() -> Iterator[bytes]:
            yield from read_range(path, key, start, end)

        headers = {
            "Accept-Ranges": "bytes",
            "Content-Length": str(end - start),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": FILE_CSP,
            "Content-Disposition": (
                f'{"attachment" if download else "inline"}; filename="{rid}-{who}.webm"'
            ),
        }
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        return StreamingResponse(body(), status_code=status, media_type="video/webm",
                                 headers=headers)  # fmt: skip
