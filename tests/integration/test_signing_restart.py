"""A server stopped while sealing leaves a request every signer signed but nobody
closed. The next start finds it and seals it (`signature.completed`, the signed PDF
shared and valid) — or, when that cannot be done, records why (`signature.failed` with
the code): no request stays waiting forever. Over a real server on both databases; the
state a kill during sealing leaves is made in the database between two starts."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest
import sample_files
from conftest import LiveServer, make_server
from helpers import adviser_socket, session
from services import conversation_service
from sqlalchemy import select
from test_signing_flow import SEAL_S, signature_png, upload
from wsclient import WsClient, new_conversation

from visavis.collab.consent_texts import SIGNATURE_CONSENT
from visavis.conversations.writes import Author
from visavis.storage.engine import Database
from visavis.storage.files import FileStore
from visavis.storage.keys import FileKeys
from visavis.storage.models import Document, Event


async def half_signed(
    server: LiveServer, adviser: WsClient, pdf: bytes
) -> tuple[str, str, dict[str, Any]]:
    """A conversation with a request for both signatures, the customer's given:
    conversation id, customer token, the customer's `signature.signed` body."""
    cid, token = await new_conversation(server.base_url, customer_name="Erika Muster")
    customer = await WsClient.connect(server.ws_url, token=token)
    await customer.request("subscribe", conversation_id=cid, after_seq=0)
    ack = await adviser.request("conversation.accept", conversation_id=cid)
    assert ack["type"] == "ack", ack
    async with await session(server, "anna@bank.example") as anna:
        doc_id = await upload(anna, cid, pdf, "Vertrag.pdf")
    ack = await adviser.request("signature.request", timeout=SEAL_S, conversation_id=cid,
                                document_id=doc_id, signers="customer+adviser")  # fmt: skip
    assert ack["type"] == "ack", ack
    body = (await customer.expect("event", kind="signature.requested"))["body"]
    ack = await customer.request("signature.sign", timeout=SEAL_S, conversation_id=cid,
        request_id=body["request_id"], document_sha256=body["document_sha256"], consent=True,
        consent_version=SIGNATURE_CONSENT.version, method="drawn",
        image_png=base64.b64encode(signature_png()).decode())  # fmt: skip
    assert ack["type"] == "ack", ack
    signed = await customer.expect("event", kind="signature.signed")
    await customer.close()
    return cid, token, dict(signed["body"])


async def adviser_signed_then_killed(url: str, cid: str, customer_signed: dict[str, Any]) -> None:
    """What the server had committed when it was killed while sealing: the adviser's
    signature, the last one missing, and nothing after it."""
    db = Database(url)
    try:
        async with db.sessions() as s:
            adviser_id = await s.scalar(
                select(Event.author_id).where(
                    Event.conversation_id == cid, Event.kind == "signature.requested"
                )
            )
        body = {**customer_signed, "signer": "adviser", "method": "typed",
                "typed_name": "Anna Berger"}  # fmt: skip
        conversations = conversation_service(db)
        async with conversations.write(summaries=False) as w:
            await w.lock(cid)
            await w.append(cid, "signature.signed", Author("adviser", adviser_id, "Anna"), body)
    finally:
        await db.dispose()


async def closing_event(server: LiveServer, cid: str, token: str) -> dict[str, Any]:
    """The request's closing event, as the customer's browser sees it after the start."""
    ws = await WsClient.connect(server.ws_url, token=token)
    try:
        await ws.request("subscribe", conversation_id=cid, after_seq=0)
        return await ws.wait_for(
            lambda f: f.get("kind") in ("signature.completed", "signature.failed"), SEAL_S
        )
    finally:
        await ws.close()


async def test_a_request_left_unsealed_is_sealed_or_failed_at_the_next_start(
    tmp_path: Path, database_url: str
) -> None:
    url = database_url
    server = make_server(tmp_path, url, VISAVIS_ORGANISATION="Musterbank AG")
    server.start()
    try:
        adviser = await adviser_socket(server)
        sealable = await half_signed(server, adviser, sample_files.pdf(1))
        # the second conversation's original will be lost while the server is down
        broken = await half_signed(server, adviser, sample_files.pdf(2))
        await adviser.close()
    finally:
        server.stop()
    for cid, _, signed in (sealable, broken):
        await adviser_signed_then_killed(url, cid, signed)
    keys = FileKeys(key_file=server.data_dir / "keys" / "files.key")
    FileStore(server.data_dir / "files", keys).path_of(broken[2]["document_sha256"]).unlink()

    server.start()
    try:
        done = await closing_event(server, sealable[0], sealable[1])
        assert done["kind"] == "signature.completed", done
        assert done["author"]["role"] == "system"
        assert done["body"]["name"] == "Vertrag (unterschrieben).pdf"
        failed = await closing_event(server, broken[0], broken[1])
        assert failed["kind"] == "signature.failed", failed
        assert failed["body"]["code"] == "file_missing" and failed["body"]["message"]
        assert "signed but never sealed" in server.log()
        db = Database(url)
        try:
            async with db.sessions() as s:
                signed_docs = list(await s.scalars(
                    select(Document.conversation_id).where(Document.source == "signed")))  # fmt: skip
                closings = [
                    (c, k, json.loads(b)["request_id"])
                    for c, k, b in await s.execute(
                        select(Event.conversation_id, Event.kind, Event.body).where(
                            Event.kind.in_(("signature.completed", "signature.failed"))
                        )
                    )
                ]
        finally:
            await db.dispose()
        assert signed_docs == [sealable[0]]
        assert sorted(c for c, _, _ in closings) == sorted([sealable[0], broken[0]])
        assert {r for _, _, r in closings} == {sealable[2]["request_id"], broken[2]["request_id"]}
    finally:
        server.stop()
    # a further start finds nothing left to seal: each request closed exactly once
    server.start()
    try:
        await at_start(server, 3)
        assert server.log().count("signed but never sealed") == 2
        assert server.log().rsplit(LOOKED, 1)[1].startswith("0")
    finally:
        server.stop()


LOOKED = "signature requests left unsealed at start: "


async def resumed(node: LiveServer) -> None:
    """Until the node's last start looked for unsealed requests and, if it found one,
    sealed it, failed it or found it closed by another node."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SEAL_S
    outcomes = ("sealed as document", "the seal is not kept", "sealing failed")
    while True:
        after = node.log().rsplit(LOOKED, 1)
        if len(after) == 2 and (after[1].startswith("0") or any(o in after[1] for o in outcomes)):
            return
        assert loop.time() < deadline, node.log()
        await asyncio.sleep(0.05)


async def at_start(server: LiveServer, starts: int) -> None:
    """Until the `starts`-th start has looked for unsealed requests (its log line): the
    look runs in the background after the server answers."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SEAL_S
    while server.log().count(LOOKED) < starts:
        assert loop.time() < deadline, server.log()
        await asyncio.sleep(0.05)


async def test_two_nodes_starting_at_once_close_the_request_once(
    tmp_path: Path, database_url: str
) -> None:
    """Both nodes of a deployment start after a crash and both find the request left
    unsealed: one closing event, one signed PDF, and no sealed file left over by the
    node that lost."""
    if not database_url.startswith("postgresql"):
        pytest.skip("several nodes share a PostgreSQL database")
    server = make_server(tmp_path, database_url, VISAVIS_ORGANISATION="Musterbank AG")
    server.start()
    try:
        adviser = await adviser_socket(server)
        cid, _, signed = await half_signed(server, adviser, sample_files.pdf(1))
        await adviser.close()
    finally:
        server.stop()
    await adviser_signed_then_killed(database_url, cid, signed)
    (tmp_path / "b").mkdir()
    other = make_server(tmp_path / "b", database_url, VISAVIS_ORGANISATION="Musterbank AG",
                        VISAVIS_DATA_DIR=str(server.data_dir))  # fmt: skip
    nodes = (server, other)
    try:
        await asyncio.gather(*(asyncio.to_thread(n.start) for n in nodes))
        # each node looked, and found nothing or finished what it found
        await asyncio.gather(*(resumed(n) for n in nodes))
        db = Database(database_url)
        try:
            async with db.sessions() as s:
                closings = list(await s.scalars(select(Event.kind).where(
                    Event.conversation_id == cid,
                    Event.kind.in_(("signature.completed", "signature.failed")))))  # fmt: skip
                digests = set(await s.scalars(select(Document.digest)))
        finally:
            await db.dispose()
        assert closings == ["signature.completed"]
        # every stored file is a document's or a signature's picture: no second seal
        images = {signed["image_sha256"]}
        stored = {p.name for p in (server.data_dir / "files").rglob("*") if p.is_file()}
        assert stored == digests | images, (stored, digests, images)
    finally:
        for node in nodes:
            node.stop()
