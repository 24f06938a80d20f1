"""notices: what farmers are told without asking, planned once, released into their conversation

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-19 12:00:00

notices holds each notice (idempotency key unique), notice_cursors how far each planner has read
its source. A released notice enters the farmer's conversation as an inbound message of the new
kind "notice", so the kind's CHECK constraint takes it: on PostgreSQL a constraint swap; SQLite
cannot alter a constraint, so its inbound_messages is rebuilt from its own CREATE statement with
only that list changed, as https://www.sqlite.org/lang_altertable.html section 7 describes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('text', 'empty', 'media', 'location', 'opt_out', 'opt_in')"
NEW_KINDS = "kind IN ('text', 'empty', 'media', 'location', 'opt_out', 'opt_in', 'notice')"


def _inbound_kinds(old: str, new: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint("ck_inbound_kind", "inbound_messages", type_="check")
        op.create_check_constraint("ck_inbound_kind", "inbound_messages", new)
        return
    table_sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'inbound_messages'"
    ).scalar_one()
    if old not in table_sql:
        raise RuntimeError("inbound_messages: the kind constraint is not the one this revision expects")
    index_sqls = [
        row[0]
        for row in bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'inbound_messages' AND sql IS NOT NULL"
        )
    ]
    rebuilt = table_sql.replace(old, new).replace("inbound_messages", "inbound_messages_rebuilt", 1)
    bind.exec_driver_sql(rebuilt)
    bind.exec_driver_sql("INSERT INTO inbound_messages_rebuilt SELECT * FROM inbound_messages")
    bind.exec_driver_sql("DROP TABLE inbound_messages")
    bind.exec_driver_sql("ALTER TABLE inbound_messages_rebuilt RENAME TO inbound_messages")
    for index_sql in index_sqls:
        bind.exec_driver_sql(index_sql)


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("farmer_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("variables", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_note", sa.Text(), nullable=True),
        sa.Column("route", sa.String(length=20), nullable=True),
        sa.Column("content_sid", sa.String(length=64), nullable=True),
        sa.Column("message_sid", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('payment')", name="ck_notice_kind"),
        sa.CheckConstraint(
            "status IN ('scheduled', 'released', 'skipped_opt_out', 'skipped_no_consent', "
            "'skipped_opposed', 'skipped_no_phone')",
            name="ck_notice_status",
        ),
        sa.CheckConstraint(
            "route IS NULL OR route IN ('whatsapp_text', 'whatsapp_template', 'sms', 'sms_no_template')",
            name="ck_notice_route",
        ),
        sa.ForeignKeyConstraint(["farmer_id"], ["farmers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("message_sid"),
    )
    op.create_index("ix_notices_status_due", "notices", ["status", "due_at"])
    op.create_index("ix_notices_phone", "notices", ["phone"])
    op.create_index("ix_notices_farmer_id", "notices", ["farmer_id"])
    op.create_table(
        "notice_cursors",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("position", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_index("ix_invoices_updated_at", "invoices", ["updated_at"])
    _inbound_kinds(OLD_KINDS, NEW_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM inbound_messages WHERE kind = 'notice'")
    _inbound_kinds(NEW_KINDS, OLD_KINDS)
    op.drop_index("ix_invoices_updated_at", table_name="invoices")
    op.drop_table("notice_cursors")
    op.drop_index("ix_notices_farmer_id", table_name="notices")
    op.drop_index("ix_notices_phone", table_name="notices")
    op.drop_index("ix_notices_status_due", table_name="notices")
    op.drop_table("notices")
