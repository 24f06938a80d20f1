"""The second check before payment data (LFPDPPP); consent itself is in consents.py.

The check beyond the phone number is the last four digits of the farmer's program folio, printed
on their program card, or the personal 4-digit PIN the farmer chose after a first check (only its
hash is kept). A PIN belongs to the farmer, not to a phone: a number released by staff
(phone_releases.py) is no longer linked to the farmer, so no check from it reaches them.

Wrong answers are counted in the database, one conditional UPDATE per attempt taken before the
answer is compared, so concurrent answers (two phones, two processes, a script) are never compared
more than ``verification_max_attempts`` times. Each lockout is longer than the one before:
``verification_lock_minutes``, then ``verification_second_lock_hours``, then held until a staff
member lifts it (``unlock``). Staff see every lock (``locked_phones``).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from bot.config import Settings
from bot.db import insert_ignoring_conflict
from bot.records.schema import Farmer, PhoneVerification
from bot.timeutil import as_utc, utcnow

PIN_DIGITS = 4


# --- the check ----------------------------------------------------------------------------------


class CheckResult(Enum):
    VERIFIED = "verified"
    WRONG = "wrong"
    LOCKED = "locked"


@dataclass(frozen=True)
class Lock:
    """A lock on payment answers: until when, or None while it waits for staff."""

    until: datetime | None

    @property
    def held_for_staff(self) -> bool:
        return self.until is None


@dataclass(frozen=True)
class VerificationState:
    verified: bool
    lock: Lock | None

    @property
    def locked(self) -> bool:
        return self.lock is not None


@dataclass(frozen=True)
class CheckOutcome:
    result: CheckResult
    attempts_left: int
    lock: Lock | None = None
    compared: bool = True  # False: refused (locked, or no attempts left) without looking at it


def code_from_folio(folio: str) -> str:
    """The check a farmer answers before choosing a PIN: the last four digits of their folio."""
    return "".join(ch for ch in folio if ch.isdigit())[-4:]


def digits_of(answer: str) -> str:
    return "".join(ch for ch in answer or "" if ch.isdigit())


def _find(session: Session, phone: str, farmer_id: int) -> PhoneVerification | None:
    query = select(PhoneVerification).where(
        PhoneVerification.phone == phone, PhoneVerification.farmer_id == farmer_id
    )
    return session.execute(query).scalars().first()


def _row(session: Session, phone: str, farmer_id: int) -> PhoneVerification:
    """The phone's verification row for the farmer, made on first use (once, even when two
    answers arrive at the same moment: the loser of the insert reads the winner's row)."""
    row = _find(session, phone, farmer_id)
    if row is None:
        insert_ignoring_conflict(
            session,
            PhoneVerification.__table__,
            {
                "phone": phone,
                "farmer_id": farmer_id,
                "failed_attempts": 0,
                "lockouts": 0,
                "held_for_staff": False,
            },
            [PhoneVerification.phone, PhoneVerification.farmer_id],
        )
        row = _find(session, phone, farmer_id)
    assert row is not None
    return row


def _lock_of(row: PhoneVerification, now: datetime) -> Lock | None:
    if row.held_for_staff:
        return Lock(None)
    locked_until = as_utc(row.locked_until)
    return Lock(locked_until) if locked_until and locked_until > now else None


def verification_state(session: Session, phone: str, farmer_id: int) -> VerificationState:
    now = utcnow()
    row = _find(session, phone, farmer_id)
    if row is None:
        return VerificationState(verified=False, lock=None)
    verified_until = as_utc(row.verified_until)
    return VerificationState(verified=bool(verified_until and verified_until > now), lock=_lock_of(row, now))


def _take_attempt(session: Session, row_id: int, now: datetime, max_attempts: int) -> bool:
    """Counts one attempt, atomically, if the row is not locked and has attempts left."""
    result = session.execute(
        update(PhoneVerification)
        .where(
            PhoneVerification.id == row_id,
            PhoneVerification.held_for_staff.is_(False),
            or_(PhoneVerification.locked_until.is_(None), PhoneVerification.locked_until <= now),
            PhoneVerification.failed_attempts < max_attempts,
        )
        .values(failed_attempts=PhoneVerification.failed_attempts + 1, last_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _is_right(farmer: Farmer, answer: str) -> bool:
    given = digits_of(answer)
    if not given:
        return False
    if farmer.pin_hash:
        return check_password_hash(farmer.pin_hash, given)
    return hmac.compare_digest(given, code_from_folio(farmer.folio))


def _lock_after(lockouts: int, now: datetime, config: Settings) -> datetime | None:
    """When the ``lockouts``-th lock in a row ends; None: it waits for staff."""
    if lockouts <= 1:
        return now + timedelta(minutes=config.verification_lock_minutes)
    if lockouts == 2:
        return now + timedelta(hours=config.verification_second_lock_hours)
    return None


def check_code(session: Session, phone: str, farmer: Farmer, answer: str, config: Settings) -> CheckOutcome:
    """Compares one answer with the farmer's check, after counting it. A locked phone, or an
    answer beyond the allowed number, is refused without being compared."""
    now = utcnow()
    row = _row(session, phone, farmer.id)
    if not _take_attempt(session, row.id, now, config.verification_max_attempts):
        session.refresh(row)
        lock = _lock_of(row, now) or _lock_now(row, now, config)
        return CheckOutcome(CheckResult.LOCKED, 0, lock, compared=False)
    session.refresh(row)
    if _is_right(farmer, answer):
        row.failed_attempts, row.lockouts, row.locked_until = 0, 0, None
        row.verified_until = now + timedelta(days=config.verification_ttl_days)
        return CheckOutcome(CheckResult.VERIFIED, config.verification_max_attempts)
    if row.failed_attempts >= config.verification_max_attempts:
        return CheckOutcome(CheckResult.LOCKED, 0, _lock_now(row, now, config))
    return CheckOutcome(CheckResult.WRONG, config.verification_max_attempts - row.failed_attempts)


def _lock_now(row: PhoneVerification, now: datetime, config: Settings) -> Lock:
    """Locks the row after its last allowed wrong answer (once: a row already locked keeps its
    lock)."""
    current = _lock_of(row, now)
    if current is not None:
        return current
    row.lockouts = (row.lockouts or 0) + 1
    row.failed_attempts = 0
    row.locked_until = _lock_after(row.lockouts, now, config)
    row.held_for_staff = row.locked_until is None
    session = Session.object_session(row)
    if session is not None:
        session.flush()
    return Lock(row.locked_until)


def lock_of_phone(session: Session, phone: str) -> Lock | None:
    """The lock on this phone's payment answers now, for any farmer of the phone: one held for
    staff first, else the one that ends last; None when nothing is locked."""
    now = utcnow()
    rows = session.execute(select(PhoneVerification).where(PhoneVerification.phone == phone)).scalars()
    locks = [lock for lock in (_lock_of(row, now) for row in rows) if lock is not None]
    held = next((lock for lock in locks if lock.held_for_staff), None)
    return held or max(locks, key=lambda lock: lock.until or now, default=None)


# --- the farmer's own PIN -----------------------------------------------------------------------


def is_valid_pin(text: str) -> bool:
    digits = digits_of(text)
    return len(digits) == PIN_DIGITS and digits == (text or "").strip()


def set_pin(session: Session, farmer: Farmer, pin: str) -> None:
    """Keeps only the PIN's hash; from now on it replaces the folio digits in the check."""
    farmer.pin_hash = generate_password_hash(digits_of(pin))
    farmer.pin_set_at = utcnow()
    session.flush()


# --- what staff see and do ----------------------------------------------------------------------


@dataclass(frozen=True)
class LockedPhone:
    phone: str
    farmer_id: int
    farmer_name: str
    locked_until: datetime | None  # None: held until a staff member unlocks it
    lockouts: int
    last_attempt_at: datetime | None


def locked_phones(session: Session, now: datetime | None = None) -> list[LockedPhone]:
    """Every phone whose payment answers are locked now, the most recent attempt first."""
    now = now or utcnow()
    rows = session.execute(
        select(PhoneVerification, Farmer.name)
        .join(Farmer, Farmer.id == PhoneVerification.farmer_id)
        .where(or_(PhoneVerification.held_for_staff.is_(True), PhoneVerification.locked_until > now))
        .order_by(PhoneVerification.last_attempt_at.desc(), PhoneVerification.id)
    ).all()
    return [
        LockedPhone(
            phone=row.phone,
            farmer_id=row.farmer_id,
            farmer_name=name,
            locked_until=None if row.held_for_staff else as_utc(row.locked_until),
            lockouts=row.lockouts or 0,
            last_attempt_at=as_utc(row.last_attempt_at) if row.last_attempt_at else None,
        )
        for row, name in rows
    ]


def unlock(session: Session, phone: str, farmer_id: int) -> bool:
    """Lifts a lock (a staff member's decision, audited by the console); False if none."""
    row = _find(session, phone, farmer_id)
    if row is None or _lock_of(row, utcnow()) is None:
        return False
    row.held_for_staff, row.locked_until = False, None
    row.failed_attempts, row.lockouts = 0, 0
    return True


def reset_pin(session: Session, farmer_id: int) -> bool:
    """Removes a farmer's PIN: the folio digits are the check again. False if there was none."""
    farmer = session.get(Farmer, farmer_id)
    if farmer is None or farmer.pin_hash is None:
        return False
    farmer.pin_hash, farmer.pin_set_at = None, None
    return True
