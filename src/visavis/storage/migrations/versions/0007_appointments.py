"""Appointments as their own rows, so a booking can move between slots (rebooking).

The customer's e-mail and manage token move from `slots` to `appointments`. Bookings
made before keep the slot's id as their id: their manage links (`?appointment=<slot
id>`) and the UID of the calendar invitations already sent stay valid.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("manage_hash", sa.String(64), nullable=False),
        sa.Column("customer_email", sa.String(254), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False, server_default="0"),
        sa.Column("booked_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("cancelled_at", TS, nullable=True),
    )
    op.execute(
        "INSERT INTO appointments (id, conversation_id, manage_hash, customer_email, sequence,"
        " booked_at, updated_at)"
        " SELECT id, conversation_id, manage_hash, COALESCE(customer_email, ''), 0,"
        " COALESCE(booked_at, created_at), COALESCE(booked_at, created_at)"
        " FROM slots WHERE conversation_id IS NOT NULL AND manage_hash IS NOT NULL"
    )
    with op.batch_alter_table("slots") as batch:
        batch.drop_column("manage_hash")
        batch.drop_column("customer_email")


def downgrade() -> None:
    with op.batch_alter_table("slots") as batch:
        batch.add_column(sa.Column("customer_email", sa.String(254), nullable=True))
        batch.add_column(sa.Column("manage_hash", sa.String(64), nullable=True))
    # a rebooked appointment's id is no longer its slot's: its manage link stops
    # working after a downgrade, the booking itself stays
    for column in ("customer_email", "manage_hash"):
        op.execute(
            f"UPDATE slots SET {column} = (SELECT a.{column} FROM appointments a"
            " WHERE a.conversation_id = slots.conversation_id)"
            " WHERE conversation_id IS NOT NULL"
        )
    op.drop_table("appointments")
