"""The notice scheduler: plans notices from what changed in the records and releases the due ones
into farmers' conversations (bot/messaging/notices.py), round after round. The schedule is in
the database (notices), never in Rasa's reminders, which live in memory and die with a restart.

Embedded default (`make run`): a task of the channels' process (bot/channels/runtime.py); each
released notice is stored as the farmer's next message and its turn scheduled there; one a
restart leaves unanswered is replayed at start-up like any other stored message.

Production: its own process, any number of them (claims are ``FOR UPDATE SKIP LOCKED``; the
idempotency key makes a second planner harmless):

    python -m bot.messaging.notice_loop

Each released notice is stored with the farmer's next sequence number, in the unit of work that
releases it, and published to the farmer's queue, so the worker that owns the farmer runs it in
order with the farmer's own messages; one not published waits for that worker's recovery loop.
SIGTERM stops it between rounds. Settings: DATABASE_URL, RABBITMQ_URL, INBOUND_PARTITIONS,
INBOUND_QUEUE_PREFIX, NOTICE_INTERVAL [5] seconds, NOTICE_BATCH [100], NOTICE_QUIET_START [21],
NOTICE_QUIET_END [9], NOTICE_BACKLOG [200], NOTICE_TEMPLATE_<KIND> (each approved Content
template's ContentSid; docs/twilio.md, *Notices*).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from bot.config import settings as program_settings
from bot.logs import configure_process, failure
from bot.messaging import credentials, inbound_work, notices
from bot.messaging.broker import BrokerSettings, Publisher, PublishFailed
from bot.messaging.inbound import Inbound
from bot.messaging.inbound_work import Stored
from bot.messaging.notices import NoticeSettings
from bot.messaging.partitions import partition_of
from bot.messaging.work import in_session
from bot.timeutil import utcnow

logger = logging.getLogger(__name__)

Store = Callable[[Session, Inbound], Any]


class NoticeLoop:
    def __init__(
        self,
        settings: NoticeSettings,
        store: Store,
        on_released: Callable[[Any], Awaitable[None]],
        clock: Callable[[], datetime] = utcnow,
    ):
        self.settings = settings
        self.store = store
        self.on_released = on_released
        self.clock = clock
        self._task: asyncio.Task | None = None
        self._stopping = asyncio.Event()
        self._trainings_read_at: datetime | None = None
        self.claimed = 0  # notices the last round took from the schedule

    def _round(self, session: Session, now: datetime) -> notices.Round:
        last = self._trainings_read_at
        every = timedelta(seconds=self.settings.trainings_interval)
        trainings = last is None or not timedelta(0) <= now - last < every
        planned = notices.plan(session, now, self.settings, trainings=trainings)
        if trainings:
            self._trainings_read_at = now
        if planned:
            logger.info("%d notices planned", planned)
        return notices.release_round(session, self.settings, now, self.store)

    async def run_once(self) -> int:
        """One round: plan, release (one unit of work), then hand each released notice on;
        returns how many were released."""
        found = await in_session(self._round, self.clock())
        self.claimed = found.claimed
        for item in found.released:
            await self.on_released(item)
        return len(found.released)

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_once()
                # a whole batch claimed: more is due now, even when some were skipped or held
                busy = self.claimed >= self.settings.batch
            except Exception as exc:  # a database outage must not end the loop
                logger.error("notice round failed: %s", failure(exc))
                logger.debug("notice round failed", exc_info=exc)
                busy = False
            if busy:
                continue
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.settings.interval)

    def request_stop(self) -> None:
        self._stopping.set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None


# -- production ---------------------------------------------------------------------------------


def store_in_queue_order(partitions: int, session: Session, message: Inbound) -> Stored | None:
    """Production's store: the farmer's next sequence number and queue partition."""
    return inbound_work.store_in_sequence(session, message, partition_of(message.phone, partitions))


async def publish_released(publisher: Publisher, stored: Stored) -> None:
    try:
        await publisher.publish(stored)
    except PublishFailed as exc:
        logger.warning(
            "notice %s stored, not published (%s): the recovery loop takes it", stored.message_sid, exc
        )
        return
    await in_session(inbound_work.mark_published, [stored.message_sid])


def main() -> int:
    broker = BrokerSettings.from_env()
    if not credentials.fit_for_production(
        {"DATABASE_URL": program_settings().database_url, "RABBITMQ_URL": broker.url}
    ):
        return 2
    configure_process("notices")

    async def run() -> None:
        publisher = Publisher(broker, name="notices")
        publisher.start_in_background()
        loop = NoticeLoop(
            NoticeSettings.from_env(),
            store=partial(store_in_queue_order, broker.partitions),
            on_released=partial(publish_released, publisher),
        )
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, loop.request_stop)
        logger.info("notice scheduler started")
        try:
            await loop.run()
        finally:
            await publisher.close()
            logger.info("notice scheduler stopped")

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
