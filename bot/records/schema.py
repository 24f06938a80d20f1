"""The tables a smallholder supply program keeps. Schema only: queries live in their own modules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.sql.expression import false as sa_false

from bot.records import vocabulary
from bot.records.vocabulary import codes
from bot.timeutil import as_utc, utcnow

# Typed as Any: SQLAlchemy 1.4's declarative base is built at run time, which mypy cannot follow
# without the deprecated sqlalchemy-stubs plugin.
Base: Any = declarative_base()


def one_of(column: str, values: tuple[str, ...]) -> str:
    """A CHECK constraint's SQL: the column holds one of the vocabulary's codes."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


MEDIA = codes(vocabulary.MEDIA)
INVOICE_STATUSES = codes(vocabulary.INVOICE_STATUSES)
REJECTION_REASONS = codes(vocabulary.REJECTION_REASONS)
TRAINING_TOPICS = codes(vocabulary.TRAINING_TOPICS)
ENROLMENT_STATUSES = codes(vocabulary.ENROLMENT_STATUSES)
REQUEST_STATUSES = codes(vocabulary.REQUEST_STATUSES)
HOLD_REASONS = codes(vocabulary.HOLD_REASONS)
EXPLANATION_KINDS = codes(vocabulary.EXPLANATION_KINDS)
CONSENT_KINDS = codes(vocabulary.CONSENT_KINDS)


class Organisation(Base):
    __tablename__ = "organisations"
    id = Column(Integer, primary_key=True)
    name = Column(String(160), nullable=False, unique=True)
    state = Column(String(60), nullable=False)
    led_by_women = Column(Boolean, nullable=False, default=False)


class Farmer(Base):
    __tablename__ = "farmers"
    __table_args__ = (CheckConstraint(one_of("preferred_medium", MEDIA), name="ck_farmer_medium"),)
    id = Column(Integer, primary_key=True)
    folio = Column(String(20), nullable=False, unique=True)  # program folio, e.g. PP-014237
    name = Column(String(160), nullable=False)
    state = Column(String(60), nullable=False)
    municipality = Column(String(100), nullable=False)
    organisation_id = Column(Integer, ForeignKey("organisations.id"), nullable=True)
    preferred_medium = Column(String(10), nullable=False, default="whatsapp")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    # A personal 4-digit PIN the farmer chose after a first check with the folio digits; it then
    # replaces them. Only its hash is kept (bot/records/privacy.py); staff can reset it.
    pin_hash = Column(String(200), nullable=True)
    pin_set_at = Column(DateTime(timezone=True), nullable=True)

    organisation = relationship("Organisation")
    phones = relationship("FarmerPhone", back_populates="farmer", cascade="all, delete-orphan")
    crops = relationship("FarmerCrop", cascade="all, delete-orphan")


class FarmerPhone(Base):
    """A basic phone is often shared by a family: one number may belong to several farmers."""

    __tablename__ = "farmer_phones"
    __table_args__ = (UniqueConstraint("farmer_id", "phone", name="uq_farmer_phone"),)
    id = Column(Integer, primary_key=True)
    farmer_id = Column(Integer, ForeignKey("farmers.id", ondelete="CASCADE"), nullable=False)
    phone = Column(String(20), nullable=False, index=True)  # normalised, +52XXXXXXXXXX
    farmer = relationship("Farmer", back_populates="phones")


class FarmerCrop(Base):
    __tablename__ = "farmer_crops"
    __table_args__ = (UniqueConstraint("farmer_id", "product", name="uq_farmer_crop"),)
    id = Column(Integer, primary_key=True)
    farmer_id = Column(Integer, ForeignKey("farmers.id", ondelete="CASCADE"), nullable=False)
    product = Column(String(40), nullable=False)
    hectares = Column(Numeric(8, 2), nullable=True)


class Delivery(Base):
    __tablename__ = "deliveries"
    id = Column(Integer, primary_key=True)
    farmer_id = Column(Integer, ForeignKey("farmers.id"), nullable=False, index=True)
    delivered_on = Column(Date, nullable=False)
    product = Column(String(40), nullable=False)
    collection_center = Column(String(120), nullable=True)
    kg_delivered = Column(Numeric(10, 2), nullable=False)
    kg_accepted = Column(Numeric(10, 2), nullable=False)
    kg_rejected = Column(Numeric(10, 2), nullable=False, default=0)

    rejections = relationship("DeliveryRejection", cascade="all, delete-orphan")
    grades = relationship("DeliveryGrade", cascade="all, delete-orphan")


class DeliveryRejection(Base):
    __tablename__ = "delivery_rejections"
    __table_args__ = (CheckConstraint(one_of("reason", REJECTION_REASONS), name="ck_rejection_reason"),)
    id = Column(Integer, primary_key=True)
    delivery_id = Column(Integer, ForeignKey("deliveries.id", ondelete="CASCADE"), nullable=False)
    reason = Column(String(30), nullable=False)
    kg = Column(Numeric(10, 2), nullable=False)


class DeliveryGrade(Base):
    """Accepted kilos by grade and, for avocado, by calibre (fruit per 25-lb carton)."""

    __tablename__ = "delivery_grades"
    id = Column(Integer, primary_key=True)
    delivery_id = Column(Integer, ForeignKey("deliveries.id", ondelete="CASCADE"), nullable=False)
    grade = Column(String(20), nullable=False)
    calibre = Column(Integer, nullable=True)
    kg = Column(Numeric(10, 2), nullable=False)


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint(one_of("status", INVOICE_STATUSES), name="ck_invoice_status"),
        CheckConstraint(
            f"status_reason_code IS NULL OR {one_of('status_reason_code', HOLD_REASONS)}",
            name="ck_invoice_reason_code",
        ),
        Index("ix_invoices_updated_at", "updated_at"),  # the payment notices' planner reads by it
    )
    id = Column(Integer, primary_key=True)
    folio = Column(String(20), nullable=False, unique=True)  # e.g. F-204518
    farmer_id = Column(Integer, ForeignKey("farmers.id"), nullable=False, index=True)
    delivery_id = Column(Integer, ForeignKey("deliveries.id"), nullable=True)
    amount_mxn = Column(Numeric(12, 2), nullable=False)
    status = Column(String(20), nullable=False)
    status_reason = Column(Text, nullable=True)  # why on hold or rejected, as staff wrote it
    status_reason_code = Column(String(30), nullable=True)  # the same as a code of HOLD_REASONS
    issued_on = Column(Date, nullable=False)
    scheduled_on = Column(Date, nullable=True)
    paid_on = Column(Date, nullable=True)
    bank_reference_last4 = Column(String(4), nullable=True)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)

    farmer = relationship("Farmer")
    delivery = relationship("Delivery")


class Training(Base):
    __tablename__ = "trainings"
    __table_args__ = (
        CheckConstraint(one_of("topic", TRAINING_TOPICS), name="ck_training_topic"),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="ck_training_seats"),
        Index("ix_trainings_starts_at", "starts_at"),
    )
    id = Column(Integer, primary_key=True)
    code = Column(String(20), nullable=False, unique=True)  # e.g. CAP-0042
    topic = Column(String(20), nullable=False)
    title = Column(String(160), nullable=False)
    description = Column(Text, nullable=False)
    starts_at = Column(DateTime(timezone=True), nullable=False)  # stored in UTC
    timezone = Column(String(40), nullable=False)  # the venue's IANA zone
    venue = Column(String(160), nullable=False)
    municipality = Column(String(100), nullable=False)
    state = Column(String(60), nullable=False)
    latitude = Column(Numeric(9, 6), nullable=True)
    longitude = Column(Numeric(9, 6), nullable=True)
    capacity = Column(Integer, nullable=False)
    seats_taken = Column(Integer, nullable=False, default=0)
    cancelled = Column(Boolean, nullable=False, default=False)
    # When it was added (sessions older than revision 0015 have none), and when the farmers near
    # it who asked for news were told of it (bot/records/training_notices.py): once.
    created_at = Column(DateTime(timezone=True), nullable=True, default=utcnow)
    announced_at = Column(DateTime(timezone=True), nullable=True)

    def starts_at_utc(self) -> datetime:
        return as_utc(self.starts_at)


class Enrolment(Base):
    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("training_id", "farmer_id", name="uq_enrolment"),
        CheckConstraint(one_of("status", ENROLMENT_STATUSES), name="ck_enrolment_status"),
    )
    id = Column(Integer, primary_key=True)
    training_id = Column(Integer, ForeignKey("trainings.id"), nullable=False, index=True)
    farmer_id = Column(Integer, ForeignKey("farmers.id"), nullable=False, index=True)
    status = Column(String(10), nullable=False, default="active")
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    cancelled_at = Column(DateTime(timezone=True), nullable=True)
    # What the farmer was last told of the session: when it moves, they are told again
    # (bot/records/training_notices.py).
    told_starts_at = Column(DateTime(timezone=True), nullable=True)
    told_venue = Column(String(160), nullable=True)
    confirmed_at = Column(DateTime(timezone=True), nullable=True)  # "1" to a reminder: they will go

    training = relationship("Training")
    farmer = relationship("Farmer")


class QualityStandard(Base):
    """What the buyer requires for a product and grade, with the source it was taken from."""

    __tablename__ = "quality_standards"
    __table_args__ = (UniqueConstraint("product", "grade", name="uq_standard_product_grade"),)
    id = Column(Integer, primary_key=True)
    product = Column(String(40), nullable=False)
    grade = Column(String(20), nullable=False)  # extra, primera, segunda, minimos, madurez, ...
    summary = Column(Text, nullable=False)  # one short paragraph for a basic phone
    details = Column(Text, nullable=False)
    source = Column(Text, nullable=False)
    confidence = Column(String(12), nullable=False)  # VERIFIED / SECONDARY


class AvocadoCalibre(Base):
    """Hass count system: calibre N = N fruit per 25-lb (11.3 kg) carton. Weights are per fruit."""

    __tablename__ = "avocado_calibres"
    id = Column(Integer, primary_key=True)
    calibre = Column(Integer, nullable=False, unique=True)
    weight_min_g = Column(Integer, nullable=True)
    weight_max_g = Column(Integer, nullable=True)
    label = Column(String(60), nullable=False)
    purchased = Column(Boolean, nullable=False, default=False)
    source = Column(Text, nullable=False)
    confidence = Column(String(12), nullable=False)


class Consent(Base):
    """Privacy notice shown and the answer given, per phone number, with its time (LFPDPPP)."""

    __tablename__ = "consents"
    __table_args__ = (CheckConstraint(one_of("kind", CONSENT_KINDS), name="ck_consent_kind"),)
    id = Column(Integer, primary_key=True)
    phone = Column(String(20), nullable=False, index=True)
    accepted = Column(Boolean, nullable=False)
    notice_version = Column(String(20), nullable=False)
    recorded_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    # "answer" to the notice, or a "revocation" (always accepted=False); vocabulary.CONSENT_KINDS
    kind = Column(String(12), nullable=False, default="answer", server_default="answer")


class PhoneRelease(Base):
    """Staff marked this phone as no longer that farmer's: the number changed hands. Consents
    recorded before the latest release of a phone no longer apply to it."""

    __tablename__ = "phone_releases"
    id = Column(Integer, primary_key=True)
    phone = Column(String(20), nullable=False, index=True)
    farmer_id = Column(Integer, ForeignKey("farmers.id"), nullable=True)
    released_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    released_by = Column(String(80), nullable=False)
    note = Column(Text, nullable=True)


class PhoneVerification(Base):
    """The second check beyond the phone number before payment amounts are shown."""

    __tablename__ = "phone_verifications"
    __table_args__ = (UniqueConstraint("phone", "farmer_id", name="uq_verification"),)
    id = Column(Integer, primary_key=True)
    phone = Column(String(20), nullable=False, index=True)
    farmer_id = Column(Integer, ForeignKey("farmers.id"), nullable=False)
    verified_until = Column(DateTime(timezone=True), nullable=True)
    failed_attempts = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime(timezone=True), nullable=True)
    last_attempt_at = Column(DateTime(timezone=True), nullable=True)
    # How many times in a row this phone was locked out for this farmer (the lock grows each
    # time); after the last step the lock holds until a staff member lifts it.
    lockouts = Column(Integer, nullable=False, default=0, server_default="0")
    held_for_staff = Column(Boolean, nullable=False, default=False, server_default=sa_false())


class PaymentAccessLog(Base):
    """Every time payment data was shown in chat: which farmer, to which number, when."""

    __tablename__ = "payment_access_log"
    id = Column(Integer, primary_key=True)
    phone = Column(String(20), nullable=False)
    farmer_id = Column(Integer, ForeignKey("farmers.id"), nullable=False)
    invoice_folios = Column(Text, nullable=False)
    shown_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class HumanRequest(Base):
    __tablename__ = "human_requests"
    __table_args__ = (CheckConstraint(one_of("status", REQUEST_STATUSES), name="ck_request_status"),)
    id = Column(Integer, primary_key=True)
    phone = Column(String(20), nullable=False, index=True)
    farmer_id = Column(Integer, ForeignKey("farmers.id"), nullable=True)
    conversation_id = Column(String(64), nullable=False)
    reason = Column(String(30), nullable=False, default="asked")  # vocabulary.REQUEST_REASONS
    last_message = Column(Text, nullable=True)
    status = Column(String(12), nullable=False, default="open")
    assigned_to = Column(String(80), nullable=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    closed_at = Column(DateTime(timezone=True), nullable=True)


class HandledMessage(Base):
    """A message whose turn changed the records (a code attempt, a seat, a request for a person,
    a consent...) and the reply it got, written in the turn's own unit of work: the same message
    delivered again is answered with this reply and changes nothing (bot/assistant/redelivery.py).
    Kept for RETENTION_REPLIES_DAYS; erased with the phone's other data on an ARCO cancellation."""

    __tablename__ = "handled_messages"
    conversation_id = Column(String(64), primary_key=True)
    message_id = Column(String(64), primary_key=True)  # Twilio's MessageSid, or Rasa's uuid
    phone = Column(String(20), nullable=True, index=True)
    reply_json = Column(Text, nullable=False)
    handled_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


class Explanation(Base):
    """What a rejection cause, hold reason, invoice status or quality term means and what the
    farmer can do, in plain Spanish, with its source. Staff edit them in the console."""

    __tablename__ = "explanations"
    __table_args__ = (CheckConstraint(one_of("kind", EXPLANATION_KINDS), name="ck_explanation_kind"),)
    id = Column(Integer, primary_key=True)
    code = Column(String(40), nullable=False, unique=True)  # a reason code, or a term's own code
    kind = Column(String(12), nullable=False)
    title = Column(String(120), nullable=False)
    keywords = Column(Text, nullable=False)  # comma-separated words farmers use for it
    explanation = Column(Text, nullable=False)
    what_to_do = Column(Text, nullable=False)
    source = Column(Text, nullable=False)
    confidence = Column(String(12), nullable=False)
    updated_by = Column(String(80), nullable=True)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)


class FaqEntry(Base):
    """A program how-to the assistant answers. An answer with a "[POR LLENAR: …]" placeholder
    is a fact the project does not have: staff fill it; until then a person answers."""

    __tablename__ = "faq_entries"
    id = Column(Integer, primary_key=True)
    code = Column(String(40), nullable=False, unique=True)
    question = Column(Text, nullable=False)
    keywords = Column(Text, nullable=False)
    answer = Column(Text, nullable=False)
    source = Column(Text, nullable=False)
    updated_by = Column(String(80), nullable=True)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)
