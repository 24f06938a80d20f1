"""Payment answers: consent, then the check code, then only the farmer's own invoices.
Conversations with the assistant's logic, as farmers write, against real seeded databases
(the same flows run through Rasa itself in tests/rasa/test_conversations_e2e.py)."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import session_scope
from bot.records.schema import PaymentAccessLog, PhoneVerification
from tests.assistant.phone import ADRIANA, ROSA, Phone, accepted


def test_payment_needs_consent_then_check_then_shows_own_invoices(db):
    phone = Phone(ROSA)
    notice = phone.send("ask_payment_status", "cuando me pagan")
    assert "Aviso de privacidad" in notice and "$" not in notice
    ask = phone.send("affirm", "si")
    assert "últimos 4 números de su folio" in ask and "$" not in ask
    answer = phone.send("inform_number", "8204")
    assert "F-300102" in answer and "programada para pago" in answer
    assert "84 kg por daño mecánico" in answer
    assert "$" in answer
    with session_scope(db) as s:
        assert s.execute(select(PaymentAccessLog).where(PaymentAccessLog.phone == ROSA)).scalars().first()
    # remembered: the next question needs no check
    again = phone.send("ask_payment_status", "y la factura F-300101")
    assert "pagada" in again and "termina en 4821" in again


def test_another_farmers_invoice_gets_nothing(db):
    phone = accepted(Phone(ROSA))
    phone.send("ask_payment_status", "mi pago")
    phone.send("inform_number", "8204")
    answer = phone.send("ask_payment_status", "como va la factura F-300201", invoice_folio="F-300201")
    assert "No encontré la factura F-300201" in answer
    assert "retenida" not in answer and "$" not in answer


def test_wrong_codes_lock_payment_answers(db):
    phone = accepted(Phone(ADRIANA))
    phone.send("ask_payment_status", "ya me depositaron?")
    assert "Le quedan 2" in phone.send("inform_number", "1111")
    assert "Le quedan 1" in phone.send("inform_number", "2222")
    locked = phone.send("inform_number", "3333")
    assert "bloqueadas" in locked
    # even the right code is refused while locked, and staff can see the lock
    phone.send("ask_payment_status", "mi pago")
    assert "$" not in phone.send("inform_number", "1365")
    with session_scope(db) as s:
        row = s.execute(select(PhoneVerification).where(PhoneVerification.phone == ADRIANA)).scalar_one()
        assert row.locked_until is not None
