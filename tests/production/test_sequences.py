"""Each stored message gets its phone's next sequence number in the transaction that stores it
(alone, or with a burst a gateway stores together): numbers per phone are 1, 2, 3 ... with no
gap and no repeat, however many processes store at once, and a MessageSid stored twice takes one
row and one number."""

from __future__ import annotations

import threading
from collections import defaultdict

from sqlalchemy import select

from bot.db import session_scope
from bot.messaging import inbound_claims, inbound_work
from bot.messaging.personal_data import erase_messages
from bot.messaging.schema import FarmerSequence, InboundMessage
from tests.production.support import message, new_sid

PHONES = ["+524431000101", "+524431000102", "+524431000103"]


def _store(url, inbound, partition=0):
    with session_scope(url) as session:
        return inbound_work.store_in_sequence(session, inbound, partition)


def _at_once(threads, work):
    """``work(index)`` on that many threads started together; what they raised, if anything."""
    errors = []
    barrier = threading.Barrier(threads)

    def run(index):
        barrier.wait()
        try:
            work(index)
        except Exception as exc:  # pragma: no cover - reported by the caller
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    return errors


def _numbers_by_phone(url):
    with session_scope(url) as session:
        rows = session.execute(select(InboundMessage.phone, InboundMessage.farmer_seq)).all()
    by_phone = defaultdict(list)
    for phone, seq in rows:
        by_phone[phone].append(seq)
    return {phone: sorted(seqs) for phone, seqs in by_phone.items()}


def test_sequence_numbers_per_phone_under_concurrent_stores(pg):
    per_thread, threads = 6, 8

    def store_some(index):
        for n in range(per_thread):
            _store(pg, message(PHONES[(index + n) % len(PHONES)], f"m{index}-{n}"))

    assert _at_once(threads, store_some) == []
    numbers = _numbers_by_phone(pg)
    assert sum(len(seqs) for seqs in numbers.values()) == per_thread * threads
    for seqs in numbers.values():
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
        work, pending = inbound_claims.work_and_pending(session, second.message_sid)
        assert work is not None and work.farmer_seq == 2 and pending == [second.message_sid]
        assert inbound_claims.work_and_pending(session, third.message_sid)[1] == [
            second.message_sid,
            third.message_sid,
        ]
        assert inbound_claims.work_and_pending(session, first.message_sid)[1] == []
        assert inbound_claims.work_and_pending(session, new_sid()) == (None, [])


def _store_all(url, inbounds, partition=0):
    with session_scope(url) as session:
        return inbound_work.store_all_in_sequence(session, [(each, partition) for each in inbounds])


def test_a_burst_stored_together_is_numbered_in_the_order_it_arrived(pg):
    """What a gateway stores in one unit of work (bot/messaging/intake.py): each phone's messages
    numbered in the order given, after what the phone had; a MessageSid stored already, or twice
    in the burst, is None and takes no number."""
    earlier = _store(pg, message(PHONES[0], "antes"))
    repeat = message(PHONES[1], "dos veces")
    burst = [
        message(PHONES[0], "a1"),
        message(PHONES[1], "b1"),
        repeat,
        message(PHONES[0], "a2"),
        message(PHONES[0], sid=earlier.message_sid),  # a Twilio retry of the one stored before
        message(PHONES[1], "b2"),
        message(PHONES[1], sid=repeat.message_sid),  # the same webhook twice in one burst
    ]
    stored = _store_all(pg, burst, partition=5)
    assert [each and (each.farmer_seq, each.partition) for each in stored] == [
        (2, 5), (1, 5), (2, 5), (3, 5), None, (3, 5), None,
    ]  # fmt: skip
    assert [each.message_sid for each in stored if each] == [m.message_sid for m in burst[:4] + burst[5:6]]
    with session_scope(pg) as session:
        rows = session.execute(
            select(InboundMessage.body, InboundMessage.farmer_seq, InboundMessage.received_at)
            .where(InboundMessage.phone == PHONES[0])
            .order_by(InboundMessage.farmer_seq)
        ).all()
    assert [(body, seq) for body, seq, _ in rows] == [("antes", 1), ("a1", 2), ("a2", 3)]
    assert all(received is not None for *_, received in rows)
    assert _store_all(pg, [repeat]) == [None]


def test_bursts_with_phones_in_common_stored_at_once_never_deadlock_or_repeat_a_number(pg):
    """Two gateways storing bursts with the same phones in opposite orders: the phones' rows are
    taken in one order, so neither waits on the other in a circle (PostgreSQL would abort one)."""
    threads, bursts = 6, 5

    def store_bursts(index):
        order = PHONES if index % 2 else PHONES[::-1]
        for n in range(bursts):
            _store_all(pg, [message(phone, f"t{index}-{n}") for phone in order for _ in range(2)])

    assert _at_once(threads, store_bursts) == []
    assert _numbers_by_phone(pg) == {phone: list(range(1, threads * bursts * 2 + 1)) for phone in PHONES}
