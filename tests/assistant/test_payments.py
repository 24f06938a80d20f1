"""Payment answers: consent, then the check code, then only the farmer's own invoices.
Conversations with the assistant's logic, as farmers write, against real seeded databases
(the same flows run through Rasa itself in tests/rasa/test_conversations_e2e.py)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from bot.config import settings
from bot.db import session_scope
from bot.messaging.formatting import pack_sms, sms_parts
from bot.records.privacy import locked_phones, reset_pin, unlock
from bot.records.schema import Farmer, FarmerPhone, HumanRequest, PaymentAccessLog, PhoneVerification
from tests.assistant.phone import ADRIANA, ROSA, Phone, accepted

# The first lock lasts minutes: it ends today, or tomorrow when it crosses midnight in Mexico
# (the wording itself is pinned with a fixed clock in tests/replies/test_spanish.py).
SHORT_LOCK = re.compile(r"bloqueadas hasta (mañana a )?las \d{2}:\d{2}\.")


def test_payment_needs_consent_then_check_then_shows_own_invoices(db):
    phone = Phone(ROSA)
    notice = phone.send("ask_payment_status", "cuando me pagan")
    assert "Aviso de privacidad" in notice and "$" not in notice
    ask = phone.send("affirm", "si")
    assert "últimos 4 números de su folio" in ask and "$" not in ask
    answer = phone.send("inform_number", "8204")
    assert "F-300102: $36,270.00, se pagará el" in answer
    assert "84 kg por daño mecánico" in answer
    assert "$" in answer
    with session_scope(db) as s:
        assert s.execute(select(PaymentAccessLog).where(PaymentAccessLog.phone == ROSA)).scalars().first()
    # remembered: the next question needs no check
    again = phone.send("ask_payment_status", "y la factura F-300101")
    assert "pagada" in again and "termina en 4821" in again


def test_asked_for_the_check_code_why_is_answered_and_the_question_stays_open(db):
    """ "¿Y por qué?" at the code question gets why it is asked; "no tengo mi credencial" what to
    do without it; each in one SMS part, not counted as a wrong code; the next 4 numbers are
    still checked."""
    phone = accepted(Phone(ROSA))
    assert "últimos 4 números de su folio" in phone.send("ask_payment_status", "cuando me pagan")
    for intent, text, said in (
        ("ask_explanation", "y por que?", "solo usted vea sus pagos"),
        ("nlu_fallback", "xq", "solo usted vea sus pagos"),
        ("nlu_fallback", "no tengo mi credencial", "Sin su folio no puedo mostrarle sus pagos"),
        ("ask_howto", "cual folio?", "Sin su folio no puedo mostrarle sus pagos"),
    ):
        answer = phone.send(intent, text)
        assert said in answer and "4 números finales" in answer and "ASESOR" in answer, text
        assert "$" not in answer and "no le entendí" not in answer.lower()
        assert [sms_parts(body).parts for body in pack_sms([answer])] == [1]
        assert phone.slots["awaiting"] == "verification"
    wrong = phone.send("inform_number", "0000")
    assert f"Le quedan {settings().verification_max_attempts - 1} intentos" in wrong
    assert "F-300102: $36,270.00" in phone.send("inform_number", "8204")


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
    assert "Le quedan 2 intentos." in phone.send("inform_number", "1111")
    assert "Le queda 1 intento." in phone.send("inform_number", "2222")
    locked = phone.send("inform_number", "3333")
    assert SHORT_LOCK.search(locked)
    # the right code written while locked is told the lock and when it ends, never compared
    again = phone.send("inform_number", "1365")
    assert SHORT_LOCK.search(again) and "$" not in again
    phone.send("ask_payment_status", "mi pago")
    assert "$" not in phone.send("inform_number", "1365")
    with session_scope(db) as s:
        row = s.execute(select(PhoneVerification).where(PhoneVerification.phone == ADRIANA)).scalar_one()
        assert row.locked_until is not None and row.lockouts == 1
        assert [(p.phone, p.farmer_name) for p in locked_phones(s)] == [(ADRIANA, "Adriana Flores Ortiz")]
        assert _reasons(s) == []  # a lock that ends by itself queues nobody


def _reasons(session) -> list[str]:
    return list(session.execute(select(HumanRequest.reason).where(HumanRequest.phone == ADRIANA)).scalars())


def test_a_code_written_after_the_conversation_moved_on_is_told_the_lock_and_when_it_ends(db):
    phone = accepted(Phone(ADRIANA))
    _three_wrong(phone)
    phone.send("greet", "hola")  # the menu is on offer now, and no code is asked for
    again = phone.send("inform_number", "1365")
    assert SHORT_LOCK.search(again) and "$" not in again and "no está en la lista" not in again
    assert "Aviso" not in phone.send("inform_number", "2")  # a menu option is still an option
    with session_scope(db) as s:
        row = s.execute(select(PhoneVerification).where(PhoneVerification.phone == ADRIANA)).scalar_one()
        assert row.failed_attempts == 0 and row.lockouts == 1  # not compared, not counted


def test_a_request_for_a_person_while_locked_tells_staff_it_is_the_lock(db):
    phone = accepted(Phone(ADRIANA))
    _three_wrong(phone)
    assert "S-" in phone.send("request_human", "quiero hablar con alguien")
    with session_scope(db) as s:
        assert _reasons(s) == ["locked_out"]


def _expire_lock(url: str, phone: str) -> None:
    with session_scope(url) as s:
        s.execute(
            update(PhoneVerification)
            .where(PhoneVerification.phone == phone)
            .values(locked_until=datetime.now(timezone.utc) - timedelta(seconds=1))
        )


def _three_wrong(phone: Phone) -> str:
    phone.send("ask_payment_status", "mi pago")
    return [phone.send("inform_number", code) for code in ("1111", "2222", "3333")][-1]


def test_lockouts_grow_then_wait_for_staff_who_can_lift_them(db):
    phone = accepted(Phone(ADRIANA))
    assert SHORT_LOCK.search(_three_wrong(phone))
    _expire_lock(db, ADRIANA)
    assert "bloqueadas hasta mañana a las " in _three_wrong(phone)  # the second lock: 24 hours
    with session_scope(db) as s:
        row = s.execute(select(PhoneVerification).where(PhoneVerification.phone == ADRIANA)).scalar_one()
        assert row.lockouts == 2
        assert (row.locked_until.replace(tzinfo=timezone.utc) - datetime.now(timezone.utc)) > timedelta(
            hours=23
        )
    _expire_lock(db, ADRIANA)
    held = _three_wrong(phone)
    assert "hasta que un asesor las revise" in held and "le escribirá" in held
    with session_scope(db) as s:
        assert [p.locked_until for p in locked_phones(s)] == [None]  # held: no end until staff act
        assert _reasons(s) == ["locked_out"]  # in the staff queue, saying why, once
        request = s.execute(select(HumanRequest).where(HumanRequest.phone == ADRIANA)).scalar_one()
        assert request.farmer_id is not None and request.last_message is None  # never the code
        farmer_id = s.execute(
            select(PhoneVerification.farmer_id).where(PhoneVerification.phone == ADRIANA)
        ).scalar()
        assert unlock(s, ADRIANA, farmer_id) and not unlock(s, ADRIANA, farmer_id)
    phone.send("ask_payment_status", "mi pago")
    assert "$" in phone.send("inform_number", "1365")


def test_a_farmer_chooses_a_pin_that_replaces_the_folio_digits_and_staff_can_reset_it(db):
    phone = accepted(Phone(ROSA))
    assert "últimos 4 números de su folio" in phone.send("set_pin", "quiero poner un nip")
    assert "4 números para su NIP" in phone.send("inform_number", "8204")
    assert "fácil de adivinar" in phone.send("inform_number", "1234")
    assert "fácil de adivinar" in phone.send("inform_number", "8204")  # the folio digits themselves
    assert "debe ser de 4 números" in phone.send("inform_number", "59")
    assert "NIP quedó guardado" in phone.send("inform_number", "5927")
    with session_scope(db) as s:
        rosa = s.execute(select(Farmer).join(Farmer.phones).where(FarmerPhone.phone == ROSA)).scalar_one()
        assert rosa.pin_hash and "5927" not in rosa.pin_hash
        s.execute(
            update(PhoneVerification).where(PhoneVerification.phone == ROSA).values(verified_until=None)
        )
    assert "escriba su NIP de 4 números" in phone.send("ask_payment_status", "mi pago")
    assert "NIP de 4 números o escriba ASESOR" in phone.send("ask_explanation", "y eso por que")
    assert "Sin su NIP" in phone.send("nlu_fallback", "no me acuerdo")  # the question stays open
    assert "$" not in phone.send("inform_number", "8204")  # the folio digits no longer pass
    assert "$" in phone.send("inform_number", "5927")
    with session_scope(db) as s:
        rosa_id = s.execute(select(FarmerPhone.farmer_id).where(FarmerPhone.phone == ROSA)).scalar()
        assert reset_pin(s, rosa_id) and not reset_pin(s, rosa_id)
        s.execute(
            update(PhoneVerification).where(PhoneVerification.phone == ROSA).values(verified_until=None)
        )
    assert "últimos 4 números de su folio" in phone.send("ask_payment_status", "mi pago")
    assert "$" in phone.send("inform_number", "8204")
