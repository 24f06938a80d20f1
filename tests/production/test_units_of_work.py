"""The statements a worker's turn and a sender's send run (bench/units_of_work.py measures their
CPU): the claim that returns the message and the claim it replaced, a turn's replies queued in
two statements whatever their number, a send recorded; the same answers on both databases, and
on PostgreSQL the number of statements the production mode was measured with."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, func, select

from bot.db import engine, session_scope
from bot.messaging import inbound_claims, inbound_work, outbound, partitions
from bot.messaging.schema import OutboundMessage, OutboxEntry
from bot.timeutil import utcnow
from tests.production.support import message

PHONE = "+524431000777"


@contextmanager
def statements(url: str) -> Iterator[list[str]]:
    """The statements run on the database meanwhile (the pool's ping is not one)."""
    seen: list[str] = []

    def counted(_conn, _cursor, statement, *_rest) -> None:
        seen.append(statement)

    event.listen(engine(url), "before_cursor_execute", counted)
    try:
        yield seen
    finally:
        event.remove(engine(url), "before_cursor_execute", counted)


def _stored(url: str) -> str:
    with session_scope(url) as session:
        stored = inbound_work.store_in_sequence(session, message(PHONE, "cuando me pagan"), 3)
    assert stored is not None
    return stored.message_sid


def _claim_work(url: str, sid: str, worker: str) -> inbound_claims.Claimed:
    with session_scope(url) as session:
        return inbound_claims.claim_work(session, sid, worker, 90)


def test_a_claim_returns_the_message_and_the_claim_it_replaced(empty_db):
    sid = _stored(empty_db)
    with session_scope(empty_db) as session:
        partitions.heartbeat(session, "w1", 16, 20)
        partitions.heartbeat(session, "w2", 16, 20)
    before = utcnow()
    first = _claim_work(empty_db, sid, "w1")
    assert first.work is not None and first.held_by is None and first.held_until is None
    assert (first.work.message.message_sid, first.work.message.body) == (sid, "cuando me pagan")
    assert (first.work.status, first.work.attempts, first.work.farmer_seq) == ("processing", 1, 1)
    assert first.work.inbound_id is not None

    assert _claim_work(empty_db, sid, "w2").work is None  # w1 is alive and holds it
    with session_scope(empty_db) as session:
        partitions.retire(session, "w1")  # as if it had died mid-turn
    taken = _claim_work(empty_db, sid, "w2")
    assert taken.work is not None and taken.work.attempts == 2
    assert taken.held_by == "w1"
    assert taken.held_until is not None
    assert before + timedelta(seconds=89) < taken.held_until < utcnow() + timedelta(seconds=91)


def test_a_claim_is_one_statement_on_postgresql(empty_db):
    sid = _stored(empty_db)
    with statements(empty_db) as seen:
        claimed = _claim_work(empty_db, sid, "w1")
    assert claimed.work is not None
    postgresql = engine(empty_db).dialect.name == "postgresql"
    assert len(seen) == (1 if postgresql else 3), seen


def _queued(url: str, bodies: list[str], in_reply_to: str) -> list[int]:
    messages = [
        outbound.Outgoing("whatsapp", PHONE, "whatsapp:" + PHONE, body, in_reply_to) for body in bodies
    ]
    with session_scope(url) as session:
        return outbound.enqueue_outgoing(session, messages, first_position=0, priority=5)


def test_a_turns_replies_are_queued_in_order_once(empty_db):
    sid = _stored(empty_db)
    bodies = ["Su pago sale el viernes.", "Folio 1234.", "¿Algo más?"]
    with statements(empty_db) as seen:
        recorded = _queued(empty_db, bodies, sid)
    if engine(empty_db).dialect.name == "postgresql":
        assert len(seen) == 2, seen  # the messages, their outbox entries
    assert _queued(empty_db, bodies, sid) == []  # the turn finished twice: recorded once
    with session_scope(empty_db) as session:
        rows = session.execute(
            select(OutboundMessage.id, OutboundMessage.body, OutboundMessage.reply_position)
            .where(OutboundMessage.in_reply_to == sid)
            .order_by(OutboundMessage.reply_position)
        ).all()
        entries = session.execute(
            select(OutboxEntry.outbound_id, OutboxEntry.priority, OutboxEntry.done_at)
        ).all()
        assert session.execute(select(func.count(OutboxEntry.id))).scalar_one() == 3
    assert [row.id for row in rows] == recorded
    assert [(row.body, row.reply_position) for row in rows] == [(body, n) for n, body in enumerate(bodies)]
    assert sorted(entries) == sorted((outbound_id, 5, None) for outbound_id in recorded)


def test_a_send_is_recorded_with_its_sid_and_its_entry_done(empty_db):
    sid = _stored(empty_db)
    (outbound_id,) = _queued(empty_db, ["Su pago sale el viernes."], sid)
    with statements(empty_db) as seen, session_scope(empty_db) as session:
        outbound.mark_outbound_sent(session, outbound_id, "SM" + "a" * 32, "queued", 2)
    if engine(empty_db).dialect.name == "postgresql":
        assert len(seen) == 3, seen  # the message, its entry, early status callbacks
    with session_scope(empty_db) as session:
        sent = session.get(OutboundMessage, outbound_id)
        entry = session.execute(
            select(OutboxEntry).where(OutboxEntry.outbound_id == outbound_id)
        ).scalar_one()
        assert (sent.twilio_sid, sent.attempts, sent.status) == ("SM" + "a" * 32, 2, "queued")
        assert sent.sent_at is not None and sent.status_at == sent.sent_at
        assert entry.done_at is not None and entry.locked_until is None
