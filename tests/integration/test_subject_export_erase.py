"""One customer's data: exported as one archive (JSON + files), then erased — with
what the law keeps kept and said so — through the admins' HTTP API on a live server,
and the same through the service on both databases. The privacy page shows the
configuration; every export and erasure is in the (intact) audit log."""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sample_files
from conftest import LiveServer, make_server
from helpers import PASSWORD, session
from services import conversation_service
from sqlalchemy import select
from test_signing_flow import signature_png
from zygote import run_visavis

from visavis.audit.log import check_chain, entries
from visavis.conversations.writes import Author
from visavis.privacy.profiles import policy_for
from visavis.privacy.retention import FileCleanup
from visavis.privacy.subject import Subject, SubjectService
from visavis.recording.sealed_file import do_seal as seal_recording
from visavis.storage.engine import Database
from visavis.storage.files import FileStore
from visavis.storage.keys import FileKeys
from visavis.storage.models import Conversation, Document, Event

EMAIL = "erika.muster@example.org"


@pytest.fixture
async def server(tmp_path: Path, database_url: str) -> AsyncIterator[LiveServer]:
    srv = make_server(
        tmp_path,
        database_url,
        VISAVIS_CONTROLLER_NAME="Musterbank AG",
        VISAVIS_CONTROLLER_ADDRESS="Hauptstr. 1; 60311 Frankfurt",
        VISAVIS_DPO_EMAIL="datenschutz@musterbank.example",
    )
    srv.add_adviser("root@bank.example", PASSWORD, "Root", role="admin")
    srv.add_adviser("anna@bank.example", PASSWORD, "Anna")
    srv.start()
    yield srv
    srv.stop()


async def message_with_upload(client: httpx.AsyncClient, text: str, data: bytes) -> str:
    r = await client.post(
        "/api/v1/conversations",
        json={"kind": "message", "contact": EMAIL.upper(), "customer_name": "Erika",
              "message": {"client_id": secrets.token_hex(8), "text": text}},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    cid, token = r.json()["conversation"]["id"], r.json()["token"]
    up = await client.post(
        f"/api/v1/conversations/{cid}/documents",
        content=data,
        params={"name": "gehaltsnachweis.pdf"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert up.status_code == 201, up.text
    return str(cid)


async def test_export_then_erase_over_http(server: LiveServer) -> None:
    pdf = sample_files.pdf(text="Gehalt 4711")
    async with httpx.AsyncClient(base_url=server.base_url) as customer:
        first = await message_with_upload(customer, "Bitte um Rückruf wegen Kredit", pdf)
        second = await message_with_upload(customer, "Noch eine Frage", sample_files.pdf())
        other = await customer.post(
            "/api/v1/conversations",
            json={"kind": "message", "contact": "someone@else.example", "message":
                  {"client_id": secrets.token_hex(8), "text": "Nicht Erika"}},
        )  # fmt: skip
        other_id = other.json()["conversation"]["id"]
        page = await customer.get("/privacy", params={"lang": "de"})
    # the privacy page: from the configuration, under the strict CSP
    assert page.status_code == 200 and "Musterbank AG" in page.text
    assert "60311 Frankfurt" in page.text and "datenschutz@musterbank.example" in page.text
    assert "1 Jahr nach Gesprächsende" in page.text and "90 Tage nach" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script" not in page.text

    # stored files are encrypted on disk
    blobs = [p.read_bytes() for p in (server.data_dir / "files").rglob("*") if p.is_file()]
    assert len(blobs) == 2 and not any(b"%PDF" in b for b in blobs)

    async with (
        await session(server, "root@bank.example") as root,
        await session(server, "anna@bank.example") as anna,
    ):
        r = await anna.post("/api/v1/privacy/export", json={"email": EMAIL})
        assert r.json()["error"]["code"] == "forbidden"
        r = await root.post("/api/v1/privacy/export", json={"email": EMAIL})
        assert r.status_code == 200 and r.headers["x-conversations"] == "2"
        archive = zipfile.ZipFile(io.BytesIO(r.content))
        doc = json.loads(archive.read("subject.json"))
        assert [c["id"] for c in doc["conversations"]] == [first, second]
        texts = [e["body"].get("text") for c in doc["conversations"] for e in c["events"]]
        assert "Bitte um Rückruf wegen Kredit" in texts and "Nicht Erika" not in texts
        file_path = doc["conversations"][0]["documents"][0]["file"]
        assert archive.read(file_path) == pdf  # decrypted

        r = await root.post("/api/v1/privacy/erase", json={"email": EMAIL})
        report = r.json()["report"]
        assert sorted(report["deleted"]) == sorted([first, second]) and report["kept"] == []
        assert report["counts"]["files_deleted"] == 2
        r = await root.post("/api/v1/privacy/export", json={"email": EMAIL})
        assert r.headers["x-conversations"] == "0"
        # the other customer's conversation is untouched
        assert (await root.get(f"/api/v1/conversations/{other_id}")).status_code == 200

        verify = (await root.get("/api/v1/audit/verify")).json()
        assert verify["ok"] and verify["count"] >= 3
        actions = [e["action"] for e in (await root.get("/api/v1/audit")).json()["entries"]]
        # newest first; the admin's look at another adviser's conversation is logged too
        assert actions == ["conversation.read", "subject.export", "subject.erase", "subject.export"]
        log = json.dumps((await root.get("/api/v1/audit")).json())
        assert EMAIL not in log and "Kredit" not in log
    assert not [p for p in (server.data_dir / "files").rglob("*") if p.is_file()]


async def signed_and_plain(db: Database, svc: SubjectService, store: FileStore) -> str:
    """An ended conversation of the subject with a message, a document and a signed PDF."""
    conv = svc.conversations
    summary, _ = await conv.do_create("Erika", None, "de", ("c1", "Vertrag bitte"), kind="message",
                                      contact=EMAIL)  # fmt: skip
    cid = summary["id"]
    for source in ("upload", "signed"):
        digest = await store.put(sample_files.pdf(text=source))
        async with conv.write() as w:
            did = secrets.token_urlsafe(16)
            w.db.add(Document(
                id=did, conversation_id=cid, digest=digest, kind="pdf", name=f"{source}.pdf",
                mime="application/pdf", pages="[]", downloadable=True, source=source,
                uploaded_by_role="adviser", created_at=datetime.now(UTC),
            ))  # fmt: skip
            await w.append(cid, "document.shared", Author("adviser"), {"document_id": did,
                                                                       "name": f"{source}.pdf"})  # fmt: skip
    return cid


@pytest.mark.parametrize("profile", ["retail", "bank"])
async def test_erase_keeps_what_the_law_keeps_and_says_so(
    db: Database, tmp_path: Path, profile: str
) -> None:
    store = FileStore(tmp_path / "files", FileKeys(key_file=tmp_path / "files.key"))
    policy = policy_for(profile)
    svc = SubjectService(
        db,
        conversation_service(db),
        FileCleanup(store, tmp_path / "cache", tmp_path / "recordings"),
        policy,
    )
    cid = await signed_and_plain(db, svc, store)
    report = await svc.do_erase(Subject(email=EMAIL), "cli")
    # the running (offline) conversation was ended first; the signed PDF is kept
    kept = {h.kind: h for h in report.kept}
    assert report.deleted == [] and "signed_pdfs" in kept
    assert kept["signed_pdfs"].reason == policy.legal_holds["signed_pdfs"]
    assert kept["signed_pdfs"].until > datetime.now(UTC) + timedelta(days=365 * 5)
    async with db.sessions() as s:
        conv = await s.get(Conversation, cid)
        docs = {
            d.source
            for d in await s.scalars(select(Document).where(Document.conversation_id == cid))
        }
        log = {
            k: json.loads(b)
            for k, b in (
                await s.execute(select(Event.kind, Event.body).where(Event.conversation_id == cid))
            )
        }
        assert (await check_chain(s)).ok
        audited = await entries(s, action="subject.erase")
    assert conv is not None and conv.status == "ended"
    assert log["conversation.erased"]["kept"][0]["reason"] == kept[next(iter(kept))].reason
    if profile == "retail":
        # everything else is gone: the message text, the plain document
        assert report.erased[cid] == ["messages", "forms", "documents", "recordings"]
        assert docs == {"signed"} and log["chat.message"] == {"text": "", "erased": True}
        assert set(kept) == {"signed_pdfs"}
    else:
        # a bank keeps the advice protocol (the messages) as evidence too
        assert set(kept) == {"messages", "signed_pdfs", "metadata"}
        assert docs == {"signed"} and log["chat.message"]["text"] == "Vertrag bitte"
    assert audited[0].detail["kept"] and audited[0].detail["by"] == ["email"]

    # once the legal period is over, an erasure takes the rest
    later = datetime.now(UTC) + timedelta(days=365 * 7)
    final = await svc.do_erase(Subject(conversation_ids=(cid,)), "cli", now=later)
    assert final.deleted == [cid] and final.kept == []
    assert not list((tmp_path / "files").rglob("*.*")) and not [
        p for p in (tmp_path / "files").rglob("*") if p.is_file()
    ]


def test_the_commands_export_erase_and_run_retention(tmp_path: Path) -> None:
    """`visavis subject export|erase` and `visavis retention run --now` on a data
    directory, as an operator runs them."""
    import asyncio
    import os
    import subprocess

    from visavis.storage.migrate import migrate_sync

    env = {**os.environ, "VISAVIS_DATA_DIR": str(tmp_path)}
    for name in ("VISAVIS_DATABASE_URL", "VISAVIS_FILE_KEY", "VISAVIS_PROFILE"):
        env.pop(name, None)
    url = f"sqlite+aiosqlite:///{tmp_path / 'visavis.db'}"
    migrate_sync(url)

    async def seed() -> list[str]:
        db = Database(url)
        try:
            store = FileStore(
                tmp_path / "files", FileKeys(key_file=tmp_path / "keys" / "files.key")
            )
            svc = SubjectService(db, conversation_service(db),
                                 FileCleanup(store, tmp_path / "c", tmp_path / "r"), policy_for("retail"))  # fmt: skip
            ids = [await signed_and_plain(db, svc, store) for _ in range(2)]
            summary, _ = await svc.conversations.do_create("Otto", None, "de", ("o1", "Hallo"))
            await svc.conversations.do_end(summary["id"], Author("customer"))
            return [*ids, summary["id"]]
        finally:
            await db.dispose()

    first, second, anonymous = asyncio.run(seed())

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        out = run_visavis(list(args), env, timeout=120)
        assert out.returncode == 0, out.stderr
        return out

    zip_path = tmp_path / "erika.zip"
    assert "2 conversation(s) exported" in cli("subject", "export", "--email", EMAIL,
                                               "--out", str(zip_path)).stdout  # fmt: skip
    doc = json.loads(zipfile.ZipFile(zip_path).read("subject.json"))
    assert {c["id"] for c in doc["conversations"]} == {first, second}
    report = json.loads(cli("subject", "erase", "--conversation", first).stdout)
    assert report["deleted"] == [] and [h["kind"] for h in report["kept"]] == ["signed_pdfs"]
    assert report["erased"][first] == ["messages", "forms", "documents", "recordings"]
    # seven years on, retention takes what ended: the erased one (ended by the
    # erasure) with its signed PDF, and Otto's; Erika's second message is still open
    later = (datetime.now(UTC) + timedelta(days=7 * 365)).isoformat()
    counts = json.loads(cli("retention", "run", "--now", later).stdout)
    assert counts["conversations_deleted"] == 2 and counts["signed_pdfs_deleted"] == 1
    assert "ok: " in cli("audit", "verify").stdout

    async def left() -> list[str]:
        db = Database(url)
        try:
            async with db.sessions() as s:
                return list(await s.scalars(select(Conversation.id)))
        finally:
            await db.dispose()

    assert asyncio.run(left()) == [second] and anonymous != second


@pytest.mark.parametrize("profile", ["retail", "bank"])
async def test_the_export_holds_recordings_and_signatures_and_the_erasure_takes_them(
    db: Database, tmp_path: Path, profile: str
) -> None:
    """Round trip: a conversation with a signed PDF, a signature image and a recording;
    the export has all three decrypted and listed; the erasure deletes the recording
    (retail) or keeps it as evidence (bank) and says why; what the law keeps is kept
    with its signature image; the export afterwards shows what is left."""
    store = FileStore(tmp_path / "files", FileKeys(key_file=tmp_path / "files.key"))
    key, recordings = secrets.token_bytes(32), tmp_path / "recordings"
    policy = policy_for(profile)
    svc = SubjectService(db, conversation_service(db),
                         FileCleanup(store, tmp_path / "cache", recordings), policy, key)  # fmt: skip
    cid = await signed_and_plain(db, svc, store)
    png = signature_png()
    image = await store.put(png)
    webm = sample_files.video("webm", "libvpx")
    rid = "rec" + secrets.token_hex(6)
    (recordings / rid).mkdir(parents=True)
    (tmp_path / "customer.webm").write_bytes(webm)
    seal_recording(tmp_path / "customer.webm", recordings / rid / "customer.webm.sealed", key)
    async with svc.conversations.write() as w:
        await w.append(cid, "signature.signed", Author("customer", None, "Erika"),
                       {"request_id": "req-0001", "signer": "customer", "method": "typed",
                        "typed_name": "Erika Muster", "image_sha256": image})  # fmt: skip
        await w.append(cid, "recording.ready", Author("system"), {"recording_id": rid,
                       "files": [{"participant": "customer", "bytes": len(webm),
                                  "duration_s": 0.5}]})  # fmt: skip

    export = await svc.do_export(Subject(email=EMAIL), "cli")
    archive = zipfile.ZipFile(io.BytesIO(b"".join([c async for c in export.stream.chunks()])))
    assert archive.testzip() is None
    (conv,) = json.loads(archive.read("subject.json"))["conversations"]
    assert export.count == 1 and conv["id"] == cid
    (rec,) = conv["recordings"]
    assert {k: rec[k] for k in ("recording_id", "participant", "duration_s", "bytes", "file")} == {
        "recording_id": rid, "participant": "customer", "duration_s": 0.5,
        "bytes": len(webm), "file": f"recordings/{cid}/{rid}-customer.webm",
    }  # fmt: skip
    assert archive.read(rec["file"]) == webm  # decrypted
    (sig,) = conv["signatures"]
    assert sig["signer"] == "customer" and sig["typed_name"] == "Erika Muster"
    assert archive.read(sig["file"]) == png
    signed = next(d for d in conv["documents"] if d["source"] == "signed")
    assert hashlib.sha256(archive.read(signed["file"])).hexdigest() == signed["sha256"]

    report = await svc.do_erase(Subject(email=EMAIL), "cli")
    kept = {h.kind: h.reason for h in report.kept}
    assert kept["signed_pdfs"] == policy.legal_holds["signed_pdfs"]
    assert store.exists(image)  # the signature stays with the signed PDF it is in
    if profile == "retail":
        assert "recordings" in report.erased[cid] and "recordings" not in kept
        assert not (recordings / rid).exists() and report.counts["recordings_deleted"] == 1
    else:
        assert kept["recordings"] == policy.legal_holds["recordings"]  # evidence, 5 years
        assert (recordings / rid / "customer.webm.sealed").is_file()
    async with db.sessions() as s:
        erased = [json.loads(b) for b in await s.scalars(
            select(Event.body).where(Event.conversation_id == cid,
                                     Event.kind == "conversation.erased"))]  # fmt: skip
        assert (await check_chain(s)).ok
    assert {k["kind"] for k in erased[0]["kept"]} == set(kept)
    assert all(k["reason"] == kept[k["kind"]] for k in erased[0]["kept"])

    export = await svc.do_export(Subject(email=EMAIL), "cli")
    after = zipfile.ZipFile(io.BytesIO(b"".join([c async for c in export.stream.chunks()])))
    (rec_after,) = json.loads(after.read("subject.json"))["conversations"][0]["recordings"]
    if profile == "retail":
        assert rec_after["file"] is None and rec_after["missing"] == "the file is no longer stored"
    else:
        assert after.read(rec_after["file"]) == webm

    # once the legal periods are over, an erasure takes the rest: image and recording too
    later = datetime.now(UTC) + timedelta(days=365 * 7)
    final = await svc.do_erase(Subject(conversation_ids=(cid,)), "cli", now=later)
    assert final.deleted == [cid] and final.kept == []
    assert not store.exists(image) and not (recordings / rid).exists()
