"""One conversation into a subject's export archive: its record in `subject.json` and
its files, decrypted — documents (signed PDFs among them) as
`files/<conversation>/<document>-<name>`, the signers' signature images as
`signatures/<conversation>/<request>-<signer>.png`, the recordings as
`recordings/<conversation>/<recording>-<participant>.webm`.

A file that cannot go in (gone from disk, or a recording without the recorder's key)
is listed with `file: null` and the reason, never left out silently. Recordings are
decrypted chunk by chunk straight into the zip, in a thread (they can be large).
"""

from __future__ import annotations

import asyncio
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from visavis.conversations.summary import event_frame, iso
from visavis.errors import VisavisError
from visavis.recording.sealed_file import SealedFileError, read_range
from visavis.storage.files import FileStore
from visavis.storage.models import Appointment, Conversation, Document, Event, Form

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "file"


def _copy_recording(src: Path, key: bytes, archive: zipfile.ZipFile, path: str) -> int:
    """Decrypt a sealed recording into the archive; its plaintext size. Every chunk is
    checked before the first byte goes in: an entry cannot be taken out of a zip again,
    and a damaged recording must not be in it half."""
    for _ in read_range(src, key, 0, 1 << 62):
        pass
    size = 0
    with archive.open(path, "w", force_zip64=True) as out:
        for chunk in read_range(src, key, 0, 1 << 62):
            out.write(chunk)
            size += len(chunk)
    return size


class SubjectArchive:
    def __init__(self, store: FileStore, recordings_dir: Path, recording_key: bytes | None) -> None:
        self.store = store
        self.recordings_dir = recordings_dir
        self.recording_key = recording_key

    async def do_add(
        self, db: AsyncSession, conv: Conversation, archive: zipfile.ZipFile
    ) -> dict[str, Any]:
        """Write the conversation's files into `archive`; its record for the JSON."""
        events = list(
            await db.scalars(
                select(Event).where(Event.conversation_id == conv.id).order_by(Event.seq)
            )
        )
        forms = await db.scalars(select(Form).where(Form.conversation_id == conv.id))
        appointments = await db.scalars(
            select(Appointment).where(Appointment.conversation_id == conv.id)
        )
        return {
            "id": conv.id,
            "kind": conv.kind,
            "status": conv.status,
            "customer_name": conv.customer_name,
            "contact": conv.contact,
            "topic": conv.topic,
            "language": conv.language,
            "created_at": iso(conv.created_at),
            "ended_at": iso(conv.ended_at) if conv.ended_at else None,
            "events": [event_frame(e) for e in events],
            "documents": await self._documents(db, conv.id, archive),
            "signatures": await self._signatures(conv.id, events, archive),
            "recordings": await self._recordings(conv.id, events, archive),
            "forms": [
                {
                    "id": f.id,
                    "template_id": f.template_id,
                    "template_version": f.template_version,
                    "status": f.status,
                    "values": json.loads(f.values),
                    "submitted_values": json.loads(f.submitted_values)
                    if f.submitted_values
                    else None,
                    "digest": f.digest,
                    "opened_at": iso(f.opened_at),
                    "submitted_at": iso(f.submitted_at) if f.submitted_at else None,
                }
                for f in forms
            ],
            "appointments": [
                {
                    "id": a.id,
                    "customer_email": a.customer_email,
                    "booked_at": iso(a.booked_at),
                    "cancelled_at": iso(a.cancelled_at) if a.cancelled_at else None,
                }
                for a in appointments
            ],
        }

    async def _stored(self, archive: zipfile.ZipFile, path: str, digest: str) -> str | None:
        try:
            archive.writestr(path, await self.store.get(digest))
        except VisavisError:
            return None  # the file is gone; the record says what it was
        return path

    async def _documents(
        self, db: AsyncSession, cid: str, archive: zipfile.ZipFile
    ) -> list[dict[str, Any]]:
        docs = await db.scalars(
            select(Document).where(Document.conversation_id == cid).order_by(Document.created_at)
        )
        out = []
        for d in docs:
            path = await self._stored(archive, f"files/{cid}/{d.id}-{safe_name(d.name)}", d.digest)
            out.append(
                {
                    "id": d.id,
                    "name": d.name,
                    "kind": d.kind,
                    "mime": d.mime,
                    "source": d.source,  # "signed": a sealed PDF of a signature request
                    "sha256": d.digest,
                    "shared_at": iso(d.created_at),
                    "file": path,
                }
            )
        return out

    async def _signatures(
        self, cid: str, events: list[Event], archive: zipfile.ZipFile
    ) -> list[dict[str, Any]]:
        out = []
        for e in events:
            if e.kind != "signature.signed":
                continue
            body = json.loads(e.body)
            digest, rid = body.get("image_sha256"), str(body.get("request_id", ""))
            signer = str(body.get("signer", ""))
            path = None
            if digest and _ID.fullmatch(rid) and signer in ("customer", "adviser"):
                path = await self._stored(archive, f"signatures/{cid}/{rid}-{signer}.png", digest)
            out.append(
                {
                    "request_id": rid,
                    "signer": signer,
                    "method": body.get("method"),
                    "typed_name": body.get("typed_name"),
                    "signed_at": iso(e.created_at),
                    "image_sha256": digest or None,
                    "file": path,
                    **({"erased": True} if body.get("erased") else {}),
                }
            )
        return out

    async def _recordings(
        self, cid: str, events: list[Event], archive: zipfile.ZipFile
    ) -> list[dict[str, Any]]:
        out = []
        for e in events:
            if e.kind != "recording.ready":
                continue
            body = json.loads(e.body)
            rid = str(body.get("recording_id", ""))
            for f in body.get("files", []):
                who = str(f.get("participant", ""))
                item: dict[str, Any] = {
                    "recording_id": rid,
                    "participant": who,
                    "duration_s": f.get("duration_s"),
                    "bytes": f.get("bytes"),
                    "recorded_at": iso(e.created_at),
                    "file": None,
                }
                src = self.recordings_dir / rid / f"{who}.webm.sealed"
                if not (_ID.fullmatch(rid) and _ID.fullmatch(who)) or not src.is_file():
                    item["missing"] = "the file is no longer stored"
                elif self.recording_key is None:
                    item["missing"] = "no recording key is configured on this server"
                else:
                    path = f"recordings/{cid}/{rid}-{who}.webm"
                    try:
                        size = await asyncio.to_thread(
                            _copy_recording, src, self.recording_key, archive, path
                        )
                    except SealedFileError as err:
                        item["missing"] = f"the stored file cannot be decrypted ({err})"
                    else:
                        item["file"], item["bytes"] = path, size
                out.append(item)
        return out
