"""Sending the outbox: the one claim / send / record path of the embedded outbox worker
(``OutboxWorker`` in delivery.py, `make run`) and of the sender processes (send_loop.py,
production).

Entries are claimed with a lease (outbox_claims.claim_due_outbox: ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL), at most the first undone entry of each phone at a time, so a farmer's messages
leave in order however many senders run. Then, for each claimed entry:

1. The claim, renewed for this send: when its lease ran out while the entry waited and another
   sender has claimed it, it is not sent here. Then opt-out, checked at send time: a notice to a
   number that opted out, or a reply queued before the number opted out, is not sent and is
   recorded as skipped, never as failed. The reply to the BAJA itself (its confirmation), and a
   reply to a message written after it, still go. The send's turn on its sender's pace
   (pacing.py) is reserved in the same unit of work (an uncertain entry's by the send itself,
   once step 2 has found that Twilio does not have it).
2. An uncertain entry (an earlier try's answer was lost) is looked up in Twilio's message list
   first: recipient, time since that try, body, and a SID none of our messages holds. Found, it
   is recorded as sent with that SID and not sent again; not found, it is sent; the list
   unreadable, it waits for the next round.
3. The send (TwilioSender.send, which waits out or reports its sender's Retry-After pause), and
   what became of it: sent, again later (exponential back-off, at least Retry-After), uncertain,
   refused for good, or given up after ``outbox_max_age_hours``. A sender paused by Retry-After
   puts the entry back untried, due when the pause ends.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy.orm import Session

from bot.logs import failure
from bot.messaging import optout, outbound, outbox, outbox_claims
from bot.messaging.config import TwilioSettings
from bot.messaging.outbox_claims import OutboxItem
from bot.messaging.sender import UNSUBSCRIBED_RECIPIENT, ListedMessage, SendResult, TwilioSender
from bot.messaging.work import in_session
from bot.timeutil import utcnow

logger = logging.getLogger(__name__)

# How far before an uncertain try Twilio's clock may put the message it created.
CLOCK_SKEW = timedelta(minutes=2)
ATTEMPTS_PER_CLAIM = 2  # in-call tries (with back-off) per claim of an entry


class Outcome(enum.Enum):
    SENT = "sent"
    RECONCILED = "reconciled"  # an uncertain send found in Twilio's list: sent, once
    SKIPPED_OPT_OUT = "skipped_opt_out"
    DEFERRED = "deferred"  # its sender waits out a Retry-After: back untried
    RETRY = "retry"
    UNCERTAIN = "uncertain"
    REFUSED = "refused"  # a final answer (4xx): failed
    GAVE_UP = "gave_up"
    CLAIM_LOST = "claim_lost"  # its lease ran out while it waited here and another sender has it


DONE = frozenset(
    {Outcome.SENT, Outcome.RECONCILED, Outcome.SKIPPED_OPT_OUT, Outcome.REFUSED, Outcome.GAVE_UP}
)


@dataclass(frozen=True)
class Sent:
    """What became of one claimed entry."""

    item: OutboxItem
    outcome: Outcome
    twilio_sid: str = ""
    error_code: str | None = None  # Twilio's error code, when it gave one
    error: str = ""
    found_at_twilio: bool | None = None  # an uncertain entry looked up: whether Twilio had it

    @property
    def stops_round(self) -> bool:
        """Twilio is failing now: the rest of the round waits for the next one."""
        return self.outcome in (Outcome.RETRY, Outcome.UNCERTAIN)


def lease_seconds(settings: TwilioSettings) -> int:
    """How long a claim holds: longer than the tries of one claim can take."""
    return int(ATTEMPTS_PER_CLAIM * (settings.send_timeout + settings.backoff_max)) + 60


def _backoff(settings: TwilioSettings, item: OutboxItem, retry_after: float | None) -> float:
    delay = min(3600.0, settings.outbox_interval * 2 ** min(item.attempts, 8))
    return max(delay * random.uniform(0.9, 1.1), retry_after or 0)


@dataclass(frozen=True)
class Gate:
    """What the check just before a send decided: the outcome that stops it, or (None) the send
    goes, at its turn on the pace reserved in the same unit of work (None: pacing off, or an
    uncertain entry, whose send takes its turn if Twilio's list does not have it)."""

    stopped: Outcome | None
    turn: float | None = None


def _gate(session: Session, sender: TwilioSender, item: OutboxItem, lease: float) -> Gate:
    """Just before the send, in one unit of work: the claim renewed (or lost to another sender),
    the opt-out, and the send's turn on its sender's pace."""
    if not outbox.renew_claim(session, item.outbox_id, item.claimed_until, lease):
        return Gate(Outcome.CLAIM_LOST)
    if _opted_out(session, item):
        outbox.mark_skipped_opt_out(session, item.outbox_id)
        return Gate(Outcome.SKIPPED_OPT_OUT)
    if item.uncertain_since is not None:  # found in Twilio's list it is not sent: no turn yet
        return Gate(None)
    return Gate(None, sender.reserve_turn(session, item))


def _opted_out(session: Session, item: OutboxItem) -> bool:
    """Whether the number's opt-out stops this entry: not the reply to the BAJA (or ALTA)
    itself, nor a reply to a message the farmer wrote after opting out."""
    since = optout.opted_out_since(session, item.phone)
    if since is None or item.answers_opt:
        return False
    return item.proactive or since > item.created_at


def _matches(listed: ListedMessage, item: OutboxItem) -> bool:
    since = item.uncertain_since
    return (
        since is not None
        and listed.to == item.to_address
        and listed.direction.startswith("outbound")
        and (listed.created is None or listed.created >= since - CLOCK_SKEW)
        and (bool(item.content_sid) or listed.body == item.body)
    )


def _adopt(session: Session, item: OutboxItem, listed: list[ListedMessage]) -> ListedMessage | None:
    """The first listed message that is this entry's (none of our messages holds its SID),
    recorded as this entry's send."""
    known = outbox.known_sids(session, (m.sid for m in listed))
    ours = sorted(
        (m for m in listed if m.sid not in known and _matches(m, item)),
        key=lambda m: (m.created is None, m.created or utcnow()),
    )
    if not ours:
        return None
    outbound.mark_outbound_sent(session, item.outbound_id, ours[0].sid, ours[0].status, 0)
    return ours[0]


def _record(session: Session, item: OutboxItem, result: SendResult, settings: TwilioSettings) -> Sent:
    if result.ok:
        outbound.mark_outbound_sent(session, item.outbound_id, result.sid, result.status, result.attempts)
        return Sent(item, Outcome.SENT, twilio_sid=result.sid)
    if result.paused:
        outbox.defer(session, item.outbox_id, result.retry_after or settings.outbox_interval)
        return Sent(item, Outcome.DEFERRED)
    delay = _backoff(settings, item, result.retry_after)
    if result.uncertain_since is not None:
        since = item.uncertain_since or result.uncertain_since
        outbox.mark_uncertain(session, item.outbox_id, since, result.error, result.attempts, delay)
        return Sent(item, Outcome.UNCERTAIN, error_code=result.error_code, error=result.error)
    age_hours = (utcnow() - item.created_at).total_seconds() / 3600
    give_up = not result.retryable or age_hours >= settings.outbox_max_age_hours
    outbound.reschedule_outbox(session, item.outbox_id, result.error, delay, give_up, result.attempts)
    if result.error_code == str(UNSUBSCRIBED_RECIPIENT):
        optout.record_opt(session, item.phone, "opt_out", "carrier", item.medium, "twilio_21610")
    outcome = Outcome.REFUSED if not result.retryable else Outcome.GAVE_UP if give_up else Outcome.RETRY
    return Sent(item, outcome, error_code=result.error_code, error=result.error)


async def _reconcile(sender: TwilioSender, item: OutboxItem) -> Sent | None:
    """An uncertain entry looked up in Twilio's list: its outcome when found or when the list
    cannot be read; None when Twilio does not have it (send it)."""
    since = item.uncertain_since or utcnow()
    listed = await sender.list_sent(item.to_address, since - CLOCK_SKEW, item.in_reply_to)
    if listed is None:
        logger.warning("%s still uncertain: looked up again later", item)
        delay = _backoff(sender.settings, item, None)
        await in_session(outbound.reschedule_outbox, item.outbox_id, "message list unavailable", delay, False)
        return Sent(item, Outcome.UNCERTAIN, error="message list unavailable")
    found = await in_session(_adopt, item, listed)
    if found is None:
        logger.info("%s: not in twilio's message list, sent again", item)
        return None
    logger.info("%s: found in twilio's message list as %s, not sent again", item, found.sid)
    return Sent(item, Outcome.RECONCILED, twilio_sid=found.sid, found_at_twilio=True)


async def send_claimed(sender: TwilioSender, item: OutboxItem) -> Sent:
    """One claimed entry: checked, looked up when uncertain, sent, and recorded."""
    gate = await in_session(_gate, sender, item, lease_seconds(sender.settings))
    stopped = gate.stopped
    if stopped is Outcome.CLAIM_LOST:
        logger.warning("%s not sent here: its claim ran out and another sender has it", item)
    elif stopped is Outcome.SKIPPED_OPT_OUT:
        logger.info("%s not sent: the number opted out after it was queued", item)
    if stopped is not None:
        return Sent(item, stopped)
    if item.uncertain_since is not None:
        reconciled = await _reconcile(sender, item)
        if reconciled is not None:
            return reconciled
    result = await sender.send_message(item, attempts=ATTEMPTS_PER_CLAIM, reserved=gate.turn)
    sent = await in_session(_record, item, result, sender.settings)
    if item.uncertain_since is not None:
        sent = replace(sent, found_at_twilio=False)
    if sent.outcome is Outcome.SENT:
        logger.info("%s sent as %s", item, sent.twilio_sid)
    elif sent.outcome in (Outcome.REFUSED, Outcome.GAVE_UP):
        logger.error("%s failed for good: %s", item, sent.error)
    return sent


async def _send_batch(
    sender: TwilioSender,
    items: list[OutboxItem],
    concurrency: int,
    stopping: Callable[[], bool],
    on_sent: Callable[[Sent], None] | None,
) -> list[Sent]:
    """Sends the claimed entries (one per phone, so sending several at once keeps each farmer's
    order); once Twilio fails or the sender stops, the entries not yet tried are given back."""
    gate = asyncio.Semaphore(max(1, concurrency))
    halted = False

    async def one(item: OutboxItem) -> Sent | None:
        nonlocal halted
        async with gate:
            if halted or stopping():
                return None
            try:
                sent = await send_claimed(sender, item)
            except Exception as exc:  # the database went away mid-send: the lease expires
                logger.error("%s: send not recorded: %s", item, failure(exc))
                logger.debug("%s: send not recorded", item, exc_info=exc)
                halted = True
                return None
            halted = halted or sent.stops_round
            if on_sent is not None:
                on_sent(sent)
            return sent

    done = await asyncio.gather(*(one(item) for item in items))
    untried = [
        (item.outbox_id, item.claimed_until) for item, sent in zip(items, done, strict=True) if sent is None
    ]
    if untried:
        await in_session(outbox.release_claims, untried)
    return [sent for sent in done if sent is not None]


async def run_round(
    sender: TwilioSender,
    *,
    limit: int = 50,
    concurrency: int = 1,
    stopping: Callable[[], bool] = lambda: False,
    on_sent: Callable[[Sent], None] | None = None,
    max_batches: int = 20,
) -> list[Sent]:
    """Claims and sends due entries until none is left, Twilio fails, or the sender stops (the
    next entries of a phone become claimable as the ones before them are done). It claims again
    only when something is known to wait: a full batch, or a phone with another entry behind
    the one it sent; an entry queued meanwhile wakes the sender by itself (outbox.notify_due),
    so a round does not end with a claim that finds nothing."""
    results: list[Sent] = []
    lease = lease_seconds(sender.settings)
    for _ in range(max_batches):
        if stopping():
            break
        items = await in_session(outbox_claims.claim_due_outbox, limit, lease)
        if not items:
            break
        batch = await _send_batch(sender, items, concurrency, stopping, on_sent)
        results.extend(batch)
        if len(batch) < len(items) or any(sent.stops_round for sent in batch):
            break
        if not any(sent.outcome in DONE for sent in batch):
            break
        if len(items) < limit and not any(item.more_behind for item in items):
            break
    return results
