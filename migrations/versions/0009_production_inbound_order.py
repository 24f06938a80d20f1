"""production mode: per-farmer sequence numbers, turn bookkeeping, partition leases

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 12:00:00

What the webhook gateway (bot/gateway) and the Rasa workers (bot/worker) need on top of the
messaging tables: each stored inbound message gets its phone's next sequence number (from
farmer_sequences, in the same transaction), its queue partition, when the broker confirmed it, a
worker's claim while its turn runs, when a failed turn is tried again and when the farmer was told
we would answer soon. A turn's replies are recorded once: unique (in_reply_to, reply_position).
partition_leases and worker_heartbeats spread the inbound queues over the live workers.

Every new column is nullable and every unique rule is a unique index, so the upgrade is plain
ALTER TABLE ... ADD COLUMN and CREATE INDEX on SQLite and PostgreSQL (no table rebuild).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INBOUND_COLUMNS = (
    ("farmer_seq", sa.Integer),
    ("queue_partition", sa.Integer),
    ("published_at", lambda: sa.DateTime(timezone=True)),
    ("claimed_by", lambda: sa.String(length=80)),
    ("claimed_until", lambda: sa.DateTime(timezone=True)),
    ("next_attempt_at", lambda: sa.DateTime(timezone=True)),
    ("failure_noted_at", lambda: sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.create_table(
        "farmer_sequences",
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("phone"),
    )
    op.create_table(
        "partition_leases",
        sa.Column("queue_partition", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("worker_id", sa.String(length=80), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("queue_partition"),
    )
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker_id", sa.String(length=80), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("worker_id"),
    )
    for name, kind in INBOUND_COLUMNS:
        op.add_column("inbound_messages", sa.Column(name, kind(), nullable=True))
    op.create_index("uq_inbound_phone_seq", "inbound_messages", ["phone", "farmer_seq"], unique=True)
    op.create_index("ix_inbound_partition_status", "inbound_messages", ["queue_partition", "status"])
    op.add_column("outbound_messages", sa.Column("reply_position", sa.Integer(), nullable=True))
    op.create_index(
        "uq_outbound_reply_position", "outbound_messages", ["in_reply_to", "reply_position"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_outbound_reply_position", table_name="outbound_messages")
    with op.batch_alter_table("outbound_messages") as batch_op:
        batch_op.drop_column("reply_position")
    op.drop_index("ix_inbound_partition_status", table_name="inbound_messages")
    op.drop_index("uq_inbound_phone_seq", table_name="inbound_messages")
    with op.batch_alter_table("inbound_messages") as batch_op:
        for name, _kind in reversed(INBOUND_COLUMNS):
            batch_op.drop_column(name)
    op.drop_table("worker_heartbeats")
    op.drop_table("partition_leases")
    op.drop_table("farmer_sequences")
