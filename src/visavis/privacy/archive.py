"""One conversation into a subject's export archive: its record in `subject.json` and
its files, decrypted — documents (signed PDFs among them) as
`files/<conversation>/<document>-<name>`, the signers' signature images as
`signatures/<conversation>/<request>-<signer>.png`, the recordings as
`recordings/<conversation>/<recording>-<participant>.webm`.

A file that cannot go in (gone from disk, or a recording without the recorder's key)
is listed with `file: null` and the reason, never left out silently.

Two steps, so an archive of any size is never whole in memory nor on disk in plain
(the files are encrypted at rest for a reason): `do_collect` reads the records from
the database and names the files (`FileJob`); `write_archive`, in a thread, decrypts
each file into the zip and writes `subject.json` last, with what each file's job found
— the zip goes out as it is written (`privacy/zipstream.py`). Recordings are decrypted
chunk by chunk.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

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


@dataclass(frozen=True)
class FileJob:
    """A file for the archive at `path`: a stored file (`digest`) or a sealed recording
    (`sealed`). `entry` is its record in `subject.json`, completed by `write_archive`."""

    path: str
    entry: dict[str, Any]
    digest: str | None = None
    sealed: Path | None = None


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

    async def do_collect(
        self, db: AsyncSession, conv: Conversation, jobs: list[FileJob]
    ) -> dict[str, Any]:
        """The conversation's record for the JSON; its files appended to `jobs`."""
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
            "documents": await self._documents(db, conv.id, jobs),
            "signatures": self._signatures(conv.id, events, jobs),
            "recordings": self._recordings(conv.id, events, jobs),
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

    async def _documents(
        self, db: AsyncSession, cid: str, jobs: list[FileJob]
    ) -> list[dict[str, Any]]:
        docs = await db.scalars(
            select(Document).where(Document.conversation_id == cid).order_by(Document.created_at)
        )
        out = []
        for d in docs:
            entry: dict[str, Any] = {
                "id": d.id,
                "name": d.name,
                "kind": d.kind,
                "mime": d.mime,
                "source": d.source,  # "signed": a sealed PDF of a signature request
                "sha256": d.digest,
                "shared_at": iso(d.created_at),
                "file": None,
            }
            out.append(entry)
            jobs.append(FileJob(f"files/{cid}/{d.id}-{safe_name(d.name)}", entry, d.digest))
        return out

    def _signatures(
        self, cid: str, events: list[Event], jobs: list[FileJob]
    ) -> list[dict[str, Any]]:
        out = []
        for e in events:
            if e.kind != "signature.signed":
                continue
            body = json.loads(e.body)
            digest, rid = body.get("image_sha256"), str(body.get("request_id", ""))
            signer = str(body.get("signer", ""))
            entry: dict[str, Any] = {
                "request_id": rid,
                "signer": signer,
                "method": body.get("method"),
                "typed_name": body.get("typed_name"),
                "signed_at": iso(e.created_at),
                "image_sha256": digest or None,
                "file": None,
                **({"erased": True} if body.get("erased") else {}),
            }
            out.append(entry)
            if digest and _ID.fullmatch(rid) and signer in ("customer", "adviser"):
                jobs.append(FileJob(f"signatures/{cid}/{rid}-{signer}.png", entry, str(digest)))
        return out

    def _recordings(
        self, cid: str, events: list[Event], jobs: list[FileJob]
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
                    jobs.append(FileJob(f"recordings/{cid}/{rid}-{who}.webm", item, sealed=src))
                out.append(item)
        return out

    def write_archive(self, jobs: list[FileJob], doc: dict[str, Any], out: IO[bytes]) -> None:
        """The zip into `out` (written front to back, never sought): each job's file,
        its record completed with what was found, then `subject.json` with `doc`.
        Blocking: run it in a thread."""
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for job in jobs:
                self._write_job(archive, job)
            archive.writestr("subject.json", json.dumps(doc, ensure_ascii=False, indent=2))

    def _write_job(self, archive: zipfile.ZipFile, job: FileJob) -> None:
        if job.digest is not None:
            try:
                data = self.store.read(job.digest)
            except VisavisError:
                return  # the file is gone; the record says what it was
            archive.writestr(job.path, data)
            job.entry["file"] = job.path
            return
        assert job.sealed is not None and self.recording_key is not None
        try:
            size = _copy_recording(job.sealed, self.recording_key, archive, job.path)
        except SealedFileError as err:
            job.entry["missing"] = f"the stored file cannot be decrypted ({err})"
        else:
            job.entry["file"], job.entry["bytes"] = job.path, size
