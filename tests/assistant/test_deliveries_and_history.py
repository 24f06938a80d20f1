"""The farmer's own deliveries, rejections and payment history, behind the same check as
payments; facts are read from the seeded records, not typed into the test."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import session_scope
from bot.records.payments import last_paid_invoice, unpaid_invoices
from bot.records.schema import Delivery, Farmer, FarmerPhone, Invoice
from bot.records.vocabulary import REJECTION_REASONS
from bot.replies.spanish import kilos, month_name
from tests.assistant.phone import ADRIANA, ROSA, Phone, accepted


def _farmer(url: str, phone: str) -> Farmer:
    with session_scope(url) as s:
        return (
            s.execute(select(Farmer).join(Farmer.phones).where(FarmerPhone.phone == phone)).scalars().first()
        )


def test_why_was_my_fruit_rejected_gives_the_kilos_and_the_reason_after_the_check(db):
    phone = accepted(Phone(ROSA))
    asked = phone.send("ask_deliveries", "por que me rechazaron fruta")
    assert "últimos 4 números" in asked and "kg" not in asked
    answer = phone.send("inform_number", "8204")
    farmer = _farmer(db, ROSA)
    with session_scope(db) as s:
        rejected = (
            s.execute(
                select(Delivery)
                .where(Delivery.farmer_id == farmer.id, Delivery.kg_rejected > 0)
                .order_by(Delivery.delivered_on.desc())
            )
            .scalars()
            .first()
        )
        reason = REJECTION_REASONS[rejected.rejections[0].reason]
        kg = kilos(rejected.kg_rejected)
    assert kg in answer and reason in answer
    explained = phone.send("ask_explanation", "y eso por que?")
    assert reason.split(" (")[0].lower() in explained.lower() and "golpes" in explained.lower()


def test_last_payment_month_and_what_is_still_owed_come_from_the_records(db):
    phone = accepted(Phone(ROSA))
    phone.send("ask_payment_history", "cual fue mi ultimo pago")
    last = phone.send("inform_number", "8204")
    farmer = _farmer(db, ROSA)
    with session_scope(db) as s:
        paid = last_paid_invoice(s, farmer.id)
        owed = unpaid_invoices(s, farmer.id)
    assert paid.folio in last and paid.bank_reference_last4 in last
    month = phone.send("ask_payment_history", f"cuanto me pagaron en {month_name(paid.paid_on)}")
    assert paid.folio in month and "Total" in month
    pending = phone.send("ask_payment_history", "que me falta por cobrar")
    assert owed[0].folio in pending and paid.folio not in pending


def test_an_invoice_on_hold_explains_its_reason_and_the_how_to(db):
    phone = accepted(Phone(ADRIANA))
    phone.send("ask_payment_status", "mi pago")
    answer = phone.send("inform_number", "1365")
    with session_scope(db) as s:
        held = s.execute(select(Invoice).where(Invoice.folio == "F-300201")).scalar_one()
    assert held.status_reason_code == "missing_cfdi_xml" and held.folio in answer
    why = phone.send("ask_explanation", "y eso que es?")
    assert "XML" in why and "PDF" in why
    howto = phone.send("ask_howto", "que hago para que me paguen la retenida")
    assert "XML" in howto and "Disculpe" not in howto
