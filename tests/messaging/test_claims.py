"""Claims on the outbox by several senders at once, on the real databases: PostgreSQL's
``FOR UPDATE SKIP LOCKED`` and SQLite's conditional update, the lease, claims given back, and one
entry per phone at a time."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import pytest
from sqlalchemy import event, text

from bot.db import engine, session_scope
from bot.messaging import outbound, outbox, outbox_claims
from bot.messaging.sender import TwilioSender
from tests.messaging.conftest import new_phone
from tests.messaging.senders import message, one_round, queue, settings_for

pytestmark = pytest.mark.usefixtures("quiet")


def claim(limit: int = 50, lease: int = 60) -> list[outbox_claims.OutboxItem]:
    with session_scope() as session:
        return outbox_claims.claim_due_outbox(session, limit, lease)


def sent(item: outbox_claims.OutboxItem) -> None:
    with session_scope() as session:
        outbound.mark_outbound_sent(session, item.outbound_id, "SM" + uuid.uuid4().hex, "queued", 1)


def test_a_claim_open_in_one_transaction_is_skipped_by_another_without_waiting(empty_db):
    if not empty_db.startswith("postgresql"):
        pytest.skip("row locks held by an open transaction: PostgreSQL")
    for n in range(10):
        queue(new_phone(), f"m{n}")
    with session_scope() as first:
        mine = outbox_claims.claim_due_outbox(first, 5, 60)
        started = time.monotonic()
        with session_scope() as second:
            second.execute(text("SET LOCAL lock_timeout = '3s'"))  # waiting would fail the test
            theirs = outbox_claims.claim_due_outbox(second, 10, 60)
        waited = time.monotonic() - started
    assert len(mine) == 5 and len(theirs) == 5 and waited < 1.5
    assert {i.outbox_id for i in mine}.isdisjoint(i.outbox_id for i in theirs)
    assert claim() == []  # both leases hold


def test_senders_claiming_at_once_never_share_an_entry(empty_db):
    """Six senders claim small batches in a loop until the outbox is empty: every entry is
    claimed exactly once (each marked sent before the sender claims again)."""
    phones = [new_phone() for _ in range(40)]
    for n in range(120):
        queue(phones[n % 40], f"m{n}")
    claimed: list[int] = []
    lock, errors = threading.Lock(), []

    def sender() -> None:
        idle = 0
        try:
            while idle < 5:
                items = claim(limit=7)
                idle = 0 if items else idle + 1
                with lock:
                    claimed.extend(i.outbox_id for i in items)
                for item in items:
                    sent(item)
                if not items:
                    time.sleep(0.05)
        except Exception as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert len(claimed) == 120 and max(Counter(claimed).values()) == 1
    with session_scope() as session:
        assert outbound.pending_outbox_count(session) == 0


def test_a_phone_has_one_entry_out_at_a_time_in_the_order_queued(empty_db):
    phone, other = new_phone(), new_phone()
    first, second, third = (queue(phone, body) for body in ("uno", "dos", "tres"))
    elsewhere = queue(other, "otro")
    taken = claim()
    assert sorted(i.outbound_id for i in taken) == sorted([first, elsewhere])
    # the sender claims again after these only for the phone with more behind its entry
    assert {i.outbound_id: i.more_behind for i in taken} == {first: True, elsewhere: False}
    sent(next(i for i in taken if i.outbound_id == first))
    assert [(i.outbound_id, i.more_behind) for i in claim()] == [(second, True)]
    assert claim() == []  # "dos" is out (claimed); "tres" waits behind it


def test_an_expired_lease_and_a_claim_given_back_are_claimable_again(empty_db):
    outbound_id = queue(new_phone(), "cinco")
    assert [i.outbound_id for i in claim(lease=0)] == [outbound_id]  # a sender that died
    again = claim(lease=60)
    assert [i.outbound_id for i in again] == [outbound_id] and claim() == []
    with session_scope() as session:
        outbox.release_claims(session, [(again[0].outbox_id, again[0].claimed_until)])  # stopping
    assert [i.outbound_id for i in claim()] == [outbound_id]


def test_a_round_claims_again_only_while_something_is_known_to_wait(empty_db, api):
    """Three replies to one farmer and one to another: three claims (both farmers' first, then
    the farmer's second and third, each when the one before is sent), not a fourth that finds
    nothing; the farmer's replies reach the stand-in in the order queued."""
    phone, other = new_phone(), new_phone()
    ids = [queue(phone, body) for body in ("uno", "dos", "tres")] + [queue(other, "otro")]
    claims: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if "ORDER BY outbox.priority" in statement:
            claims.append(statement)

    database = engine()
    event.listen(database, "before_cursor_execute", seen)
    try:
        results = one_round(TwilioSender(settings_for(api)))
    finally:
        event.remove(database, "before_cursor_execute", seen)
    assert sorted(sent.item.outbound_id for sent in results) == sorted(ids)
    assert all(message(outbound_id).status == "queued" for outbound_id in ids)
    assert [m["body"] for m in api.messages(to=phone)] == ["uno", "dos", "tres"]
    assert len(claims) == 3


def test_one_send_is_three_units_of_work(empty_db, api):
    """The claim; the check just before the send (claim renewed, opt-out, the turn on the pace);
    the record of what Twilio answered. Nothing else commits, and nothing claims again."""
    outbound_id = queue(new_phone(), "hola")
    commits: list[object] = []

    def committed(connection):
        commits.append(connection)

    database = engine()
    event.listen(database, "commit", committed)
    try:
        (sent,) = one_round(TwilioSender(settings_for(api, sends_per_second=10)))
    finally:
        event.remove(database, "commit", committed)
    assert sent.item.outbound_id == outbound_id and sent.twilio_sid == api.messages()[0]["sid"]
    assert len(commits) == 3
