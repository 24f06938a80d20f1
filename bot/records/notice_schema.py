"""Tables of the notices a farmer gets without asking (issue 14), on the program records' Base.

notices         one notice to one phone about one event, planned once (its idempotency key),
                held while it is night where the farmer lives, then handed to the farmer's
                conversation as a message of kind "notice" (bot/messaging/notices.py)
notice_cursors  how far each planner has read its source (e.g. invoices by updated_at)
news_choices    each phone's answers to "¿Quiere que le avisemos de capacitaciones nuevas cerca?"
                (a voluntary purpose, asked once; the latest answer counts; revision 0015)
broadcasts      a message an officer wrote for an audience (state, municipality, crop,
                organisation, medium), sent once an admin other than its author approved it:
                one notice of kind "broadcast" per phone (bot/records/broadcasts.py; revision 0016)
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)

from bot.records.schema import Base, one_of
from bot.records.vocabulary import (
    BROADCAST_STATUSES,
    MEDIA,
    NOTICE_KINDS,
    NOTICE_ROUTES,
    NOTICE_STATUSES,
    codes,
)
from bot.timeutil import utcnow


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (
        CheckConstraint(one_of("kind", codes(NOTICE_KINDS)), name="ck_notice_kind"),
        CheckConstraint(one_of("status", codes(NOTICE_STATUSES)), name="ck_notice_status"),
        CheckConstraint(f"route IS NULL OR {one_of('route', codes(NOTICE_ROUTES))}", name="ck_notice_route"),
        Index("ix_notices_status_due", "status", "due_at"),
        Index("ix_notices_phone", "phone"),
    )
    id = Column(Integer, primary_key=True)
    # The farmer and the event ("payment:F-204518:paid:2026-12-05:+524431000001"): a second
    # planner, a restart or a retry finds it taken and plans nothing.
    idempotency_key = Column(String(200), nullable=False, unique=True)
    kind = Column(String(20), nullable=False)
    priority = Column(Integer, nullable=False)  # lower goes first (bot/records/notices.py)
    farmer_id = Column(Integer, ForeignKey("farmers.id", ondelete="CASCADE"), nullable=True, index=True)
    phone = Column(String(20), nullable=False)  # normalised, +52XXXXXXXXXX
    subject = Column(String(40), nullable=False)  # what it is about: an invoice folio
    variables = Column(Text, nullable=False)  # JSON: the facts the sentence names, as planned
    due_at = Column(DateTime(timezone=True), nullable=False)
    status = Column(String(20), nullable=False, default="scheduled")
    status_note = Column(Text, nullable=True)  # why it waits or was not sent, for staff (Spanish)
    route = Column(String(20), nullable=True)  # how it goes out, decided when released
    content_sid = Column(String(64), nullable=True)  # the approved WhatsApp template, if one
    message_sid = Column(String(64), nullable=True, unique=True)  # its message in the conversation
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    released_at = Column(DateTime(timezone=True), nullable=True)


class NoticeCursor(Base):
    """Up to when a planner has read its source; it reads again a little before (rows written
    by a unit of work that committed late), and the idempotency key drops what it saw."""

    __tablename__ = "notice_cursors"
    name = Column(String(40), primary_key=True)
    position = Column(DateTime(timezone=True), nullable=False)


class NewsChoice(Base):
    """A phone's answer on news of new trainings near the farmer, with its time."""

    __tablename__ = "news_choices"
    id = Column(Integer, primary_key=True)
    phone = Column(String(20), nullable=False, index=True)
    accepted = Column(Boolean, nullable=False)
    # The question asked since revision 0016 names the program's news (broadcasts) as well as new
    # trainings; an earlier yes was to new trainings only.
    covers_broadcasts = Column(Boolean, nullable=False, default=False, server_default=false())
    recorded_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Broadcast(Base):
    """What an officer wrote, for whom, and who decided on it. The audience is each filter given
    (None: everyone); it is read when the scheduler plans the broadcast's notices, after the
    approval, and the notices (kind "broadcast", subject the broadcast's id) say how it went."""

    __tablename__ = "broadcasts"
    __table_args__ = (
        CheckConstraint(one_of("status", codes(BROADCAST_STATUSES)), name="ck_broadcast_status"),
        CheckConstraint(f"medium IS NULL OR {one_of('medium', codes(MEDIA))}", name="ck_broadcast_medium"),
    )
    id = Column(Integer, primary_key=True)
    text = Column(Text, nullable=False)  # as the officer wrote it; each medium's form is derived
    state = Column(String(60), nullable=True)
    municipality = Column(String(100), nullable=True)
    product = Column(String(40), nullable=True)  # a crop the farmer grows (farmer_crops.product)
    organisation_id = Column(Integer, ForeignKey("organisations.id", ondelete="SET NULL"), nullable=True)
    medium = Column(String(10), nullable=True)  # the farmer's preferred medium
    status = Column(String(20), nullable=False, default="pending")
    composed_by = Column(String(80), nullable=False)  # staff usernames: the records know no accounts
    composed_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    decided_by = Column(String(80), nullable=True)
    decided_at = Column(DateTime(timezone=True), nullable=True)
    decision_note = Column(Text, nullable=True)  # why it was rejected
    planned_at = Column(DateTime(timezone=True), nullable=True)  # when its notices were planned
    planned = Column(Integer, nullable=True)  # how many notices (phones) it was planned for
