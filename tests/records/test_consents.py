"""Consent per phone as a history: answers, revocations, and a release of the number that makes
every earlier row stop counting. Real databases (SQLite, and PostgreSQL when reachable)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.db import session_scope
from bot.records import consents
from bot.records.phone_releases import release_phone
from bot.records.schema import Consent, Farmer, FarmerPhone

PHONE = "+524431000777"


def _farmer(s, folio: str = "PP-000777") -> Farmer:
    farmer = Farmer(folio=folio, name="Prueba Uno", state="Michoacán", municipality="Uruapan")
    farmer.phones.append(FarmerPhone(phone=PHONE))
    s.add(farmer)
    s.flush()
    return farmer


def test_never_asked_then_accepted(empty_db):
    with session_scope(empty_db) as s:
        assert consents.latest_consent(s, PHONE) is None
        assert not consents.has_consented(s, PHONE) and not consents.is_revoked(s, PHONE)
        consents.record_consent(s, PHONE, accepted=True)
    with session_scope(empty_db) as s:
        row = consents.latest_consent(s, PHONE)
        assert row is not None and row.kind == "answer" and row.notice_version == consents.NOTICE_VERSION
        assert consents.has_consented(s, PHONE) and not consents.is_revoked(s, PHONE)


def test_a_revocation_counts_as_declined_until_a_new_answer(empty_db):
    with session_scope(empty_db) as s:
        consents.record_consent(s, PHONE, accepted=True)
        consents.revoke(s, PHONE)
    with session_scope(empty_db) as s:
        assert consents.is_revoked(s, PHONE) and not consents.has_consented(s, PHONE)
        row = consents.latest_consent(s, PHONE)
        assert row.kind == "revocation" and row.accepted is False
        consents.record_consent(s, PHONE, accepted=True)  # consent given again
    with session_scope(empty_db) as s:
        assert consents.has_consented(s, PHONE) and not consents.is_revoked(s, PHONE)
        kinds = s.execute(select(Consent.kind).where(Consent.phone == PHONE).order_by(Consent.id)).scalars()
        assert list(kinds) == ["answer", "revocation", "answer"]


def test_rows_before_a_release_do_not_count(empty_db):
    with session_scope(empty_db) as s:
        farmer = _farmer(s)
        consents.record_consent(s, PHONE, accepted=True)
        assert consents.has_consented(s, PHONE)
        assert release_phone(s, farmer.id, PHONE, by="ana")
    with session_scope(empty_db) as s:
        assert consents.latest_consent(s, PHONE) is None  # a new contact: never asked
        assert not consents.has_consented(s, PHONE)
        consents.record_consent(s, PHONE, accepted=False)  # the new person declines
    with session_scope(empty_db) as s:
        assert consents.latest_consent(s, PHONE).accepted is False
        assert len(s.execute(select(Consent).where(Consent.phone == PHONE)).all()) == 2  # history kept


def test_a_revocation_before_a_release_does_not_follow_the_number(empty_db):
    with session_scope(empty_db) as s:
        farmer = _farmer(s)
        consents.revoke(s, PHONE)
        release_phone(s, farmer.id, PHONE, by="ana")
    with session_scope(empty_db) as s:
        assert not consents.is_revoked(s, PHONE) and consents.latest_consent(s, PHONE) is None


def test_the_database_refuses_an_unknown_kind(empty_db):
    with pytest.raises(IntegrityError), session_scope(empty_db) as s:
        s.add(Consent(phone=PHONE, accepted=True, notice_version="x", kind="maybe"))
        s.flush()
