"""What a worker does with one MessageSid, from its queue or from the recovery loop.

The database decides the order: before the message itself, every earlier message of the same
phone that is not done is handled first, earliest first. Each one is claimed (one worker at a
time), its turn run (or not: rate limit, BAJA / ALTA), and its replies recorded in the unit of
work that marks it done (bot/messaging/turns.py). A turn that fails leaves its message not done,
to be tried again; the messages behind it wait for it. Whatever is not done when this returns is
in the database, due at a known time, and the recovery loop of the partition's owner takes it.

Turns of one phone never overlap inside a worker (a lock per phone); across workers, the queue's
owner is the only consumer and the claims keep a message to one worker at a time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta

from bot.messaging import inbound_work, turns
from bot.messaging.turns import ClaimLost, Next
from bot.messaging.work import in_session
from bot.timeutil import utcnow
from bot.worker import metrics
from bot.worker.config import WorkerSettings
from bot.worker.rasa_turns import Assistant

logger = logging.getLogger(__name__)


class Handler:
    def __init__(self, settings: WorkerSettings, assistant: Assistant):
        self.settings = settings
        self.assistant = assistant
        self._locks: dict[str, asyncio.Lock] = {}

    async def handle(self, message_sid: str) -> None:
        """The phone's messages up to this one, in order. Raises when the database cannot be
        reached (the caller gives the queue message back)."""
        work = await in_session(inbound_work.work_item, message_sid)
        if work is None:
            logger.warning("inbound %s is not in the database: nothing to do", message_sid)
            return
        if work.done or work.farmer_seq is None:
            return
        phone = work.message.phone
        lock = self._locks.setdefault(phone, asyncio.Lock())
        try:
            async with lock:
                await self._in_order(phone, work.farmer_seq)
        finally:
            if not lock.locked() and len(self._locks) > 5000:
                self._locks.pop(phone, None)

    async def _in_order(self, phone: str, farmer_seq: int) -> None:
        pending = await in_session(inbound_work.pending_up_to, phone, farmer_seq)
        for index, sid in enumerate(pending):
            waiting_until = await self._one(sid)
            if waiting_until is not None:
                behind = pending[index + 1 :]
                if behind:
                    delay = max(1.0, (waiting_until - utcnow()).total_seconds())
                    await in_session(turns.wait_behind, behind, self.settings.worker_id, delay)
                    logger.info("%d message(s) wait behind %s", len(behind), sid)
                return

    async def _one(self, sid: str) -> datetime | None:
        """Handles one message; None when it is done, else when to look at it again."""
        settings = self.settings
        start = await in_session(
            turns.start, sid, settings.worker_id, settings.claim_seconds, settings.rate_limit_per_minute
        )
        if start.next is Next.DONE:
            return None
        if start.next is Next.BUSY or start.work is None:
            logger.info("inbound %s is held by another worker or not due yet", sid)
            due = start.work.next_attempt_at if start.work else None
            return due or utcnow()
        work = start.work
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
