"""Form templates (versioned) and forms filled in within conversations.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "form_templates",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("title_de", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(32), nullable=True),
        sa.Column("removed_at", TS, nullable=True),
    )
    op.create_table(
        "forms",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("template_id", sa.String(64), nullable=False),
        sa.Column("template_version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("values", sa.Text, nullable=False),
        sa.Column("revs", sa.Text, nullable=False),
        sa.Column("opened_by", sa.String(32), nullable=True),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("submitted_values", sa.Text, nullable=True),
        sa.Column("digest", sa.String(64), nullable=True),
        sa.Column("submitted_by", sa.String(32), nullable=True),
        sa.Column("submitted_at", TS, nullable=True),
        sa.Column("confirmed_at", TS, nullable=True),
        sa.Column("cancelled_at", TS, nullable=True),
    )
    op.create_index("ix_forms_conversation_id", "forms", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_forms_conversation_id", table_name="forms")
    op.drop_table("forms")
    op.drop_table("form_templates")
