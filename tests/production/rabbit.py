"""RabbitMQ helpers for the production tests: is it there, how many messages wait in a test's
queues, publish as a gateway would, and delete a test's exchange and queues."""

from __future__ import annotations

import asyncio

import aio_pika

from bot.messaging import broker
from bot.messaging.broker import BrokerSettings, Publisher
from bot.messaging.inbound_work import Stored
from tests.support.polling import wait_until


async def rabbit_reachable(url: str) -> bool:
    try:
        connection = await aio_pika.connect(url, timeout=3)
    except Exception:
        return False
    await connection.close()
    return True


async def queued(settings: BrokerSettings) -> dict[int, int]:
    """Messages ready in each partition's queue (declaring the topology if it is not there)."""
    connection = await aio_pika.connect(settings.url)
    try:
        channel = await connection.channel()
        exchange = await broker.declare_exchange(channel, settings)
        counts = {}
        for partition in range(settings.partitions):
            queue = await broker.declare_queue(channel, exchange, settings, partition)
            counts[partition] = queue.declaration_result.message_count or 0
        return counts
    finally:
        await connection.close()


def queued_total(settings: BrokerSettings, expected: int, timeout: float = 10) -> int:
    """Messages ready in all the test's queues, once they are ``expected`` (a gateway publishes
    while Twilio has its answer) or ``timeout`` seconds have passed."""

    def total() -> int:
        return sum(asyncio.run(queued(settings)).values())

    wait_until(lambda: total() == expected, timeout, 0.1)
    return total()


async def publish(settings: BrokerSettings, stored: list[Stored]) -> None:
    publisher = Publisher(settings, "test")
    await publisher.start()
    try:
        for each in stored:
            await publisher.publish(each)
    finally:
        await publisher.close()


async def delete_topology(settings: BrokerSettings) -> None:
    connection = await aio_pika.connect(settings.url)
    try:
        channel = await connection.channel()
        for partition in range(settings.partitions):
            await channel.queue_delete(settings.queue(partition))
        await channel.exchange_delete(settings.exchange)
    finally:
        await connection.close()
