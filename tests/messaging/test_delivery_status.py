"""Status callbacks on the real database (SQLite, or PostgreSQL via DATABASE_URL)."""

from __future__ import annotations

import uuid

from bot.db import session_scope
from bot.messaging import delivery_status, outbound
from bot.messaging.schema import MessageStatusEvent, OutboundMessage
from bot.messaging.sender import SendResult


def test_status_callback_before_the_reply_is_recorded_is_applied(db):
    sid = "SM" + uuid.uuid4().hex
    with session_scope() as session:
        assert delivery_status.record_status(session, sid, "sent", None) is False
    with session_scope() as session:
        assert delivery_status.record_status(session, sid, "delivered", None) is False
    with session_scope() as session:
        outbound_id = outbound.record_outbound(
            session,
            outbound.Outgoing("sms", "+524431112233", "+524431112233", "Eco"),
            SendResult(True, 1, sid=sid, status="queued"),
        )

    with session_scope() as session:
        row = session.get(OutboundMessage, outbound_id)
        assert row.status == "delivered"
        linked = session.query(MessageStatusEvent).filter_by(twilio_sid=sid).all()
        assert {e.outbound_id for e in linked} == {outbound_id}


def test_status_callback_before_an_outbox_send_is_recorded_is_applied(db):
    sid = "SM" + uuid.uuid4().hex
    with session_scope() as session:
        outbound_id = outbound.record_outbound(
            session,
            outbound.Outgoing("sms", "+524431112234", "+524431112234", "Eco"),
            SendResult(False, 1, error="timeout", retryable=True),
        )
    with session_scope() as session:
        assert delivery_status.record_status(session, sid, "delivered", None) is False
    with session_scope() as session:
        outbound.mark_outbound_sent(session, outbound_id, sid, "queued", 1)

    with session_scope() as session:
        row = session.get(OutboundMessage, outbound_id)
        assert (row.status, row.twilio_sid, row.attempts) == ("delivered", sid, 2)
        linked = session.query(MessageStatusEvent).filter_by(twilio_sid=sid).all()
        assert {e.outbound_id for e in linked} == {outbound_id}
        assert outbound.pending_outbox_count(session) == 0
