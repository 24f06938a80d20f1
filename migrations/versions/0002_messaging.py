"""messaging: inbound and outbound messages, status callbacks, outbox, opt-outs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Tables of bot/messaging/schema.py (the Twilio WhatsApp and SMS channels).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("medium", sa.String(length=10), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("from_address", sa.String(length=40), nullable=False),
        sa.Column("to_address", sa.String(length=40), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("profile_name", sa.String(length=160), nullable=True),
        sa.Column("wa_id", sa.String(length=20), nullable=True),
        sa.Column("num_media", sa.Integer(), nullable=False),
        sa.Column("media_json", sa.Text(), nullable=True),
        sa.Column("latitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("longitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("location_label", sa.String(length=200), nullable=True),
        sa.Column("raw_params", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('text', 'empty', 'media', 'location', 'opt_out', 'opt_in')", name="ck_inbound_kind"
        ),
        sa.CheckConstraint("medium IN ('whatsapp', 'sms')", name="ck_inbound_medium"),
        sa.CheckConstraint(
            "status IN ('received', 'processing', 'processed', 'failed')", name="ck_inbound_status"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_sid"),
    )
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_phone_received", ["phone", "received_at"], unique=False)
        batch_op.create_index("ix_inbound_status", ["status"], unique=False)

    op.create_table(
        "opt_out_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("keyword", sa.String(length=20), nullable=False),
        sa.Column("medium", sa.String(length=10), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("action IN ('opt_out', 'opt_in')", name="ck_opt_action"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("opt_out_events", schema=None) as batch_op:
        batch_op.create_index("ix_opt_out_phone_at", ["phone", "recorded_at"], unique=False)

    op.create_table(
        "outbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("medium", sa.String(length=10), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("to_address", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("content_sid", sa.String(length=64), nullable=True),
        sa.Column("content_variables", sa.Text(), nullable=True),
        sa.Column("sms_parts", sa.Integer(), nullable=True),
        sa.Column("encoding", sa.String(length=8), nullable=True),
        sa.Column("in_reply_to", sa.String(length=64), nullable=True),
        sa.Column("proactive", sa.Boolean(), nullable=False),
        sa.Column("twilio_sid", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error_code", sa.String(length=12), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("medium IN ('whatsapp', 'sms')", name="ck_outbound_medium"),
        sa.CheckConstraint(
            "status IN ('pending', 'outbox', 'skipped_opt_out', 'accepted', 'scheduled', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'read', 'canceled', 'partially_delivered')",
            name="ck_outbound_status",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("twilio_sid"),
    )
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbound_messages_in_reply_to"), ["in_reply_to"], unique=False)
        batch_op.create_index("ix_outbound_phone_created", ["phone", "created_at"], unique=False)

    op.create_table(
        "message_status_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbound_id", sa.Integer(), nullable=True),
        sa.Column("twilio_sid", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error_code", sa.String(length=12), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["outbound_id"], ["outbound_messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("message_status_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_status_events_outbound_id"), ["outbound_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_message_status_events_twilio_sid"), ["twilio_sid"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbound_id", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gave_up", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["outbound_id"], ["outbound_messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("outbound_id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["done_at", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox")
    with op.batch_alter_table("message_status_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_status_events_twilio_sid"))
        batch_op.drop_index(batch_op.f("ix_message_status_events_outbound_id"))

    op.drop_table("message_status_events")
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_phone_created")
        batch_op.drop_index(batch_op.f("ix_outbound_messages_in_reply_to"))

    op.drop_table("outbound_messages")
    with op.batch_alter_table("opt_out_events", schema=None) as batch_op:
        batch_op.drop_index("ix_opt_out_phone_at")

    op.drop_table("opt_out_events")
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_status")
        batch_op.drop_index("ix_inbound_phone_received")

    op.drop_table("inbound_messages")
