"""What the webhook gateway does with a checked message (production mode): store it with its
phone's sequence number, let the gateway answer Twilio as soon as it is stored (it cannot be lost
from then on), and publish it to its partition's queue after that, with the broker's confirm
(under a burst, once the webhooks arriving with it are answered as well).

* Stored once: the unique MessageSid decides between Twilio's retries and between two gateways
  that got the same webhook at once; the loser answers Twilio and publishes nothing.
* Stored but not published (the broker down, no confirm in time, the gateway killed before its
  publish): the message waits in the database and the recovery loop of the worker that owns its
  partition takes it (bot/messaging/inbound_claims.py ``claim_due``, after ``Grace``).
* Not stored (the database down): the gateway spools it to its disk and answers 200
  (bot/messaging/gateway_spool.py); when the spool cannot take it either, 503, and Twilio's retry
  of it, when the webhook URL asks for retries, is taken later (docs/twilio.md, *Retries*).
"""

from __future__ import annotations

import asyncio
import enum
import logging

from prometheus_client import Histogram
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from bot.logs import failure
from bot.messaging import inbound_work
from bot.messaging.broker import Publisher, PublishFailed
from bot.messaging.inbound import Inbound
from bot.messaging.inbound_work import Stored
from bot.messaging.partitions import partition_of
from bot.messaging.work import in_session
from bot.phones import mask_phone

logger = logging.getLogger(__name__)

STORE_BATCH = 200  # webhooks stored in one unit of work at most
PUBLISH_WAIT = 0.05  # seconds a stored message waits at most for the webhooks stored after it
STORED_TOGETHER = Histogram(
    "gateway_webhooks_stored_together",
    "Webhooks stored in one unit of work (those that arrived while the one before was stored)",
    buckets=(1, 2, 5, 10, 25, 50, 100, STORE_BATCH),
)


class Taken(enum.Enum):
    NEW = "new"  # stored, and published or left to the recovery loop
    REPEAT = "repeat"  # that MessageSid was stored already: acknowledged, nothing else
    UNAVAILABLE = "unavailable"  # the database (nor, at the gateway, its spool) did not take it: 503
    SPOOLED = "spooled"  # the database did not take it, the gateway's spool did (gateway_spool.py)


async def _stored_alone(message: Inbound, partition: int) -> Stored | None | BaseException:
    try:
        return await in_session(inbound_work.store_in_sequence, message, partition)
    except Exception as exc:  # handed to that webhook's take()
        return exc


class Intake:
    def __init__(self, publisher: Publisher):
        self.publisher = publisher
        self._arrived: list[tuple[Inbound, int, asyncio.Future[Stored | None]]] = []  # not yet storing
        self._storing: asyncio.Task | None = None
        self._to_publish: list[Stored] = []  # stored, their publish not yet begun
        self._releasing: asyncio.Task | None = None
        self._publishing: set[asyncio.Task] = set()
        self._confirmed: list[str] = []  # published, not yet marked
        self._marking: asyncio.Task | None = None

    async def take(self, message: Inbound) -> Taken:
        partition = partition_of(message.phone, self.publisher.settings.partitions)
        try:
            stored = await self._store(message, partition)
        except (SQLAlchemyError, OSError) as exc:
            logger.error("inbound %s not stored (%s): refused with 503", message.message_sid, failure(exc))
            return Taken.UNAVAILABLE
        if stored is None:
            return Taken.REPEAT
        logger.info(
            "%s %s from %s stored as #%d on partition %d",
            message.medium,
            message.message_sid,
            mask_phone(message.phone),
            stored.farmer_seq,
            partition,
        )
        self._publish_soon(stored)
        return Taken.NEW

    def _store(self, message: Inbound, partition: int) -> asyncio.Future[Stored | None]:
        """Stored with the webhooks that arrived while the gateway was storing the ones before, in
        one unit of work (``inbound_work.store_all_in_sequence``): under a burst, a few commits
        instead of one a webhook, and each webhook's answer waits for one store at most."""
        stored: asyncio.Future[Stored | None] = asyncio.get_running_loop().create_future()
        self._arrived.append((message, partition, stored))
        if self._storing is None or self._storing.done():
            self._storing = asyncio.get_running_loop().create_task(self._store_arrived())
        return stored

    async def _store_arrived(self) -> None:
        while self._arrived:
            batch, self._arrived = self._arrived[:STORE_BATCH], self._arrived[STORE_BATCH:]
            arrivals = [(message, partition) for message, partition, _ in batch]
            STORED_TOGETHER.observe(len(batch))
            results: list[Stored | None | BaseException]
            try:
                results = list(await in_session(inbound_work.store_all_in_sequence, arrivals))
            except (OperationalError, OSError) as exc:  # the database is not there: each is spooled
                results = [exc] * len(batch)
            except Exception as exc:  # one of them cannot be stored: each on its own, in order
                logger.warning(
                    "%d inbound not stored together (%s): each on its own", len(batch), failure(exc)
                )
                results = [await _stored_alone(message, partition) for message, partition in arrivals]
            for (_, _, stored), result in zip(batch, results, strict=True):
                self._settle(stored, result)

    def _settle(self, stored: asyncio.Future[Stored | None], result: Stored | None | BaseException) -> None:
        if not stored.done():
            if isinstance(result, BaseException):
                stored.set_exception(result)
            else:
                stored.set_result(result)
        elif isinstance(result, Stored):  # its webhook is gone (the client hung up): stored all the same
            self._publish_soon(result)

    def _publish_soon(self, stored: Stored) -> None:
        """Published after Twilio gets its answer: the message is safe once it is stored (the
        recovery loop publishes nothing, it takes what no worker got), so the answer does not
        wait for the broker's confirm, nor for the publishes of the webhooks stored before."""
        self._to_publish.append(stored)
        if self._releasing is None or self._releasing.done():
            self._releasing = asyncio.get_running_loop().create_task(self._release())

    async def _release(self) -> None:
        """Begins the publishes once the webhooks that arrived meanwhile are stored (up to
        ``PUBLISH_WAIT``): under a burst, the answers first, then the publishes and their marks,
        which would otherwise take the cores from the answers still to give (a few milliseconds
        more before a message reaches its worker)."""
        while self._to_publish:
            if self._storing is not None and not self._storing.done():
                await asyncio.wait([self._storing], timeout=PUBLISH_WAIT)
            await asyncio.sleep(0)  # the answers of the webhooks just stored go out first
            released, self._to_publish = self._to_publish, []
            for stored in released:
                task = asyncio.get_running_loop().create_task(self._publish(stored))
                self._publishing.add(task)
                task.add_done_callback(self._publishing.discard)

    async def _publish(self, stored: Stored) -> None:
        try:
            await self.publisher.publish(stored)
        except PublishFailed as exc:
            logger.warning(
                "inbound %s stored, not published (%s): the recovery loop takes it", stored.message_sid, exc
            )
            return
        self._mark_published(stored.message_sid)

    def _mark_published(self, message_sid: str) -> None:
        """Recorded after Twilio has its answer, together with the confirms that came in while
        the previous record was being written (one statement for a burst, not one a message). A
        lost mark only makes recovery look at the message sooner (its turn is done once, by
        whoever gets it first)."""
        self._confirmed.append(message_sid)
        if self._marking is None or self._marking.done():
            self._marking = asyncio.get_running_loop().create_task(self._mark())

    async def _mark(self) -> None:
        while self._confirmed:
            sids, self._confirmed = self._confirmed, []
            try:
                await in_session(inbound_work.mark_published, sids)
            except (SQLAlchemyError, OSError) as exc:
                logger.warning("%d inbound published, marks not recorded (%s)", len(sids), failure(exc))
                logger.debug("marks not recorded for %s", ", ".join(sids))

    async def drain(self) -> None:
        """Waits (up to 10 s each) for the stores, the publishes under way, then their marks."""
        if self._storing is not None and not self._storing.done():
            await asyncio.wait([self._storing], timeout=10)
        if self._releasing is not None and not self._releasing.done():
            await asyncio.wait([self._releasing], timeout=10)
        if self._publishing:
            await asyncio.wait(list(self._publishing), timeout=10)
        if self._marking is not None and not self._marking.done():
            await asyncio.wait([self._marking], timeout=10)
