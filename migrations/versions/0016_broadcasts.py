"""broadcasts: a message for an audience, approved by an admin other than its author

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-23 12:00:00

- broadcasts: the text, the audience's filters (state, municipality, crop, organisation, medium;
  NULL for everyone), who composed it and who approved or rejected it, and when its notices
  were planned (bot/records/broadcasts.py).
- news_choices.covers_broadcasts: the question now asks for news of the program, broadcasts
  included; an answer to the earlier question (new trainings only) covers no broadcast.
- notices take the kind broadcast (bot/records/migrate.py, swap_check_constraints).
"""

import sqlalchemy as sa
from alembic import op

from bot.records.migrate import swap_check_constraints

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

KINDS = (
    "kind IN ('payment', 'reminder', 'training_moved', 'training_cancelled', 'training_new')",
    "kind IN ('payment', 'reminder', 'training_moved', 'training_cancelled', 'training_new', 'broadcast')",
)


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=60), nullable=True),
        sa.Column("municipality", sa.String(length=100), nullable=True),
        sa.Column("product", sa.String(length=40), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("medium", sa.String(length=10), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("composed_by", sa.String(length=80), nullable=False),
        sa.Column("composed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="ck_broadcast_status"),
        sa.CheckConstraint("medium IS NULL OR medium IN ('whatsapp', 'sms')", name="ck_broadcast_medium"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.add_column(
        "news_choices",
        sa.Column("covers_broadcasts", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    swap_check_constraints(op, "notices", {"ck_notice_kind": KINDS})


def downgrade() -> None:
    op.execute("DELETE FROM notices WHERE kind = 'broadcast'")
    swap_check_constraints(op, "notices", {"ck_notice_kind": KINDS[::-1]})
    op.execute("ALTER TABLE news_choices DROP COLUMN covers_broadcasts")
    op.drop_table("broadcasts")
