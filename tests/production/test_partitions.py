"""Partitions: a phone's partition is stable and spreads phones; leases spread the partitions
over the live workers (16 over 2 workers: 8 and 8), a dead worker's partitions are taken over
when its leases expire, and no partition is ever held by two workers."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from bot.db import session_scope
from bot.messaging import partitions
from bot.timeutil import utcnow

N = 16
LEASE = 20


def beat(url, worker, now):
    with session_scope(url) as session:
        assignment = partitions.heartbeat(session, worker, N, LEASE, now=now)
        partitions.release(session, worker, assignment.release)  # the worker stopped consuming them
    return assignment


def owned(url):
    with session_scope(url) as session:
        return Counter(owner for owner in partitions.owners(session).values())


def test_partition_of_is_stable_and_spreads_phones():
    phones = [f"+52443{n:07d}" for n in range(4000)]
    spread = Counter(partitions.partition_of(phone, N) for phone in phones)
    assert set(spread) == set(range(N))
    assert max(spread.values()) < 1.3 * len(phones) / N
    # the same number in every process: a fixed hash, not Python's salted one
    assert partitions.partition_of("+524431000001", N) == 15


def test_two_workers_share_sixteen_partitions_eight_and_eight(pg):
    now = utcnow()
    assert len(beat(pg, "a", now).held) == N  # alone, it takes everything
    assert beat(pg, "b", now).held == ()  # nothing is free yet
    given = beat(pg, "a", now + timedelta(seconds=1))
    assert len(given.held) == 8 and len(given.release) == 8 and given.share == 8
    taken = beat(pg, "b", now + timedelta(seconds=2))
    assert len(taken.held) == 8 and set(taken.held).isdisjoint(given.held)
    assert owned(pg) == {"a": 8, "b": 8}


def two_workers_settled(url):
    """Workers a and b, after the beats that share the partitions between them."""
    now = utcnow()
    for step, worker in enumerate(("a", "b", "a", "b")):
        beat(url, worker, now + timedelta(seconds=step // 2 + step % 2))
    assert owned(url) == {"a": 8, "b": 8}
    return now


def test_a_dead_workers_partitions_are_taken_over(pg):
    now = two_workers_settled(pg)
    # b dies: it beats no more; a goes on beating; once b's heartbeat and leases expire, a holds all
    later = now + timedelta(seconds=LEASE + 5)
    assert len(beat(pg, "a", later).held) == N


def test_a_worker_stopping_cleanly_hands_over_at_once(pg):
    now = two_workers_settled(pg)
    with session_scope(pg) as session:
        partitions.retire(session, "b")
    assert len(beat(pg, "a", now + timedelta(seconds=3)).held) == N


def test_concurrent_heartbeats_never_share_a_partition(pg):
    workers = [f"w{i}" for i in range(4)]
    held = {}
    barrier = threading.Barrier(len(workers))
    now = utcnow()

    def run(worker):
        barrier.wait()
        held[worker] = beat(pg, worker, now).held

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    everything = [p for ps in held.values() for p in ps]
    assert len(everything) == len(set(everything))
    for step in range(1, 4):  # a few rounds: everyone converges to 4
        for worker in workers:
            beat(pg, worker, now + timedelta(seconds=step))
    assert sorted(owned(pg).values()) == [4, 4, 4, 4]
