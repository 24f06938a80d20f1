"""Workers for the production tests: the real Worker (heartbeats, leases, RabbitMQ consumers,
recovery loop) with a scripted stand-in for Rasa, on fast timings."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

from bot.db import session_scope
from bot.messaging import inbound_work
from bot.messaging.broker import BrokerSettings
from bot.messaging.inbound import Inbound
from bot.messaging.inbound_claims import Grace
from bot.messaging.inbound_work import Stored
from bot.messaging.partitions import partition_of
from bot.messaging.schema import InboundMessage, OutboundMessage
from bot.worker.config import WorkerSettings
from bot.worker.process import Worker
from bot.worker.rasa_turns import TurnResult
from tests.production.rabbit import publish


class ScriptedAssistant:
    """Answers "Eco: <text>"; a text in ``failures`` fails that many times first."""

    def __init__(self, failures: dict[str, int] | None = None):
        self.failures = dict(failures or {})
        self.seen: list[str] = []

    async def turn(self, message: Inbound, retried: bool) -> TurnResult:
        self.seen.append(message.body)
        await asyncio.sleep(0.01)
        if self.failures.get(message.body, 0) > 0:
            self.failures[message.body] -= 1
            return TurnResult([], "action action_greet failed")
        return TurnResult([f"Eco: {message.body}"])


def fast_settings(worker_id: str) -> WorkerSettings:
    """A worker's settings on fast timings (a lease of 3 s, beats and recovery rounds of 0.3 s)."""
    fast = {
        "WORKER_ID": worker_id,
        "ACTION_SERVER_TOKEN": "test",
        "TWILIO_TURN_TIMEOUT": "10",
        "WORKER_LEASE_SECONDS": "3",
        "WORKER_HEARTBEAT_SECONDS": "0.3",
        "WORKER_RECOVERY_SECONDS": "0.3",
        "TURN_RETRY_BASE_SECONDS": "0.5",
        "TURN_RETRY_MAX_SECONDS": "1",
    }
    return WorkerSettings.from_env(fast)


def start_worker(
    broker: BrokerSettings, assistant, worker_id: str = "w1", grace: Grace = Grace(), lock_store=None
) -> Worker:
    return Worker(fast_settings(worker_id), broker, assistant, grace, lock_store)


def store(url: str, broker: BrokerSettings, messages: list[Inbound]) -> list[Stored]:
    stored = []
    for message in messages:
        with session_scope(url) as session:
            stored.append(
                inbound_work.store_in_sequence(
                    session, message, partition_of(message.phone, broker.partitions)
                )
            )
    return stored


async def publish_marked(url: str, broker: BrokerSettings, stored: list[Stored]) -> None:
    """Published as a gateway does (confirmed, then marked), in the order given."""
    await publish(broker, stored)
    with session_scope(url) as session:
        inbound_work.mark_published(session, [each.message_sid for each in stored])


def statuses(url: str) -> dict[str, str]:
    with session_scope(url) as session:
        return dict(session.execute(select(InboundMessage.message_sid, InboundMessage.status)).all())


def replies(url: str) -> list[tuple[str, str]]:
    """(in_reply_to, body) of every recorded reply, in recording order."""
    with session_scope(url) as session:
        return [
            (ref, body)
            for ref, body in session.execute(
                select(OutboundMessage.in_reply_to, OutboundMessage.body).order_by(OutboundMessage.id)
            )
        ]


async def until(check, timeout: float = 30, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(every)
    raise AssertionError("condition not met in time")
