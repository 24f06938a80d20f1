"""Follow-ups about the farmer's own deliveries, as farmers write them: whether anything was
rejected from the one just shown, the one before, a month's, the last time fruit came back, the
latest one's grades and calibres. Facts are read from the seeded records."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import session_scope
from bot.messaging.formatting import pack_sms, sms_parts
from bot.records.schema import Delivery, Farmer
from bot.records.vocabulary import REJECTION_REASONS
from bot.replies.spanish import kilos, short_date
from tests.assistant.phone import checked, farmer_phone


def _deliveries(url: str, folio: str) -> list[Delivery]:
    """The farmer's deliveries, newest first, with their rejections and grades."""
    with session_scope(url) as s:
        farmer = s.execute(select(Farmer).where(Farmer.folio == folio)).scalar_one()
        rows = list(
            s.execute(
                select(Delivery)
                .where(Delivery.farmer_id == farmer.id)
                .order_by(Delivery.delivered_on.desc(), Delivery.id.desc())
            ).scalars()
        )
        for row in rows:
            _ = list(row.rejections), list(row.grades)
        s.expunge_all()
    return rows


def _reason(delivery: Delivery) -> str:
    return REJECTION_REASONS[delivery.rejections[0].reason]


def test_was_anything_rejected_from_the_one_shown_and_from_the_one_before(db):
    folio = "PP-386958"
    latest, before = _deliveries(db, folio)[:2]
    assert not latest.kg_rejected and before.kg_rejected  # what the seeded records hold
    phone = farmer_phone(db, folio, "sms")
    shown = checked(phone, folio, "ask_deliveries", "cuantos kilos de chile entregue la ultima vez")
    assert kilos(latest.kg_delivered) in shown
    assert "No se rechazó nada" in phone.send("ask_deliveries", "me rechazaron algo?")
    answer = phone.send("follow_up", "y en la anterior?")
    assert kilos(before.kg_rejected) in answer and _reason(before) in answer


def test_the_latest_delivery_then_the_last_time_fruit_came_back(db):
    folio = "PP-995198"
    deliveries = _deliveries(db, folio)
    rejected = next(d for d in deliveries if d.kg_rejected)
    assert not deliveries[0].kg_rejected
    phone = farmer_phone(db, folio, "whatsapp")
    answer = checked(
        phone, folio, "ask_deliveries", "q onda, de mi ultima entrega de aguacate me rechazaron algo?"
    )
    assert short_date(deliveries[0].delivered_on) in answer and "No se rechazó nada" in answer
    answer = phone.send("ask_deliveries", "y cuando fue la ultima vez q si me regresaron fruta")
    assert short_date(rejected.delivered_on) in answer and kilos(rejected.kg_rejected) in answer


def test_a_months_rejections_and_the_latest_ones_grades(db):
    folio = "PP-753700"
    deliveries = _deliveries(db, folio)
    october = [d for d in deliveries if d.delivered_on.month == 10 and d.kg_rejected]
    phone = farmer_phone(db, folio, "sms")
    checked(phone, folio, "ask_deliveries", "cuando fue mi ultima entrega y cuantos kilos lleve")
    answer = phone.send("ask_howto", "y en octubre? ahi si me regresaron como 180 kg creo")
    assert october and all(kilos(d.kg_rejected) in answer for d in october[:2])
    assert sum(sms_parts(body).parts for body in pack_sms([answer])) <= 2
    assert _reason(october[0]).split(" (")[0] in answer
    extra = sum(g.kg for g in deliveries[0].grades if g.grade == "extra")
    answer = phone.send("ask_deliveries", "y de la ultima cuanto me salio de extra", grade="extra")
    assert f"extra {kilos(extra)}" in answer and short_date(deliveries[0].delivered_on) in answer


def test_the_calibres_of_the_latest_delivery(db):
    folio = "PP-467062"
    latest = _deliveries(db, folio)[0]
    phone = farmer_phone(db, folio, "sms")
    answer = checked(
        phone,
        folio,
        "ask_deliveries",
        "de q calibres salio mi ultima entrega de aguacate",
        product="aguacate",
    )
    for grade in latest.grades:
        assert f"{kilos(grade.kg)} de calibre {grade.calibre}" in answer
