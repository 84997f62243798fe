"""Documents shared into conversations, and the document library.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("mime", sa.String(64), nullable=False),
        sa.Column("pages", sa.Text, nullable=False),
        sa.Column("downloadable", sa.Boolean, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("uploaded_by_role", sa.String(16), nullable=False),
        sa.Column("uploaded_by_id", sa.String(32), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_documents_conversation_id", "documents", ["conversation_id"])
    op.create_table(
        "library_documents",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("mime", sa.String(64), nullable=False),
        sa.Column("pages", sa.Text, nullable=False),
        sa.Column("downloadable", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(32), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("library_documents")
    op.drop_index("ix_documents_conversation_id", table_name="documents")
    op.drop_table("documents")
