"""Initial schema: advisers, sessions, conversations, events.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "advisers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("max_chats", sa.Integer, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "adviser_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "adviser_id",
            sa.String(32),
            sa.ForeignKey("advisers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("customer_name", sa.String(80), nullable=True),
        sa.Column("topic", sa.String(64), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column(
            "adviser_id",
            sa.String(32),
            sa.ForeignKey("advisers.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("queued_at", TS, nullable=True),
        sa.Column("accepted_at", TS, nullable=True),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("customer_delivered_seq", sa.BigInteger, nullable=False),
        sa.Column("customer_read_seq", sa.BigInteger, nullable=False),
        sa.Column("adviser_delivered_seq", sa.BigInteger, nullable=False),
        sa.Column("adviser_read_seq", sa.BigInteger, nullable=False),
        sa.Column("preview", sa.String(140), nullable=True),
    )
    op.create_index("ix_conversations_status_queued", "conversations", ["status", "queued_at"])
    op.create_index("ix_conversations_adviser_status", "conversations", ["adviser_id", "status"])
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("author_role", sa.String(16), nullable=False),
        sa.Column("author_id", sa.String(32), nullable=True),
        sa.Column("author_name", sa.String(120), nullable=True),
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_events_conversation_seq"),
        sa.UniqueConstraint("conversation_id", "client_id", name="uq_events_conversation_client"),
    )


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("conversations")
    op.drop_table("adviser_sessions")
    op.drop_table("advisers")
