"""What a Rasa worker does with a stored message around its turn (production mode), each step one
unit of work that the worker runs with ``in_session``; the worker itself runs Rasa.

    start    claims the message for one try; the rate limit's answer (a message held back is
             finished here, with its notice); BAJA / ALTA are recorded and confirmed here
    finish   the turn's replies queued for the senders, in the unit of work that marks it done
    fail     the farmer told once that we will answer soon; the message left not done, to be
             tried again, or given up after ``TURN_RETRY_MAX_HOURS``

Whatever a step records, it records only while this worker holds the message: a step that finds
its claim gone raises ``ClaimLost`` and its unit of work is rolled back (another worker finished
the message, or took it over after this one stalled).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.messaging import inbound_claims, notices, optout, outbound, outbox, rate_limit, texts
from bot.messaging.inbound import NOTICE, Arrival, Inbound
from bot.messaging.inbound_claims import Work
from bot.phones import mask_phone
from bot.records import notices as notice_records

logger = logging.getLogger(__name__)

OPT_KINDS = ("opt_out", "opt_in")
NOTE_POSITION = -1  # the "we will answer soon" note, before the turn's own replies (0, 1, ...)


class ClaimLost(RuntimeError):
    """This worker no longer holds the message: nothing of the step is recorded."""


class Next(enum.Enum):
    RUN = "run"  # claimed: run the Rasa turn
    DONE = "done"  # finished (now, or before)
    BUSY = "busy"  # another worker holds it


@dataclass(frozen=True)
class Start:
    next: Next
    work: Work | None = None
    held_by: str | None = None  # the claim this one replaced (None: nobody's): who held it,
    held_until: datetime | None = None  # until when


def _replies(session: Session, work: Work, bodies: list[str], first_position: int = 0) -> None:
    message = work.message
    shaped, priority = None, outbound.REPLY_PRIORITY
    if message.kind == NOTICE:
        shaped = notices.outgoing_for(session, message, bodies)
        priority = notice_records.priority_of(session, message.message_sid)
    if shaped is not None:
        outbound.enqueue_outgoing(session, shaped, first_position, priority)
    else:
        outbound.enqueue_replies(
            session,
            medium=message.medium,
            phone=message.phone,
            to_address=message.from_address,
            texts=bodies,
            in_reply_to=message.message_sid,
            first_position=first_position,
            priority=priority,
        )
    outbox.notify_due(session)  # the senders wake when this unit of work commits


def _finish(
    session: Session, work: Work, worker_id: str, status: str = "processed", error: str | None = None
) -> None:
    if not inbound_claims.finish(session, work.message.message_sid, worker_id, status, error):
        raise ClaimLost(work.message.message_sid)


def record_opt_of(session: Session, message: Inbound) -> str:
    """BAJA / ALTA (a keyword or a sentence): recorded; returns the confirmation. The channels
    and the workers both record an inbound opt this way."""
    optout.record_opt(session, message.phone, message.kind, optout.keyword_of(message.body), message.medium)
    logger.info("%s: %s recorded for %s", message.message_sid, message.kind, mask_phone(message.phone))
    return texts.OPT_OUT_CONFIRMED if message.kind == "opt_out" else texts.OPT_IN_CONFIRMED


def start(
    session: Session, message_sid: str, worker_id: str, claim_seconds: float, rate_limit_per_minute: int
) -> Start:
    """Claims the message; finishes it here when it needs no Rasa turn."""
    claimed = inbound_claims.claim_work(session, message_sid, worker_id, claim_seconds)
    work = claimed.work
    if work is None:
        current = inbound_claims.work_item(session, message_sid)
        return Start(Next.DONE if current is None or current.done else Next.BUSY, current)
    if work.message.kind == NOTICE:  # ours, not the farmer's: no rate limit
        return Start(Next.RUN, work, claimed.held_by, claimed.held_until)
    arrived = Arrival(work.inbound_id, work.message.phone, work.received_at)
    admission = rate_limit.admit(session, message_sid, rate_limit_per_minute, arrived)
    if not admission.admitted:  # marked processed (rate_limited) by the rate limit itself
        logger.info("%s from %s held back by the rate limit", message_sid, mask_phone(work.message.phone))
        if work.message.kind in OPT_KINDS:
            record_opt_of(session, work.message)
        if admission.notify:
            _replies(session, work, [texts.RATE_LIMITED])
        return Start(Next.DONE, work)
    if work.message.kind in OPT_KINDS:
        _finish(session, work, worker_id)
        _replies(session, work, [record_opt_of(session, work.message)])
        return Start(Next.DONE, work)
    return Start(Next.RUN, work, claimed.held_by, claimed.held_until)


def finish(session: Session, work: Work, worker_id: str, replies: list[str]) -> None:
    """The turn answered: its replies queued, the message done, in this one unit of work."""
    _finish(session, work, worker_id)
    if replies:
        _replies(session, work, replies)


def fail(
    session: Session, work: Work, worker_id: str, error: str, retry_in_seconds: float, give_up: bool
) -> bool:
    """The turn failed: the farmer gets the note once (True when it is queued now); the message
    waits ``retry_in_seconds`` for its next try, or is given up (failed, no more tries)."""
    # a farmer who wrote hears that we will answer soon; a notice that failed just goes later
    noted = work.message.kind != NOTICE and inbound_claims.note_failure(session, work.message.message_sid)
    if noted:
        _replies(session, work, [texts.TURN_DELAYED], first_position=NOTE_POSITION)
    if give_up:
        _finish(session, work, worker_id, "failed", error)
    elif not inbound_claims.reschedule(session, work.message.message_sid, worker_id, retry_in_seconds, error):
        raise ClaimLost(work.message.message_sid)
    return noted


def wait_behind(session: Session, message_sids: list[str], worker_id: str, delay_seconds: float) -> None:
    """Messages that wait for an earlier one of their phone: looked at again later."""
    inbound_claims.defer(session, message_sids, worker_id, delay_seconds)
