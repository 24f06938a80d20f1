"""consent kinds (answer or revocation) and phones released by staff

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CONSENT_KINDS = ("answer", "revocation")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("consents") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=12), nullable=False, server_default="answer"))
        batch.create_check_constraint("ck_consent_kind", _one_of("kind", CONSENT_KINDS))
    op.create_table(
        "phone_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("farmer_id", sa.Integer(), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.String(length=80), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["farmer_id"], ["farmers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_phone_releases_phone", "phone_releases", ["phone"])


def downgrade() -> None:
    op.drop_index("ix_phone_releases_phone", table_name="phone_releases")
    op.drop_table("phone_releases")
    with op.batch_alter_table("consents") as batch:
        batch.drop_constraint("ck_consent_kind", type_="check")
        batch.drop_column("kind")
