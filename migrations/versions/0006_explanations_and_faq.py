"""explanations of reasons and terms, the FAQ, and invoice reason codes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 14:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

HOLD_REASONS = (
    "missing_cfdi_xml",
    "rfc_mismatch",
    "amount_mismatch",
    "duplicate_invoice",
    "bank_account",
    "other",
)
KINDS = ("rejection", "hold", "status", "term")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("status_reason_code", sa.String(length=30), nullable=True))
        batch.create_check_constraint(
            "ck_invoice_reason_code",
            f"status_reason_code IS NULL OR {_one_of('status_reason_code', HOLD_REASONS)}",
        )
    op.create_table(
        "explanations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("what_to_do", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("confidence", sa.String(length=12), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_one_of("kind", KINDS), name="ck_explanation_kind"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "faq_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )


def downgrade() -> None:
    op.drop_table("faq_entries")
    op.drop_table("explanations")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_constraint("ck_invoice_reason_code", type_="check")
        batch.drop_column("status_reason_code")
