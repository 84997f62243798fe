"""Signing a PDF in a conversation over a real server: every refusal (who asks, the
consent and its version, the document's SHA-256, the image, an encrypted PDF), and the
happy path — both sign, the server seals, both download a PDF the verifier accepts,
whose audit data names the event seqs; a stranger may not download it."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sample_files
from conftest import LiveServer, make_server
from helpers import adviser_socket, session
from PIL import Image, ImageDraw
from wsclient import WsClient, new_conversation

from visavis.collab.consent_texts import SIGNATURE_CONSENT
from visavis.protocol.signing import MAX_SIGNATURE_PNG_B64
from visavis.signing.verify import check_signed_pdf
from visavis.storage.engine import Database
from visavis.storage.files import FileStore
from visavis.storage.models import Document

SEAL_S = 120.0  # an upper bound for signing steps on a busy machine (the first one loads
# pyHanko in the server); the test waits for the answer or event, never for a time


@pytest.fixture
async def server(tmp_path: Path, database_url: str) -> AsyncIterator[LiveServer]:
    srv = make_server(tmp_path, database_url, VISAVIS_ORGANISATION="Musterbank AG")
    srv.start()
    yield srv
    srv.stop()


def signature_png(size: tuple[int, int] = (400, 150)) -> bytes:
    """A drawn signature: black strokes on a transparent background."""
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.line([(10, h * 0.7), (w * 0.3, h * 0.2), (w * 0.5, h * 0.8), (w * 0.9, h * 0.3)],
              fill=(0, 0, 0, 255), width=4)  # fmt: skip
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def room(server: LiveServer) -> tuple[WsClient, WsClient, str, str]:
    adviser = await adviser_socket(server)
    conv_id, token = await new_conversation(server.base_url, customer_name="Erika Muster")
    customer = await WsClient.connect(server.ws_url, token=token)
    await customer.request("subscribe", conversation_id=conv_id, after_seq=0)
    ack = await adviser.request("conversation.accept", conversation_id=conv_id)
    assert ack["type"] == "ack", ack
    return adviser, customer, conv_id, token


async def upload(client: httpx.AsyncClient, conv_id: str, data: bytes, name: str) -> str:
    r = await client.post(
        f"/api/v1/conversations/{conv_id}/documents", content=data, params={"name": name}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["document"]["document_id"])


def code_of(frame: dict[str, Any]) -> str:
    assert frame["type"] == "error", frame
    return str(frame["code"])


async def download(client: httpx.AsyncClient, doc_id: str) -> httpx.Response:
    access = await client.post(f"/api/v1/documents/{doc_id}/access")
    if access.status_code != 200:
        return access
    return await client.get(
        f"/api/v1/documents/{doc_id}/file", params={"a": access.json()["token"]}
    )


async def test_refusals_then_both_sign_and_download(server: LiveServer, database_url: str) -> None:
    adviser, customer, conv_id, token = await room(server)
    _, other_token = await new_conversation(server.base_url, customer_name="Otto")
    bob = await adviser_socket(server, "bob@bank.example", "Bob Brandt")
    cust_http = httpx.AsyncClient(base_url=server.base_url,
                                  headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    other_http = httpx.AsyncClient(base_url=server.base_url,
                                   headers={"Authorization": f"Bearer {other_token}"})  # fmt: skip
    anna = await session(server, "anna@bank.example")
    async with cust_http, other_http, anna:
        doc_id = await upload(anna, conv_id, sample_files.pdf(2), "Vertrag.pdf")
        spots: list[dict[str, Any]] = [
            {"signer": "customer", "page": 1, "x": 0.1, "y": 0.8, "width": 0.35, "height": 0.08},
            {"signer": "adviser", "page": 1, "x": 0.55, "y": 0.8, "width": 0.35, "height": 0.08},
        ]
        ask: dict[str, Any] = {"conversation_id": conv_id, "document_id": doc_id,
               "signers": "customer+adviser", "spots": spots}  # fmt: skip

        # who asks: not the customer, not an adviser of another conversation
        assert (
            code_of(await customer.request("signature.request", timeout=SEAL_S, **ask))
            == "forbidden"
        )
        assert code_of(await bob.request("signature.request", timeout=SEAL_S, **ask)) == "forbidden"
        # a signer without a spot, a spot off the page
        only_customer = {**ask, "spots": spots[:1]}
        r = await adviser.request("signature.request", timeout=SEAL_S, **only_customer)
        assert code_of(r) == "signature_spots_invalid"
        off = {**ask, "spots": [{**spots[0], "page": 5}, spots[1]]}
        assert (
            code_of(await adviser.request("signature.request", timeout=SEAL_S, **off))
            == "signature_spots_invalid"
        )
        r = await adviser.request("signature.request", timeout=SEAL_S, **{**ask, "spots": [{**spots[0], "x": 0.9},
                                                                          spots[1]]})  # fmt: skip
        assert code_of(r) == "signature_spots_invalid"

        # an encrypted PDF that is a document of the conversation (an old library copy)
        # is refused with the upload check's reason
        enc = sample_files.encrypted_pdf("", "owner")
        enc_id = await _insert_document(server, database_url, conv_id, enc)
        r = await adviser.request(
            "signature.request", timeout=SEAL_S, **{**ask, "document_id": enc_id}
        )
        assert code_of(r) == "pdf_encrypted"

        ack = await adviser.request("signature.request", timeout=SEAL_S, **ask)
        assert ack["type"] == "ack", ack
        requested = await customer.expect("event", kind="signature.requested")
        body = requested["body"]
        rid, sha = body["request_id"], body["document_sha256"]
        assert body["consent_version"] == SIGNATURE_CONSENT.version
        assert body["signers"] == ["customer", "adviser"]
        await customer.expect("event", kind="document.presented")
        # one open request at a time
        assert (
            code_of(await adviser.request("signature.request", timeout=SEAL_S, **ask))
            == "invalid_state"
        )

        sign: dict[str, Any] = {"conversation_id": conv_id, "request_id": rid, "document_sha256": sha,
                "consent": True, "consent_version": SIGNATURE_CONSENT.version,
                "method": "drawn", "image_png": b64(signature_png())}  # fmt: skip
        refusals: list[tuple[dict[str, Any], str]] = [
            ({"consent": False}, "signature_consent_missing"),
            ({"consent_version": "sign-1999-01-1"}, "signature_consent_outdated"),
            ({"document_sha256": "0" * 64}, "signature_document_changed"),
            ({"image_png": b64(b"GIF89a" + b"\0" * 100)}, "signature_image_invalid"),
            ({"image_png": "not base64!"}, "signature_image_invalid"),
            ({"image_png": b64(signature_png()[:80])}, "signature_image_invalid"),
            ({"image_png": b64(signature_png((2500, 40)))}, "signature_image_invalid"),
            ({"image_png": "A" * (MAX_SIGNATURE_PNG_B64 + 4)}, "bad_request"),  # over the bound
            ({"consent": "true"}, "bad_request"),  # strict: no coercion
            ({"method": "typed"}, "bad_request"),  # typed needs typed_name
        ]
        for change, code in refusals:
            got = code_of(
                await customer.request("signature.sign", timeout=SEAL_S, **{**sign, **change})
            )
            assert got == code, (change, got)
        # the other conversation's adviser cannot sign in it
        assert code_of(await bob.request("signature.sign", timeout=SEAL_S, **sign)) == "forbidden"
        kinds = [e["kind"] for e in customer.events(conv_id)]
        assert "signature.signed" not in kinds  # nothing was stored by a refusal

        # the customer signs; signing twice is refused
        ack = await customer.request("signature.sign", timeout=SEAL_S, **sign)
        assert ack["type"] == "ack", ack
        signed = await adviser.expect("event", kind="signature.signed")
        assert signed["body"]["signer"] == "customer" and signed["body"]["ip"] == "127.0.0.1"
        assert (
            code_of(await customer.request("signature.sign", timeout=SEAL_S, **sign))
            == "invalid_state"
        )

        # a picture refused at the write that would have recorded it is not kept
        def stored_files() -> list[Path]:
            return sorted(p for p in (server.data_dir / "files").rglob("*") if p.is_file())

        stored = stored_files()
        again = {**sign, "image_png": b64(signature_png((320, 90)))}
        r = await customer.request("signature.sign", timeout=SEAL_S, **again)
        assert code_of(r) == "invalid_state"
        assert stored_files() == stored
        # the adviser signs by typing
        typed = {**sign, "method": "typed", "typed_name": "Anna Berger"}
        ack = await adviser.request("signature.sign", timeout=SEAL_S, **typed)
        assert ack["type"] == "ack", ack
        done = await customer.expect("event", timeout=SEAL_S, kind="signature.completed")
        signed_id = done["body"]["document_id"]
        assert done["body"]["name"] == "Vertrag (unterschrieben).pdf"
        # no cancel after it is sealed
        r = await adviser.request(
            "signature.cancel", timeout=SEAL_S, conversation_id=conv_id, request_id=rid
        )
        assert code_of(r) == "signature_not_open"

        # both sides download the same signed PDF; a stranger may not
        from_customer = await download(cust_http, signed_id)
        from_adviser = await download(anna, signed_id)
        assert from_customer.status_code == from_adviser.status_code == 200
        assert from_customer.content == from_adviser.content
        assert from_customer.headers["content-type"] == "application/pdf"
        # the adviser cannot take the customer's copy away
        r = await adviser.request("doc.rights", conversation_id=conv_id, document_id=signed_id,
                                  downloadable=False)  # fmt: skip
        assert code_of(r) == "invalid_state"
        stranger = await download(other_http, signed_id)
        assert stranger.status_code == 403
        assert stranger.json()["error"]["code"] == "forbidden"

        pem = (await cust_http.get("/api/v1/signing/certificate")).content
        assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
        # pyHanko's sync API runs its own event loop: not inside this one
        report = await asyncio.to_thread(check_signed_pdf, from_customer.content, [pem])
        assert report.valid, report
        assert report.reason == "ok"
        audit_text = json.dumps(report.audit, ensure_ascii=False)
        assert conv_id in audit_text and sha in audit_text
        assert SIGNATURE_CONSENT.version in audit_text
        adviser_signed = [e for e in adviser.events(conv_id) if e["kind"] == "signature.signed"]
        for seq in (requested["seq"], signed["seq"], *(e["seq"] for e in adviser_signed)):
            assert str(seq) in audit_text, (seq, report.audit)
        # one changed byte: invalid
        data = bytearray(from_customer.content)
        data[len(data) // 3] ^= 0x01
        assert not (await asyncio.to_thread(check_signed_pdf, bytes(data), [pem])).valid

    await asyncio.gather(adviser.close(), customer.close(), bob.close())


async def test_a_document_changed_after_it_was_shown_is_refused(
    server: LiveServer, database_url: str
) -> None:
    adviser, customer, conv_id, _ = await room(server)
    async with await session(server, "anna@bank.example") as anna:
        original = sample_files.pdf(1)
        doc_id = await upload(anna, conv_id, original, "Antrag.pdf")
        spot = {"signer": "customer", "page": 0, "x": 0.1, "y": 0.7, "width": 0.4, "height": 0.1}
        ack = await adviser.request("signature.request", timeout=SEAL_S, conversation_id=conv_id,
                                    document_id=doc_id, spots=[spot])  # fmt: skip
        assert ack["type"] == "ack", ack
        body = (await customer.expect("event", kind="signature.requested"))["body"]
        # the stored bytes change behind the server's back
        store = FileStore(server.data_dir / "files")
        store.path_of(body["document_sha256"]).write_bytes(sample_files.pdf(1, text="Anders"))
        r = await customer.request("signature.sign", timeout=SEAL_S, conversation_id=conv_id, request_id=body["request_id"],
            document_sha256=body["document_sha256"], consent=True,
            consent_version=SIGNATURE_CONSENT.version, method="drawn",
            image_png=b64(signature_png()),
        )  # fmt: skip
        assert code_of(r) == "signature_document_changed"
        # the customer declines instead: the request is closed
        r = await customer.request("signature.decline", timeout=SEAL_S, conversation_id=conv_id,
                                   request_id=body["request_id"], reason="Falsches Dokument")  # fmt: skip
        assert r["type"] == "ack", r
        declined = await adviser.expect("event", kind="signature.declined")
        assert declined["body"] == {"request_id": body["request_id"], "signer": "customer",
                                    "reason": "Falsches Dokument"}  # fmt: skip
    await asyncio.gather(adviser.close(), customer.close())


async def _insert_document(server: LiveServer, database_url: str, conv_id: str, data: bytes) -> str:
    """A document row the upload checks never saw (as if it predated them)."""
    digest = await FileStore(server.data_dir / "files").put(data)
    database = Database(database_url)
    doc_id = secrets.token_urlsafe(16)
    try:
        async with database.sessions() as db:
            db.add(Document(id=doc_id, conversation_id=conv_id, digest=digest, kind="pdf",
                            name="alt.pdf", mime="application/pdf",
                            pages=json.dumps([{"w": 595, "h": 842}]), downloadable=True,
                            source="library", uploaded_by_role="adviser", uploaded_by_id=None,
                            created_at=datetime.now(UTC)))  # fmt: skip
            await db.commit()
    finally:
        await database.dispose()
    return doc_id


async def test_a_submitted_forms_pdf_is_put_up_and_signed(
    tmp_path: Path, database_url: str
) -> None:
    srv = make_server(tmp_path, database_url)
    srv.cli("form", "samples")
    srv.start()
    try:
        adviser, customer, conv_id, _ = await room(srv)
        values = {"customer_number": "1234567890", "full_name": "Erika Muster",
                  "street": "Hauptstraße 1", "postcode": "10115", "city": "Berlin",
                  "valid_from": "2027-01-01"}  # fmt: skip
        ack = await adviser.request("form.open", conversation_id=conv_id,
                                    template_id="change-of-address", prefill=values)  # fmt: skip
        assert ack["type"] == "ack", ack
        fid = (await customer.expect("event", kind="form.opened"))["body"]["form_id"]
        # an open form cannot be put up yet
        r = await adviser.request(
            "signature.request", timeout=SEAL_S, conversation_id=conv_id, form_id=fid
        )
        assert code_of(r) == "invalid_state"
        ack = await adviser.request("form.submit", conversation_id=conv_id, form_id=fid)
        assert ack["type"] == "ack", ack
        # both ids, or neither: refused
        r = await adviser.request("signature.request", timeout=SEAL_S, conversation_id=conv_id)
        assert code_of(r) == "bad_request"
        ack = await adviser.request(
            "signature.request", timeout=SEAL_S, conversation_id=conv_id, form_id=fid
        )
        assert ack["type"] == "ack", ack
        shared = await customer.wait_for(
            lambda f: f.get("kind") == "document.shared" and f["body"]["source"] == "form"
        )
        body = (await customer.expect("event", kind="signature.requested"))["body"]
        assert body["document_id"] == shared["body"]["document_id"]
        last = len(shared["body"]["pages"]) - 1
        assert body["signers"] == ["customer"]
        # no boxes placed: the foot of the last page
        assert [(s["signer"], s["page"], s["y"]) for s in body["spots"]] == [
            ("customer", last, 0.915)
        ]
        ack = await customer.request("signature.sign", timeout=SEAL_S, conversation_id=conv_id, request_id=body["request_id"],
            document_sha256=body["document_sha256"], consent=True,
            consent_version=SIGNATURE_CONSENT.version, method="typed",
            typed_name="Erika Muster", image_png=b64(signature_png()),
        )  # fmt: skip
        assert ack["type"] == "ack", ack
        done = await adviser.expect("event", timeout=SEAL_S, kind="signature.completed")
        assert done["author"]["role"] == "system"
        await asyncio.gather(adviser.close(), customer.close())
    finally:
        srv.stop()
