"""The check code, as staff see it: the phones locked out of payment answers after wrong codes
(bot/records/privacy.py), the numbers the webhook holds back for sending too many messages
(bot/messaging/inbound.py), lifting a lock and resetting a farmer's personal PIN. The page view,
every lift and every reset are audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.config import settings
from bot.console.auth import StaffUser
from bot.console.queries import audit
from bot.messaging.inbound import RateLimitedPhone, rate_limited_phones
from bot.records import privacy
from bot.records.farmers import farmers_by_id, farmers_by_phone
from bot.records.privacy import LockedPhone
from bot.records.schema import Farmer
from bot.timeutil import utcnow

RATE_LIMITED_SINCE = timedelta(hours=24)  # the numbers held back within this time are listed


@dataclass
class LocksPage:
    locks: list[LockedPhone]  # the most recent attempt first
    farmers: dict[int, Farmer]  # the locked farmers, by id (for their folio)
    rate_limited: list[RateLimitedPhone]  # the latest first
    rate_limited_farmers: dict[str, list[Farmer]]  # whose those numbers are
    rate_limited_since: datetime
    first_lock_minutes: int  # how long the first and second locks last (bot/config.py)
    second_lock_hours: int


def locks_page(session: Session, actor: StaffUser) -> LocksPage:
    """Every lock in force now and the numbers held back in the last 24 hours; audited."""
    now = utcnow()
    locks = privacy.locked_phones(session, now)
    since = now - RATE_LIMITED_SINCE
    limited = rate_limited_phones(session, since)
    page = LocksPage(
        locks=locks,
        farmers=farmers_by_id(session, {lock.farmer_id for lock in locks}),
        rate_limited=limited,
        rate_limited_farmers=farmers_by_phone(session, [r.phone for r in limited]),
        rate_limited_since=since,
        first_lock_minutes=settings().verification_lock_minutes,
        second_lock_hours=settings().verification_second_lock_hours,
    )
    audit.record(
        session, actor, "view_locks", detail=f"{len(locks)} bloqueos; {len(limited)} números frenados"
    )
    return page


def lift_lock(session: Session, actor: StaffUser, phone: str, farmer_id: int) -> bool:
    """Lifts a phone's lock for a farmer (the next wrong answers start a new count); audited.
    False when there was no lock to lift."""
    lifted = privacy.unlock(session, phone, farmer_id)
    if lifted:
        audit.record(session, actor, "unlock_check", farmer_id=farmer_id, phone=phone)
    return lifted


def reset_farmer_pin(session: Session, actor: StaffUser, farmer_id: int) -> bool:
    """Removes a farmer's personal PIN (the last 4 digits of the folio are the check again);
    audited. False when the farmer had none."""
    reset = privacy.reset_pin(session, farmer_id)
    if reset:
        audit.record(session, actor, "reset_pin", farmer_id=farmer_id)
    return reset
