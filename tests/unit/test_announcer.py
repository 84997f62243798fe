"""Write, then announce: an event appended by any write path reaches a socket that
follows the conversation — through the one announcer, with no handler publishing by
hand. The services run on a real database and a real in-process bus; the socket is a
real `Connection` registered with a real `Hub`."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sample_files
from forms_samples import every_kind_template
from services import conversation_service

from visavis.auth.service import AdviserView, AuthService
from visavis.bus import MemoryBus
from visavis.collab.cobrowse import CobrowseService
from visavis.collab.documents import DocumentService
from visavis.collab.library import LibraryService
from visavis.conversations.calls import CallService
from visavis.conversations.cobrowsing import Command
from visavis.conversations.service import ConversationService
from visavis.conversations.transfers import TransferService
from visavis.conversations.writes import Author
from visavis.documents.checks import UploadLimits
from visavis.forms.catalogue import TemplateCatalogue
from visavis.forms.service import FormService
from visavis.protocol import messages as m
from visavis.routing.decide import ChatLimits
from visavis.routing.presence import Presence
from visavis.storage.engine import Database
from visavis.storage.files import FileStore
from visavis.ways_in.appointments import AppointmentService
from visavis.ways_in.joins import JoinService
from visavis.web.connection import Connection
from visavis.web.hub import Hub
from visavis.web.leanws import SEND_NOW

SRC = Path(__file__).resolve().parents[2] / "src" / "visavis"


class Socket:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()
        self._offered = 0
        self.scope: dict[str, Any] = {"extensions": {SEND_NOW: self.send_text_now}}

    def send_text_now(self, text: str) -> bool:
        """Takes every other frame offered at once and declines the rest (as a full
        write buffer would), so frames written at once and queued ones interleave."""
        self._offered += 1
        if self._offered % 2:
            return False
        self.sent.append(json.loads(text))
        asyncio.get_running_loop().create_task(self._notify())
        return True

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def send_text(self, text: str) -> None:
        async with self._changed:
            self.sent.append(json.loads(text))
            self._changed.notify_all()

    async def wait_for(self, done: Callable[[], bool]) -> None:
        """Until `done` holds; the timeout only bounds a failure."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(done), 30)

    def seqs(self, cid: str) -> list[int]:
        return [f["seq"] for f in self.sent if f["type"] == "event" and f["conversation_id"] == cid]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.sent if f["type"] == kind]


class Roster:
    async def advisers(self) -> list[dict[str, Any]]:
        return []

    async def live(self) -> list[dict[str, Any]]:
        return []


class Teams:
    def serves(self, adviser_id: str, team_id: str | None) -> bool:
        return True

    def chat_limit_of(self, team_id: str | None) -> int | None:
        return None

    def languages_of(self, adviser_id: str) -> tuple[str, ...]:
        return ()

    def all(self) -> list[Any]:
        return []


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


class World:
    def __init__(self, db: Database) -> None:
        self.bus = MemoryBus()
        presence = Presence()
        self.conversations = conversation_service(db, self.bus, presence)
        self.hub = Hub(
            self.bus,
            self.conversations.announcer,
            self.conversations,
            presence,
            Teams(),  # type: ignore[arg-type]
            Roster(),  # type: ignore[arg-type]
            25,
            offer_timeout_s=0,
        )
        self.auth = AuthService(db, 3, 3600, 5)

    def supervisor_socket(self) -> tuple[Connection, Socket]:
        """A supervisor's console tab: sees everything it follows."""
        ws = Socket()
        conn = Connection(ws, self.conversations, 100, 100)  # type: ignore[arg-type]
        conn.role = "adviser"
        conn.adviser = AdviserView("boss", "boss@bank.example", "Boss", "supervisor", 3, "away")
        self.hub.add(conn)
        return conn, ws

    def follow(self, conn: Connection, cid: str) -> None:
        """As the gateway subscribes: follow first, then replay from the start."""
        self.hub.follow(conn, cid)
        conn.push_replay(cid, 0, None, lambda: self.conversations.get(cid))


async def reached(ws: Socket, conversations: ConversationService, cid: str) -> None:
    """Wait until the socket has every event of the conversation's log, in order:
    the last one can only have come live from the announcer (nothing later exists
    that would make the socket fill a gap)."""
    last = (await conversations.get(cid))["last_seq"]
    try:
        await ws.wait_for(lambda: ws.seqs(cid)[-1:] == [last])
    except TimeoutError:
        pass
    assert ws.seqs(cid) == list(range(1, last + 1)), f"{cid}: log has {last} events"


async def test_every_write_path_reaches_a_following_socket(db: Database, tmp_path: Path) -> None:
    world = World(db)
    c = world.conversations
    conn, ws = world.supervisor_socket()
    anna = await world.auth.do_add_adviser("anna@bank.example", "long-enough-pw", "Anna")
    ben = await world.auth.do_add_adviser("ben@bank.example", "long-enough-pw", "Ben")
    me = Author("adviser", anna.id, anna.name)

    # a customer's chat: created, messages, accepted, a call, transfers, notes, ended
    conv, _ = await c.do_create("Erika", None, "de", ("client-0001", "Hallo"))
    cid = conv["id"]
    world.follow(conn, cid)
    await reached(ws, c, cid)
    steps: list[Callable[[], Awaitable[object]]] = [
        lambda: c.do_chat(cid, Author("customer", None, "Erika"), "client-0002", "Noch da?"),
        lambda: c.do_accept(cid, anna.id, anna.name, ChatLimits(3)),
    ]
    calls = CallService(c)
    transfers = TransferService(c)
    for step in steps:
        await step()
        await reached(ws, c, cid)
    _conv, (requested,) = await calls.do_request(cid, me, "video")
    await reached(ws, c, cid)
    call_id = requested["body"]["call_id"]
    steps = [
        lambda: calls.do_answer(cid, Author("customer"), call_id, True),
        lambda: calls.do_media(cid, me, call_id, True, True, False),
        lambda: calls.do_hangup(cid, me, call_id),
        lambda: transfers.do_to_adviser(cid, me, ben.id, ChatLimits(3), True),
        lambda: transfers.do_note(cid, me, "client-0003", "Kannst du übernehmen?"),
        lambda: transfers.do_consult_finish(cid, me, True),
        lambda: transfers.do_blind_to_team(cid, Author("adviser", ben.id, ben.name), "baufi"),
        lambda: c.do_end(cid, Author("customer")),
    ]
    for step in steps:
        await step()
        await reached(ws, c, cid)
    kinds = [f["kind"] for f in ws.sent if f["type"] == "event"]
    assert "note.internal" in kinds and kinds[-1] == "conversation.ended"
    # the shape changes came with them
    statuses = [f["conversation"]["status"] for f in ws.of_type("conversation.update")]
    assert statuses[0] == "active" and statuses[-2:] == ["queued", "ended"]

    # an invitation link and a phone code: created with their adviser
    joins = JoinService(db, c, "k" * 32, 3600, 600, 10)
    anna_view = await world.auth.get_adviser(anna.id)
    for make in (joins.do_create_link, joins.do_create_code):
        made = await make(anna_view, "Max", "de")
        world.follow(conn, made[0]["id"])
        await c.do_chat(made[0]["id"], me, f"client-{made[0]['id'][:6]}", "Willkommen")
        await reached(ws, c, made[0]["id"])

    # the room: an upload, a library share, the stage, annotations, video, snapshots
    store = FileStore(tmp_path / "files")
    library = LibraryService(db, store, UploadLimits())
    docs = DocumentService(db, c, store, library, UploadLimits())
    room = made[0]["id"]
    pdf = await docs.do_upload(room, Author("customer"), sample_files.pdf(2), "a.pdf")
    await reached(ws, c, room)
    video = await library.do_add(sample_files.video("webm", "libvpx"), "Film", False, None)
    shared = await docs.do_share_library(room, me, video["id"])
    await reached(ws, c, room)
    did, vid = pdf["document_id"], shared["document_id"]
    line = [[0.1, 0.1], [0.2, 0.2]]
    room_steps: list[Callable[[], Awaitable[object]]] = [
        lambda: docs.do_present(m.DocPresent(type="doc.present", conversation_id=room,
                                             document_id=did, page=1), me),
        lambda: docs.do_rights(m.DocRights(type="doc.rights", conversation_id=room,
                                           document_id=did, downloadable=False), me),
        lambda: docs.do_annotate(m.AnnotationAdd(
            type="annotation.add", conversation_id=room, document_id=did, page=1,
            annotation_id="stroke-0001", tool="pen", color="red", points=line), me),
        lambda: docs.do_clear_annotations(m.AnnotationClear(
            type="annotation.clear", conversation_id=room, document_id=did, page=1), me),
        lambda: docs.do_video_control(m.VideoControl(
            type="video.control", conversation_id=room, document_id=vid, action="play",
            position=0.0), me),
        lambda: docs.do_clear_stage(room, me),
        lambda: docs.do_snapshot(room, me),
        lambda: docs.do_snapshot(room, Author("customer")),
    ]  # fmt: skip
    for step in room_steps:
        await step()
        await reached(ws, c, room)
    assert not (await docs.get(did)).downloadable  # the row changed with its event

    # forms: opened, changed, submitted, confirmed; another one opened and cancelled
    catalogue = TemplateCatalogue(db)
    await catalogue.do_add(every_kind_template(), None)
    forms = FormService(db, c, catalogue)
    opened = await forms.do_open(room, me, "every-kind", {"name": "Erika"})
    await reached(ws, c, room)
    fid = opened["body"]["form_id"]
    customer = Author("customer", None, "Max")
    form_steps: list[Callable[[], Awaitable[object]]] = [
        lambda: forms.do_change(room, customer, fid, "agree", True, 0),
        lambda: forms.do_submit(room, me, fid),
        lambda: forms.do_confirm(room, customer, fid),
    ]
    for step in form_steps:
        await step()
        await reached(ws, c, room)
    second = await forms.do_open(room, me, "every-kind", {})
    await forms.do_cancel(room, me, second["body"]["form_id"])
    await reached(ws, c, room)
    form_kinds = [
        f["kind"] for f in ws.sent if f["type"] == "event" and f["kind"].startswith("form.")
    ]
    assert form_kinds == ["form.opened", "form.changed", "form.submitted", "form.confirmed",
                          "form.opened", "form.cancelled"]  # fmt: skip

    # co-browsing: every step, then the conversation's end ends it in the same write
    cob = CobrowseService(db, c)
    world.hub.watch(cob)
    erika = Author("customer")
    cob_steps: list[tuple[Author, Command]] = [
        (me, "request"), (erika, "decline"), (me, "request"), (erika, "accept"),
        (me, "control_request"), (erika, "control_decline"), (me, "control_request"),
        (erika, "control_grant"), (erika, "control_revoke"), (erika, "end"),
        (me, "request"), (erika, "accept"),
    ]  # fmt: skip
    for who, command in cob_steps:
        await cob.do_step(room, who, command)
        await reached(ws, c, room)
    assert (await cob.state(room, world.hub.follows)).phase == "started"
    await c.do_end(room, me)
    await reached(ws, c, room)
    last = [(f["kind"], f["body"]) for f in ws.sent if f["type"] == "event"][-2:]
    assert last == [
        ("cobrowse.ended", {"reason": "conversation_ended"}),
        ("conversation.ended", {"by": "adviser"}),
    ]
    assert not (await cob.state(room, world.hub.follows)).running

    # an appointment: booked, moved, joined; another one booked and cancelled
    appointments = AppointmentService(db, c)
    now = datetime.now(UTC)
    soon = await appointments.do_add_slot(
        anna.id, now + timedelta(minutes=5), now + timedelta(minutes=35)
    )
    later = await appointments.do_add_slot(
        anna.id, now + timedelta(days=2), now + timedelta(days=2, minutes=30)
    )
    booking, manage = await appointments.do_book(later["id"], "Jürgen", "de", None, "j@example.org")
    aid = booking.conversation_id
    world.follow(conn, aid)
    await reached(ws, c, aid)
    await appointments.do_rebook(booking.id, manage, soon["id"])
    await reached(ws, c, aid)
    assert await appointments.do_join(aid) is not None
    await reached(ws, c, aid)
    other, other_manage = await appointments.do_book(
        later["id"], "Lea", "en", None, "l@example.org"
    )
    world.follow(conn, other.conversation_id)
    await appointments.do_cancel(other.id, other_manage)
    await reached(ws, c, other.conversation_id)

    # the adviser's own sockets heard of every conversation they now serve
    assigned: list[str] = []
    world.bus.subscribe(
        f"adviser:{anna.id}", lambda p, _frame: assigned.append(json.loads(p)["type"])
    )
    await c.do_create_assigned(anna.id, anna.name, 10, "Ole", "de", "code")
    assert assigned == ["conversation.assigned", "adviser.status"]


def test_nothing_but_the_write_context_appends_and_nothing_but_the_announcer_publishes() -> None:
    """The structure makes the right way the only way: events are created in one
    place (`conversations/writes.py`; a chat group's rows are inserted by the
    statements in `conversations/chat_rows.py`, which only the chat group's write
    context, `conversations/chat_write.py`, uses) and published on the bus in one
    place (`conversations/announcer.py`)."""
    creates_events, inserts_events, uses_rows, publishes = [], [], [], []
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        rel = str(path.relative_to(SRC))
        if re.search(r"(?<!class )(?<!asyncio\.)(?<!threading\.)\bEvent\(", text):
            creates_events.append(rel)
        if re.search(r"INSERT INTO events|insert\((_EVENT|Event)\b", text):
            inserts_events.append(rel)
        if "chat_rows import" in text:
            uses_rows.append(rel)
        if re.search(r"\.publish\(", text) and not rel.startswith("bus/"):
            publishes.append(rel)
    assert creates_events == ["conversations/writes.py"]
    # a group commit's event rows: made in chat_write.py, inserted by its statements
    assert inserts_events == ["conversations/chat_rows.py"]
    assert uses_rows == ["conversations/chat_write.py"]
    # web/cluster.py publishes presence entries between nodes, no conversation frames
    assert sorted(publishes) == ["conversations/announcer.py", "web/cluster.py"]
