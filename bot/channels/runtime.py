"""What the WhatsApp and SMS channels of one process share: the sender, the outbox worker, the
turn runner, and the per-farmer locks that keep one farmer's turns (and replies) in order.

A webhook's message is taken with ``accept`` (remembered, stored, or spooled when the database
is down; refused when neither can take it) and then handled in a background task: the rate
limit first, opt-out words here, everything else through Rasa, and the replies out through
Twilio's REST API.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.turn_threads import TurnThreads
from bot.channels.twilio_form import user_message
from bot.logs import failure
from bot.messaging import inbound, notices, rate_limit, texts, turns
from bot.messaging.config import TwilioSettings, spool_path
from bot.messaging.delivery import OutboxWorker, deliver, deliver_turn
from bot.messaging.formatting import collected_texts
from bot.messaging.inbound import NOTICE, Inbound
from bot.messaging.notice_loop import NoticeLoop
from bot.messaging.sender import TwilioSender
from bot.messaging.work import in_pool, in_session
from bot.phones import mask_phone

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
OPT_KINDS = ("opt_out", "opt_in")


class Accepted(enum.Enum):
    NEW = "new"  # stored (or spooled): its turn is scheduled
    REPEAT = "repeat"  # a Twilio retry of a message taken already: acknowledged, not processed
    UNAVAILABLE = "unavailable"  # neither the database nor the spool took it: 503, not remembered


class Runtime:
    def __init__(self, settings: TwilioSettings):
        self.settings = settings
        self.sender = TwilioSender(settings)
        self.turns = TurnThreads(settings.turn_threads)
        self.on_new_message: OnNewMessage | None = None
        self.worker: OutboxWorker | None = None
        self.notices: NoticeLoop | None = None
        self.tasks: set[asyncio.Task] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._spool_lock = threading.Lock()
        self.started = False

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        if self.started:
            return
        self.started = True
        for problem in self.settings.problems():
            logger.error("twilio channel misconfigured: %s", problem)
        self.worker = OutboxWorker(self.sender, replay_inbound=self.replay)
        self.worker.start()
        notice_settings = notices.NoticeSettings.from_env()
        if notice_settings.embedded:
            self.notices = NoticeLoop(notice_settings, notices.store_embedded, self._notice_released)
            self.notices.start()

    async def _notice_released(self, message: Inbound) -> None:
        """A notice stored as the farmer's next message: its turn runs like theirs."""
        self.remember(message.message_sid)
        self.schedule(message)

    async def stop(self) -> None:
        if self.notices is not None:
            await self.notices.stop()
        if self.worker is not None:
            await self.worker.stop()
        for task in list(self.tasks):
            task.cancel()
        await self.sender.close()
        await asyncio.get_running_loop().run_in_executor(None, self.turns.shutdown)
        self.started = False

    async def drain(self, timeout: float = 30) -> None:
        """Waits for the running turns (tests and the benchmark use it)."""
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=timeout)

    # -- taking a message -----------------------------------------------------------------
    def remember(self, sid: str) -> bool:
        """In-memory dedupe, also while the database is down. False if seen already."""
        if sid in self._recent:
            return False
        self._recent[sid] = None
        if len(self._recent) > 20000:
            self._recent.popitem(last=False)
        return True

    def forget(self, sid: str) -> None:
        self._recent.pop(sid, None)

    async def accept(self, message: Inbound) -> Accepted:
        """Takes a webhook's message once: stored, or spooled to a file while the database is
        down. When neither can take it, the MessageSid is forgotten so Twilio's retry of it is
        processed later."""
        if not self.remember(message.message_sid):
            return Accepted.REPEAT
        try:
            stored_new = await in_session(inbound.store_inbound, message)
        except (SQLAlchemyError, OSError) as exc:
            logger.error("database unavailable (%s): inbound %s spooled", failure(exc), message.message_sid)
            try:
                await in_pool(self._spool, message)
            except OSError as spool_exc:
                logger.error(
                    "spool unavailable too (%s): inbound %s refused with 503",
                    failure(spool_exc),
                    message.message_sid,
                )
                self.forget(message.message_sid)
                return Accepted.UNAVAILABLE
            return Accepted.NEW
        return Accepted.NEW if stored_new else Accepted.REPEAT

    def _spool(self, message: Inbound) -> None:
        path = spool_path(self.settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._spool_lock, path.open("a", encoding="utf-8") as handle:
            handle.write(message.to_json() + "\n")
            handle.flush()

    def schedule(self, message: Inbound) -> None:
        task = asyncio.get_running_loop().create_task(self.handle(message))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # -- one turn -------------------------------------------------------------------------
    async def _mark(self, sid: str, status: str, error: str | None = None) -> None:
        try:
            await in_session(inbound.mark_inbound, sid, status, error)
        except (SQLAlchemyError, OSError):
            logger.warning("could not mark inbound %s as %s", sid, status)

    async def handle(self, message: Inbound) -> None:
        """One farmer turn, in order with the farmer's other turns."""
        lock = self._locks.setdefault(message.phone, asyncio.Lock())
        try:
            async with lock:
                await self._handle(message)
        except Exception as exc:  # never let a background task die silently
            logger.error("turn for %s failed: %s", message.message_sid, failure(exc))
            logger.debug("turn for %s failed", message.message_sid, exc_info=exc)
        finally:
            if not lock.locked() and len(self._locks) > 5000:
                self._locks.pop(message.phone, None)

    async def replay(self, message: Inbound) -> None:
        """A message a restart left unanswered: counted, so one that kills the process is not
        tried for ever."""
        await self._mark(message.message_sid, "processing")
        await self.handle(message)

    async def _admit(self, message: Inbound) -> rate_limit.Admission:
        """The rate limit's answer; while the database is down nothing can be counted, and the
        message goes through."""
        try:
            return await in_session(
                rate_limit.admit, message.message_sid, self.settings.rate_limit_per_minute
            )
        except (SQLAlchemyError, OSError):
            return rate_limit.ADMITTED

    async def _handle(self, message: Inbound) -> None:
        if message.kind == NOTICE:
            await self._notice_turn(message)
            return
        admission = await self._admit(message)
        if not admission.admitted:
            await self._hold_back(message, admission)
            return
        failed: str | None = None
        if message.kind in OPT_KINDS:
            replies = [await self._record_opt(message)]
        else:
            replies, failed = await self._rasa_turn(message)
        await self._reply(message, replies)
        await self._mark(message.message_sid, "failed" if failed else "processed", failed)

    async def _hold_back(self, message: Inbound, admission: rate_limit.Admission) -> None:
        """Over the rate limit (already marked so): an opt-out or opt-in is still recorded,
        unconfirmed; the first message held back in the window gets the notice."""
        logger.info("%s from %s held back by the rate limit", message.message_sid, mask_phone(message.phone))
        if message.kind in OPT_KINDS:
            await self._record_opt(message)
        if admission.notify:
            await self._reply(message, [texts.RATE_LIMITED])

    async def _notice_turn(self, message: Inbound) -> None:
        """A notice: no rate limit, and no apology when its turn fails (nobody asked); it is
        marked failed for staff instead."""
        replies, failed = await self._rasa_turn(message)
        if failed:
            await self._mark(message.message_sid, "failed", failed)
            return
        shaped = await in_session(notices.outgoing_for, message, replies)
        for outgoing in shaped or []:
            await deliver(self.sender, outgoing)
        await self._mark(message.message_sid, "processed")

    async def _record_opt(self, message: Inbound) -> str:
        """BAJA / ALTA and their synonyms: recorded; returns the confirmation."""
        return await in_session(turns.record_opt_of, message)

    async def _reply(self, message: Inbound, replies: list[str]) -> None:
        if replies:
            await deliver_turn(
                self.sender,
                medium=message.medium,
                phone=message.phone,
                to_address=message.from_address,
                texts=replies,
                in_reply_to=message.message_sid,
            )

    async def _rasa_turn(self, message: Inbound) -> tuple[list[str], str | None]:
        if self.on_new_message is None:
            return [texts.TURN_FAILED], "no assistant attached"
        collector = CollectingOutputChannel()
        incoming = user_message(message, collector)
        on_new_message = self.on_new_message
        try:
            await asyncio.wait_for(
                self.turns.run(lambda: on_new_message(incoming)), self.settings.turn_timeout
            )
        except Exception as exc:  # the farmer must hear back whatever failed
            logger.error("assistant failed on %s: %s", message.message_sid, failure(exc))
            logger.debug("assistant failed on %s", message.message_sid, exc_info=exc)
            sent_already = collected_texts(collector.messages)
            return sent_already + [texts.TURN_FAILED], type(exc).__name__
        replies = collected_texts(collector.messages)
        if not replies:
            logger.warning("assistant gave no reply to %s", message.message_sid)
        return replies, None


_RUNTIMES: dict[TwilioSettings, Runtime] = {}


def runtime_for(settings: TwilioSettings) -> Runtime:
    if settings not in _RUNTIMES:
        _RUNTIMES[settings] = Runtime(settings)
    return _RUNTIMES[settings]
