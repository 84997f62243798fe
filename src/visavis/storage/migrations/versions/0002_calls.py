"""Calls: the conversation's current audio/video call.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("call_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("call_status", sa.String(16), nullable=True))
        batch.add_column(sa.Column("call_media", sa.String(16), nullable=True))
        batch.add_column(sa.Column("call_requested_by", sa.String(16), nullable=True))
        batch.add_column(sa.Column("call_requested_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("call_started_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        for col in (
            "call_started_at",
            "call_requested_at",
            "call_requested_by",
            "call_media",
            "call_status",
            "call_id",
        ):
            batch.drop_column(col)
