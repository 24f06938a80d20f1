"""Consent to the privacy notice and the second check before payment data (LFPDPPP).

Consent is kept per phone number, as a history (the latest answer counts). The check beyond the
phone number is the last four digits of the farmer's program folio, printed on their program card.
After ``verification_max_attempts`` wrong answers the number is locked out of payment answers
for ``verification_lock_minutes``; staff see the lock in phone_verifications.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.records.schema import Consent, Farmer, PhoneVerification
from bot.timeutil import as_utc, utcnow

NOTICE_VERSION = "2025-03"


def latest_consent(session: Session, phone: str) -> Consent | None:
    query = (
        select(Consent)
        .where(Consent.phone == phone)
        .order_by(Consent.recorded_at.desc(), Consent.id.desc())
        .limit(1)
    )
    return session.execute(query).scalars().first()


def has_consented(session: Session, phone: str) -> bool:
    consent = latest_consent(session, phone)
    return bool(consent and consent.accepted)


def record_consent(session: Session, phone: str, accepted: bool) -> None:
    session.add(Consent(phone=phone, accepted=accepted, notice_version=NOTICE_VERSION))


class CheckResult(Enum):
    VERIFIED = "verified"
    WRONG = "wrong"
    LOCKED = "locked"


@dataclass(frozen=True)
class VerificationState:
    verified: bool
    locked: bool


def code_from_folio(folio: str) -> str:
    """The check a farmer answers: the last four digits of their program folio."""
    return "".join(ch for ch in folio if ch.isdigit())[-4:]


def _find(session: Session, phone: str, farmer_id: int) -> PhoneVerification | None:
    query = select(PhoneVerification).where(
        PhoneVerification.phone == phone, PhoneVerification.farmer_id == farmer_id
    )
    return session.execute(query).scalars().first()


def _row(session: Session, phone: str, farmer_id: int) -> PhoneVerification:
    row = _find(session, phone, farmer_id)
    if row is None:
        row = PhoneVerification(phone=phone, farmer_id=farmer_id, failed_attempts=0)
        session.add(row)
        session.flush()
    return row


def verification_state(session: Session, phone: str, farmer_id: int) -> VerificationState:
    now = utcnow()
    row = _find(session, phone, farmer_id)
    if row is None:
        return VerificationState(verified=False, locked=False)
    locked_until = as_utc(row.locked_until)
    verified_until = as_utc(row.verified_until)
    return VerificationState(
        verified=bool(verified_until and verified_until > now),
        locked=bool(locked_until and locked_until > now),
    )


@dataclass(frozen=True)
class CheckOutcome:
    result: CheckResult
    attempts_left: int


def check_code(session: Session, phone: str, farmer: Farmer, answer: str, config: Settings) -> CheckOutcome:
    row = _row(session, phone, farmer.id)
    result = _check(row, farmer, answer, config)
    return CheckOutcome(result, max(config.verification_max_attempts - row.failed_attempts, 0))


def _check(row: PhoneVerification, farmer: Farmer, answer: str, config: Settings) -> CheckResult:
    now = utcnow()
    locked_until = as_utc(row.locked_until)
    if locked_until and locked_until > now:
        return CheckResult.LOCKED
    row.last_attempt_at = now
    given = "".join(ch for ch in answer if ch.isdigit())
    if given and hmac.compare_digest(given, code_from_folio(farmer.folio)):
        row.failed_attempts = 0
        row.locked_until = None
        row.verified_until = now + timedelta(days=config.verification_ttl_days)
        return CheckResult.VERIFIED
    row.failed_attempts += 1
    if row.failed_attempts >= config.verification_max_attempts:
        row.failed_attempts = 0
        row.locked_until = now + timedelta(minutes=config.verification_lock_minutes)
        return CheckResult.LOCKED
    return CheckResult.WRONG
