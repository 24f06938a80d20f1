"""handled_messages: the reply of each message whose turn changed the records, by message id

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-12 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handled_messages",
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("reply_json", sa.Text(), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "message_id"),
    )
    op.create_index("ix_handled_messages_phone", "handled_messages", ["phone"])
    op.create_index("ix_handled_messages_handled_at", "handled_messages", ["handled_at"])


def downgrade() -> None:
    op.drop_index("ix_handled_messages_handled_at", table_name="handled_messages")
    op.drop_index("ix_handled_messages_phone", table_name="handled_messages")
    op.drop_table("handled_messages")
