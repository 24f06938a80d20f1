"""Messages and records for the production tests."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import delete, select

from bot.db import session_scope
from bot.messaging import notices
from bot.messaging.inbound import Inbound
from bot.records import consents
from bot.records.notice_schema import Notice, NoticeCursor
from bot.records.schema import Farmer, FarmerPhone, Invoice
from bot.timeutil import utcnow
from tests.messaging.conftest import inbound_message


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex


def message(phone: str, body: str = "hola", sid: str | None = None) -> Inbound:
    """An SMS from the phone, with a new MessageSid unless one is given."""
    return inbound_message(sid or new_sid(), body, phone)


def farmers_with_changed_invoices(url: str, count: int) -> list[str]:
    """``count`` consenting farmers, each with an invoice that became scheduled after notices
    were turned on: one payment notice each to plan."""
    prefix = uuid.uuid4().hex[:6]
    base = uuid.uuid4().int % 9000
    phones = [f"+52443{base:04d}{n:03d}" for n in range(count)]
    with session_scope(url) as s:
        s.execute(delete(NoticeCursor))
        s.execute(delete(Notice))
        for n, phone in enumerate(phones):
            farmer = Farmer(
                folio=f"PP-{prefix}{n}", name="Productora", state="Michoacán", municipality="Uruapan"
            )
            s.add(farmer)
            s.flush()
            s.add(FarmerPhone(farmer_id=farmer.id, phone=phone))
            s.add(
                Invoice(
                    folio=f"F-{prefix}{n}",
                    farmer_id=farmer.id,
                    amount_mxn=100,
                    status="in_review",
                    issued_on=date(2026, 11, 1),
                )
            )
            consents.record_consent(s, phone, True)
    with session_scope(url) as s:  # notices turned on: the cursor starts here
        notices.plan(s, utcnow(), notices.NoticeSettings())
    with session_scope(url) as s:
        for invoice in s.execute(select(Invoice).where(Invoice.folio.like(f"F-{prefix}%"))).scalars():
            invoice.status, invoice.scheduled_on = "scheduled", date(2026, 12, 12)
    return phones
