"""program records

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "avocado_calibres",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calibre", sa.Integer(), nullable=False),
        sa.Column("weight_min_g", sa.Integer(), nullable=True),
        sa.Column("weight_max_g", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("purchased", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("confidence", sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("calibre"),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("notice_version", sa.String(length=20), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consents_phone"), ["phone"], unique=False)

    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("state", sa.String(length=60), nullable=False),
        sa.Column("led_by_women", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "quality_standards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=40), nullable=False),
        sa.Column("grade", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("confidence", sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("product", "grade", name="uq_standard_product_grade"),
    )
    op.create_table(
        "trainings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("topic", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=160), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=40), nullable=False),
        sa.Column("venue", sa.String(length=160), nullable=False),
        sa.Column("municipality", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=60), nullable=False),
        sa.Column("latitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("longitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("seats_taken", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "topic IN ('agronomia', 'regenerativa', 'calidad', 'negocios', 'liderazgo')",
            name="ck_training_topic",
        ),
        sa.CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="ck_training_seats"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("trainings", schema=None) as batch_op:
        batch_op.create_index("ix_trainings_starts_at", ["starts_at"], unique=False)

    op.create_table(
        "farmers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("folio", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("state", sa.String(length=60), nullable=False),
        sa.Column("municipality", sa.String(length=100), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("preferred_medium", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("preferred_medium IN ('whatsapp', 'sms')", name="ck_farmer_medium"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("folio"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("farmer_id", sa.Integer(), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("product", sa.String(length=40), nullable=False),
        sa.Column("collection_center", sa.String(length=120), nullable=True),
        sa.Column("kg_delivered", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("kg_accepted", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("kg_rejected", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["farmer_id"],
            ["farmers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deliveries_farmer_id"), ["farmer_id"], unique=False)

    op.create_table(
        "enrolments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("training_id", sa.Integer(), nullable=False),
        sa.Column("farmer_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('active', 'cancelled')", name="ck_enrolment_status"),
        sa.ForeignKeyConstraint(
            ["farmer_id"],
            ["farmers.id"],
        ),
        sa.ForeignKeyConstraint(
            ["training_id"],
            ["trainings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("training_id", "farmer_id", name="uq_enrolment"),
    )
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolments_farmer_id"), ["farmer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrolments_training_id"), ["training_id"], unique=False)

    op.create_table(
        "farmer_crops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("farmer_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=40), nullable=False),
        sa.Column("hectares", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.ForeignKeyConstraint(["farmer_id"], ["farmers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("farmer_id", "product", name="uq_farmer_crop"),
    )
    op.create_table(
        "farmer_phones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("farmer_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["farmer_id"], ["farmers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("farmer_id", "phone", name="uq_farmer_phone"),
    )
    with op.batch_alter_table("farmer_phones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_farmer_phones_phone"), ["phone"], unique=False)

    op.create_table(
        "human_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("farmer_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("last_message", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("assigned_to", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'in_progress', 'closed')", name="ck_request_status"),
        sa.ForeignKeyConstraint(
            ["farmer_id"],
            ["farmers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("human_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_human_requests_phone"), ["phone"], unique=False)

    op.create_table(
        "payment_access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("farmer_id", sa.Integer(), nullable=False),
        sa.Column("invoice_folios", sa.Text(), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["farmer_id"],
            ["farmers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "phone_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("farmer_id", sa.Integer(), nullable=False),
        sa.Column("verified_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["farmer_id"],
            ["farmers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("phone", "farmer_id", name="uq_verification"),
    )
    with op.batch_alter_table("phone_verifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_phone_verifications_phone"), ["phone"], unique=False)

    op.create_table(
        "delivery_grades",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=20), nullable=False),
        sa.Column("calibre", sa.Integer(), nullable=True),
        sa.Column("kg", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "delivery_rejections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("kg", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.CheckConstraint(
            "reason IN ('mechanical_damage', 'size_out_of_range', 'ripeness', 'pests', 'disease', 'sunburn', 'other')",
            name="ck_rejection_reason",
        ),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("folio", sa.String(length=20), nullable=False),
        sa.Column("farmer_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("amount_mxn", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("scheduled_on", sa.Date(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("bank_reference_last4", sa.String(length=4), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('received', 'in_review', 'scheduled', 'paid', 'rejected', 'on_hold')",
            name="ck_invoice_status",
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
        ),
        sa.ForeignKeyConstraint(
            ["farmer_id"],
            ["farmers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("folio"),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invoices_farmer_id"), ["farmer_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoices_farmer_id"))

    op.drop_table("invoices")
    op.drop_table("delivery_rejections")
    op.drop_table("delivery_grades")
    with op.batch_alter_table("phone_verifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phone_verifications_phone"))

    op.drop_table("phone_verifications")
    op.drop_table("payment_access_log")
    with op.batch_alter_table("human_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_human_requests_phone"))

    op.drop_table("human_requests")
    with op.batch_alter_table("farmer_phones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_farmer_phones_phone"))

    op.drop_table("farmer_phones")
    op.drop_table("farmer_crops")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolments_training_id"))
        batch_op.drop_index(batch_op.f("ix_enrolments_farmer_id"))

    op.drop_table("enrolments")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_farmer_id"))

    op.drop_table("deliveries")
    op.drop_table("farmers")
    with op.batch_alter_table("trainings", schema=None) as batch_op:
        batch_op.drop_index("ix_trainings_starts_at")

    op.drop_table("trainings")
    op.drop_table("quality_standards")
    op.drop_table("organisations")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_phone"))

    op.drop_table("consents")
    op.drop_table("avocado_calibres")
