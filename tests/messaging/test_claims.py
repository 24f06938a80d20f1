"""Claims on the outbox by several senders at once, on the real databases: PostgreSQL's
``FOR UPDATE SKIP LOCKED`` and SQLite's conditional update, the lease, claims given back, and one
entry per phone at a time."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import pytest
from sqlalchemy import text

from bot.db import session_scope
from bot.messaging import outbound, outbox
from tests.messaging.conftest import new_phone
from tests.messaging.senders import queue

pytestmark = pytest.mark.usefixtures("quiet")


def claim(limit: int = 50, lease: int = 60) -> list[outbound.OutboxItem]:
    with session_scope() as session:
        return outbound.claim_due_outbox(session, limit, lease)


def sent(item: outbound.OutboxItem) -> None:
    with session_scope() as session:
        outbound.mark_outbound_sent(session, item.outbound_id, "SM" + uuid.uuid4().hex, "queued", 1)


def test_a_claim_open_in_one_transaction_is_skipped_by_another_without_waiting(empty_db):
    if not empty_db.startswith("postgresql"):
        pytest.skip("row locks held by an open transaction: PostgreSQL")
    for n in range(10):
        queue(new_phone(), f"m{n}")
    with session_scope() as first:
        mine = outbound.claim_due_outbox(first, 5, 60)
        started = time.monotonic()
        with session_scope() as second:
            second.execute(text("SET LOCAL lock_timeout = '3s'"))  # waiting would fail the test
            theirs = outbound.claim_due_outbox(second, 10, 60)
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
    sent(next(i for i in taken if i.outbound_id == first))
    assert [i.outbound_id for i in claim()] == [second]
    assert claim() == []  # "dos" is out (claimed); "tres" waits behind it


def test_an_expired_lease_and_a_claim_given_back_are_claimable_again(empty_db):
    outbound_id = queue(new_phone(), "cinco")
    assert [i.outbound_id for i in claim(lease=0)] == [outbound_id]  # a sender that died
    again = claim(lease=60)
    assert [i.outbound_id for i in again] == [outbound_id] and claim() == []
    with session_scope() as session:
        outbox.release_claims(session, [(again[0].outbox_id, again[0].claimed_until)])  # stopping
    assert [i.outbound_id for i in claim()] == [outbound_id]
