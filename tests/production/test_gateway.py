"""The webhook gateway, as real processes on PostgreSQL and RabbitMQ: what it refuses, a message
stored with its sequence number and published once, and the same MessageSid posted to two
gateways at once stored once and published once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from bot.db import session_scope
from bot.messaging.broker import Publisher
from bot.messaging.intake import Intake, Taken
from bot.messaging.schema import InboundMessage
from bot.twilio_standin.client import signed_post, webhook_params
from tests.production.processes import AUTH_TOKEN, PUBLIC_BASE_URL, ROOT, gateways
from tests.production.rabbit import queued, queued_total
from tests.production.support import message, new_sid
from tests.support.polling import wait_until

PATH = "/webhooks/sms/webhook"


def post(base, params, token=AUTH_TOKEN, path=PATH):
    return signed_post(base + path, params, token, public_url=PUBLIC_BASE_URL + path)


@pytest.fixture
def two_gateways(pg, broker, tmp_path):
    with gateways(2, pg, broker, tmp_path) as urls:
        yield urls


def rows(url):
    with session_scope(url) as session:
        return session.execute(
            select(InboundMessage.message_sid, InboundMessage.farmer_seq, InboundMessage.published_at)
        ).all()


def test_the_gateway_imports_no_rasa():
    code = "import sys, bot.gateway.app, bot.gateway.__main__; print(sorted(m for m in sys.modules if m.split('.')[0] == 'rasa'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_message_is_stored_numbered_published_and_answered(pg, broker, two_gateways):
    gateway = two_gateways[0]
    status, body, _ = post(gateway, webhook_params("+524431000201", "sms", "hola", message_sid=new_sid()))
    assert status == 200 and "<Response/>" in body
    status, _, _ = post(gateway, webhook_params("+524431000201", "sms", "otra", message_sid=new_sid()))
    assert status == 200
    stored = rows(pg)
    assert sorted(seq for _, seq, _ in stored) == [1, 2]
    assert queued_total(broker, 2) == 2
    with urllib.request.urlopen(gateway + "/readyz", timeout=5) as ready:
        assert ready.status == 200
    with urllib.request.urlopen(gateway + "/metrics", timeout=5) as metrics:
        assert b"gateway_ack_seconds" in metrics.read()


def test_a_burst_is_stored_published_and_every_message_marked_published(pg, broker, two_gateways):
    """Twenty webhooks at once to one gateway: each answered, stored, published once, and marked
    published (the marks of a burst are written together, after Twilio has its answers)."""
    gateway, sids = two_gateways[0], [new_sid() for _ in range(20)]

    def deliver(n: int) -> int:
        return post(gateway, webhook_params(f"+5244310004{n:02d}", "sms", "hola", message_sid=sids[n]))[0]

    with ThreadPoolExecutor(len(sids)) as pool:
        assert list(pool.map(deliver, range(len(sids)))) == [200] * len(sids)
    wait_until(lambda: all(published is not None for _, _, published in rows(pg)), 10, 0.1)
    stored = rows(pg)
    assert sorted(sid for sid, _, _ in stored) == sorted(sids)
    assert [sid for sid, _, published in stored if published is None] == []
    assert sum(asyncio.run(queued(broker)).values()) == len(sids)


def test_webhooks_that_arrive_while_one_is_stored_are_stored_together_in_order(pg, broker):
    """The gateway's intake (bot/messaging/intake.py) with the broker: messages taken at once are
    stored in one unit of work, each phone's numbered in the order they came, and each published."""
    sids = [new_sid() for _ in range(12)]
    burst = [message("+524431000301", f"m{n}", sid) for n, sid in enumerate(sids)]
    burst.insert(5, message("+524431000302", "otra"))

    async def take_all() -> tuple[list[Taken], float]:
        publisher = Publisher(broker)
        await publisher.start()
        intake = Intake(publisher)
        before = _stores()
        try:
            return list(await asyncio.gather(*(intake.take(each) for each in burst))), _stores() - before
        finally:
            await intake.drain()
            await publisher.close()

    taken, stores = asyncio.run(take_all())
    assert taken == [Taken.NEW] * len(burst)
    assert stores == 1
    numbered = {sid: seq for sid, seq, published in rows(pg) if published is not None}
    assert [numbered[sid] for sid in sids] == list(range(1, len(sids) + 1))
    assert queued_total(broker, len(burst)) == len(burst)


def test_a_message_the_database_refuses_costs_nothing_to_the_others_stored_with_it(pg, broker, caplog):
    """A row PostgreSQL cannot take (a NUL in the text: the webhook's form parser drops them, this
    message skips it) fails the burst's unit of work; the others are then stored one by one, in
    order, and only that webhook fails."""
    phone = "+524431000311"
    burst = [message(phone, "uno"), message("+524431000312", "mal\x00texto"), message(phone, "dos")]

    async def take_all() -> list[Taken | BaseException]:
        publisher = Publisher(broker)
        await publisher.start()
        intake = Intake(publisher)
        try:
            return list(await asyncio.gather(*(intake.take(each) for each in burst), return_exceptions=True))
        finally:
            await intake.drain()
            await publisher.close()

    with caplog.at_level("WARNING", logger="bot.messaging.intake"):
        taken = asyncio.run(take_all())
    assert taken[0] is Taken.NEW and taken[2] is Taken.NEW and isinstance(taken[1], ValueError)
    assert "3 inbound not stored together" in caplog.text
    numbered = {sid: seq for sid, seq, _ in rows(pg)}
    assert [numbered.get(each.message_sid) for each in burst] == [1, None, 2]
    assert queued_total(broker, 2) == 2


def _stores() -> float:
    return REGISTRY.get_sample_value("gateway_webhooks_stored_together_count") or 0.0


def test_what_the_gateway_refuses(pg, broker, two_gateways):
    gateway = two_gateways[0]
    params = webhook_params("+524431000202", "sms", "hola", message_sid=new_sid())
    assert post(gateway, params, token="wrong")[0] == 403
    assert post(gateway, dict(params, MessageSid="SMnot-a-sid", SmsMessageSid="SMnot-a-sid"))[0] == 400
    assert post(gateway, dict(params, Body="x" * 70_000))[0] == 413
    # a status callback for a reply not recorded: kept, answered 200
    callback = {"MessageSid": new_sid(), "MessageStatus": "delivered", "AccountSid": "ACtest"}
    assert post(gateway, callback, path="/webhooks/sms/status")[0] == 200
    assert rows(pg) == []


def test_same_messagesid_on_two_gateways_at_once_is_stored_and_published_once(pg, broker, two_gateways):
    sids = [new_sid() for _ in range(12)]
    answers = []

    def deliver(gateway, params, barrier):
        barrier.wait()
        answers.append(post(gateway, params)[0])

    for n, sid in enumerate(sids):
        params = webhook_params(f"+52443100030{n % 3}", "sms", f"mensaje {n}", message_sid=sid)
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=deliver, args=(g, params, barrier)) for g in two_gateways]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert answers == [200] * (2 * len(sids))
    stored = rows(pg)
    assert sorted(sid for sid, _, _ in stored) == sorted(sids)
    with session_scope(pg) as session:
        per_phone = session.execute(
            select(InboundMessage.phone, func.count(), func.max(InboundMessage.farmer_seq)).group_by(
                InboundMessage.phone
            )
        ).all()
    assert all(count == top for _, count, top in per_phone)  # no number taken by a repeat
    assert queued_total(broker, len(sids)) == len(sids)


class RecordingPublisher(Publisher):
    """The real publisher, noting when each publish began."""

    def __init__(self, settings, events: list[tuple[str, str]]):
        super().__init__(settings)
        self.events = events

    async def publish(self, stored) -> None:
        self.events.append(("published", stored.message_sid))
        await super().publish(stored)


def test_a_burst_is_answered_before_its_publishes_begin(pg, broker):
    """A webhook stored alone, then eleven that arrived while it was stored: every one of the
    twelve is answered before any publish begins (intake.py ``_release``), so the publishes and
    their marks do not take the cores from answers still to give; each is published once."""
    events: list[tuple[str, str]] = []
    first, rest = message("+524431000321"), [message(f"+5244310003{n:02d}") for n in range(30, 41)]

    async def answered(intake: Intake, each) -> None:
        assert await intake.take(each) is Taken.NEW
        events.append(("answered", each.message_sid))

    async def take_all() -> None:
        publisher = RecordingPublisher(broker, events)
        await publisher.start()
        intake = Intake(publisher)
        try:
            alone = asyncio.create_task(answered(intake, first))
            await asyncio.sleep(0)  # its store has begun: the others arrive while it runs
            await asyncio.gather(alone, *(answered(intake, each) for each in rest))
            await intake.drain()
        finally:
            await publisher.close()

    asyncio.run(take_all())
    kinds = [kind for kind, _ in events]
    assert kinds == ["answered"] * 12 + ["published"] * 12
    assert queued_total(broker, 12) == 12


def test_a_steady_stream_of_webhooks_does_not_hold_the_publishes_back(pg, broker):
    """Webhooks every 2 ms for half a second keep the intake storing; the first one's publish
    still begins while they come (``PUBLISH_WAIT`` bounds the wait), not after the stream."""
    events: list[tuple[str, str]] = []

    async def stream() -> None:
        publisher = RecordingPublisher(broker, events)
        await publisher.start()
        intake = Intake(publisher)
        taking: list[asyncio.Task] = []
        try:
            for n in range(250):
                taking.append(asyncio.create_task(intake.take(message(f"+524431{n:06d}"))))
                await asyncio.sleep(0.002)
            events.append(("stream ended", ""))
            assert set(await asyncio.gather(*taking)) == {Taken.NEW}
            await intake.drain()
        finally:
            await publisher.close()

    asyncio.run(stream())
    kinds = [kind for kind, _ in events]
    assert "published" in kinds[: kinds.index("stream ended")]
    assert kinds.count("published") == 250
    assert queued_total(broker, 250) == 250
