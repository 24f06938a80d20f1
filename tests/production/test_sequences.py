"""Each stored message gets its phone's next sequence number in the transaction that stores it:
numbers per phone are 1, 2, 3 ... with no gap and no repeat, however many processes store at
once, and a MessageSid stored twice takes one row and one number."""

from __future__ import annotations

import threading
from collections import defaultdict

from sqlalchemy import select

from bot.db import session_scope
from bot.messaging import inbound_work
from bot.messaging.personal_data import erase_messages
from bot.messaging.schema import FarmerSequence, InboundMessage
from tests.production.support import message, new_sid

PHONES = ["+524431000101", "+524431000102", "+524431000103"]


def _store(url, inbound, partition=0):
    with session_scope(url) as session:
        return inbound_work.store_in_sequence(session, inbound, partition)


def test_sequence_numbers_per_phone_under_concurrent_stores(pg):
    per_thread, threads = 6, 8
    errors = []
    barrier = threading.Barrier(threads)

    def store_some(index):
        barrier.wait()
        try:
            for n in range(per_thread):
                _store(pg, message(PHONES[(index + n) % len(PHONES)], f"m{index}-{n}"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=store_some, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    with session_scope(pg) as session:
        rows = session.execute(select(InboundMessage.phone, InboundMessage.farmer_seq)).all()
    by_phone = defaultdict(list)
    for phone, seq in rows:
        by_phone[phone].append(seq)
    assert sum(len(v) for v in by_phone.values()) == per_thread * threads
    for numbered in by_phone.values():
        seqs = sorted(numbered)
        assert seqs == list(range(1, len(seqs) + 1))


def test_a_messagesid_stored_twice_takes_one_row_and_one_number(pg):
    sid = new_sid()
    first = _store(pg, message(PHONES[0], sid=sid))
    again = _store(pg, message(PHONES[0], sid=sid))
    following = _store(pg, message(PHONES[0]))
    assert first is not None and first.farmer_seq == 1
    assert again is None
    assert following is not None and following.farmer_seq == 2


def test_erasing_a_farmers_numbers_takes_their_messages_out_of_the_sequences(pg):
    """ARCO supresión renames each of the farmer's numbers to one token: two numbers' messages
    numbered 1 and 1 must not collide under (phone, farmer_seq)."""
    for phone in PHONES[:2]:
        _store(pg, message(phone))
    with session_scope(pg) as session:
        erase_messages(session, PHONES[:2], PHONES[:2], "cancelado-7")
    with session_scope(pg) as session:
        rows = session.execute(select(InboundMessage.phone, InboundMessage.farmer_seq)).all()
        assert rows == [("cancelado-7", None), ("cancelado-7", None)]
        assert session.execute(select(FarmerSequence.phone)).all() == []
    assert _store(pg, message(PHONES[0])).farmer_seq == 1  # the number's next holder starts anew


def test_a_workers_read_gives_the_phones_pending_messages_up_to_the_one_it_was_given(pg):
    """What a worker reads before the phone's turn (bot/worker/handler.py): the messages not done
    up to this one, earliest first; nothing for a message done or unknown."""
    phone = "+524431000104"
    first, second, third = (_store(pg, message(phone, f"m{n}")) for n in range(3))
    with session_scope(pg) as session:
        session.execute(
            InboundMessage.__table__.update()
            .where(InboundMessage.message_sid == first.message_sid)
            .values(status="processed")
        )
    with session_scope(pg) as session:
        work, pending = inbound_work.work_and_pending(session, second.message_sid)
        assert work is not None and work.farmer_seq == 2 and pending == [second.message_sid]
        assert inbound_work.work_and_pending(session, third.message_sid)[1] == [
            second.message_sid,
            third.message_sid,
        ]
        assert inbound_work.work_and_pending(session, first.message_sid)[1] == []
        assert inbound_work.work_and_pending(session, new_sid()) == (None, [])
