"""console

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 02:48:30.037567
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("original_intent", sa.String(length=255), nullable=True),
        sa.Column("intent", sa.String(length=255), nullable=False),
        sa.Column("entities_json", sa.Text(), nullable=True),
        sa.Column("corrected_by", sa.String(length=80), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", name="uq_console_correction_event"),
    )
    with op.batch_alter_table("console_corrections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_corrections_sender_id"), ["sender_id"], unique=False)

    op.create_table(
        "console_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=True),
        sa.Column("intent", sa.String(length=255), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("entities_json", sa.Text(), nullable=True),
        sa.Column("medium", sa.String(length=10), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("in_reply_to", sa.String(length=255), nullable=True),
        sa.Column("media_json", sa.Text(), nullable=True),
        sa.Column("location_json", sa.Text(), nullable=True),
        sa.Column("action_name", sa.String(length=255), nullable=True),
        sa.CheckConstraint("kind IN ('user', 'bot', 'action')", name="ck_console_message_kind"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("console_messages", schema=None) as batch_op:
        batch_op.create_index("ix_console_messages_intent", ["intent"], unique=False)
        batch_op.create_index(batch_op.f("ix_console_messages_message_id"), ["message_id"], unique=False)
        batch_op.create_index("ix_console_messages_sender_ts", ["sender_id", "ts"], unique=False)
        batch_op.create_index("ix_console_messages_ts", ["ts"], unique=False)

    op.create_table(
        "console_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("reviewed", sa.Boolean(), nullable=False),
        sa.Column("reviewed_up_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=80), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tags", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender_id"),
    )
    op.create_table(
        "console_sync_state",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "console_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_rows", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "console_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('viewer', 'officer', 'admin')", name="ck_console_user_role"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "console_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("farmer_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["console_users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("console_audit", schema=None) as batch_op:
        batch_op.create_index("ix_console_audit_at", ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_console_audit_farmer_id"), ["farmer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_console_audit_phone"), ["phone"], unique=False)

    op.create_table(
        "console_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("farmer_id", sa.Integer(), nullable=True),
        sa.Column("medium", sa.String(length=10), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("template", sa.Boolean(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("twilio_sids", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("human_request_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'skipped_opt_out')", name="ck_console_reply_status"
        ),
        sa.ForeignKeyConstraint(
            ["farmer_id"],
            ["farmers.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["console_users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("console_replies", schema=None) as batch_op:
        batch_op.create_index("ix_console_replies_phone_created", ["phone", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("console_replies", schema=None) as batch_op:
        batch_op.drop_index("ix_console_replies_phone_created")

    op.drop_table("console_replies")
    with op.batch_alter_table("console_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_audit_phone"))
        batch_op.drop_index(batch_op.f("ix_console_audit_farmer_id"))
        batch_op.drop_index("ix_console_audit_at")

    op.drop_table("console_audit")
    op.drop_table("console_users")
    op.drop_table("console_uploads")
    op.drop_table("console_sync_state")
    op.drop_table("console_reviews")
    with op.batch_alter_table("console_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_console_messages_ts")
        batch_op.drop_index("ix_console_messages_sender_ts")
        batch_op.drop_index(batch_op.f("ix_console_messages_message_id"))
        batch_op.drop_index("ix_console_messages_intent")

    op.drop_table("console_messages")
    with op.batch_alter_table("console_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_corrections_sender_id"))

    op.drop_table("console_corrections")
