"""Production mode: the notice scheduler on PostgreSQL and RabbitMQ. A released notice is stored
with the farmer's next sequence number and published to the farmer's partition, as a gateway
does with the farmer's own messages; two schedulers at once still release it once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from functools import partial

from sqlalchemy import delete, select

from bot.db import session_scope
from bot.messaging import inbound_work, notices
from bot.messaging.broker import Publisher
from bot.messaging.notice_loop import NoticeLoop, publish_released, store_in_queue_order
from bot.messaging.notices import NoticeSettings
from bot.messaging.partitions import partition_of
from bot.messaging.schema import InboundMessage
from bot.records import consents
from bot.records.notice_schema import Notice, NoticeCursor
from bot.records.schema import Farmer, FarmerPhone, Invoice
from bot.timeutil import utcnow
from tests.messaging.conftest import inbound_message
from tests.production.rabbit import queued


def _farmer_with_changed_invoice(url: str) -> str:
    phone = "+52443" + str(uuid.uuid4().int)[:7]
    with session_scope(url) as s:
        s.execute(delete(NoticeCursor))
        farmer = Farmer(
            folio=f"PP-{uuid.uuid4().hex[:6]}", name="Productora", state="Michoacán", municipality="Uruapan"
        )
        s.add(farmer)
        s.flush()
        s.add(FarmerPhone(farmer_id=farmer.id, phone=phone))
        s.add(
            Invoice(
                folio=f"F-{uuid.uuid4().hex[:6]}",
                farmer_id=farmer.id,
                amount_mxn=100,
                status="in_review",
                issued_on=date(2026, 11, 1),
            )
        )
        consents.record_consent(s, phone, True)
    with session_scope(url) as s:  # notices turned on: the cursor starts here
        notices.plan(s, utcnow())
    with session_scope(url) as s:
        invoice = s.execute(
            select(Invoice)
            .join(FarmerPhone, FarmerPhone.farmer_id == Invoice.farmer_id)
            .where(FarmerPhone.phone == phone)
        ).scalar_one()
        invoice.status, invoice.scheduled_on = "scheduled", date(2026, 12, 12)
    return phone


def test_a_notice_is_published_to_the_farmers_queue_in_sequence_once_by_two_schedulers(pg, broker):
    phone = _farmer_with_changed_invoice(pg)
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
