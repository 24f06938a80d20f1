"""A worker killed mid-turn leaves its Rasa lock in Redis (RedisLockStore: tickets that expire
after TICKET_LOCK_LIFETIME); the worker that takes the message over deletes that conversation's
lock before the turn, so the farmer's turn does not wait out the lock's lifetime. A message not
taken over (a first claim, a retry another worker gave back cleanly, a live worker's claim) keeps
whatever lock is there. On the real PostgreSQL and Redis (db 14, a key prefix of the test's own,
deleted after); the recovery loop's path also on RabbitMQ. Skipped when Redis is absent."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta

import pytest
import redis
from rasa.core.lock_store import RedisLockStore

from bot.db import session_scope
from bot.messaging import inbound_claims, inbound_work, partitions
from bot.messaging.inbound import Inbound
from bot.messaging.inbound_claims import Grace
from bot.timeutil import utcnow
from bot.worker.handler import Handler
from bot.worker.rasa_turns import TurnResult
from tests.production.support import message
from tests.production.workers import fast_settings, start_worker, statuses, until

REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 14
PHONE = "+524431000701"
PARTITION = 3
LIFETIME = 60.0  # the dead worker's ticket: production's TICKET_LOCK_LIFETIME


@pytest.fixture
def lock_store():
    """Rasa's Redis lock store on db 14 with a key prefix of this test's own, deleted after."""
    try:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_timeout=2).ping()
    except redis.RedisError:
        pytest.skip(f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT} (Rasa's lock store in production)")
    store = RedisLockStore(
        host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, key_prefix=f"pptest{uuid.uuid4().hex[:10]}"
    )
    yield store
    for key in store.red.scan_iter(match=f"{store.key_prefix}*"):
        store.red.delete(key)


class LockingAssistant:
    """Runs a turn as Rasa's ``Agent.handle_message`` does, inside the conversation's lock
    (``take_lock``); a turn that cannot get the lock in 3 s fails (Rasa would wait up to the
    lock's lifetime). ``found``: whether a lock was in Redis when each turn began."""

    def __init__(self, lock_store: RedisLockStore, take_lock: bool = True):
        self.lock_store, self.take_lock = lock_store, take_lock
        self.found: list[bool] = []

    async def turn(self, message: Inbound, retried: bool) -> TurnResult:
        self.found.append(self.lock_store.get_lock(message.phone) is not None)
        if not self.take_lock:
            return TurnResult([f"Eco: {message.body}"])

        async def locked() -> TurnResult:
            async with self.lock_store.lock(message.phone, lock_lifetime=LIFETIME, wait_time_in_seconds=0.05):
                return TurnResult([f"Eco: {message.body}"])

        try:
            return await asyncio.wait_for(locked(), 3)
        except asyncio.TimeoutError:
            return TurnResult([], "the conversation's Rasa lock is held")


def _stored(url: str, body: str = "hola") -> str:
    with session_scope(url) as session:
        stored = inbound_work.store_in_sequence(session, message(PHONE, body), PARTITION)
    assert stored is not None
    return stored.message_sid


def _killed_mid_turn(
    url: str, sid: str, lock_store: RedisLockStore, worker: str = "dead", claim_seconds: float = 90
) -> None:
    """``worker`` claimed the message and took its conversation's Rasa lock, then was killed:
    its heartbeat lapsed (its claim itself would still run 90 s) and its lock stays in Redis."""
    with session_scope(url) as session:
        partitions.heartbeat(session, worker, 16, 20)
        assert inbound_claims.claim(session, sid, worker, claim_seconds)
    lock_store.issue_ticket(PHONE, LIFETIME)
    with session_scope(url) as session:  # its last heartbeat a minute ago: its lease ran out
        partitions.heartbeat(session, worker, 16, 20, now=utcnow() - timedelta(minutes=1))


def _handle(sid: str, assistant: LockingAssistant, lock_store: RedisLockStore) -> None:
    asyncio.run(Handler(fast_settings("w2"), assistant, lock_store).handle(sid))


def _takeover_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "taken over" in r.getMessage()]


def test_a_dead_workers_lock_is_deleted_when_another_worker_takes_its_message_over(pg, lock_store, caplog):
    sid = _stored(pg)
    _killed_mid_turn(pg, sid, lock_store)
    assistant = LockingAssistant(lock_store)
    with caplog.at_level(logging.INFO, logger="bot.worker"):
        _handle(sid, assistant, lock_store)
    assert assistant.found == [False]  # deleted before the turn, which got the lock at once
    assert statuses(pg)[sid] == "processed"
    assert lock_store.get_lock(PHONE) is None
    lines = _takeover_lines(caplog)
    assert lines == [f"turn {sid} taken over from dead: its conversation's Rasa lock deleted"]
    assert not any(PHONE in r.getMessage() or PHONE[-8:] in r.getMessage() for r in caplog.records)


def test_the_recovery_loop_deletes_the_lock_of_a_message_it_takes_from_a_dead_worker(
    pg, broker, lock_store, caplog
):
    sid = _stored(pg, "nunca publicado")  # the recovery loop's to take (never published)
    _killed_mid_turn(pg, sid, lock_store)
    assistant = LockingAssistant(lock_store)

    async def scenario():
        worker = start_worker(broker, assistant, "w2", Grace(unpublished_seconds=0.5), lock_store)
        await worker.start(http=False)
        try:
            await until(lambda: statuses(pg)[sid] == "processed", timeout=20)
        finally:
            await worker.stop()

    with caplog.at_level(logging.INFO, logger="bot.worker"):
        asyncio.run(scenario())
    assert assistant.found == [False]
    assert _takeover_lines(caplog) == [
        f"turn {sid} taken over from dead: its conversation's Rasa lock deleted"
    ]


def test_a_worker_restarted_under_its_own_id_deletes_the_lock_its_killed_run_left(pg, lock_store, caplog):
    """Under honcho or systemd a killed worker comes back with the same WORKER_ID: the claim its
    previous run made is its own id's, and still the lock that run left is deleted."""
    sid = _stored(pg)
    _killed_mid_turn(pg, sid, lock_store, worker="w2", claim_seconds=fast_settings("w2").claim_seconds)
    assistant = LockingAssistant(lock_store)
    with caplog.at_level(logging.INFO, logger="bot.worker"):
        _handle(sid, assistant, lock_store)  # a new Handler: this run started after that claim
    assert assistant.found == [False] and statuses(pg)[sid] == "processed"
    assert _takeover_lines(caplog) == [f"turn {sid} taken over from w2: its conversation's Rasa lock deleted"]


@pytest.mark.parametrize("before", ["first claim", "given back by another worker"])
def test_a_lock_is_kept_when_the_message_was_not_taken_over(pg, lock_store, caplog, before):
    sid = _stored(pg)
    if before == "given back by another worker":  # its turn failed; retry due now, claim released
        with session_scope(pg) as session:
            partitions.heartbeat(session, "other", 16, 20)
            assert inbound_claims.claim(session, sid, "other", 90)
            assert inbound_claims.reschedule(session, sid, "other", 0, "action failed")
    lock_store.issue_ticket(PHONE, LIFETIME)  # a lock this worker must not touch
    assistant = LockingAssistant(lock_store, take_lock=False)
    with caplog.at_level(logging.INFO, logger="bot.worker"):
        _handle(sid, assistant, lock_store)
    assert statuses(pg)[sid] == "processed"
    assert assistant.found == [True]
    assert lock_store.get_lock(PHONE) is not None
    assert _takeover_lines(caplog) == []


def test_a_live_workers_claim_is_not_taken_and_its_lock_is_kept(pg, lock_store):
    sid = _stored(pg)
    with session_scope(pg) as session:
        partitions.heartbeat(session, "alive", 16, 20)
        assert inbound_claims.claim(session, sid, "alive", 90)
    lock_store.issue_ticket(PHONE, LIFETIME)
    assistant = LockingAssistant(lock_store, take_lock=False)
    _handle(sid, assistant, lock_store)
    assert assistant.found == []  # no turn: the message is the live worker's
    assert lock_store.get_lock(PHONE) is not None
