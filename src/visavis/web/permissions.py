"""Who a socket is, and what it may do: checked before every command acts."""

from __future__ import annotations

from visavis.auth.service import AdviserView
from visavis.conversations.reads import ConversationReads
from visavis.conversations.writes import Author
from visavis.errors import VisavisError
from visavis.protocol import frames as f
from visavis.web.connection import Connection


def check_customer_owns(conn: Connection, cid: str) -> None:
    if conn.conversation_id != cid:
        raise VisavisError("forbidden", "your token does not grant this conversation")


def check_customer(conn: Connection) -> None:
    if conn.role != "customer":
        raise VisavisError("forbidden", "only the customer may do this")


def check_adviser(conn: Connection) -> AdviserView:
    if conn.adviser is None:
        raise VisavisError("forbidden", "only advisers may do this")
    return conn.adviser


async def check_participant(
    conn: Connection, conversations: ConversationReads, cid: str
) -> f.ConversationSummary:
    """The conversation, if the socket is its customer or one of its advisers."""
    if conn.role == "customer":
        check_customer_owns(conn, cid)
        return await conversations.get(cid)
    me = check_adviser(conn)
    conv = await conversations.get(cid)
    check_adviser_of(me, conv)
    return conv


def check_call_adviser(conn: Connection, adviser_id: str | None) -> None:
    """Of the advisers, only the conversation's own takes part in its call: not a
    consulting colleague nor a supervisor who follows the chat (nor anyone while
    nobody has taken the conversation)."""
    if conn.adviser is not None and conn.adviser.id != adviser_id:
        raise VisavisError("forbidden", "only the conversation's adviser takes part in its call")


def author_of(conn: Connection) -> Author:
    if conn.adviser is not None:
        return Author("adviser", conn.adviser.id, conn.adviser.name)
    return Author("customer", None, conn.customer_name)


def check_admin(adviser: AdviserView) -> AdviserView:
    if adviser.role != "admin":
        raise VisavisError("forbidden", "only admins may do this")
    return adviser


def check_adviser_of(adviser: AdviserView, conv: f.ConversationSummary) -> None:
    """An adviser takes part in a conversation they serve (or consult in)."""
    if adviser.id not in advisers_of(conv):
        raise VisavisError("forbidden", "this conversation is not assigned to you")


def advisers_of(conv: f.ConversationSummary) -> set[str]:
    """The advisers with a conversation: its adviser and, during a consultative
    transfer, the consulting colleague."""
    advisers = (conv["adviser"], conv.get("consultant"))
    return {aid for a in advisers if a is not None and (aid := a.get("id")) is not None}
