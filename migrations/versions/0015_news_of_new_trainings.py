"""news of new trainings: the farmer's opt-in, and announcing a new session once

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-22 12:00:00

- news_choices: each phone's answers to "¿Quiere que le avisemos de capacitaciones nuevas cerca de
  usted?" (a voluntary purpose, asked once in a conversation; the latest answer counts).
- trainings.created_at (sessions from before this revision have none, and are never announced)
  and trainings.announced_at (when the farmers near it who asked for news were told of it).
- notices take the kind training_new and the status skipped_no_news (bot/records/migrate.py,
  swap_check_constraints).
"""

import sqlalchemy as sa
from alembic import op

from bot.records.migrate import swap_check_constraints

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

KINDS = (
    "kind IN ('payment', 'reminder', 'training_moved', 'training_cancelled')",
    "kind IN ('payment', 'reminder', 'training_moved', 'training_cancelled', 'training_new')",
)
STATUSES = (
    "status IN ('scheduled', 'released', 'skipped_opt_out', 'skipped_no_consent', "
    "'skipped_opposed', 'skipped_no_phone', 'skipped_stale')",
    "status IN ('scheduled', 'released', 'skipped_opt_out', 'skipped_no_consent', "
    "'skipped_opposed', 'skipped_no_phone', 'skipped_stale', 'skipped_no_news')",
)


def upgrade() -> None:
    op.create_table(
        "news_choices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_news_choices_phone", "news_choices", ["phone"])
    op.add_column("trainings", sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("trainings", sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True))
    swap_check_constraints(op, "notices", {"ck_notice_kind": KINDS, "ck_notice_status": STATUSES})


def downgrade() -> None:
    op.execute("DELETE FROM notices WHERE kind = 'training_new' OR status = 'skipped_no_news'")
    swap_check_constraints(op, "notices", {"ck_notice_kind": KINDS[::-1], "ck_notice_status": STATUSES[::-1]})
    # SQLite (3.35+) drops a column in place: rebuilding trainings would trip the enrolments'
    # foreign key to it
    op.execute("ALTER TABLE trainings DROP COLUMN announced_at")
    op.execute("ALTER TABLE trainings DROP COLUMN created_at")
    op.drop_index("ix_news_choices_phone", table_name="news_choices")
    op.drop_table("news_choices")
