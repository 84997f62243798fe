"""The gateway's room commands: documents on the stage, the customer's right to
download them, annotations, the shared video, snapshot requests (each one write of
`DocumentService`), and the ephemeral `pointer` / `doc.view` relays (coalesced per
sender, their own rate budget, never stored and never logged: a pointer says where
someone looks)."""

from __future__ import annotations

from visavis.collab.documents import DocumentService
from visavis.conversations.announcer import Announcer
from visavis.conversations.reads import ConversationReads
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.protocol import messages as m
from visavis.protocol.replies import ack
from visavis.web.connection import Connection
from visavis.web.ephemeral import RelayState
from visavis.web.permissions import (
    author_of,
    check_adviser,
    check_customer,
    check_participant,
)

RelayMessage = m.Pointer | m.DocView
EPHEMERAL_TYPES = frozenset({"pointer", "doc.view"})


class CollabCommands:
    def __init__(
        self, documents: DocumentService, conversations: ConversationReads, announcer: Announcer
    ) -> None:
        self.documents = documents
        self.conversations = conversations
        self.announcer = announcer

    # ------------------------------------------------------------ logged steps
    async def do_share(self, conn: Connection, msg: m.DocShare) -> None:
        check_adviser(conn)
        await check_participant(conn, self.conversations, msg.conversation_id)
        await self.documents.do_share_library(msg.conversation_id, author_of(conn), msg.library_id)
        conn.push_frame(ack(msg.id, msg.conversation_id))

    async def do_rights(self, conn: Connection, msg: m.DocRights) -> None:
        """Only an adviser of the conversation (its adviser or a consulting colleague)
        decides what the customer may download."""
        check_adviser(conn)
        await check_participant(conn, self.conversations, msg.conversation_id)
        event = await self.documents.do_rights(msg, author_of(conn))
        conn.push_frame(ack(msg.id, msg.conversation_id, event["seq"]))

    async def do_stage(
        self,
        conn: Connection,
        msg: m.DocPresent | m.StageClear | m.AnnotationAdd | m.AnnotationClear | m.VideoControl,
    ) -> None:
        await check_participant(conn, self.conversations, msg.conversation_id)
        author = author_of(conn)
        if isinstance(msg, m.DocPresent):
            event = await self.documents.do_present(msg, author)
        elif isinstance(msg, m.StageClear):
            event = await self.documents.do_clear_stage(msg.conversation_id, author)
        elif isinstance(msg, m.AnnotationAdd):
            event = await self.documents.do_annotate(msg, author)
        elif isinstance(msg, m.AnnotationClear):
            event = await self.documents.do_clear_annotations(msg, author)
        else:
            event = await self.documents.do_video_control(msg, author)
        conn.push_frame(ack(msg.id, msg.conversation_id, event["seq"]))

    async def do_snapshot(
        self, conn: Connection, msg: m.SnapshotRequest | m.SnapshotDecline
    ) -> None:
        if isinstance(msg, m.SnapshotRequest):
            check_adviser(conn)
        else:
            check_customer(conn)
        await check_participant(conn, self.conversations, msg.conversation_id)
        event = await self.documents.do_snapshot(msg.conversation_id, author_of(conn))
        conn.push_frame(ack(msg.id, msg.conversation_id, event["seq"]))

    # ------------------------------------------------------------ ephemeral relays
    async def do_relay(self, conn: Connection, msg: RelayMessage) -> None:
        """Check (remembered for a few seconds), then hand the newest to the socket's
        coalescing slot; no answer, like `typing`."""
        relay = conn.relay
        if relay is None:
            relay = conn.relay = RelayState()
        cid = msg.conversation_id
        checked = relay.checked_for(cid)
        doc_id = msg.document_id
        if checked is None or (doc_id is not None and doc_id not in checked.pages):
            conv = await check_participant(conn, self.conversations, cid)
            if conv["status"] == "ended":
                raise VisavisError("invalid_state", "conversation has ended")
            relay.remember(cid, await self.documents.page_counts(cid))
            checked = relay.checked_for(cid)
            assert checked is not None
        if msg.document_id is not None:
            pages = checked.pages.get(msg.document_id)
            if pages is None:
                raise VisavisError("not_found", f"no document {msg.document_id} in {cid}")
            if msg.page is not None and msg.page >= pages:
                raise VisavisError(
                    "bad_request", f"page {msg.page} is out of range: the document has {pages}"
                )
        elif isinstance(msg, m.Pointer) and msg.surface == "document":
            raise VisavisError("bad_request", "pointer: a document pointer needs document_id")
        a = author_of(conn)
        sender: f.FromAuthor = {"role": "adviser" if a.role == "adviser" else "customer",
                                "id": a.id, "name": a.name}  # fmt: skip
        frame: f.PointerOutFrame | f.DocViewOutFrame
        if isinstance(msg, m.Pointer):
            frame = {"v": 1, "type": "pointer", "conversation_id": cid, "from": sender,
                     "surface": msg.surface, "document_id": msg.document_id, "page": msg.page,
                     "x": msg.x, "y": msg.y, "visible": msg.visible}  # fmt: skip
        else:
            frame = {"v": 1, "type": "doc.view", "conversation_id": cid, "from": sender,
                     "document_id": msg.document_id, "page": msg.page, "zoom": msg.zoom,
                     "x": msg.x, "y": msg.y}  # fmt: skip

        async def send() -> None:
            await self.announcer.send_ephemeral(cid, frame)

        relay.offer((msg.type, cid), send)
