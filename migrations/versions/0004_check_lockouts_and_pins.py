"""check code: escalating lockouts held for staff, and a farmer's personal PIN

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("phone_verifications") as batch:
        batch.add_column(sa.Column("lockouts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("held_for_staff", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("farmers") as batch:
        batch.add_column(sa.Column("pin_hash", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("pin_set_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("farmers") as batch:
        batch.drop_column("pin_set_at")
        batch.drop_column("pin_hash")
    with op.batch_alter_table("phone_verifications") as batch:
        batch.drop_column("held_for_staff")
        batch.drop_column("lockouts")
