"""Keeping each Twilio sender under its throughput, across every process and machine that sends.

Twilio takes about ``sends_per_second`` units a second from one sender (a From address or a
Messaging Service; an SMS counts its billed parts, a WhatsApp message one) and answers 429 beyond
it. Every try of a send first reserves its units on its sender's pace (the generic cell rate
algorithm): a row of ``sender_paces`` holds when the sender is next free; a reservation moves it
on by units / rate in one statement under the row's lock, and says how long to wait before the
try. Any number of senders' processes share the pace, so together they never go faster than the
rate, and none waits for another's answer from Twilio.

On PostgreSQL the time is the database server's clock, so the machines' clocks need not agree.
When the database cannot be reached the process paces itself alone (and says so in the log): its
replies still go, as the channels' inbound spool lets farmers' messages still come in.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import lru_cache

from sqlalchemy import Float, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from bot.logs import failure
from bot.messaging.formatting import sms_parts
from bot.messaging.schema import SenderPace
from bot.messaging.work import in_session

logger = logging.getLogger(__name__)
# A send that was held back past its turn (the process busy, the answer slow to come back) takes
# a new turn rather than go at once with the turns after it, which would make a burst; this many
# times at most.
RESERVATIONS_PER_SEND = 3
# How late a send may begin and keep its turn: one turn's length, and never less than this, which
# covers the reservation's own round trip to the database under load (at a high rate a turn is
# shorter than that trip, and every send would otherwise take its turn again).
LATE_SLACK_SECONDS = 0.05


def units_of(medium: str, body: str, content_sid: str | None) -> int:
    """What one send counts against its sender's rate: an SMS its billed parts, else one."""
    if medium == "sms" and body and not content_sid:
        return sms_parts(body).parts
    return 1


def reserve(session: Session, sender: str, units: int, per_second: float) -> float:
    """Takes the sender's next ``units`` / ``per_second`` seconds; returns how many seconds from
    now this send must wait for them to begin (0 when the sender is free now). The row stays
    locked (SQLite: the database) until the caller's unit of work ends."""
    step = units / per_second
    if session.get_bind().dialect.name == "postgresql":
        return _reserve_on_postgresql(session, sender, step)
    now = time.time()
    session.execute(
        sqlite.insert(SenderPace)
        .values(sender=sender, next_free_at=now + step)
        .on_conflict_do_update(
            index_elements=[SenderPace.sender],
            set_={"next_free_at": func.max(SenderPace.next_free_at, now) + step},
        )
    )
    next_free = session.execute(
        select(SenderPace.next_free_at).where(SenderPace.sender == sender)
    ).scalar_one()
    return _wait(float(next_free), step, now)


@lru_cache(maxsize=1)
def _reservation_statement() -> Insert:
    """PostgreSQL's reservation, built once: run with ``sender`` and ``step`` bound."""
    now = func.extract("epoch", func.statement_timestamp())
    step = bindparam("step", type_=Float)
    upsert = postgresql.insert(SenderPace).values(sender=bindparam("sender"), next_free_at=now + step)
    return upsert.on_conflict_do_update(
        index_elements=[SenderPace.sender],
        set_={"next_free_at": func.greatest(SenderPace.next_free_at, now) + step},
    ).returning(SenderPace.next_free_at, now)


def _reserve_on_postgresql(session: Session, sender: str, step: float) -> float:
    """One statement, on the database's clock (``statement_timestamp()``: the same instant
    wherever the statement reads it, so every sender process keeps one clock)."""
    next_free, at = session.execute(_reservation_statement(), {"sender": sender, "step": step}).one()
    return _wait(float(next_free), step, float(at))


def _wait(next_free: float, step: float, now: float) -> float:
    """Seconds from ``now`` until this send's ``step`` begins, to the clock's microsecond: the free
    time is stored as a double, whose steps at today's epoch are about 0.2 µs."""
    return max(0.0, round(next_free - step - now, 6))


def _deadline(session: Session, sender: str, units: int, per_second: float) -> float:
    """When this send may begin, on this process's monotonic clock: read just before the
    reservation's own clock, so the time it took to get the answer back is not waited again."""
    asked_at = time.monotonic()
    return asked_at + reserve(session, sender, units, per_second)


class LocalPace:
    """The same reservation, in this process only: while the database cannot be reached."""

    def __init__(self) -> None:
        self._next_free: dict[str, float] = {}

    def deadline(self, sender: str, units: int, per_second: float) -> float:
        """When this send may begin, on the monotonic clock."""
        now = time.monotonic()
        start = max(self._next_free.get(sender, now), now)
        self._next_free[sender] = start + units / per_second
        return start


class SharedPace:
    """A process's way to its senders' shared pace (one per TwilioSender)."""

    def __init__(self, per_second: float):
        self.per_second = per_second
        self.local = LocalPace()
        self._alone = False

    def reserve_in(self, session: Session, sender: str, units: int) -> float | None:
        """A send's first turn, reserved in the caller's unit of work (the outbox's check just
        before a send, bot/messaging/dispatch.py), as a deadline for ``wait``; None when pacing
        is off."""
        if self.per_second <= 0:
            return None
        return _deadline(session, sender, units, self.per_second)

    async def wait(self, sender: str, units: int, reserved: float | None = None) -> float:
        """Waits until this send may begin; returns how long it waited. ``reserved``: its first
        turn, reserved already (``reserve_in``). A rate of 0 or less turns pacing off."""
        if self.per_second <= 0:
            return 0.0
        waited = 0.0
        for turn in range(RESERVATIONS_PER_SEND):
            deadline = reserved if turn == 0 and reserved is not None else await self._reserve(sender, units)
            delay = deadline - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
                waited += delay
            if time.monotonic() - deadline <= max(units / self.per_second, LATE_SLACK_SECONDS):
                break  # on time; a send held back past its turn takes a new one, not a burst
        return waited

    async def _reserve(self, sender: str, units: int) -> float:
        try:
            deadline = await in_session(_deadline, sender, units, self.per_second)
        except Exception as exc:  # the database is away: pace this process alone
            if not self._alone:
                logger.warning("sender pace kept in this process only: %s", failure(exc))
            self._alone = True
            return self.local.deadline(sender, units, self.per_second)
        if self._alone:
            logger.info("sender pace shared again through the database")
        self._alone = False
        return deadline
