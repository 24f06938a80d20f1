"""The senders' claims on the outbox: the entries due (each phone's in the order they were
queued), claimed with a lease by any number of senders at once, and what a send needs of each
(``OutboxItem``). Functions take the caller's Session; the caller owns the unit of work."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import Integer, bindparam, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import BindParameter

from bot.messaging.schema import InboundMessage, OutboundMessage, OutboxEntry
from bot.timeutil import as_utc, utcnow


@dataclass(frozen=True)
class OutboxItem:
    outbox_id: int
    outbound_id: int
    attempts: int
    created_at: datetime  # when it entered the outbox
    medium: str
    phone: str
    to_address: str
    body: str
    content_sid: str | None
    content_variables: str | None
    proactive: bool
    in_reply_to: str | None = None
    # An earlier try's answer was lost (status "uncertain"): when that try began.
    uncertain_since: datetime | None = None
    answers_opt: bool = False  # the reply to a BAJA / ALTA message itself (its confirmation)
    claimed_until: datetime | None = None  # this sender's lease, as it claimed it
    more_behind: bool = False  # another due entry of its phone waits behind it (claimable after)

    def __str__(self) -> str:
        """How log lines name it: no phone number, the MessageSid it answers."""
        return f"outbound {self.outbound_id} (in_reply_to {self.in_reply_to or '-'})"


def _item(row: Row, claimed_until: datetime, lapsed_since: datetime | None = None) -> OutboxItem:
    """An entry claimed until ``claimed_until``, from ``_item_columns()``. ``lapsed_since``: an
    earlier claim of it ran out unreleased (its sender died, or the database went away before the
    send was recorded), so Twilio may have the message: it is looked up from then, like an
    uncertain send, before it is sent."""
    uncertain_since = as_utc(row.status_at) if row.status == "uncertain" else lapsed_since
    return OutboxItem(
        outbox_id=row.outbox_id,
        outbound_id=row.outbound_id,
        attempts=row.attempts,
        created_at=as_utc(row.created_at),
        medium=row.medium,
        phone=row.phone,
        to_address=row.to_address,
        body=row.body,
        content_sid=row.content_sid,
        content_variables=row.content_variables,
        proactive=row.proactive,
        in_reply_to=row.in_reply_to,
        uncertain_since=uncertain_since,
        answers_opt=row.inbound_kind in ("opt_out", "opt_in"),
        claimed_until=as_utc(claimed_until),
    )


def _due(now: datetime | BindParameter) -> list[ColumnElement[bool]]:
    """Due, not done, not claimed by a live lease, and the first undone entry of its phone: a
    farmer's messages leave in the order they were queued, whichever sender takes them."""
    earlier, earlier_out = aliased(OutboxEntry), aliased(OutboundMessage)
    ahead = (
        select(earlier.id)
        .join(earlier_out, earlier_out.id == earlier.outbound_id)
        .where(
            earlier_out.phone == OutboundMessage.phone, earlier.done_at.is_(None), earlier.id < OutboxEntry.id
        )
    )
    return [
        OutboxEntry.done_at.is_(None),
        OutboxEntry.next_attempt_at <= now,
        or_(OutboxEntry.locked_until.is_(None), OutboxEntry.locked_until < now),
        ~ahead.exists(),
    ]


def _item_columns() -> list[ColumnElement]:
    """What an OutboxItem is made of, from the entry, its message and the message it answers."""
    inbound_kind = (
        select(InboundMessage.kind)
        .where(InboundMessage.message_sid == OutboundMessage.in_reply_to)
        .scalar_subquery()
    )
    return [
        OutboxEntry.id.label("outbox_id"),
        OutboxEntry.outbound_id,
        OutboxEntry.attempts,
        OutboxEntry.created_at,
        OutboxEntry.priority,
        OutboxEntry.next_attempt_at,
        OutboundMessage.medium,
        OutboundMessage.phone,
        OutboundMessage.to_address,
        OutboundMessage.body,
        OutboundMessage.content_sid,
        OutboundMessage.content_variables,
        OutboundMessage.proactive,
        OutboundMessage.in_reply_to,
        OutboundMessage.status,
        OutboundMessage.status_at,
        inbound_kind.label("inbound_kind"),
    ]


def _lapsed_since(locked_until: datetime | None, lock_seconds: int) -> datetime | None:
    """When a claim that ran out unreleased may have sent: no later than a lease before its end
    (each send renews the lease just before it goes)."""
    return as_utc(locked_until) - timedelta(seconds=lock_seconds) if locked_until is not None else None


def _claim(session: Session, entry_id: int, now: datetime, lock_seconds: int) -> OutboxItem | None:
    """Locks one entry for this worker; None when another worker holds it or it is done."""
    lapsed = session.execute(select(OutboxEntry.locked_until).where(OutboxEntry.id == entry_id)).scalar()
    until = now + timedelta(seconds=lock_seconds)
    claimed = session.execute(
        update(OutboxEntry)
        .where(
            OutboxEntry.id == entry_id,
            OutboxEntry.done_at.is_(None),
            or_(OutboxEntry.locked_until.is_(None), OutboxEntry.locked_until < now),
        )
        .values(locked_until=until)
    )
    if claimed.rowcount != 1:
        return None
    row = session.execute(
        select(*_item_columns())
        .join(OutboundMessage, OutboundMessage.id == OutboxEntry.outbound_id)
        .where(OutboxEntry.id == entry_id)
    ).one()
    return _item(row, until, _lapsed_since(lapsed, lock_seconds))


def claim_due_outbox(session: Session, limit: int, lock_seconds: int) -> list[OutboxItem]:
    """Claims due entries for this sender, for ``lock_seconds`` (a lease: the claims of a sender
    that died expire), replies to farmers who wrote before notices (``OutboxEntry.priority``),
    then the oldest first; any number of senders may claim at once. PostgreSQL locks the rows it
    takes with ``FOR UPDATE SKIP LOCKED``, so concurrent claims pass each other by without
    waiting; SQLite, one writer at a time, claims each row with a conditional update."""
    now = utcnow()
    claimed = _claim_due(session, now, limit, lock_seconds)
    behind = _phones_with_more(session, claimed, now)
    return [replace(item, more_behind=item.phone in behind) for item in claimed]


@lru_cache(maxsize=1)
def _phones_with_more_statement() -> Select:
    """Built once, run with the batch's phones and entries (expanding IN lists) and ``now``."""
    return (
        select(OutboundMessage.phone)
        .join(OutboxEntry, OutboxEntry.outbound_id == OutboundMessage.id)
        .where(
            OutboundMessage.phone.in_(bindparam("phones", expanding=True)),
            OutboxEntry.done_at.is_(None),
            OutboxEntry.next_attempt_at <= bindparam("now"),
            OutboxEntry.id.not_in(bindparam("claimed", expanding=True)),
        )
        .distinct()
    )


def _phones_with_more(session: Session, claimed: list[OutboxItem], now: datetime) -> set[str]:
    """The phones of these claimed entries that have another entry due, not among them: the
    sender claims again after sending these only when one has (or when its batch was full)."""
    if not claimed:
        return set()
    values = {
        "phones": sorted({item.phone for item in claimed}),
        "claimed": [item.outbox_id for item in claimed],
        "now": now,
    }
    return set(session.execute(_phones_with_more_statement(), values).scalars())


_CLAIM_ORDER = (OutboxEntry.priority, OutboxEntry.next_attempt_at, OutboxEntry.id)


@lru_cache(maxsize=1)
def _claim_statement() -> Update:
    """PostgreSQL's claim, one statement: the entries picked and locked, their lease written, what
    the send needs back. Built once (building it took half of the claim's CPU), run with ``now``,
    ``until`` and ``limit`` bound."""
    picked = (
        select(OutboxEntry.id, OutboxEntry.locked_until)
        .join(OutboundMessage, OutboundMessage.id == OutboxEntry.outbound_id)
        .where(*_due(bindparam("now")))
        .order_by(*_CLAIM_ORDER)
        .limit(bindparam("limit", type_=Integer))
        .with_for_update(skip_locked=True, of=OutboxEntry)
        .subquery("picked")
    )
    return (
        update(OutboxEntry)
        .where(OutboxEntry.id == picked.c.id, OutboundMessage.id == OutboxEntry.outbound_id)
        .values(locked_until=bindparam("until"))
        .returning(*_item_columns(), picked.c.locked_until.label("lapsed"))
        .execution_options(synchronize_session=False)
    )


def _claim_due(session: Session, now: datetime, limit: int, lock_seconds: int) -> list[OutboxItem]:
    if session.get_bind().dialect.name != "postgresql":
        return _claim_due_one_by_one(session, now, limit, lock_seconds)
    until = now + timedelta(seconds=lock_seconds)
    rows = session.execute(_claim_statement(), {"now": now, "until": until, "limit": limit}).all()
    # RETURNING keeps no order: sorted again
    rows.sort(key=lambda row: (row.priority, row.next_attempt_at, row.outbox_id))  # _CLAIM_ORDER
    return [_item(row, until, _lapsed_since(row.lapsed, lock_seconds)) for row in rows]


def _claim_due_one_by_one(session: Session, now: datetime, limit: int, lock_seconds: int) -> list[OutboxItem]:
    due = (
        session.execute(
            select(OutboxEntry.id)
            .join(OutboundMessage, OutboundMessage.id == OutboxEntry.outbound_id)
            .where(*_due(now))
            .order_by(*_CLAIM_ORDER)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    claimed = (_claim(session, entry_id, now, lock_seconds) for entry_id in due)
    return [item for item in claimed if item is not None]
