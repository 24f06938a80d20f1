"""The partitions a worker holds, and a consumer on each one's queue.

Every heartbeat (bot/messaging/partitions.py ``heartbeat``) says which partitions to consume and
which to give back; a partition is given back in the database only after its consumer is cancelled
and its message in hand is finished, so the next owner never overlaps with this one (and RabbitMQ's
single active consumer holds even if it did). One unacknowledged message per consumer: a queue is
handled in order, and the other partitions go on meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)

from bot.logs import failure
from bot.messaging import broker
from bot.messaging.broker import BrokerSettings
from bot.messaging.partitions import Assignment
from bot.worker import metrics
from bot.worker.handler import Handler

logger = logging.getLogger(__name__)

DATABASE_PAUSE = 2.0  # seconds before a message the database could not take goes back to its queue


class Consumers:
    def __init__(self, settings: BrokerSettings, handler: Handler, name: str):
        self.settings = settings
        self.handler = handler
        self.name = name
        self.connection: AbstractRobustConnection | None = None
        self.channel: AbstractChannel | None = None
        self.exchange: AbstractExchange | None = None
        self.queues: dict[int, tuple[AbstractQueue, str]] = {}
        self.in_hand: dict[int, set[asyncio.Task]] = {}
        self.stopping: set[int] = set()

    @property
    def held(self) -> tuple[int, ...]:
        return tuple(sorted(self.queues))

    @property
    def connected(self) -> bool:
        return self.connection is not None and not self.connection.is_closed

    async def start(self) -> None:
        """Connects, waiting for the broker as long as it takes (it may start after us)."""
        attempt = 0
        while self.connection is None:
            try:
                self.connection = await broker.connect(self.settings, self.name)
            except Exception as exc:
                attempt += 1
                logger.warning("broker not reachable (%s), attempt %d", type(exc).__name__, attempt)
                await asyncio.sleep(min(5.0, 0.5 * attempt))
        self.channel = await self.connection.channel()
        await self.channel.set_qos(prefetch_count=1)
        self.exchange = await broker.declare_exchange(self.channel, self.settings)

    async def apply(self, assignment: Assignment) -> list[int]:
        """Consumes the partitions held; stops the others. Returns the partitions stopped that the
        assignment asked to give back (for the caller to release in the database)."""
        for partition in assignment.held:
            if partition not in self.queues:
                await self._consume(partition)
        stopped = []
        for partition in [p for p in self.queues if p not in assignment.held]:
            await self._stop(partition)
            stopped.append(partition)
        metrics.PARTITIONS_OWNED.set(len(self.queues))
        return [p for p in stopped if p in assignment.release]

    async def _consume(self, partition: int) -> None:
        assert self.channel is not None and self.exchange is not None
        queue = await broker.declare_queue(self.channel, self.exchange, self.settings, partition)
        tag = await queue.consume(partial(self._on_message, partition))
        self.queues[partition] = (queue, tag)
        logger.info("consuming partition %d", partition)

    async def _stop(self, partition: int) -> None:
        queue, tag = self.queues.pop(partition)
        self.stopping.add(partition)
        try:
            await queue.cancel(tag)
        except Exception as exc:  # the channel is gone: nothing more comes from it anyway
            logger.warning("cancelling partition %d: %s", partition, failure(exc))
        tasks = self.in_hand.get(partition, set())
        if tasks:
            await asyncio.wait(list(tasks))
        self.stopping.discard(partition)
        try:
            metrics.QUEUE_DEPTH.remove(str(partition))
        except KeyError:  # never measured
            pass
        logger.info("stopped consuming partition %d", partition)

    async def _on_message(self, partition: int, message: AbstractIncomingMessage) -> None:
        sid = broker.decode(message.body)
        if sid is None:
            logger.error("partition %d: a queue message without a MessageSid, dropped", partition)
            await message.reject(requeue=False)
            return
        if partition in self.stopping:
            await message.nack(requeue=True)  # arrived after the cancel: for the next owner
            return
        task = asyncio.current_task()
        tasks = self.in_hand.setdefault(partition, set())
        if task is not None:
            tasks.add(task)
        try:
            await self.handler.handle(sid)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database, most often: the message goes back to its queue
            logger.error("inbound %s not handled (%s): back to its queue", sid, failure(exc))
            logger.debug("inbound %s not handled", sid, exc_info=exc)
            await asyncio.sleep(DATABASE_PAUSE)
            await _settle(message.nack(requeue=True), sid)
            return
        finally:
            if task is not None:
                tasks.discard(task)
        await _settle(message.ack(), sid)

    async def measure(self) -> None:
        """Queue depth of each partition held, for the metrics."""
        for partition, (queue, _tag) in list(self.queues.items()):
            try:
                declared = await queue.declare()
                metrics.QUEUE_DEPTH.labels(str(partition)).set(declared.message_count or 0)
            except Exception:
                continue

    async def stop(self) -> list[int]:
        stopped = list(self.queues)
        for partition in stopped:
            await self._stop(partition)
        if self.connection is not None:
            await self.connection.close()
            self.connection = None
        return stopped


async def _settle(done: object, sid: str) -> None:
    """An ack or nack; when the channel is gone, RabbitMQ delivers the message again and the
    handler finds it done."""
    try:
        await done  # type: ignore[misc]
    except Exception as exc:
        logger.warning(
            "inbound %s: ack not delivered (%s), it will come back and be skipped", sid, failure(exc)
        )
