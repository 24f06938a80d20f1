"""The inbound work list of the production mode: the webhook gateway (bot/gateway) stores each
message with its phone's next sequence number and its queue partition, and the Rasa workers
(bot/worker) claim, finish or reschedule them. Functions take the caller's Session; the caller
owns the unit of work.

A message is *done* when its status is processed or failed; its replies are recorded in the same
unit of work that marks it so (bot/messaging/turns.py). The database is the source of truth for a
farmer's order: a worker handles the earlier messages of the phone that are not done first,
whatever order the broker delivered them in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, and_, column, or_, select, update, values
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.messaging.inbound import Inbound, inbound_of, inbound_row, store_inbound
from bot.messaging.schema import FarmerSequence, InboundMessage, WorkerHeartbeat
from bot.timeutil import as_utc, utcnow

DONE = ("processed", "failed")
PENDING = ("received", "processing")


@dataclass(frozen=True)
class Stored:
    """A new message in its phone's stream."""

    message_sid: str
    farmer_seq: int
    partition: int


def next_seq(session: Session, phone: str) -> int:
    """The phone's next sequence number, taken atomically: the phone's row stays locked until the
    caller's unit of work ends, so numbers follow the order the messages were committed in."""
    table = FarmerSequence.__table__
    bump = {"last_seq": table.c.last_seq + 1}
    if session.get_bind().dialect.name == "postgresql":
        upsert = (
            postgresql.insert(table)
            .values(phone=phone, last_seq=1)
            .on_conflict_do_update(index_elements=[table.c.phone], set_=bump)
            .returning(table.c.last_seq)
        )
        return int(session.execute(upsert).scalar_one())
    # SQLite has one writer at a time: the upsert and the read cannot interleave with another's
    session.execute(
        sqlite.insert(table)
        .values(phone=phone, last_seq=1)
        .on_conflict_do_update(index_elements=[table.c.phone], set_=bump)
    )
    return int(session.execute(select(table.c.last_seq).where(table.c.phone == phone)).scalar_one())


def store_in_sequence(session: Session, message: Inbound, partition: int) -> Stored | None:
    """Stores a new message with its sequence number; None when that MessageSid is stored
    already (a Twilio retry, or another gateway that got the same webhook: the unique MessageSid
    decides, and the loser takes no number)."""
    return store_all_in_sequence(session, [(message, partition)])[0]


def store_all_in_sequence(session: Session, arrivals: Sequence[tuple[Inbound, int]]) -> list[Stored | None]:
    """``store_in_sequence`` for several messages (each with its partition) in the caller's unit
    of work, numbered in the order given: a gateway stores the webhooks that came in while it was
    storing the ones before together (bot/messaging/intake.py). On PostgreSQL three statements
    whatever their number: the insert (a MessageSid stored already, or earlier in the list, is
    None), one number per phone and message (``_take_numbers``), and the numbers written."""
    if session.get_bind().dialect.name != "postgresql":
        return [_store_one(session, message, partition) for message, partition in arrivals]
    firsts: dict[str, tuple[Inbound, int]] = {}
    for message, partition in arrivals:
        firsts.setdefault(message.message_sid, (message, partition))
    table = InboundMessage.__table__
    inserted = set(
        session.execute(
            postgresql.insert(table)
            .values(
                [inbound_row(message, queue_partition=partition) for message, partition in firsts.values()]
            )
            .on_conflict_do_nothing(index_elements=[table.c.message_sid])
            .returning(table.c.message_sid)
        ).scalars()
    )
    new = [(sid, message.phone, partition) for sid, (message, partition) in firsts.items() if sid in inserted]
    if not new:
        return [None] * len(arrivals)
    following = _take_numbers(session, Counter(phone for _, phone, _ in new))
    stored = {sid: Stored(sid, next(following[phone]), partition) for sid, phone, partition in new}
    numbered = values(column("sid", String), column("seq", Integer), name="numbered").data(
        [(each.message_sid, each.farmer_seq) for each in stored.values()]
    )
    session.execute(
        update(table).where(table.c.message_sid == numbered.c.sid).values(farmer_seq=numbered.c.seq)
    )
    return [stored.pop(message.message_sid, None) for message, _ in arrivals]


def _take_numbers(session: Session, counts: Counter[str]) -> dict[str, Iterator[int]]:
    """``counts[phone]`` new numbers for each phone in one upsert, as ``next_seq`` takes one: the
    phones' rows stay locked until the caller's unit of work ends. The rows are taken in phone
    order, so two gateways storing bursts with phones in common never wait on each other in a
    circle."""
    table = FarmerSequence.__table__
    upsert = postgresql.insert(table).values(
        [{"phone": phone, "last_seq": count} for phone, count in sorted(counts.items())]
    )
    upsert = upsert.on_conflict_do_update(
        index_elements=[table.c.phone], set_={"last_seq": table.c.last_seq + upsert.excluded.last_seq}
    ).returning(table.c.phone, table.c.last_seq)
    return {
        phone: iter(range(last - counts[phone] + 1, last + 1))
        for phone, last in session.execute(upsert).all()
    }


def _store_one(session: Session, message: Inbound, partition: int) -> Stored | None:
    """SQLite's way (one writer at a time, no RETURNING in SQLAlchemy 1.4), a message at a time."""
    if not store_inbound(session, message, queue_partition=partition):
        return None
    seq = next_seq(session, message.phone)
    session.execute(
        update(InboundMessage).where(InboundMessage.message_sid == message.message_sid).values(farmer_seq=seq)
    )
    return Stored(message.message_sid, seq, partition)


def mark_published(session: Session, message_sids: Collection[str]) -> None:
    """The broker confirmed these messages (publisher confirms): one statement for all of them,
    as a gateway records the confirms of a burst together (bot/messaging/intake.py)."""
    if not message_sids:
        return
    session.execute(
        update(InboundMessage)
        .where(InboundMessage.message_sid.in_(sorted(message_sids)), InboundMessage.published_at.is_(None))
        .values(published_at=utcnow())
    )


@dataclass(frozen=True)
class Work:
    """A stored message as a worker sees it."""

    message: Inbound
    farmer_seq: int | None
    status: str
    attempts: int
    received_at: datetime
    failure_noted: bool
    next_attempt_at: datetime | None = None  # a failed turn's next try

    @property
    def done(self) -> bool:
        return self.status in DONE


def work_item(session: Session, message_sid: str) -> Work | None:
    row = session.execute(
        select(InboundMessage).where(InboundMessage.message_sid == message_sid)
    ).scalar_one_or_none()
    if row is None:
        return None
    return Work(
        message=inbound_of(row),
        farmer_seq=row.farmer_seq,
        status=row.status,
        attempts=row.attempts or 0,
        received_at=as_utc(row.received_at),
        failure_noted=row.failure_noted_at is not None,
        next_attempt_at=as_utc(row.next_attempt_at),
    )


def pending_up_to(session: Session, phone: str, farmer_seq: int) -> list[str]:
    """The MessageSids of the phone not done yet, up to and including this sequence number, in
    order: what a worker handles, earliest first, before the message it was given."""
    return list(
        session.execute(
            select(InboundMessage.message_sid)
            .where(
                InboundMessage.phone == phone,
                InboundMessage.farmer_seq <= farmer_seq,
                InboundMessage.status.in_(PENDING),
            )
            .order_by(InboundMessage.farmer_seq)
        )
        .scalars()
        .all()
    )


def work_and_pending(session: Session, message_sid: str) -> tuple[Work | None, list[str]]:
    """The message's work item and, when it still has to be handled, the phone's messages up to
    it (``pending_up_to``), in one read. Read before the worker waits for the phone's local lock,
    the list can only be out of date by messages done meanwhile (numbers are taken in commit
    order, ``next_seq``), and the claim finds those done."""
    work = work_item(session, message_sid)
    if work is None or work.done or work.farmer_seq is None:
        return work, []
    return work, pending_up_to(session, work.message.phone, work.farmer_seq)


def _unclaimed(now: datetime) -> object:
    """No live claim: none, expired, or made by a worker whose heartbeat has expired (it died
    mid-turn; its claim does not outlive its partitions' leases)."""
    holder_alive = (
        select(WorkerHeartbeat.worker_id)
        .where(WorkerHeartbeat.worker_id == InboundMessage.claimed_by, WorkerHeartbeat.expires_at > now)
        .exists()
    )
    return or_(InboundMessage.claimed_until.is_(None), InboundMessage.claimed_until < now, ~holder_alive)


def _free_or_mine(worker_id: str, now: datetime) -> object:
    return or_(_unclaimed(now), InboundMessage.claimed_by == worker_id)


def claim(session: Session, message_sid: str, worker_id: str, seconds: float) -> bool:
    """Takes the message for one try of its turn (counted); False when it is done, another
    worker's claim on it has not expired, or its next try is not due yet."""
    now = utcnow()
    taken = session.execute(
        update(InboundMessage)
        .where(
            InboundMessage.message_sid == message_sid,
            InboundMessage.status.in_(PENDING),
            _free_or_mine(worker_id, now),
            or_(InboundMessage.next_attempt_at.is_(None), InboundMessage.next_attempt_at <= now),
        )
        .values(
            claimed_by=worker_id,
            claimed_until=now + timedelta(seconds=seconds),
            status="processing",
            attempts=InboundMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(taken.rowcount == 1)


def _mine(message_sid: str, worker_id: str) -> object:
    return and_(
        InboundMessage.message_sid == message_sid,
        InboundMessage.status.in_(PENDING),
        InboundMessage.claimed_by == worker_id,
    )


def finish(session: Session, message_sid: str, worker_id: str, status: str, error: str | None = None) -> bool:
    """Marks the claimed message done ("processed", or "failed" when given up); False when this
    worker no longer holds it (then the caller records nothing of its turn)."""
    done = session.execute(
        update(InboundMessage)
        .where(_mine(message_sid, worker_id))
        .values(
            status=status,
            processed_at=utcnow(),
            error=error[:2000] if error else None,
            claimed_by=None,
            claimed_until=None,
            next_attempt_at=None,
        )
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
