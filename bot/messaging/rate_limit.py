"""The per-number rate limit: a loop (another bot answering ours) or a cost attack is stopped
where every process sees it, in the stored messages.

A message is always stored first (nothing a farmer sends is lost). Then, before its turn, the
messages its number sent in the minute up to it are counted; over ``rate_limit_per_minute`` it is
held back: marked processed with error ``rate_limited`` and not sent to the assistant. The first
message held back in a window gets one polite notice; the rest get nothing. Staff see the
numbers in ``inbound.rate_limited_phones``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from bot.messaging import inbound

WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Admission:
    admitted: bool
    notify: bool = False  # held back, and the first of its window: send the notice


ADMITTED = Admission(True)


def admit(
    session: Session, message_sid: str, limit: int, arrived: inbound.Arrival | None = None
) -> Admission:
    """Whether the stored message goes to the assistant; a message held back is marked so in
    the same unit of work. ``limit`` 0 admits everything. ``arrived``: where the message stands
    in its number's stream, when the caller has read it already."""
    if limit <= 0:
        return ADMITTED
    arrived = arrived or inbound.arrival(session, message_sid)
    if arrived is None:
        return ADMITTED
    since = arrived.received_at - WINDOW
    if inbound.count_arrived(session, arrived.phone, since, arrived.id) <= limit:
        return ADMITTED
    first_in_window = inbound.count_held_back(session, arrived.phone, since) == 0
    inbound.mark_inbound(session, message_sid, "processed", inbound.RATE_LIMITED)
    return Admission(False, notify=first_in_window)
