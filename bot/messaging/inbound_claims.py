"""The Rasa workers' claims on the inbound work list (production mode): the message a worker was
given and its phone's earlier ones not done, claimed for one try (one worker at a time),
finished, rescheduled or deferred, and the recovery loop's claims of what no worker finished.
The gateway stores the messages (bot/messaging/inbound_work.py). Functions take the caller's
Session; the caller owns the unit of work.

The statements a turn runs every time (its read, its claim, its finish) are built once and run
with their values bound: building one cost more of the worker's CPU than running it
(bench/units_of_work.py). On PostgreSQL the claim is one statement that also returns the message
and the claim it replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import BindParameter

from bot.messaging.inbound import Inbound, inbound_of
from bot.messaging.inbound_work import DONE, PENDING
from bot.messaging.schema import InboundMessage, WorkerHeartbeat
from bot.timeutil import as_utc, utcnow


@dataclass(frozen=True)
class Work:
    """A stored message as a worker sees it."""

    message: Inbound
    farmer_seq: int | None
    status: str
    attempts: int
    received_at: datetime
    failure_noted: bool
    inbound_id: int  # its row
    next_attempt_at: datetime | None = None  # a failed turn's next try

    @property
    def done(self) -> bool:
        return self.status in DONE


def _work_columns() -> list[ColumnElement]:
    """What a Work is made of (the columns ``inbound_of`` reads, and the worker's own)."""
    table = InboundMessage.__table__
    return [
        table.c.id,
        table.c.message_sid,
        table.c.medium,
        table.c.phone,
        table.c.from_address,
        table.c.to_address,
        table.c.body,
        table.c.profile_name,
        table.c.wa_id,
        table.c.media_json,
        table.c.latitude,
        table.c.longitude,
        table.c.location_label,
        table.c.farmer_seq,
        table.c.status,
        table.c.attempts,
        table.c.received_at,
        table.c.failure_noted_at,
        table.c.next_attempt_at,
    ]


def _work_of(row: Any) -> Work:
    return Work(
        message=inbound_of(row),
        farmer_seq=row.farmer_seq,
        status=row.status,
        attempts=row.attempts or 0,
        received_at=as_utc(row.received_at),
        failure_noted=row.failure_noted_at is not None,
        next_attempt_at=as_utc(row.next_attempt_at),
        inbound_id=row.id,
    )


@lru_cache(maxsize=1)
def _work_statement() -> Select:
    return select(*_work_columns()).where(InboundMessage.__table__.c.message_sid == bindparam("sid"))


def work_item(session: Session, message_sid: str) -> Work | None:
    row = session.execute(_work_statement(), {"sid": message_sid}).first()
    return _work_of(row) if row is not None else None


@lru_cache(maxsize=1)
def _pending_statement() -> Select:
    table = InboundMessage.__table__
    return (
        select(table.c.message_sid)
        .where(
            table.c.phone == bindparam("phone"),
            table.c.farmer_seq <= bindparam("seq"),
            table.c.status.in_(PENDING),
        )
        .order_by(table.c.farmer_seq)
    )


def pending_up_to(session: Session, phone: str, farmer_seq: int) -> list[str]:
    """The MessageSids of the phone not done yet, up to and including this sequence number, in
    order: what a worker handles, earliest first, before the message it was given."""
    return list(session.execute(_pending_statement(), {"phone": phone, "seq": farmer_seq}).scalars())


def work_and_pending(session: Session, message_sid: str) -> tuple[Work | None, list[str]]:
    """The message's work item and, when it still has to be handled, the phone's messages up to
    it (``pending_up_to``), in one read. Read before the worker waits for the phone's local lock,
    the list can only be out of date by messages done meanwhile (numbers are taken in commit
    order, ``next_seq``), and the claim finds those done."""
    work = work_item(session, message_sid)
    if work is None or work.done or work.farmer_seq is None:
        return work, []
    return work, pending_up_to(session, work.message.phone, work.farmer_seq)


def _unclaimed(now: datetime | BindParameter) -> ColumnElement[bool]:
    """No live claim: none, expired, or made by a worker whose heartbeat has expired (it died
    mid-turn; its claim does not outlive its partitions' leases)."""
    holder_alive = (
        select(WorkerHeartbeat.worker_id)
        .where(WorkerHeartbeat.worker_id == InboundMessage.claimed_by, WorkerHeartbeat.expires_at > now)
        .exists()
    )
    return or_(InboundMessage.claimed_until.is_(None), InboundMessage.claimed_until < now, ~holder_alive)


def _free_or_mine(worker_id: str | BindParameter, now: datetime | BindParameter) -> ColumnElement[bool]:
    return or_(_unclaimed(now), InboundMessage.claimed_by == worker_id)


def _claimable() -> list[ColumnElement[bool]]:
    """The message (``sid``) may be claimed by this worker (``worker``) at ``now``."""
    now = bindparam("now")
    return [
        InboundMessage.message_sid == bindparam("sid"),
        InboundMessage.status.in_(PENDING),
        _free_or_mine(bindparam("worker"), now),
        or_(InboundMessage.next_attempt_at.is_(None), InboundMessage.next_attempt_at <= now),
    ]


_CLAIMED = {
    "claimed_by": bindparam("worker"),
    "claimed_until": bindparam("until"),
    "status": "processing",
    "attempts": InboundMessage.attempts + 1,
}


@lru_cache(maxsize=1)
def _claim_statement() -> Update:
    return (
        update(InboundMessage)
        .where(*_claimable())
        .values(_CLAIMED)
        .execution_options(synchronize_session=False)
    )


def _claim_values(message_sid: str, worker_id: str, seconds: float) -> dict[str, object]:
    now = utcnow()
    return {"sid": message_sid, "worker": worker_id, "now": now, "until": now + timedelta(seconds=seconds)}


def claim(session: Session, message_sid: str, worker_id: str, seconds: float) -> bool:
    """Takes the message for one try of its turn (counted); False when it is done, another
    worker's claim on it has not expired, or its next try is not due yet."""
    taken = session.execute(_claim_statement(), _claim_values(message_sid, worker_id, seconds))
    return bool(taken.rowcount == 1)


@dataclass(frozen=True)
class Claimed:
    """``claim_work``'s answer: the message as claimed (None: not claimed), and the claim it
    replaced (who held it, until when; None: nobody)."""

    work: Work | None
    held_by: str | None
    held_until: datetime | None


@lru_cache(maxsize=1)
def _claim_returning_statement() -> Update:
    """PostgreSQL: the message's row locked, its claim read, the claim written and the message
    returned, in one statement (the row is locked before the claim's conditions are checked
    again, so the claim read is the one this claim replaced)."""
    table = InboundMessage.__table__
    before = (
        select(table.c.id, table.c.claimed_by, table.c.claimed_until)
        .where(table.c.message_sid == bindparam("sid"))
        .with_for_update()
        .subquery("before")
    )
    return (
        update(InboundMessage)
        .where(InboundMessage.id == before.c.id, *_claimable())
        .values(_CLAIMED)
        .returning(
            *_work_columns(), before.c.claimed_by.label("held_by"), before.c.claimed_until.label("held_until")
        )
        .execution_options(synchronize_session=False)
    )


@lru_cache(maxsize=1)
def _holder_statement() -> Select:
    return (
        select(InboundMessage.claimed_by, InboundMessage.claimed_until)
        .where(InboundMessage.message_sid == bindparam("sid"))
        .with_for_update()
    )


def claim_work(session: Session, message_sid: str, worker_id: str, seconds: float) -> Claimed:
    """``claim``, with the message as claimed and the claim it replaced, read under the row's
    lock (FOR UPDATE) in the same unit of work. One statement on PostgreSQL; on SQLite (one
    writer at a time) the claim's read, the claim and the message's read."""
    values = _claim_values(message_sid, worker_id, seconds)
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(_claim_returning_statement(), values).first()
        if row is None:
            return Claimed(None, None, None)
        return Claimed(_work_of(row), row.held_by, as_utc(row.held_until))
    held = session.execute(_holder_statement(), values).first()
    if session.execute(_claim_statement(), values).rowcount != 1:
        return Claimed(None, None, None)
    assert held is not None  # claimed just now
    return Claimed(work_item(session, message_sid), held.claimed_by, as_utc(held.claimed_until))


def _mine(message_sid: str | BindParameter, worker_id: str | BindParameter) -> ColumnElement[bool]:
    return and_(
        InboundMessage.message_sid == message_sid,
        InboundMessage.status.in_(PENDING),
        InboundMessage.claimed_by == worker_id,
    )


@lru_cache(maxsize=1)
def _finish_statement() -> Update:
    mine = _mine(bindparam("sid"), bindparam("worker"))
    done = {"claimed_by": None, "claimed_until": None, "next_attempt_at": None}
    return (
        update(InboundMessage)
        .where(mine)
        .values(status=bindparam("new_status"), processed_at=bindparam("at"), error=bindparam("note"), **done)
        .execution_options(synchronize_session=False)
    )


def finish(session: Session, message_sid: str, worker_id: str, status: str, error: str | None = None) -> bool:
    """Marks the claimed message done ("processed", or "failed" when given up); False when this
    worker no longer holds it (then the caller records nothing of its turn)."""
    done = session.execute(
        _finish_statement(),
        {
            "sid": message_sid,
            "worker": worker_id,
            "new_status": status,
            "at": utcnow(),
            "note": error[:2000] if error else None,
        },
    )
    return bool(done.rowcount == 1)


def reschedule(session: Session, message_sid: str, worker_id: str, delay_seconds: float, error: str) -> bool:
    """Leaves the claimed message not done, to be tried again in ``delay_seconds``."""
    moved = session.execute(
        update(InboundMessage)
        .where(_mine(message_sid, worker_id))
        .values(
            next_attempt_at=utcnow() + timedelta(seconds=delay_seconds),
            error=error[:2000],
            claimed_by=None,
            claimed_until=None,
        )
    )
    return bool(moved.rowcount == 1)


def defer(session: Session, message_sids: Sequence[str], worker_id: str, delay_seconds: float) -> None:
    """Messages waiting behind an earlier one of their phone: looked at again in ``delay_seconds``
    (unless another worker holds them)."""
    if not message_sids:
        return
    now = utcnow()
    session.execute(
        update(InboundMessage)
        .where(
            InboundMessage.message_sid.in_(list(message_sids)),
            InboundMessage.status.in_(PENDING),
            _free_or_mine(worker_id, now),
        )
        .values(next_attempt_at=now + timedelta(seconds=delay_seconds), claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )


def note_failure(session: Session, message_sid: str) -> bool:
    """True the first time only: the farmer is told once that we will answer soon."""
    noted = session.execute(
        update(InboundMessage)
        .where(InboundMessage.message_sid == message_sid, InboundMessage.failure_noted_at.is_(None))
        .values(failure_noted_at=utcnow())
    )
    return bool(noted.rowcount == 1)


@dataclass(frozen=True)
class Grace:
    """How long a message may wait for the broker before the recovery loop takes it."""

    unpublished_seconds: float = 10.0  # stored, but the gateway never saw the broker confirm it
    unfinished_seconds: float = 120.0  # confirmed, but no worker finished it (lost, never acked)


def claim_due(
    session: Session,
    worker_id: str,
    partitions: Sequence[int],
    seconds: float,
    grace: Grace = Grace(),
    limit: int = 50,
) -> list[str]:
    """For the recovery loop: messages of these partitions whose retry is due, or that the
    broker never delivered to a worker that finished them, claimed for this worker (SKIP LOCKED
    on PostgreSQL, so workers never wait on each other's rows). In phone and sequence order."""
    if not partitions:
        return []
    now = utcnow()
    waiting = InboundMessage.next_attempt_at.is_(None)
    rows = (
        session.execute(
            select(InboundMessage.id, InboundMessage.message_sid)
            .where(
                InboundMessage.status.in_(PENDING),
                InboundMessage.queue_partition.in_(list(partitions)),
                InboundMessage.farmer_seq.is_not(None),
                _unclaimed(now),
                or_(
                    InboundMessage.next_attempt_at <= now,
                    and_(
                        waiting,
                        InboundMessage.published_at.is_(None),
                        InboundMessage.received_at <= now - timedelta(seconds=grace.unpublished_seconds),
                    ),
                    and_(
                        waiting,
                        InboundMessage.received_at <= now - timedelta(seconds=grace.unfinished_seconds),
                    ),
                ),
            )
            .order_by(InboundMessage.phone, InboundMessage.farmer_seq)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if rows:
        session.execute(
            update(InboundMessage)
            .where(InboundMessage.id.in_([row.id for row in rows]))
            .values(claimed_by=worker_id, claimed_until=now + timedelta(seconds=seconds))
        )
    return [row.message_sid for row in rows]


def release_claims(session: Session, worker_id: str) -> None:
    """A worker stopping: its claims on messages not done go, for the next owner to take at once."""
    session.execute(
        update(InboundMessage)
        .where(InboundMessage.claimed_by == worker_id, InboundMessage.status.in_(PENDING))
        .values(claimed_by=None, claimed_until=None)
    )
