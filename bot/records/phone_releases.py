"""A number changes hands: staff mark a phone as no longer a farmer's.

Releasing a phone removes its link to the farmer (farmer_phones), the phone's check state for that
farmer (phone_verifications: verification, failed attempts, locks) and records the release. From
then on the phone's earlier consents no longer count (consents.py reads only rows after its latest
release), so whoever writes from the number next is asked for consent as a new contact and, with no
link, reaches no farmer: neither their data nor their personal PIN. The farmer's records (invoices,
deliveries, the payment access log) stay as they are.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.records.schema import FarmerPhone, PhoneRelease, PhoneVerification


def release_phone(session: Session, farmer_id: int, phone: str, by: str, note: str | None = None) -> bool:
    """Marks the phone as no longer the farmer's (``by``: the staff member). False, and nothing
    changed, when the phone is not linked to that farmer."""
    link = session.execute(
        select(FarmerPhone).where(FarmerPhone.farmer_id == farmer_id, FarmerPhone.phone == phone)
    ).scalar_one_or_none()
    if link is None:
        return False
    session.delete(link)
    session.execute(
        delete(PhoneVerification).where(
            PhoneVerification.farmer_id == farmer_id, PhoneVerification.phone == phone
        )
    )
    session.add(
        PhoneRelease(phone=phone, farmer_id=farmer_id, released_by=by, note=(note or "").strip() or None)
    )
    session.flush()
    return True


def releases_of_farmer(session: Session, farmer_id: int) -> list[PhoneRelease]:
    """The numbers staff marked as no longer the farmer's, the latest first."""
    return list(
        session.execute(
            select(PhoneRelease)
            .where(PhoneRelease.farmer_id == farmer_id)
            .order_by(PhoneRelease.released_at.desc(), PhoneRelease.id.desc())
        ).scalars()
    )
