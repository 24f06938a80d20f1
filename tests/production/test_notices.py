"""Production mode: the notice scheduler on PostgreSQL and RabbitMQ. A released notice is stored
with the farmer's next sequence number and published to the farmer's partition, as a gateway
does with the farmer's own messages; two schedulers at once still release it once."""

from __future__ import annotations

import asyncio
import uuid
from functools import partial

from sqlalchemy import select

from bot.db import session_scope
from bot.messaging import inbound_work
from bot.messaging.broker import Publisher
from bot.messaging.notice_loop import NoticeLoop, publish_released, store_in_queue_order
from bot.messaging.notices import NoticeSettings
from bot.messaging.partitions import partition_of
from bot.messaging.schema import InboundMessage
from bot.records.notice_schema import Notice
from bot.timeutil import utcnow
from tests.messaging.conftest import inbound_message
from tests.production.rabbit import queued
from tests.production.support import farmers_with_changed_invoices


def test_a_notice_is_published_to_the_farmers_queue_in_sequence_once_by_two_schedulers(pg, broker):
    (phone,) = farmers_with_changed_invoices(pg, 1)
    with session_scope(pg) as s:  # the farmer wrote first: sequence 1
        first = inbound_work.store_in_sequence(s, inbound_message("SM" + uuid.uuid4().hex, phone=phone), 0)

    async def run() -> int:
        publisher = Publisher(broker, "notices-test")
        await publisher.start()
        daytime = lambda: utcnow().replace(hour=18)  # noqa: E731  (12:00 in Michoacán)
        loops = [
            NoticeLoop(
                NoticeSettings(),
                partial(store_in_queue_order, broker.partitions),
                partial(publish_released, publisher),
                clock=daytime,
            )
            for _ in range(2)
        ]
        try:
            return sum(await asyncio.gather(*(loop.run_once() for loop in loops)))
        finally:
            await publisher.close()

    assert asyncio.run(run()) == 1
    with session_scope(pg) as s:
        (notice,) = s.execute(select(Notice).where(Notice.phone == phone)).scalars()
        row = s.execute(
            select(InboundMessage).where(InboundMessage.message_sid == notice.message_sid)
        ).scalar_one()
        assert (row.kind, row.farmer_seq, row.queue_partition) == (
            "notice",
            first.farmer_seq + 1,
            partition_of(phone, broker.partitions),
        )
        assert row.published_at is not None
    counts = asyncio.run(queued(broker))
    assert counts[partition_of(phone, broker.partitions)] == 1 and sum(counts.values()) == 1
