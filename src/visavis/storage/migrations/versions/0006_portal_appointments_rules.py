"""Adviser profiles (portal), requested adviser, appointment slots, proactive rules.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("advisers") as batch:
        batch.add_column(sa.Column("languages", sa.Text, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("topics", sa.Text, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("bio", sa.String(500), nullable=False, server_default=""))
        batch.add_column(sa.Column("listed", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("photo", sa.LargeBinary, nullable=True))
        batch.add_column(sa.Column("photo_type", sa.String(32), nullable=True))
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("requested_adviser_id", sa.String(32), nullable=True))
    op.create_table(
        "slots",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "adviser_id",
            sa.String(32),
            sa.ForeignKey("advisers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("conversation_id", sa.String(32), nullable=True, unique=True),
        sa.Column("customer_email", sa.String(254), nullable=True),
        sa.Column("manage_hash", sa.String(64), nullable=True),
        sa.Column("booked_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_slots_adviser_start", "slots", ["adviser_id", "starts_at"])
    op.create_table(
        "proactive_rules",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("url_pattern", sa.String(300), nullable=False),
        sa.Column("min_seconds_on_page", sa.Integer, nullable=False),
        sa.Column("returning_visitor", sa.Boolean, nullable=True),
        sa.Column("campaign", sa.String(100), nullable=True),
        sa.Column("team_id", sa.String(32), nullable=True),
        sa.Column("message_de", sa.String(300), nullable=False),
        sa.Column("message_en", sa.String(300), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("proactive_rules")
    op.drop_index("ix_slots_adviser_start", "slots")
    op.drop_table("slots")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("requested_adviser_id")
    with op.batch_alter_table("advisers") as batch:
        for col in ("photo_type", "photo", "listed", "bio", "topics", "languages"):
            batch.drop_column(col)
