"""Bytes in memory served with HTTP Range (one range): stored files are decrypted
before they are served, so `FileResponse` (which reads a path) cannot serve them."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def ranged_response(
    request: Request, data: bytes, media_type: str, headers: dict[str, str]
) -> Response:
    """200 with all of `data`, or 206 with the one range asked for (`bytes=a-b`,
    `bytes=a-`, `bytes=-n`); 416 for a range outside the data. Several ranges at once
    are answered with the whole (allowed by RFC 9110 and never asked by players)."""
    size = len(data)
    base = {**headers, "Accept-Ranges": "bytes"}
    match = _RANGE.fullmatch(request.headers.get("range", "").replace(" ", ""))
    if match is None or match.groups() == ("", ""):
        return Response(data, media_type=media_type, headers=base)
    first, last = match.groups()
    if first == "":
        start, end = max(0, size - int(last)), size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return Response(b"", status_code=416, headers={**base, "Content-Range": f"bytes */{size}"})
    return Response(
        data[start : end + 1],
        status_code=206,
        media_type=media_type,
        headers={**base, "Content-Range": f"bytes {start}-{end}/{size}"},
    )
