"""Tables. The conversation log (`events`) is the source of truth; the columns on
`conversations` are derived state kept in the same transactions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Adviser(Base):
    __tablename__ = "advisers"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="adviser")
    max_chats: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Chosen presence; "offline" is derived from having no socket.
    status: Mapped[str] = mapped_column(String(16), default="away")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # portal profile (R5.4)
    languages: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    topics: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    bio: Mapped[str] = mapped_column(String(500), default="")
    listed: Mapped[bool] = mapped_column(Boolean, default=False)
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    photo_type: Mapped[str | None] = mapped_column(String(32), nullable=True)


class AdviserSession(Base):
    __tablename__ = "adviser_sessions"
    # sha256 of the cookie value: a leaked table does not yield usable cookies
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    adviser_id: Mapped[str] = mapped_column(ForeignKey("advisers.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Conversation(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # queued | active | ended
    customer_name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    topic: Mapped[str | None] = mapped_column(String(64), nullable=True)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    adviser_id: Mapped[str | None] = mapped_column(
        ForeignKey("advisers.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    customer_delivered_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    customer_read_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    adviser_delivered_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    adviser_read_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    preview: Mapped[str | None] = mapped_column(String(140), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # the customer picked this adviser in the portal (R5.4)
    requested_adviser_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # a colleague present during a consultative transfer (R4.3)
    consultant_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    kind: Mapped[str] = mapped_column(String(16), default="chat")  # chat | message | callback
    contact: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # The current call (at most one): ringing -> active -> cleared when it ends.
    call_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    call_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    call_media: Mapped[str | None] = mapped_column(String(16), nullable=True)
    call_requested_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    call_requested_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    call_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        Index("ix_conversations_status_queued", "status", "queued_at"),
        Index("ix_conversations_adviser_status", "adviser_id", "status"),
    )


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(40))
    author_role: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    author_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    body: Mapped[str] = mapped_column(Text)  # JSON
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # The last guard against two writers allocating the same seq.
        UniqueConstraint("conversation_id", "seq", name="uq_events_conversation_seq"),
        # Idempotent resends: one client_id is stored once per conversation.
        UniqueConstraint("conversation_id", "client_id", name="uq_events_conversation_client"),
    )


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    topics: Mapped[str] = mapped_column(Text)  # JSON list of topic ids
    languages: Mapped[str] = mapped_column(Text)  # JSON list of language tags
    timezone: Mapped[str] = mapped_column(String(64))
    hours: Mapped[str] = mapped_column(Text)  # JSON, see routing/hours.py
    holidays: Mapped[str] = mapped_column(Text)  # JSON list of YYYY-MM-DD
    # simultaneous text chats per adviser while serving this team; None: not set
    chat_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TeamMember(Base):
    __tablename__ = "team_members"
    team_id: Mapped[str] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    adviser_id: Mapped[str] = mapped_column(
        ForeignKey("advisers.id", ondelete="CASCADE"), primary_key=True
    )


class JoinCode(Base):
    __tablename__ = "join_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Slot(Base):
    """A bookable appointment time of an adviser; booked when conversation_id is set
    (the conversation of the `Appointment` holding it)."""

    __tablename__ = "slots"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    adviser_id: Mapped[str] = mapped_column(ForeignKey("advisers.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    conversation_id: Mapped[str | None] = mapped_column(String(32), nullable=True, unique=True)
    booked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Appointment(Base):
    """A customer's booking. It lives apart from the slot it holds because it outlives
    it: rebooking moves it to another slot (same id, same ICS UID, same join link),
    and after a cancellation the manage link can still say "cancelled"."""

    __tablename__ = "appointments"
    # in the manage link and the ICS UID; stays the same when rebooked
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True
    )
    # sha256 of the token in the customer's manage link
    manage_hash: Mapped[str] = mapped_column(String(64))
    customer_email: Mapped[str] = mapped_column(String(254))
    # RFC 5545 SEQUENCE of the last invitation sent; each update mail raises it
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    booked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ProactiveRule(Base):
    __tablename__ = "proactive_rules"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    url_pattern: Mapped[str] = mapped_column(String(300))
    min_seconds_on_page: Mapped[int] = mapped_column(Integer)
    returning_visitor: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    campaign: Mapped[str | None] = mapped_column(String(100), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    message_de: Mapped[str] = mapped_column(String(300))
    message_en: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Document(Base):
    """A document shared into a conversation (uploaded, from the library, a snapshot).
    The bytes live in the content-addressed file store under `digest`; the row says
    which conversation may see them. Each share is its own row, so documents are
    checked against their conversation by id alone."""

    __tablename__ = "documents"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, 128 bits
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 hex of the stored file
    kind: Mapped[str] = mapped_column(String(8))  # pdf | image | video
    name: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(64))
    pages: Mapped[str] = mapped_column(Text)  # JSON [{w, h}]
    downloadable: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(16))  # upload | library | snapshot
    uploaded_by_role: Mapped[str] = mapped_column(String(16))  # customer | adviser
    uploaded_by_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LibraryDocument(Base):
    """A document in the admin-managed library, shared into conversations by advisers."""

    __tablename__ = "library_documents"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(64))
    pages: Mapped[str] = mapped_column(Text)  # JSON [{w, h}]
    downloadable: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # the admin's id, or None when added with the command line
    created_by: Mapped[str | None] = mapped_column(String(32), nullable=True)


class FormTemplate(Base):
    """One version of a form template (JSON Schema + UI description, `body` as the
    admin's file, canonical JSON). Versions are never changed or deleted: a changed
    file is a new version, and removing a template only hides it from new forms, so a
    running or submitted form keeps the version it was opened with."""

    __tablename__ = "form_templates"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    title_de: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of body: same file, no version
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(32), nullable=True)  # None: CLI
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Form(Base):
    """A form opened in a conversation: a document-like artefact with its own id (what
    a later signature will refer to). `values` and `revs` (JSON) are the fields now and
    each field's revision; once submitted, `submitted_values` and their `digest` are
    what was agreed and never change."""

    __tablename__ = "forms"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, 128 bits
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    template_id: Mapped[str] = mapped_column(String(64))
    template_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # open | submitted | confirmed | cancelled
    values: Mapped[str] = mapped_column(Text)  # JSON {field: value}
    revs: Mapped[str] = mapped_column(Text)  # JSON {field: revision}
    opened_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_values: Mapped[str | None] = mapped_column(Text, nullable=True)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    submitted_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
