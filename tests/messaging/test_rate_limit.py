"""The per-number rate limit on the real database: counted from the stored messages, so every
process sees the same count; a message over it is kept, held back, and noticed once a window."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import update

from bot.db import session_scope
from bot.messaging import inbound, rate_limit
from bot.messaging.schema import InboundMessage
from bot.timeutil import utcnow
from tests.messaging.conftest import inbound_message, new_phone


def arrive(phone: str, count: int, minutes_ago: float = 0) -> list[str]:
    sids = ["SM" + uuid.uuid4().hex for _ in range(count)]
    with session_scope() as session:
        for sid in sids:
            inbound.store_inbound(session, inbound_message(sid, phone=phone))
    if minutes_ago:
        with session_scope() as session:
            session.execute(
                update(InboundMessage)
                .where(InboundMessage.message_sid.in_(sids))
                .values(received_at=utcnow() - timedelta(minutes=minutes_ago))
            )
    return sids


def admit(sid: str, limit: int = 3) -> rate_limit.Admission:
    with session_scope() as session:
        return rate_limit.admit(session, sid, limit)


def row(sid: str) -> InboundMessage:
    with session_scope() as session:
        return session.query(InboundMessage).filter_by(message_sid=sid).one()


def test_over_the_limit_is_held_back_and_noticed_once(db):
    phone = new_phone()
    sids = arrive(phone, 6)
    decisions = [admit(sid) for sid in sids]
    assert [d.admitted for d in decisions] == [True, True, True, False, False, False]
    assert [d.notify for d in decisions] == [False, False, False, True, False, False]
    assert [row(sid).error for sid in sids] == [
        None,
        None,
        None,
        "rate_limited",
        "rate_limited",
        "rate_limited",
    ]
    assert row(sids[3]).status == "processed"  # kept, and not tried again after a restart


def test_each_message_is_judged_by_what_came_before_it_whatever_order_its_turn_runs_in(db):
    phone = new_phone()
    sids = arrive(phone, 4)
    assert admit(sids[3]).admitted is False  # the fourth, judged first
    assert all(admit(sid).admitted for sid in sids[:3])


def test_messages_older_than_a_minute_do_not_count_and_a_new_window_gets_a_new_notice(db):
    phone = new_phone()
    earlier = arrive(phone, 4, minutes_ago=5)
    assert admit(earlier[3]).notify
    now = arrive(phone, 4)
    decisions = [admit(sid) for sid in now]
    assert [d.admitted for d in decisions] == [True, True, True, False]
    assert decisions[3].notify  # the notice of five minutes ago is out of this window


def test_other_numbers_and_limit_zero_are_not_held(db):
    phone, other = new_phone(), new_phone()
    arrive(phone, 5)
    assert admit(arrive(other, 1)[0]).admitted
    assert admit(arrive(phone, 1)[0], limit=0).admitted


def test_staff_list_of_numbers_held_back(db):
    loud, quiet = new_phone(), new_phone()
    for sid in arrive(loud, 5) + arrive(quiet, 2):
        admit(sid)
    with session_scope() as session:
        held = inbound.rate_limited_phones(session, utcnow() - timedelta(hours=1))
    assert [(h.phone, h.held_back) for h in held] == [(loud, 2)]
    assert held[0].last_at <= utcnow()
