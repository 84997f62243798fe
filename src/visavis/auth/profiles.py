"""Advisers' public profiles for the adviser portal: name, photo, languages,
topics, a short text. Only advisers who chose `listed` appear."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import undefer

from visavis.errors import VisavisError
from visavis.storage.engine import Database
from visavis.storage.models import Adviser

PHOTO_TYPES = {
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/webp": b"RIFF",
}
MAX_PHOTO_BYTES = 512 * 1024


def check_photo(content_type: str, data: bytes) -> None:
    """The bytes must be what they claim: a browser would otherwise sniff or refuse."""
    magic = PHOTO_TYPES.get(content_type)
    if magic is None:
        raise VisavisError("bad_request", "photo: send image/jpeg, image/png or image/webp")
    if len(data) > MAX_PHOTO_BYTES:
        raise VisavisError("frame_too_large", f"photo: at most {MAX_PHOTO_BYTES // 1024} KB")
    if not data.startswith(magic) or (content_type == "image/webp" and data[8:12] != b"WEBP"):
        raise VisavisError("bad_request", f"photo: the data is not {content_type}")


class ProfileService:
    def __init__(self, database: Database) -> None:
        self._db = database
        self.database = database

    async def do_set_profile(
        self,
        adviser_id: str,
        languages: list[str] | None = None,
        topics: list[str] | None = None,
        bio: str | None = None,
        listed: bool | None = None,
    ) -> None:
        """Set the given fields; None leaves one as it is."""
        values: dict[str, Any] = {}
        if languages is not None:
            values["languages"] = json.dumps(languages)
        if topics is not None:
            values["topics"] = json.dumps(topics)
        if bio is not None:
            values["bio"] = bio.strip()
        if listed is not None:
            values["listed"] = listed
        if not values:
            return
        async with self._db.writer() as db:
            await db.execute(update(Adviser).where(Adviser.id == adviser_id).values(**values))
            await db.commit()

    async def do_set_photo(self, adviser_id: str, content_type: str, data: bytes) -> None:
        check_photo(content_type, data)
        async with self._db.writer() as db:
            await db.execute(
                update(Adviser)
                .where(Adviser.id == adviser_id)
                .values(photo=data, photo_type=content_type)
            )
            await db.commit()

    async def photo(self, adviser_id: str, listed_only: bool = True) -> tuple[str, bytes]:
        """The photo; the public portal URL serves listed advisers only, the adviser's
        own (`listed_only=False`) also an unlisted one's."""
        async with self._db.sessions() as db:
            row = await db.scalar(
                select(Adviser).options(undefer(Adviser.photo)).where(Adviser.id == adviser_id)
            )
            if row is None or row.photo is None or (listed_only and not row.listed):
                raise VisavisError("not_found", "no photo")
            return row.photo_type or "application/octet-stream", row.photo

    async def profile(self, adviser_id: str) -> dict[str, Any]:
        async with self._db.sessions() as db:
            a = await db.get(Adviser, adviser_id)
            if a is None:
                raise VisavisError("not_found", f"no adviser {adviser_id}")
            return _public(a)

    async def listed(self) -> list[dict[str, Any]]:
        async with self._db.sessions() as db:
            rows = await db.scalars(
                select(Adviser).where(Adviser.listed.is_(True)).order_by(Adviser.name)
            )
            return [_public(a) for a in rows]

    async def is_listed(self, adviser_id: str) -> bool:
        async with self._db.sessions() as db:
            return bool(await db.scalar(select(Adviser.listed).where(Adviser.id == adviser_id)))


def _public(a: Adviser) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "photo_url": f"/api/v1/portal/{a.id}/photo" if a.photo_type else None,
        "languages": json.loads(a.languages or "[]"),
        "topics": json.loads(a.topics or "[]"),
        "bio": a.bio or "",
        "listed": a.listed,
    }
