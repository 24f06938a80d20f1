"""Tables of the staff console, on the program records' declarative Base (revision 0003).

console_users        staff accounts (password hashes from werkzeug.security, never plain text)
console_audit        every view of a farmer's personal or payment data: who, when, what
console_messages     a read-only copy of the user/bot/action events of Rasa's tracker store, parsed
                     once so the console can search and filter in SQL (Rasa's table is never written);
                     a user event that carried a notice is of kind "notice" (revision 0014)
console_sync_state   how far console_messages has read the tracker (last events.id)
console_reviews      a conversation (a phone's history) marked reviewed, its tags and note
console_corrections  a corrected intent and entities for one user message (exported as NLU YAML)
console_replies      what an officer sent to a farmer from the console, and how it went
console_uploads      a CSV file waiting between its preview and its application
console_logins       every attempt to sign in: who, from which address, how it ended (revision
                     0005); the login throttle counts its failures, so every process sees them
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
    String,
    Text,
    UniqueConstraint,
)

from bot.console import vocabulary
from bot.records.schema import Base, one_of
from bot.timeutil import utcnow

ROLES = tuple(vocabulary.ROLES)
# user: the farmer wrote it; notice: the scheduler released a notice into the conversation (Rasa
# sees a user event; tracker.py tells them apart); bot: the assistant said it; action: it ran.
MESSAGE_KINDS = ("user", "notice", "bot", "action")
REPLY_STATUSES = tuple(vocabulary.REPLY_STATUSES)
LOGIN_OUTCOMES = tuple(vocabulary.LOGIN_OUTCOMES)


class ConsoleUser(Base):
    __tablename__ = "console_users"
    __table_args__ = (CheckConstraint(one_of("role", ROLES), name="ck_console_user_role"),)
    id = Column(Integer, primary_key=True)
    username = Column(String(80), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(10), nullable=False, default="viewer")
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_login_at = Column(DateTime(timezone=True), nullable=True)


class ConsoleAudit(Base):
    __tablename__ = "console_audit"
    __table_args__ = (Index("ix_console_audit_at", "at"),)
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("console_users.id"), nullable=True)
    username = Column(String(80), nullable=False)  # kept even if the account is later removed
    action = Column(String(40), nullable=False)  # view_farmer, view_transcript, view_invoices, ...
    farmer_id = Column(Integer, nullable=True, index=True)
    phone = Column(String(20), nullable=True, index=True)
    detail = Column(Text, nullable=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ConsoleMessage(Base):
    __tablename__ = "console_messages"
    __table_args__ = (
        CheckConstraint(one_of("kind", MESSAGE_KINDS), name="ck_console_message_kind"),
        Index("ix_console_messages_sender_ts", "sender_id", "ts"),
        Index("ix_console_messages_ts", "ts"),
        Index("ix_console_messages_intent", "intent"),
    )
    id = Column(Integer, primary_key=True)
    event_id = Column(Integer, nullable=False, unique=True)  # Rasa's events.id
    sender_id = Column(String(255), nullable=False)
    ts = Column(DateTime(timezone=True), nullable=False)
    kind = Column(String(10), nullable=False)
    text = Column(Text, nullable=True)
    search_text = Column(Text, nullable=True)  # lower case, no accents
    intent = Column(String(255), nullable=True)
    confidence = Column(Float, nullable=True)
    entities_json = Column(Text, nullable=True)
    medium = Column(String(10), nullable=True)
    message_id = Column(String(255), nullable=True, index=True)  # Twilio MessageSid for users
    in_reply_to = Column(String(255), nullable=True)  # for bot rows: the user message they answer
    media_json = Column(Text, nullable=True)
    location_json = Column(Text, nullable=True)
    action_name = Column(String(255), nullable=True)


class ConsoleSyncState(Base):
    __tablename__ = "console_sync_state"
    key = Column(String(40), primary_key=True)
    last_event_id = Column(Integer, nullable=False, default=0)
    synced_at = Column(DateTime(timezone=True), nullable=True)


class ConsoleReview(Base):
    __tablename__ = "console_reviews"
    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, unique=True)
    reviewed = Column(Boolean, nullable=False, default=False)
    reviewed_up_to = Column(DateTime(timezone=True), nullable=True)  # last message then
    reviewed_by = Column(String(80), nullable=True)
    reviewed_at = Column(DateTime(timezone=True), nullable=True)
    tags = Column(Text, nullable=True)  # comma separated, lower case
    note = Column(Text, nullable=True)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)


class ConsoleCorrection(Base):
    __tablename__ = "console_corrections"
    __table_args__ = (UniqueConstraint("event_id", name="uq_console_correction_event"),)
    id = Column(Integer, primary_key=True)
    event_id = Column(Integer, nullable=False)  # Rasa's events.id of the user message
    sender_id = Column(String(255), nullable=False, index=True)
    text = Column(Text, nullable=False)
    original_intent = Column(String(255), nullable=True)
    intent = Column(String(255), nullable=False)
    entities_json = Column(Text, nullable=True)  # [{"entity": ..., "value": ..., "start", "end"}]
    corrected_by = Column(String(80), nullable=False)
    corrected_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ConsoleReply(Base):
    __tablename__ = "console_replies"
    __table_args__ = (
        CheckConstraint(one_of("status", REPLY_STATUSES), name="ck_console_reply_status"),
        Index("ix_console_replies_phone_created", "phone", "created_at"),
    )
    id = Column(Integer, primary_key=True)
    phone = Column(String(20), nullable=False)
    farmer_id = Column(Integer, ForeignKey("farmers.id"), nullable=True)
    medium = Column(String(10), nullable=False)
    body = Column(Text, nullable=False)
    template = Column(Boolean, nullable=False, default=False)
    user_id = Column(Integer, ForeignKey("console_users.id"), nullable=True)
    username = Column(String(80), nullable=False)
    status = Column(String(20), nullable=False, default="pending")
    twilio_sids = Column(Text, nullable=True)  # comma separated (a long SMS may be split)
    error = Column(Text, nullable=True)
    human_request_id = Column(Integer, nullable=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class ConsoleUpload(Base):
    __tablename__ = "console_uploads"
    id = Column(Integer, primary_key=True)
    kind = Column(String(20), nullable=False)
    filename = Column(String(200), nullable=True)
    content = Column(Text, nullable=False)
    username = Column(String(80), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    applied_at = Column(DateTime(timezone=True), nullable=True)
    applied_rows = Column(Integer, nullable=True)


class ConsoleLogin(Base):
    __tablename__ = "console_logins"
    __table_args__ = (
        CheckConstraint(one_of("outcome", LOGIN_OUTCOMES), name="ck_console_login_outcome"),
        Index("ix_console_logins_username_at", "username", "at"),
        Index("ix_console_logins_address_at", "address", "at"),
        Index("ix_console_logins_at", "at"),
    )
    id = Column(Integer, primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    username = Column(String(80), nullable=False)  # as typed (lower case), even if no such account
    address = Column(String(45), nullable=True)  # the client's IP address (IPv6 fits)
    outcome = Column(String(10), nullable=False)
    user_id = Column(Integer, ForeignKey("console_users.id"), nullable=True)
