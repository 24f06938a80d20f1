"""The messaging records on the real database (SQLite, or PostgreSQL via DATABASE_URL)."""
from __future__ import annotations

import uuid

import pytest

from bot.messaging import records
from bot.messaging.records import Inbound


@pytest.fixture
def db(channels):
    return channels


def inbound(sid: str, body: str = "hola") -> Inbound:
    return Inbound(message_sid=sid, medium="sms", phone="+524431112233", from_address="+524431112233",
                   to_address="+15005550006", body=body, profile_name=None, wa_id=None, media=[],
                   location=None, raw_params={"Body": body})


def test_store_inbound_dedupes_by_message_sid(db):
    sid = "SM" + uuid.uuid4().hex
    assert records.store_inbound(inbound(sid)) is True
    assert records.store_inbound(inbound(sid)) is False
    assert records.inbound_exists(sid)


def test_status_callback_before_the_reply_is_recorded_is_applied(db):
    sid = "SM" + uuid.uuid4().hex
    assert records.record_status(sid, "sent", None) is False
    assert records.record_status(sid, "delivered", None) is False
    from bot.messaging.sender import SendResult

    outbound_id = records.record_outbound(
        records.Outgoing("sms", "+524431112233", "+524431112233", "Eco"),
        SendResult(True, 1, sid=sid, status="queued"))
    from bot.db import session_scope
    from bot.messaging.schema import MessageStatusEvent, OutboundMessage

    with session_scope() as session:
        row = session.get(OutboundMessage, outbound_id)
        assert row.status == "delivered"
        linked = session.query(MessageStatusEvent).filter_by(twilio_sid=sid).all()
        assert {e.outbound_id for e in linked} == {outbound_id}


def test_opt_out_history_latest_wins(db):
    phone = "+52443" + uuid.uuid4().hex[:7].translate(str.maketrans("abcdef", "123456"))
    assert not records.is_opted_out(phone)
    records.record_opt(phone, "opt_out", "baja", "sms")
    assert records.is_opted_out(phone)
    records.record_opt(phone, "opt_in", "alta", "whatsapp")
    assert not records.is_opted_out(phone)


def test_unfinished_inbound_is_found_for_a_second_try(db):
    from datetime import timedelta

    from sqlalchemy import update

    from bot.db import session_scope
    from bot.messaging.schema import InboundMessage
    from bot.timeutil import utcnow

    sid = "SM" + uuid.uuid4().hex
    records.store_inbound(inbound(sid, "¿cuándo me pagan?"))
    with session_scope() as session:
        session.execute(update(InboundMessage).where(InboundMessage.message_sid == sid)
                        .values(received_at=utcnow() - timedelta(minutes=5)))
    found = records.unfinished_inbound(60, 6, 2)
    assert [m.message_sid for m in found] == [sid]
    assert found[0].body == "¿cuándo me pagan?"
    records.mark_inbound(sid, "processing")
    records.mark_inbound(sid, "processing")
    assert records.unfinished_inbound(60, 6, 2) == []  # tried twice: left for staff
