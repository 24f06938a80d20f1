"""What a worker does with one MessageSid, from its queue or from the recovery loop.

The database decides the order: before the message itself, every earlier message of the same
phone that is not done is handled first, earliest first. Each one is claimed (one worker at a
time), its turn run (or not: rate limit, BAJA / ALTA), and its replies recorded in the unit of
work that marks it done (bot/messaging/turns.py). A turn that fails leaves its message not done,
to be tried again; the messages behind it wait for it. Whatever is not done when this returns is
in the database, due at a known time, and the recovery loop of the partition's owner takes it.

Turns of one phone never overlap inside a worker (a lock per phone); across workers, the queue's
owner is the only consumer and the claims keep a message to one worker at a time. A message taken
over from another worker (dead, or stalled past its claim) has that conversation's Rasa lock
deleted before its turn (bot/worker/takeover.py): a worker killed mid-turn leaves it in Redis.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import datetime, timedelta

from rasa.core.lock_store import RedisLockStore

from bot.logs import failure
from bot.messaging import inbound_claims, turns
from bot.messaging.turns import ClaimLost, Next
from bot.messaging.work import in_session
from bot.timeutil import utcnow
from bot.worker import metrics, takeover
from bot.worker.config import WorkerSettings
from bot.worker.rasa_turns import Assistant

logger = logging.getLogger(__name__)


class Handler:
    def __init__(
        self, settings: WorkerSettings, assistant: Assistant, lock_store: RedisLockStore | None = None
    ):
        self.settings = settings
        self.started_at = utcnow()  # a claim of our own id from before this was a killed run's
        self.assistant = assistant
        self.lock_store = lock_store  # Rasa's lock store: a taken-over turn's lock is deleted there
        self._locks: dict[str, asyncio.Lock] = {}

    async def handle(self, message_sid: str, taken_over: Mapping[str, str] | None = None) -> None:
        """The phone's messages up to this one, in order. Raises when the database cannot be
        reached (the caller gives the queue message back). ``taken_over``: the messages the
        recovery loop claimed from other workers (MessageSid -> that worker)."""
        work, pending = await in_session(inbound_claims.work_and_pending, message_sid)
        if work is None:
            logger.warning("inbound %s is not in the database: nothing to do", message_sid)
            return
        if not pending:
            return
        phone = work.message.phone
        lock = self._locks.setdefault(phone, asyncio.Lock())
        try:
            async with lock:
                await self._in_order(pending, taken_over or {})
        finally:
            if not lock.locked() and len(self._locks) > 5000:
                self._locks.pop(phone, None)

    async def _in_order(self, pending: list[str], taken_over: Mapping[str, str]) -> None:
        """The phone's pending messages, earliest first; the rest wait behind one not done."""
        for index, sid in enumerate(pending):
            waiting_until = await self._one(sid, taken_over.get(sid))
            if waiting_until is not None:
                behind = pending[index + 1 :]
                if behind:
                    delay = max(1.0, (waiting_until - utcnow()).total_seconds())
                    await in_session(turns.wait_behind, behind, self.settings.worker_id, delay)
                    logger.info("%d message(s) wait behind %s", len(behind), sid)
                return

    async def _one(self, sid: str, claimed_from: str | None = None) -> datetime | None:
        """Handles one message; None when it is done, else when to look at it again.
        ``claimed_from``: the worker whose claim the recovery loop took it from."""
        settings = self.settings
        start, taken_from = await in_session(
            takeover.start,
            sid,
            settings.worker_id,
            settings.claim_seconds,
            settings.rate_limit_per_minute,
            self.started_at,
        )
        taken_from = taken_from or claimed_from
        if start.next is Next.DONE:
            return None
        if start.next is Next.BUSY or start.work is None:
            logger.info("inbound %s is held by another worker or not due yet", sid)
            due = start.work.next_attempt_at if start.work else None
            return due or utcnow()
        work = start.work
        if taken_from is not None:
            await self._drop_lock(sid, work.message.phone, taken_from)
        began = time.perf_counter()
        result = await self.assistant.turn(work.message, retried=work.attempts > 1)
        metrics.TURN_SECONDS.observe(time.perf_counter() - began)
        try:
            if result.failure is None:
                await in_session(turns.finish, work, settings.worker_id, result.replies)
                metrics.TURNS.labels("answered").inc()
                logger.info("turn %s answered: %d message(s) queued", sid, len(result.replies))
                return None
            give_up = (utcnow() - work.received_at).total_seconds() > settings.retry_max_hours * 3600
            delay = settings.retry_in(work.attempts)
            noted = await in_session(turns.fail, work, settings.worker_id, result.failure, delay, give_up)
        except ClaimLost:
            logger.warning("turn %s: claim lost to another worker, nothing recorded", sid)
            return utcnow()
        metrics.TURNS_FAILED.labels(result.failure.split(" ")[0]).inc()
        metrics.TURNS.labels("given_up" if give_up else "failed").inc()
        logger.warning(
            "turn %s failed (%s), try %d: %s%s",
            sid,
            result.failure,
            work.attempts,
            "given up" if give_up else f"again in {delay:.1f} s",
            "; farmer told we will answer soon" if noted else "",
        )
        return None if give_up else utcnow() + timedelta(seconds=delay)

    async def _drop_lock(self, sid: str, phone: str, taken_from: str) -> None:
        """The conversation's Rasa lock deleted before the turn of a message taken over from
        another worker: that worker may have died holding it (bot/worker/takeover.py says why no
        one else can be running this farmer's turn now). Logged with the MessageSid only."""
        if self.lock_store is None:
            return
        try:
            dropped = await asyncio.to_thread(takeover.drop_conversation_lock, self.lock_store, phone)
        except Exception as exc:  # Redis down: the turn waits for the lock, or fails and is retried
            logger.warning(
                "turn %s taken over from %s: Rasa lock not deleted: %s", sid, taken_from, failure(exc)
            )
            return
        logger.info(
            "turn %s taken over from %s: %s",
            sid,
            taken_from,
            "its conversation's Rasa lock deleted" if dropped else "no Rasa lock was left",
        )
