"""Queries on notices: planning them once from what changed in the records, claiming the ones
due, and recording what became of each. Functions take the caller's Session; the caller owns the
unit of work. What a notice may do (consent, BAJA, night, medium) is decided in
bot/messaging/notices.py; what it says, in bot/assistant/notices.py.

Payment notices are planned from invoices by ``updated_at`` (set on every change through the
ORM: a CSV import, the console, any future feed that writes through bot/records), re-reading a
little before the cursor, with one notice per farmer's phone and event: the idempotency key
holds the invoice, its new status and what the farmer is told about it (the date, or the
reason), so a status that changes again is told again, and the same change never twice.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db import chunks, insert_ignoring_conflict, insert_many_ignoring_conflict
from bot.records.knowledge import explanation_by_code
from bot.records.notice_schema import Notice, NoticeCursor
from bot.records.schema import FarmerPhone, Invoice
from bot.records.vocabulary import HOLD_REASONS, label
from bot.timeutil import as_utc, utcnow

# Invoice statuses a farmer is told about (received and in_review are not news).
PAYMENT_EVENTS: tuple[str, ...] = ("scheduled", "paid", "on_hold", "rejected")
# Released, and then sent, lower first (notices.priority, outbox.priority): a reply to a farmer
# who wrote comes before any notice.
PRIORITIES: dict[str, int] = {
    "reply": 0,
    "payment": 1,
    "training_cancelled": 2,
    "training_moved": 2,
    "reminder": 2,
    "training_new": 3,
    "broadcast": 3,
}
# From this priority on (news of new sessions, broadcasts), notices wait while the farmers'
# conversations have more than NOTICE_BACKLOG notices still to answer; the more urgent never wait.
BULK_PRIORITY = 3
PAYMENTS_CURSOR = "payments"
# How far before its cursor a planner reads again: a unit of work that changed a row and
# committed up to this late is still seen.
REREAD = timedelta(minutes=5)
# A notice's message in the conversation: "NT" and 32 digits, never a Twilio MessageSid (SM/MM),
# so no webhook can pass one for another (bot/messaging/webhook_checks.py).
NOTICE_SID = re.compile(r"^NT(\d{32})$")


def message_sid_for(notice_id: int) -> str:
    return f"NT{notice_id:032d}"


def notice_id_in(message_sid: str | None) -> int | None:
    found = NOTICE_SID.match(message_sid or "")
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class PaymentFacts:
    """What a payment notice names, as the invoice stood when it was planned (never an amount)."""

    folio: str
    status: str
    date: str | None = None  # ISO date: when it will be paid, or was
    last4: str | None = None  # the deposit reference's last 4 digits
    reason_code: str | None = None

    @property
    def detail(self) -> str:
        return self.date or self.reason_code or "-"

    def to_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)


def payment_facts(invoice: Invoice) -> PaymentFacts:
    day = invoice.paid_on if invoice.status == "paid" else invoice.scheduled_on
    return PaymentFacts(
        folio=invoice.folio,
        status=invoice.status,
        date=day.isoformat() if day and invoice.status in ("paid", "scheduled") else None,
        last4=invoice.bank_reference_last4 if invoice.status == "paid" else None,
        reason_code=invoice.status_reason_code if invoice.status in ("on_hold", "rejected") else None,
    )


def variables_of(notice: Notice) -> dict[str, Any]:
    loaded = json.loads(notice.variables or "{}")
    return loaded if isinstance(loaded, dict) else {}


def reason_of(facts: dict[str, Any]) -> str:
    """Why an invoice is on hold or rejected, in the farmer's words (the code's label)."""
    return label(HOLD_REASONS, facts.get("reason_code"), default=HOLD_REASONS["other"])


def what_to_do_of(session: Session, facts: dict[str, Any]) -> str:
    """What the farmer can do about that reason: its explanation's advice, which staff edit."""
    code = facts.get("reason_code")
    explanation = explanation_by_code(session, code) if code else None
    return explanation.what_to_do if explanation is not None else ""


def _cursor(session: Session, name: str, start: datetime) -> NoticeCursor | None:
    """The planner's cursor, locked for this unit of work; made at ``start`` the first time (so
    turning notices on never tells farmers about everything that happened before)."""
    cursor = session.execute(
        select(NoticeCursor).where(NoticeCursor.name == name).with_for_update()
    ).scalar_one_or_none()
    if cursor is None:
        insert_ignoring_conflict(
            session, NoticeCursor.__table__, {"name": name, "position": start}, [NoticeCursor.name]
        )
    return cursor


def plan_payment_notices(session: Session, now: datetime) -> int:
    """Plans a notice, due ``now``, for each phone of each farmer whose invoice changed to a
    status worth telling since the cursor; returns how many were new. The cursor follows the
    invoices' own ``updated_at`` (the records' clock), whatever clock says what is due."""
    latest = session.execute(select(func.max(Invoice.updated_at))).scalar()
    # made REREAD ahead of the latest change, so its first re-read starts just after it
    cursor = _cursor(session, PAYMENTS_CURSOR, (as_utc(latest) if latest is not None else utcnow()) + REREAD)
    if cursor is None:
        return 0
    rows = session.execute(
        select(Invoice, FarmerPhone.phone)
        .join(FarmerPhone, FarmerPhone.farmer_id == Invoice.farmer_id)
        .where(Invoice.updated_at > as_utc(cursor.position) - REREAD, Invoice.status.in_(PAYMENT_EVENTS))
        .order_by(Invoice.updated_at, Invoice.id)
    ).all()
    planned = 0
    for invoice, phone in rows:
        planned += insert_ignoring_conflict(
            session, Notice.__table__, _payment_notice_row(invoice, phone, now), [Notice.idempotency_key]
        )
    if latest is not None:
        cursor.position = max(as_utc(cursor.position), as_utc(latest))
    return planned


def _payment_notice_row(invoice: Invoice, phone: str, now: datetime) -> dict[str, Any]:
    facts = payment_facts(invoice)
    return {
        "idempotency_key": f"payment:{facts.folio}:{facts.status}:{facts.detail}:{phone}",
        "kind": "payment",
        "priority": PRIORITIES["payment"],
        "farmer_id": invoice.farmer_id,
        "phone": phone,
        "subject": facts.folio,
        "variables": facts.to_json(),
        "due_at": now,
        "status": "scheduled",
        "created_at": now,
    }


def plan_rows(session: Session, rows: list[dict[str, Any]]) -> int:
    """Inserts the notice rows whose idempotency key is not taken yet, 500 to a statement (read
    first, so a round that finds nothing new writes nothing); a second scheduler racing for one
    is stopped by the key. Returns how many were new."""
    planned = 0
    for chunk in chunks(rows, 500):
        keys = [row["idempotency_key"] for row in chunk]
        taken = set(
            session.execute(select(Notice.idempotency_key).where(Notice.idempotency_key.in_(keys))).scalars()
        )
        new = [row for row in chunk if row["idempotency_key"] not in taken]
        planned += insert_many_ignoring_conflict(session, Notice.__table__, new, [Notice.idempotency_key])
    return planned


def claim_due(session: Session, now: datetime, limit: int, bulk_limit: int | None = None) -> list[Notice]:
    """Scheduled notices due by ``now``, most urgent first, locked for this unit of work (on
    PostgreSQL another scheduler skips them; SQLite has one writer); of the bulk ones (news,
    broadcasts) at most ``bulk_limit`` when given."""
    query = (
        select(Notice)
        .where(Notice.status == "scheduled", Notice.due_at <= now)
        .order_by(Notice.priority, Notice.due_at, Notice.id)
        .with_for_update(skip_locked=True)
    )
    if bulk_limit is None:
        return list(session.execute(query.limit(limit)).scalars())
    urgent = list(session.execute(query.where(Notice.priority < BULK_PRIORITY).limit(limit)).scalars())
    room = min(limit - len(urgent), bulk_limit)
    if room <= 0:
        return urgent
    bulk = session.execute(query.where(Notice.priority >= BULK_PRIORITY).limit(room)).scalars()
    return urgent + list(bulk)


def mark_released(
    session: Session, notice: Notice, route: str, content_sid: str | None, now: datetime, note: str | None
) -> str:
    """Handed to the conversation: returns the message's id there."""
    notice.status, notice.route, notice.content_sid = "released", route, content_sid
    notice.message_sid, notice.released_at, notice.status_note = message_sid_for(notice.id), now, note
    return notice.message_sid


def whatsapp_template_phones_since(session: Session, since: datetime) -> set[str]:
    """The phones notices were released to as a WhatsApp template since then."""
    query = select(Notice.phone).where(Notice.route == "whatsapp_template", Notice.released_at > since)
    return set(session.execute(query.distinct()).scalars())


def mark_skipped(notice: Notice, status: str, note: str) -> None:
    notice.status, notice.status_note = status, note


def hold_until(notice: Notice, due_at: datetime, note: str) -> None:
    notice.due_at, notice.status_note = due_at, note


def notice_by_id(session: Session, notice_id: int) -> Notice | None:
    return session.get(Notice, notice_id)


def notices_for_phone(session: Session, phone: str, limit: int = 50) -> list[Notice]:
    query = select(Notice).where(Notice.phone == phone).order_by(Notice.created_at.desc(), Notice.id.desc())
    return list(session.execute(query.limit(limit)).scalars())


def priority_of(session: Session, message_sid: str) -> int:
    """The priority of the notice a conversation's message carries (its replies are sent with
    it); a reply's when no notice has that message (erased since)."""
    found = session.execute(select(Notice.priority).where(Notice.message_sid == message_sid)).scalar()
    return PRIORITIES["reply"] if found is None else int(found)
