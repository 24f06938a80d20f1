"""Tables of the messaging layer, on the same declarative Base as the program records.

inbound_messages   every message a farmer sent, stored before anything else can fail
outbound_messages  every message we sent or tried to send, with Twilio's SID and latest status
message_status_events  each status callback Twilio posted (queued, sent, delivered, read, ...)
outbox             replies that could not be sent yet; retried by the outbox worker
opt_out_events     BAJA / ALTA history per phone (the latest event counts)
farmer_sequences   production mode: each phone's last inbound sequence number (revision 0009)
partition_leases, worker_heartbeats  production mode: which Rasa worker owns which inbound queue
sender_paces       when each Twilio sender is next free to send (bot/messaging/pacing.py, 0013)
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import relationship

from bot.messaging import statuses
from bot.records.schema import MEDIA, Base, one_of
from bot.timeutil import utcnow

INBOUND_KINDS = statuses.INBOUND_KINDS
INBOUND_STATUSES = statuses.INBOUND_STATUSES
OUTBOUND_STATUSES = tuple(statuses.OUTBOUND_STATUSES)
OPT_ACTIONS = statuses.OPT_ACTIONS


class InboundMessage(Base):
    __tablename__ = "inbound_messages"
    __table_args__ = (
        CheckConstraint(one_of("medium", MEDIA), name="ck_inbound_medium"),
        CheckConstraint(one_of("kind", INBOUND_KINDS), name="ck_inbound_kind"),
        CheckConstraint(one_of("status", INBOUND_STATUSES), name="ck_inbound_status"),
        Index("ix_inbound_phone_received", "phone", "received_at"),
        Index("ix_inbound_status", "status"),
        # production mode (bot/gateway, bot/worker): a farmer's messages in the order stored
        Index("uq_inbound_phone_seq", "phone", "farmer_seq", unique=True),
        Index("ix_inbound_partition_status", "queue_partition", "status"),
    )
    id = Column(Integer, primary_key=True)
    message_sid = Column(String(64), nullable=False, unique=True)  # Twilio MessageSid
    medium = Column(String(10), nullable=False)
    phone = Column(String(20), nullable=False)  # normalised, +52XXXXXXXXXX
    from_address = Column(String(40), nullable=False)  # as Twilio sent it: whatsapp:+521...
    to_address = Column(String(40), nullable=True)
    body = Column(Text, nullable=False, default="")
    kind = Column(String(10), nullable=False, default="text")
    profile_name = Column(String(160), nullable=True)
    wa_id = Column(String(20), nullable=True)
    num_media = Column(Integer, nullable=False, default=0)
    media_json = Column(Text, nullable=True)  # [{"url": ..., "content_type": ...}]
    latitude = Column(Numeric(9, 6), nullable=True)
    longitude = Column(Numeric(9, 6), nullable=True)
    location_label = Column(String(200), nullable=True)
    raw_params = Column(Text, nullable=True)  # the whole webhook form as JSON, for staff
    status = Column(String(12), nullable=False, default="received")
    attempts = Column(Integer, nullable=False, default=0)
    error = Column(Text, nullable=True)
    received_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    processed_at = Column(DateTime(timezone=True), nullable=True)
    # Production mode (revision 0009; the Rasa channels leave them empty): the phone's sequence
    # number, its queue, when the broker confirmed it, which worker runs its turn until when, when
    # a failed turn is tried again, and when the farmer was told we would answer soon.
    farmer_seq = Column(Integer, nullable=True)
    queue_partition = Column(Integer, nullable=True)
    published_at = Column(DateTime(timezone=True), nullable=True)
    claimed_by = Column(String(80), nullable=True)
    claimed_until = Column(DateTime(timezone=True), nullable=True)
    next_attempt_at = Column(DateTime(timezone=True), nullable=True)
    failure_noted_at = Column(DateTime(timezone=True), nullable=True)


class OutboundMessage(Base):
    __tablename__ = "outbound_messages"
    __table_args__ = (
        CheckConstraint(one_of("medium", MEDIA), name="ck_outbound_medium"),
        CheckConstraint(one_of("status", OUTBOUND_STATUSES), name="ck_outbound_status"),
        Index("ix_outbound_phone_created", "phone", "created_at"),
        # a turn's replies are recorded once, however often the turn is finished (revision 0009)
        Index("uq_outbound_reply_position", "in_reply_to", "reply_position", unique=True),
    )
    id = Column(Integer, primary_key=True)
    medium = Column(String(10), nullable=False)
    phone = Column(String(20), nullable=False)
    to_address = Column(String(40), nullable=False)
    body = Column(Text, nullable=False, default="")
    content_sid = Column(String(64), nullable=True)  # approved WhatsApp template
    content_variables = Column(Text, nullable=True)
    sms_parts = Column(Integer, nullable=True)
    encoding = Column(String(8), nullable=True)
    in_reply_to = Column(String(64), nullable=True, index=True)  # inbound MessageSid
    reply_position = Column(Integer, nullable=True)  # its place among that turn's replies
    proactive = Column(Boolean, nullable=False, default=False)
    twilio_sid = Column(String(64), nullable=True, unique=True)
    status = Column(String(20), nullable=False, default="pending")
    error_code = Column(String(12), nullable=True)
    error = Column(Text, nullable=True)
    attempts = Column(Integer, nullable=False, default=0)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    sent_at = Column(DateTime(timezone=True), nullable=True)
    status_at = Column(DateTime(timezone=True), nullable=True)

    events = relationship("MessageStatusEvent", back_populates="outbound")


class MessageStatusEvent(Base):
    __tablename__ = "message_status_events"
    id = Column(Integer, primary_key=True)
    outbound_id = Column(
        Integer, ForeignKey("outbound_messages.id", ondelete="CASCADE"), nullable=True, index=True
    )
    twilio_sid = Column(String(64), nullable=False, index=True)
    status = Column(String(20), nullable=False)
    error_code = Column(String(12), nullable=True)
    received_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    outbound = relationship("OutboundMessage", back_populates="events")


class OutboxEntry(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "done_at", "next_attempt_at"),
        Index("ix_outbox_claim_order", "done_at", "priority", "next_attempt_at"),
    )
    id = Column(Integer, primary_key=True)
    # Claimed lower first: 0 a reply to a farmer who wrote, then notices by kind
    # (bot/records/notices.py PRIORITIES), so a big batch of notices never holds a reply back.
    priority = Column(Integer, nullable=False, default=0, server_default="0")
    outbound_id = Column(
        Integer, ForeignKey("outbound_messages.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    locked_until = Column(DateTime(timezone=True), nullable=True)  # claimed by a worker
    last_error = Column(Text, nullable=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    done_at = Column(DateTime(timezone=True), nullable=True)  # sent, or given up
    gave_up = Column(Boolean, nullable=False, default=False)

    outbound = relationship("OutboundMessage")


class OptOutEvent(Base):
    __tablename__ = "opt_out_events"
    __table_args__ = (
        CheckConstraint(one_of("action", OPT_ACTIONS), name="ck_opt_action"),
        Index("ix_opt_out_phone_at", "phone", "recorded_at"),
    )
    id = Column(Integer, primary_key=True)
    phone = Column(String(20), nullable=False)
    action = Column(String(8), nullable=False)
    keyword = Column(String(20), nullable=False)
    medium = Column(String(10), nullable=True)
    source = Column(String(20), nullable=False, default="keyword")  # keyword / twilio_21610 / staff
    recorded_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class FarmerSequence(Base):
    """The last sequence number given to an inbound message of the phone."""

    __tablename__ = "farmer_sequences"
    phone = Column(String(20), primary_key=True)
    last_seq = Column(Integer, nullable=False)


class PartitionLease(Base):
    """Which worker consumes an inbound queue, until when (renewed by its heartbeat)."""

    __tablename__ = "partition_leases"
    queue_partition = Column(Integer, primary_key=True, autoincrement=False)
    worker_id = Column(String(80), nullable=True)
    lease_until = Column(DateTime(timezone=True), nullable=True)


class WorkerHeartbeat(Base):
    """A running worker; the live ones share the partitions."""

    __tablename__ = "worker_heartbeats"
    worker_id = Column(String(80), primary_key=True)
    started_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at = Column(DateTime(timezone=True), nullable=False)


class SenderPace(Base):
    """When a Twilio sender (a From address or a Messaging Service SID) is next free to send,
    in seconds since the epoch on the database's clock (bot/messaging/pacing.py)."""

    __tablename__ = "sender_paces"
    sender = Column(String(80), primary_key=True)
    next_free_at = Column(Float, nullable=False)
