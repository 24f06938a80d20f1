"""Claims on stored messages: one worker at a time runs a message's turn; a claim dies with its
worker's heartbeat (a worker killed mid-turn does not hold the message until the claim's own
expiry); a failed turn's next try is not taken before it is due; the recovery loop takes what
is due, once."""

from __future__ import annotations

from bot.db import session_scope
from bot.messaging import inbound_claims, inbound_work, partitions
from tests.production.support import message

PHONE = "+524431000601"


def _stored(url, body="hola"):
    with session_scope(url) as session:
        return inbound_work.store_in_sequence(session, message(PHONE, body), 3)


def _claim(url, sid, worker):
    with session_scope(url) as session:
        return inbound_claims.claim(session, sid, worker, 90)


def _alive(url, worker):
    with session_scope(url) as session:
        partitions.heartbeat(session, worker, 16, 20)


def test_a_live_workers_claim_holds_and_a_dead_ones_does_not(pg):
    sid = _stored(pg).message_sid
    _alive(pg, "alive")
    assert _claim(pg, sid, "alive")
    assert not _claim(pg, sid, "other")  # held by a live worker
    with session_scope(pg) as session:
        partitions.retire(session, "alive")  # its heartbeat is gone: as if it had died
    assert _claim(pg, sid, "other")


def test_a_failed_turn_is_not_tried_before_it_is_due(pg):
    sid = _stored(pg).message_sid
    _alive(pg, "w")
    assert _claim(pg, sid, "w")
    with session_scope(pg) as session:
        assert inbound_claims.reschedule(session, sid, "w", 60, "action failed")
    assert not _claim(pg, sid, "w")
    with session_scope(pg) as session:
        assert inbound_claims.claim_due(session, "w", [3], 90) == []


def test_the_recovery_loop_takes_a_due_message_once(pg):
    sid = _stored(pg).message_sid
    _alive(pg, "w1")
    _alive(pg, "w2")
    with session_scope(pg) as session:
        assert inbound_claims.claim(session, sid, "w1", 90)
        assert inbound_claims.reschedule(session, sid, "w1", 0, "action failed")
    with session_scope(pg) as session:
        assert inbound_claims.claim_due(session, "w1", [3], 90) == [sid]
    with session_scope(pg) as session:
        assert inbound_claims.claim_due(session, "w2", [3], 90) == []  # w1 holds it now
        assert inbound_claims.claim_due(session, "w2", [4], 90) == []  # not w2's partition anyway
