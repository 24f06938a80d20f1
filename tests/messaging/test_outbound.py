"""Outbound message records and the outbox on the real database (SQLite, or PostgreSQL via
DATABASE_URL). The embedded outbox workers of the channel tests' runtimes in this process are kept
quiet meanwhile: one of them could claim an entry these tests queue and claim themselves (CI
once saw a claim here find nothing)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from bot.db import session_scope
from bot.messaging import outbound, outbound_reads, outbox_claims
from bot.messaging.schema import OutboundMessage, OutboxEntry
from bot.messaging.sender import SendResult
from bot.timeutil import utcnow
from tests.messaging.conftest import new_phone

pytestmark = pytest.mark.usefixtures("quiet")


def reply(phone: str, body: str = "Eco", in_reply_to: str | None = None) -> outbound.Outgoing:
    return outbound.Outgoing("sms", phone, phone, body, in_reply_to=in_reply_to)


def test_a_failed_send_goes_to_the_outbox_and_is_sent_from_it(db):
    phone = new_phone()
    with session_scope() as session:
        outbound_id = outbound.record_outbound(
            session, reply(phone), SendResult(False, 4, error="timeout", retryable=True), 0
        )
    with session_scope() as session:
        assert session.get(OutboundMessage, outbound_id).status == "outbox"
        assert outbound.pending_outbox_count(session) == 1
        items = outbox_claims.claim_due_outbox(session, 10, 60)
    assert [(i.outbound_id, i.phone, i.body) for i in items] == [(outbound_id, phone, "Eco")]
    with session_scope() as session:
        assert outbox_claims.claim_due_outbox(session, 10, 60) == []  # claimed: not again
    sid = "SM" + uuid.uuid4().hex
    with session_scope() as session:
        outbound.mark_outbound_sent(session, outbound_id, sid, "queued", 2)
    with session_scope() as session:
        row = session.get(OutboundMessage, outbound_id)
        assert (row.status, row.twilio_sid, row.attempts) == ("queued", sid, 6)
        assert outbound.pending_outbox_count(session) == 0


def test_a_reply_refused_for_good_is_not_put_in_the_outbox(db):
    with session_scope() as session:
        outbound_id = outbound.record_outbound(
            session,
            reply(new_phone()),
            SendResult(False, 1, error="21211 invalid To", error_code="21211", retryable=False),
        )
    with session_scope() as session:
        row = session.get(OutboundMessage, outbound_id)
        assert (row.status, row.error_code) == ("failed", "21211")
        assert outbound.pending_outbox_count(session) == 0


def test_an_outbox_entry_is_rescheduled_then_given_up(db):
    with session_scope() as session:
        outbound_id = outbound.record_outbound(
            session, reply(new_phone()), SendResult(False, 4, error="503", retryable=True), 0
        )
    with session_scope() as session:
        entry_id = outbox_claims.claim_due_outbox(session, 10, 60)[0].outbox_id
    with session_scope() as session:
        outbound.reschedule_outbox(session, entry_id, "503 again", 120, give_up=False)
    with session_scope() as session:
        entry = session.get(OutboxEntry, entry_id)
        assert entry.attempts == 1 and entry.locked_until is None and entry.done_at is None
        assert outbox_claims.claim_due_outbox(session, 10, 60) == []  # not due for 120 s
    with session_scope() as session:
        outbound.reschedule_outbox(session, entry_id, "503 for good", 0, give_up=True)
    with session_scope() as session:
        entry = session.get(OutboxEntry, entry_id)
        assert entry.gave_up and entry.done_at is not None
        row = session.get(OutboundMessage, outbound_id)
        assert (row.status, row.error) == ("failed", "503 for good")


def test_a_proactive_message_to_an_opted_out_number_is_kept_as_skipped(db):
    message = outbound.Outgoing(
        "whatsapp", "+524431112233", "whatsapp:+5214431112233", "Aviso", proactive=True
    )
    with session_scope() as session:
        outbound_id = outbound.record_skipped_opt_out(session, message)
    with session_scope() as session:
        row = session.get(OutboundMessage, outbound_id)
        assert (row.status, row.proactive, row.body, row.twilio_sid) == (
            "skipped_opt_out",
            True,
            "Aviso",
            None,
        )
        assert row.status_at is not None


def test_staff_reads_statuses_by_reply_by_sid_and_by_creation_time(db):
    phone, inbound_sid = new_phone(), "SM" + uuid.uuid4().hex
    first, second = "SM" + uuid.uuid4().hex, "SM" + uuid.uuid4().hex
    before = utcnow() - timedelta(seconds=1)
    with session_scope() as session:
        outbound.record_outbound(
            session, reply(phone, "uno", inbound_sid), SendResult(True, 1, sid=first, status="queued")
        )
        outbound.record_outbound(
            session, reply(phone, "dos", inbound_sid), SendResult(True, 1, sid=second, status="sent")
        )
    after = utcnow() + timedelta(seconds=1)
    with session_scope() as session:
        assert outbound_reads.statuses_by_reply(session, [inbound_sid, "", None]) == {
            inbound_sid: ["queued", "sent"]
        }
        assert outbound_reads.statuses_by_sid(session, [first, second, "SMother"]) == {
            first: "queued",
            second: "sent",
        }
        assert outbound_reads.statuses_by_sid(session, []) == {}
        assert sorted(s for _, s in outbound_reads.created_between(session, before, after)) == [
            "queued",
            "sent",
        ]
        assert outbound_reads.created_between(session, after, after + timedelta(hours=1)) == []
