"""Consent to the privacy notice, per phone number, as a history (LFPDPPP).

Each row is an answer to the notice (accepted or declined) or a revocation (the farmer took the
consent back; it counts as declined until a new answer). The latest row counts, but only rows
recorded after the phone's latest release (bot/records/phone_releases.py): once staff mark a
number as no longer the farmer's, whoever writes from it next starts as a new contact.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.records.schema import Consent, PhoneRelease

NOTICE_VERSION = "2025-03"
ANSWER = "answer"
REVOCATION = "revocation"


def latest_consent(session: Session, phone: str) -> Consent | None:
    """The phone's latest answer or revocation since its latest release; None: never asked."""
    released = select(func.max(PhoneRelease.released_at)).where(PhoneRelease.phone == phone).scalar_subquery()
    query = (
        select(Consent)
        .where(Consent.phone == phone, or_(released.is_(None), Consent.recorded_at > released))
        .order_by(Consent.recorded_at.desc(), Consent.id.desc())
        .limit(1)
    )
    return session.execute(query).scalars().first()


def has_consented(session: Session, phone: str) -> bool:
    consent = latest_consent(session, phone)
    return bool(consent and consent.kind == ANSWER and consent.accepted)


def is_revoked(session: Session, phone: str) -> bool:
    """True when the phone's latest word on consent is a revocation (until a new answer)."""
    consent = latest_consent(session, phone)
    return bool(consent and consent.kind == REVOCATION)


def record_consent(session: Session, phone: str, accepted: bool) -> None:
    """The answer to the notice (also after a revocation: consent can be given again)."""
    session.add(Consent(phone=phone, accepted=accepted, notice_version=NOTICE_VERSION, kind=ANSWER))
    session.flush()


def revoke(session: Session, phone: str) -> None:
    """Records that the farmer took the consent back: from now on as if they had declined."""
    session.add(Consent(phone=phone, accepted=False, notice_version=NOTICE_VERSION, kind=REVOCATION))
    session.flush()
