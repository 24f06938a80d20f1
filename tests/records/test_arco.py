"""ARCO records: business days for a due date, removing names and numbers from staff's texts, and
oppositions for every number or one (what ``excluded`` answers to whoever sends notices). On
SQLite and PostgreSQL (seeded_db)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.db import session_scope
from bot.records import oppositions
from bot.records.arco import business_days_after
from bot.records.arco_schema import PurposeOpposition
from bot.records.erasure import NAME_REDACTED, NUMBER_REDACTED, redact
from bot.records.schema import Farmer


def test_business_days_skip_weekends():
    monday = date(2026, 11, 30)
    assert business_days_after(monday, 0) == monday
    assert business_days_after(monday, 4) == date(2026, 12, 4)  # Friday
    assert business_days_after(monday, 5) == date(2026, 12, 7)  # the next Monday
    assert business_days_after(date(2026, 12, 5), 1) == date(2026, 12, 7)  # from a Saturday
    assert business_days_after(monday, 20) == date(2026, 12, 28)


def test_redact_names_and_numbers_however_written():
    text = (
        "INE de ROSA MARÍA Pérez; llamó del (443) 100-0001 y del +52 443 100 0001 el 2026-11-30, folio 518204"
    )
    cleaned = redact(text, ["Rosa María Pérez"], ["+524431000001"])
    assert cleaned == (
        f"INE de {NAME_REDACTED}; llamó del {NUMBER_REDACTED} y del {NUMBER_REDACTED} el 2026-11-30, folio 518204"
    )
    assert (
        redact("Llamó del 443 100 0002", [], ["+524431000001"]) == "Llamó del 443 100 0002"
    )  # another number
    assert redact(None, ["x"], []) is None


def test_oppositions_for_every_number_or_one(seeded_db):
    with session_scope(seeded_db) as session:
        farmer_id = session.execute(select(Farmer.id).order_by(Farmer.id.desc()).limit(1)).scalar()
        assert not oppositions.excluded(session, farmer_id, "broadcasts")
        assert oppositions.oppose(session, farmer_id, ["broadcasts"], "+525500000001", None) == ["broadcasts"]
        assert oppositions.excluded(session, farmer_id, "broadcasts", phone="+525500000001")
        assert not oppositions.excluded(session, farmer_id, "broadcasts", phone="+525500000002")
        assert not oppositions.excluded(session, farmer_id, "broadcasts")  # not for every number
        assert oppositions.oppose(session, farmer_id, ["broadcasts"], "+525500000001", None) == []  # again
        assert oppositions.oppose(session, farmer_id, ["broadcasts", "notices"], None, None) == [
            "broadcasts",
            "notices",
        ]
        assert oppositions.excluded(session, farmer_id, "broadcasts", phone="+525500000002")
        assert oppositions.excluded(session, farmer_id, "notices")
        assert oppositions.oppose(session, farmer_id, ["notices"], "+525500000003", None) == []  # covered
        rows = session.execute(
            select(PurposeOpposition).where(PurposeOpposition.farmer_id == farmer_id)
        ).scalars()
        assert len(list(rows)) == 3
        session.rollback()
