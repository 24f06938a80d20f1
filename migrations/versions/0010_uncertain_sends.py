"""outbound status 'uncertain': a send whose answer from Twilio was lost

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10 12:00:00
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BEFORE = (
    "pending",
    "outbox",
    "skipped_opt_out",
    "accepted",
    "scheduled",
    "queued",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "read",
    "canceled",
    "partially_delivered",
)
AFTER = (*BEFORE, "uncertain")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _foreign_keys(on: bool) -> None:
    """SQLite: switched outside the transaction (inside one the pragma does nothing)."""
    with op.get_context().autocommit_block():
        op.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _statuses(values: tuple[str, ...]) -> None:
    """SQLite changes a CHECK by copying the table; dropping the old copy with foreign keys on
    would first delete every outbox entry and status event of it (ON DELETE CASCADE), so they
    are off while it runs."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _foreign_keys(False)
    try:
        with op.batch_alter_table("outbound_messages") as batch:
            batch.drop_constraint("ck_outbound_status", type_="check")
            batch.create_check_constraint("ck_outbound_status", _one_of("status", values))
    finally:
        if sqlite:
            _foreign_keys(True)


def upgrade() -> None:
    _statuses(AFTER)


def downgrade() -> None:
    op.execute("UPDATE outbound_messages SET status = 'outbox' WHERE status = 'uncertain'")
    _statuses(BEFORE)
