"""Inbound message records on the real database (SQLite, or PostgreSQL via DATABASE_URL)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import update

from bot.db import session_scope
from bot.messaging import inbound
from bot.messaging.schema import InboundMessage
from bot.timeutil import utcnow
from tests.messaging.conftest import inbound_message


def test_store_inbound_dedupes_by_message_sid(db):
    sid = "SM" + uuid.uuid4().hex
    with session_scope() as session:
        assert inbound.store_inbound(session, inbound_message(sid)) is True
    with session_scope() as session:
        assert inbound.store_inbound(session, inbound_message(sid)) is False
    with session_scope() as session:
        assert inbound.inbound_exists(session, sid)


def test_a_repeat_leaves_the_callers_unit_of_work_usable(db):
    """A repeat inserts nothing and raises nothing: what the caller did before and after it in
    the same unit of work is kept."""
    first, second = "SM" + uuid.uuid4().hex, "SM" + uuid.uuid4().hex
    with session_scope() as session:
        assert inbound.store_inbound(session, inbound_message(first)) is True
        assert inbound.store_inbound(session, inbound_message(first)) is False
        assert inbound.store_inbound(session, inbound_message(second)) is True
        inbound.mark_inbound(session, first, "processed")
    with session_scope() as session:
        assert inbound.inbound_exists(session, first) and inbound.inbound_exists(session, second)
        rows = session.query(InboundMessage).filter(InboundMessage.message_sid.in_([first, second])).all()
        assert {r.message_sid: r.status for r in rows} == {first: "processed", second: "received"}


def test_unfinished_inbound_is_found_for_a_second_try(db):
    sid = "SM" + uuid.uuid4().hex
    with session_scope() as session:
        inbound.store_inbound(session, inbound_message(sid, "¿cuándo me pagan?"))
    with session_scope() as session:
        session.execute(
            update(InboundMessage)
            .where(InboundMessage.message_sid == sid)
            .values(received_at=utcnow() - timedelta(minutes=5))
        )
    with session_scope() as session:
        found = inbound.unfinished_inbound(session, 60, 6, 2)
    assert [m.message_sid for m in found] == [sid]
    assert found[0].body == "¿cuándo me pagan?"
    with session_scope() as session:
        inbound.mark_inbound(session, sid, "processing")
    with session_scope() as session:
        inbound.mark_inbound(session, sid, "processing")
    with session_scope() as session:
        assert inbound.unfinished_inbound(session, 60, 6, 2) == []  # tried twice: left for staff


def test_the_address_the_farmer_last_wrote_from(db):
    phone = "+524431112299"
    with session_scope() as session:
        assert inbound.last_from_address(session, phone, "sms") is None
        assert inbound.last_received_at(session, phone, "sms") is None
        inbound.store_inbound(session, inbound_message("SM" + uuid.uuid4().hex, phone=phone))
    with session_scope() as session:
        assert inbound.last_from_address(session, phone, "sms") == phone
        assert inbound.last_from_address(session, phone, "whatsapp") is None
        assert inbound.last_received_at(session, phone, "sms") is not None
