"""Teams (topics, languages, business hours), memberships, offline conversations.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("topics", sa.Text, nullable=False),
        sa.Column("languages", sa.Text, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("hours", sa.Text, nullable=False),
        sa.Column("holidays", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "team_members",
        sa.Column(
            "team_id",
            sa.String(32),
            sa.ForeignKey("teams.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "adviser_id",
            sa.String(32),
            sa.ForeignKey("advisers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("team_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="chat"))
        batch.add_column(sa.Column("contact", sa.String(254), nullable=True))
        batch.create_index("ix_conversations_team_status", ["team_id", "status"])


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index("ix_conversations_team_status")
        batch.drop_column("contact")
        batch.drop_column("kind")
        batch.drop_column("team_id")
    op.drop_table("team_members")
    op.drop_table("teams")
