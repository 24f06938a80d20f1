"""the senders' shared pace, outbox priority, and the notices about trainings

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-20 12:00:00

- outbox.priority orders the claims (0 a reply to a farmer who wrote, then notices by kind).
- sender_paces holds, for each Twilio sender, when it is next free to send, shared by every
  process that sends (bot/messaging/pacing.py).
- notices take the kinds about trainings (reminder, training_moved, training_cancelled) and the
  status skipped_stale (the enrolment or the session changed before a reminder went). On
  PostgreSQL a constraint swap; SQLite cannot alter a constraint, so its notices table is rebuilt
  from its own CREATE statement with only those lists changed (as revision 0012 does).
- enrolments remember what the farmer was told of the session (told_starts_at, told_venue: a
  session moved since is told again) and when they confirmed they will go (confirmed_at).
"""

import sqlalchemy as sa
from alembic import op

from bot.records.migrate import swap_check_constraints

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('payment')"
NEW_KINDS = "kind IN ('payment', 'reminder', 'training_moved', 'training_cancelled')"
OLD_STATUSES = (
    "status IN ('scheduled', 'released', 'skipped_opt_out', 'skipped_no_consent', "
    "'skipped_opposed', 'skipped_no_phone')"
)
NEW_STATUSES = (
    "status IN ('scheduled', 'released', 'skipped_opt_out', 'skipped_no_consent', "
    "'skipped_opposed', 'skipped_no_phone', 'skipped_stale')"
)


def _notice_checks(kinds: tuple[str, str], statuses: tuple[str, str]) -> None:
    """Swaps the notices' kind and status constraints from the first of each pair to the second."""
    swap_check_constraints(op, "notices", {"ck_notice_kind": kinds, "ck_notice_status": statuses})


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_outbox_claim_order", "outbox", ["done_at", "priority", "next_attempt_at"])
    op.create_table(
        "sender_paces",
        sa.Column("sender", sa.String(length=80), nullable=False),
        sa.Column("next_free_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("sender"),
    )
    _notice_checks((OLD_KINDS, NEW_KINDS), (OLD_STATUSES, NEW_STATUSES))
    op.add_column("enrolments", sa.Column("told_starts_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("enrolments", sa.Column("told_venue", sa.String(length=160), nullable=True))
    op.add_column("enrolments", sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE enrolments SET "
        "told_starts_at = (SELECT starts_at FROM trainings WHERE trainings.id = enrolments.training_id), "
        "told_venue = (SELECT venue FROM trainings WHERE trainings.id = enrolments.training_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("enrolments") as batch:
        batch.drop_column("confirmed_at")
        batch.drop_column("told_venue")
        batch.drop_column("told_starts_at")
    op.execute("DELETE FROM notices WHERE kind <> 'payment' OR status = 'skipped_stale'")
    _notice_checks((NEW_KINDS, OLD_KINDS), (NEW_STATUSES, OLD_STATUSES))
    op.drop_table("sender_paces")
    op.drop_index("ix_outbox_claim_order", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("priority")
