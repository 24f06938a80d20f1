"""ARCO requests, their steps, and the purposes a farmer opposed

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ARCO_RIGHTS = ("access", "rectification", "cancellation", "opposition")
ARCO_STATUSES = ("open", "blocked", "done", "rejected")
ARCO_ACTIONS = (
    "recorded",
    "access_json",
    "access_html",
    "rectified",
    "blocked",
    "suppressed",
    "opposed",
    "closed",
    "rejected",
)
OPPOSITION_PURPOSES = ("notices", "broadcasts")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "arco_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("farmer_id", sa.Integer(), nullable=False),
        sa.Column("arco_right", sa.String(length=16), nullable=False),
        sa.Column("identity_check", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("blocked_phones", sa.Text(), nullable=True),
        sa.CheckConstraint(_one_of("arco_right", ARCO_RIGHTS), name="ck_arco_right"),
        sa.CheckConstraint(_one_of("status", ARCO_STATUSES), name="ck_arco_status"),
        sa.ForeignKeyConstraint(["farmer_id"], ["farmers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_arco_requests_farmer_id", "arco_requests", ["farmer_id"])
    op.create_table(
        "arco_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_by", sa.String(length=80), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.CheckConstraint(_one_of("action", ARCO_ACTIONS), name="ck_arco_step_action"),
        sa.ForeignKeyConstraint(["request_id"], ["arco_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_arco_steps_request_id", "arco_steps", ["request_id"])
    op.create_table(
        "purpose_oppositions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("farmer_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("purpose", sa.String(length=12), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(_one_of("purpose", OPPOSITION_PURPOSES), name="ck_opposition_purpose"),
        sa.ForeignKeyConstraint(["farmer_id"], ["farmers.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["arco_requests.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_purpose_oppositions_farmer_id", "purpose_oppositions", ["farmer_id"])


def downgrade() -> None:
    op.drop_index("ix_purpose_oppositions_farmer_id", table_name="purpose_oppositions")
    op.drop_table("purpose_oppositions")
    op.drop_index("ix_arco_steps_request_id", table_name="arco_steps")
    op.drop_table("arco_steps")
    op.drop_index("ix_arco_requests_farmer_id", table_name="arco_requests")
    op.drop_table("arco_requests")
