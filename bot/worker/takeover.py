"""A message taken over from another worker, and the Rasa lock that worker may have left.

Rasa's RedisLockStore keeps a conversation's lock under one key, ``pp:lock:<conversation id>``
(the key prefix of ``lock_store_for``; the conversation id is the phone), holding tickets that
expire after ``TICKET_LOCK_LIFETIME`` seconds; nothing else in Redis expires it. A worker killed
mid-turn leaves its ticket there, and the next turn of that farmer, on whichever worker, waits
in ``Agent.handle_message`` until the ticket expires: up to the lock's whole lifetime.

The worker that takes over such a message deletes that key before running the turn. It knows it
took the message over when its claim succeeded on a message whose claim belonged to another
worker: ``inbound_claims.claim`` (and the recovery loop's ``claim_due``) only take a message from
another worker when that worker's claim expired or its heartbeat did (it died).

Deleting the lock is safe because the order comes from the queue and the claims, not from this
lock: the message is now claimed by this worker alone, and every message of the same phone is
handled earliest first (the handler stops at the first one it cannot claim), so no other worker
runs a turn of this farmer now. The previous holder, if it is still alive (stalled past its
claim), records nothing more of its turn (its claim is gone: ``ClaimLost``), and its ticket has
expired by then anyway: a claim lasts the turn timeout + 30 s, the lock TICKET_LOCK_LIFETIME (no
longer than a turn, deploy/production.env.example).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from rasa.core.lock_store import RedisLockStore
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.messaging import inbound_claims, inbound_work, turns
from bot.messaging.inbound_claims import Grace
from bot.messaging.schema import InboundMessage
from bot.messaging.turns import Next, Start
from bot.timeutil import as_utc


def _someone_else(
    holder: str | None,
    claimed_until: datetime | None,
    worker_id: str,
    claim_seconds: float,
    started_at: datetime | None,
) -> bool:
    """Whether a claim was another worker's, or this worker id's previous run's (made before this
    process started: a restart under the same WORKER_ID after a kill)."""
    if holder is None:
        return False
    if holder != worker_id:
        return True
    return (
        started_at is not None
        and claimed_until is not None
        and claimed_until - timedelta(seconds=claim_seconds) < started_at
    )


def start(
    session: Session,
    message_sid: str,
    worker_id: str,
    claim_seconds: float,
    rate_limit_per_minute: int,
    started_at: datetime | None = None,
) -> tuple[Start, str | None]:
    """``turns.start``, and the worker the turn was taken over from (None: it was not). A claim
    of this worker's own id made before this process started (``started_at``) was its previous
    run's, killed mid-turn: taken over as well.

    The claim replaced is read under the message row's lock (``inbound_claims.claim_work``)."""
    begun = turns.start(session, message_sid, worker_id, claim_seconds, rate_limit_per_minute)
    holder = begun.held_by
    taken_over = begun.next is Next.RUN and _someone_else(
        holder, begun.held_until, worker_id, claim_seconds, started_at
    )
    return begun, holder if taken_over else None


def claim_due(
    session: Session,
    worker_id: str,
    partitions: Sequence[int],
    seconds: float,
    grace: Grace,
    started_at: datetime | None = None,
) -> tuple[list[str], dict[str, str]]:
    """``inbound_claims.claim_due``, and for each message it took from another worker's claim (or
    from this worker's previous run, claimed before ``started_at``), that worker. The holders are
    read first in the same unit of work; a message claim_due takes was free then or its holder
    was dead or its claim expired (a live holder's claim is not taken)."""
    rows = session.execute(
        select(InboundMessage.message_sid, InboundMessage.claimed_by, InboundMessage.claimed_until).where(
            InboundMessage.queue_partition.in_(list(partitions)),
            InboundMessage.status.in_(inbound_work.PENDING),
            InboundMessage.claimed_by.is_not(None),
        )
    ).all()
    holders = {
        sid: holder
        for sid, holder, until in rows
        if _someone_else(holder, as_utc(until), worker_id, seconds, started_at)
    }
    sids = inbound_claims.claim_due(session, worker_id, partitions, seconds, grace)
    return sids, {sid: holders[sid] for sid in sids if holders.get(sid)}


def drop_conversation_lock(lock_store: RedisLockStore, conversation_id: str) -> bool:
    """Deletes the conversation's Rasa lock in Redis (Rasa's key: the lock store's prefix and
    the conversation id); True when there was one. Not Rasa's ``delete_lock``, which logs the
    conversation id (a phone number)."""
    return bool(lock_store.red.delete(lock_store.key_prefix + conversation_id))
