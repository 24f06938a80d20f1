"""console: a notice's event in a conversation is a console message of its own kind, "notice"

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-21 12:00:00

The console copies Rasa's user events into console_messages; the one that carried a notice into a
farmer's conversation (intent "notice", its id NT...) was copied as kind "user", and every reader
had to tell it from what the farmer wrote. bot/console/tracker.py now copies it as kind "notice",
so the kind's CHECK constraint takes it: on PostgreSQL a constraint swap; SQLite cannot alter a
constraint, so its console_messages is rebuilt from its own CREATE statement with only that list
changed (bot/records/migrate.py, swap_check_constraints). A data step re-classifies the rows
copied before this revision; the downgrade makes them "user" again.
"""

from alembic import op

from bot.records.migrate import swap_check_constraints

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLE = "console_messages"
CONSTRAINT = "ck_console_message_kind"
OLD_KINDS = "kind IN ('user', 'bot', 'action')"
NEW_KINDS = "kind IN ('user', 'notice', 'bot', 'action')"
# The rows this revision re-classifies: the notice's intent, or a notice's message id (NT...).
NOTICE_ROWS = "kind = 'user' AND (intent = 'notice' OR message_id LIKE 'NT%')"


def _message_kinds(old: str, new: str) -> None:
    """Swaps the kind's CHECK constraint from ``old`` to ``new``."""
    swap_check_constraints(op, TABLE, {CONSTRAINT: (old, new)})


def upgrade() -> None:
    _message_kinds(OLD_KINDS, NEW_KINDS)
    op.execute(f"UPDATE {TABLE} SET kind = 'notice' WHERE {NOTICE_ROWS}")


def downgrade() -> None:
    op.execute(f"UPDATE {TABLE} SET kind = 'user' WHERE kind = 'notice'")
    _message_kinds(NEW_KINDS, OLD_KINDS)
