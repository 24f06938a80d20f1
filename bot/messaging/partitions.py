"""Inbound partitions: which queue a farmer's messages go to, and which worker consumes it.

A phone's partition is a stable hash of the normalised phone (SHA-256, not Python's salted
``hash``), so every gateway on every machine puts one farmer's messages in the same queue.

Workers share the partitions through leases in the database. Each worker, on every heartbeat,
counts the live workers (``worker_heartbeats`` not expired), aims at ``ceil(partitions / live)``
partitions, renews the leases it holds, gives back the ones over its share (after it has stopped
consuming them) and takes free or expired ones up to its share. A worker that dies stops renewing;
its leases expire and the others take them over. RabbitMQ's single active consumer on each queue
is the safety net: even during a hand-over, two workers never both consume one queue.

Functions take the caller's Session; the caller owns the unit of work.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.db import insert_ignoring_conflict
from bot.messaging.schema import PartitionLease, WorkerHeartbeat
from bot.timeutil import as_utc, utcnow

FORGET_DEAD_AFTER = timedelta(hours=1)  # a dead worker's heartbeat row is deleted after this


def partition_of(phone: str, partitions: int) -> int:
    """The phone's partition, the same in every process and on every machine."""
    digest = hashlib.sha256(phone.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % partitions


@dataclass(frozen=True)
class Assignment:
    """What a worker holds after one heartbeat, and what it must do."""

    held: tuple[int, ...]  # leases renewed or taken now: consume these
    release: tuple[int, ...]  # over its share: stop consuming, then ``release``
    live_workers: int
    share: int


def _ensure_partitions(session: Session, partitions: int) -> None:
    count = session.execute(
        select(func.count(PartitionLease.queue_partition)).where(PartitionLease.queue_partition < partitions)
    ).scalar_one()
    if count < partitions:
        for number in range(partitions):
            insert_ignoring_conflict(
                session,
                PartitionLease.__table__,
                {"queue_partition": number},
                [PartitionLease.queue_partition],
            )


def _beat(session: Session, worker_id: str, now: datetime, lease: timedelta) -> None:
    values = {"worker_id": worker_id, "started_at": now, "expires_at": now + lease}
    if not insert_ignoring_conflict(session, WorkerHeartbeat.__table__, values, [WorkerHeartbeat.worker_id]):
        session.execute(
            update(WorkerHeartbeat)
            .where(WorkerHeartbeat.worker_id == worker_id)
            .values(expires_at=now + lease)
        )
    session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.expires_at < now - FORGET_DEAD_AFTER))


def heartbeat(
    session: Session, worker_id: str, partitions: int, lease_seconds: float, now: datetime | None = None
) -> Assignment:
    """One heartbeat of a worker: renews its leases, takes free or expired partitions up to its
    share, and says which of its partitions are over its share."""
    now = now or utcnow()
    lease = timedelta(seconds=lease_seconds)
    _ensure_partitions(session, partitions)
    _beat(session, worker_id, now, lease)
    live = session.execute(
        select(func.count(WorkerHeartbeat.worker_id)).where(WorkerHeartbeat.expires_at > now)
    ).scalar_one()
    share = math.ceil(partitions / max(live, 1))
    session.execute(
        update(PartitionLease)
        .where(PartitionLease.worker_id == worker_id, PartitionLease.queue_partition < partitions)
        .values(lease_until=now + lease)
    )
    mine = list(
        session.execute(
            select(PartitionLease.queue_partition)
            .where(PartitionLease.worker_id == worker_id, PartitionLease.queue_partition < partitions)
            .order_by(PartitionLease.queue_partition)
        )
        .scalars()
        .all()
    )
    if len(mine) > share:
        return Assignment(tuple(mine[:share]), tuple(mine[share:]), live, share)
    free = (
        session.execute(
            select(PartitionLease.queue_partition)
            .where(
                PartitionLease.queue_partition < partitions,
                or_(PartitionLease.worker_id.is_(None), PartitionLease.lease_until < now),
            )
            .order_by(PartitionLease.queue_partition)
            .limit(share - len(mine))
            .with_for_update(skip_locked=True)
        )
        .scalars()
        .all()
    )
    if free:
        session.execute(
            update(PartitionLease)
            .where(PartitionLease.queue_partition.in_(list(free)))
            .values(worker_id=worker_id, lease_until=now + lease)
        )
    return Assignment(tuple(sorted(mine + list(free))), (), live, share)


def release(session: Session, worker_id: str, partitions: tuple[int, ...] | list[int]) -> None:
    """Gives partitions back (the worker stopped consuming them), for another worker to take."""
    if partitions:
        session.execute(
            update(PartitionLease)
            .where(
                PartitionLease.worker_id == worker_id, PartitionLease.queue_partition.in_(list(partitions))
            )
            .values(worker_id=None, lease_until=None)
        )


def retire(session: Session, worker_id: str) -> None:
    """A worker stopping cleanly: all its partitions back, and it no longer counts as live."""
    session.execute(
        update(PartitionLease)
        .where(PartitionLease.worker_id == worker_id)
        .values(worker_id=None, lease_until=None)
    )
    session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == worker_id))


def owners(session: Session) -> dict[int, str | None]:
    """Each partition's worker (None when free or expired), for health pages and tests."""
    now = utcnow()
    rows = session.execute(
        select(PartitionLease.queue_partition, PartitionLease.worker_id, PartitionLease.lease_until)
    )
    return {
        number: (worker if worker and until is not None and as_utc(until) > now else None)
        for number, worker, until in rows
    }
