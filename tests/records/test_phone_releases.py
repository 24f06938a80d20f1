"""A number changes hands: releasing it removes the farmer's link and the phone's check state for
that farmer, records who did it, and leaves every other record alone."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from bot.db import session_scope
from bot.records.farmers import farmers_for_phone
from bot.records.phone_releases import release_phone, releases_of_farmer
from bot.records.schema import Farmer, FarmerPhone, Invoice, PhoneRelease, PhoneVerification
from bot.timeutil import utcnow

SHARED = "+524431000888"
OTHER = "+524431000889"


def _family(s) -> tuple[Farmer, Farmer]:
    """Two farmers on one phone; the first also has a second phone, a PIN and an invoice."""
    first = Farmer(folio="PP-000881", name="Lucía Pérez", state="Puebla", municipality="Atlixco")
    second = Farmer(folio="PP-000882", name="Tomás Pérez", state="Puebla", municipality="Atlixco")
    first.phones += [FarmerPhone(phone=SHARED), FarmerPhone(phone=OTHER)]
    second.phones.append(FarmerPhone(phone=SHARED))
    first.pin_hash, first.pin_set_at = "scrypt:x", utcnow()
    s.add_all([first, second])
    s.flush()
    s.add(
        Invoice(folio="F-000881", farmer_id=first.id, amount_mxn=1000, status="paid", issued_on=date.today())
    )
    for farmer in (first, second):
        s.add(
            PhoneVerification(
                phone=SHARED,
                farmer_id=farmer.id,
                verified_until=utcnow() + timedelta(days=10),
                failed_attempts=2,
                lockouts=1,
            )
        )
    s.add(PhoneVerification(phone=OTHER, farmer_id=first.id, verified_until=utcnow() + timedelta(days=10)))
    return first, second


def test_release_removes_only_that_farmers_link_and_check(empty_db):
    with session_scope(empty_db) as s:
        first, second = _family(s)
        ids = first.id, second.id
    with session_scope(empty_db) as s:
        assert release_phone(s, ids[0], SHARED, by="ana", note="  cambió de número  ")
    with session_scope(empty_db) as s:
        assert [f.id for f in farmers_for_phone(s, SHARED)] == [ids[1]]  # the family member stays
        assert [f.id for f in farmers_for_phone(s, OTHER)] == [ids[0]]  # her other phone stays
        checks = s.execute(select(PhoneVerification.phone, PhoneVerification.farmer_id)).all()
        assert sorted(checks) == sorted([(SHARED, ids[1]), (OTHER, ids[0])])
        release = s.execute(select(PhoneRelease)).scalar_one()
        assert (release.phone, release.farmer_id, release.released_by, release.note) == (
            SHARED,
            ids[0],
            "ana",
            "cambió de número",
        )
        assert release.released_at is not None
        assert [r.id for r in releases_of_farmer(s, ids[0])] == [release.id]
        farmer = s.get(Farmer, ids[0])  # the farmer and her records stay
        assert farmer.pin_hash == "scrypt:x"
        assert s.execute(select(func.count(Invoice.id)).where(Invoice.farmer_id == ids[0])).scalar() == 1


def test_a_phone_not_linked_to_the_farmer_changes_nothing(empty_db):
    with session_scope(empty_db) as s:
        first, second = _family(s)
        ids = first.id, second.id
    with session_scope(empty_db) as s:
        assert not release_phone(s, ids[1], OTHER, by="ana")
    with session_scope(empty_db) as s:
        assert s.execute(select(func.count(PhoneRelease.id))).scalar() == 0
        assert s.execute(select(func.count(PhoneVerification.id))).scalar() == 3
        assert s.execute(select(func.count(FarmerPhone.id))).scalar() == 3
