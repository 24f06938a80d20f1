"""The inbound queues on RabbitMQ (production mode): the webhook gateway publishes each stored
message's MessageSid and sequence number to the queue of its phone's partition; the Rasa workers
consume the partitions they hold a lease on (bot/messaging/partitions.py).

Topology, declared the same way by every process (declaring is idempotent):

* one durable direct exchange, ``{INBOUND_QUEUE_PREFIX}`` (default ``pp.inbound``);
* ``INBOUND_PARTITIONS`` (16) durable quorum queues ``{prefix}.000`` ... ``{prefix}.015``, each
  bound with its partition number as routing key and declared with
  ``x-single-active-consumer: true``: whatever happens, one consumer at a time gets its messages.

The partition is our own stable hash of the phone (no plugin to enable on the broker). A queue
message carries no personal data: ``{"sid": ..., "seq": ...}``; the worker reads the message from
the database, the source of truth. Changing ``INBOUND_PARTITIONS`` moves farmers between queues:
do it with the queues drained.

Publishing waits for the broker's confirm (publisher confirms) and a route to the queue
(``mandatory``); a failure raises ``PublishFailed`` and the message, stored already, is picked up
by the workers' recovery loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractQueue,
    AbstractRobustConnection,
)

from bot.messaging.inbound_work import Stored

logger = logging.getLogger(__name__)

QUEUE_ARGUMENTS: dict[str, bool | str] = {"x-queue-type": "quorum", "x-single-active-consumer": True}


class PublishFailed(RuntimeError):
    """The broker did not confirm the message (down, refused, or no queue took it)."""


@dataclass(frozen=True)
class BrokerSettings:
    url: str = "amqp://guest:guest@127.0.0.1:5672/"  # RABBITMQ_URL; production: a user of its own
    partitions: int = 16  # INBOUND_PARTITIONS, the same for every gateway and worker
    prefix: str = "pp.inbound"  # INBOUND_QUEUE_PREFIX: the exchange, and the queues' names
    publish_timeout: float = 5.0  # INBOUND_PUBLISH_TIMEOUT, seconds to wait for the confirm
    queue_arguments: Mapping[str, bool | str] = field(default_factory=lambda: dict(QUEUE_ARGUMENTS))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BrokerSettings:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            url=env.get("RABBITMQ_URL", "").strip() or defaults.url,
            partitions=int(env.get("INBOUND_PARTITIONS", "").strip() or defaults.partitions),
            prefix=env.get("INBOUND_QUEUE_PREFIX", "").strip() or defaults.prefix,
            publish_timeout=float(env.get("INBOUND_PUBLISH_TIMEOUT", "").strip() or defaults.publish_timeout),
        )

    @property
    def exchange(self) -> str:
        return self.prefix

    def queue(self, partition: int) -> str:
        return f"{self.prefix}.{partition:03d}"


def encode(stored: Stored) -> bytes:
    return json.dumps({"sid": stored.message_sid, "seq": stored.farmer_seq}).encode()


def decode(body: bytes) -> str | None:
    """The MessageSid a queue message names, or None when it names none."""
    try:
        sid = json.loads(body.decode("utf-8")).get("sid")
    except (ValueError, AttributeError):
        return None
    return sid if isinstance(sid, str) and sid else None


async def connect(settings: BrokerSettings, name: str) -> AbstractRobustConnection:
    """A connection that reconnects by itself (and restores its channels and consumers); ``name``
    shows in RabbitMQ's list of connections."""
    return await aio_pika.connect_robust(settings.url, client_properties={"connection_name": name})


async def declare_exchange(channel: AbstractChannel, settings: BrokerSettings) -> AbstractExchange:
    return await channel.declare_exchange(settings.exchange, aio_pika.ExchangeType.DIRECT, durable=True)


async def declare_queue(
    channel: AbstractChannel, exchange: AbstractExchange, settings: BrokerSettings, partition: int
) -> AbstractQueue:
    queue = await channel.declare_queue(
        settings.queue(partition), durable=True, arguments=dict(settings.queue_arguments)
    )
    await queue.bind(exchange, routing_key=str(partition))
    return queue


async def declare_all(channel: AbstractChannel, settings: BrokerSettings) -> AbstractExchange:
    """The exchange and every partition's queue (what a gateway needs before its first publish)."""
    exchange = await declare_exchange(channel, settings)
    for partition in range(settings.partitions):
        await declare_queue(channel, exchange, settings, partition)
    return exchange


class Publisher:
    """One connection and one confirming channel, shared by all of a gateway's requests."""

    def __init__(self, settings: BrokerSettings, name: str = "gateway"):
        self.settings = settings
        self.name = name
        self.connection: AbstractRobustConnection | None = None
        self.exchange: AbstractExchange | None = None
        self._connecting: asyncio.Task | None = None

    async def start(self) -> None:
        self.connection = await connect(self.settings, self.name)
        channel = await self.connection.channel(publisher_confirms=True)
        self.exchange = await declare_all(channel, self.settings)

    def start_in_background(self) -> None:
        """Connects as soon as the broker answers (it may start after us, or be down): until then
        nothing is published, and what is stored waits for the workers' recovery loop."""
        self._connecting = asyncio.get_running_loop().create_task(self._keep_trying())

    async def _keep_trying(self) -> None:
        attempt = 0
        while self.exchange is None:
            try:
                await self.start()
            except Exception as exc:
                attempt += 1
                logger.warning("broker not reachable (%s), attempt %d", type(exc).__name__, attempt)
                if self.connection is not None:
                    await self.connection.close()
                    self.connection = None
                await asyncio.sleep(min(5.0, 0.2 * attempt))

    @property
    def ready(self) -> bool:
        return self.connection is not None and not self.connection.is_closed and self.exchange is not None

    async def publish(self, stored: Stored) -> None:
        if self.exchange is None:
            raise PublishFailed("not connected")
        message = aio_pika.Message(
            encode(stored),
            message_id=stored.message_sid,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        try:
            await self.exchange.publish(
                message,
                routing_key=str(stored.partition),
                mandatory=True,
                timeout=self.settings.publish_timeout,
            )
        except Exception as exc:  # nack, returned, timeout, connection lost: all the same to us
            raise PublishFailed(type(exc).__name__) from exc

    async def close(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            self._connecting = None
        if self.connection is not None:
            await self.connection.close()
            self.connection = None
            self.exchange = None
