"""Who is writing: consent at first contact, unknown numbers, shared phones.
Conversations with the assistant's logic, as farmers write, against real seeded databases
(the same flows run through Rasa itself in tests/rasa/test_conversations_e2e.py)."""

from __future__ import annotations

from sqlalchemy import select

from bot.config import settings
from bot.db import session_scope
from bot.messaging.formatting import pack_sms, sms_parts
from bot.records.schema import Consent
from tests.assistant.phone import ROSA, SHARED, UNKNOWN, Phone, accepted


def test_first_contact_shows_privacy_notice_and_records_consent(db):
    phone = Phone(ROSA)
    first = phone.send("greet", "ola buenas")
    assert "Aviso de privacidad" in first and "pequenoproductor.mx/aviso-de-privacidad" in first
    assert "1. Acepto" in first
    assert "Gracias" in phone.send("inform_number", "1")
    with session_scope(db) as s:
        consent = s.execute(select(Consent).where(Consent.phone == ROSA)).scalar_one()
        assert consent.accepted and consent.recorded_at is not None


def test_the_short_notice_says_who_keeps_what_why_and_where_the_full_notice_is_in_one_sms_part(db):
    """LFPDPPP (shared/domain/facts.md §8): shortened, never without the controller, the data,
    the purpose and where the full notice is; with its options it is one SMS part."""
    notice = Phone(ROSA).send("greet", "hola")
    assert "Pequeño Productor guarda" in notice  # who keeps the data
    assert "su teléfono y pagos" in notice and "para responderle" in notice  # what, and why
    assert f"Aviso de privacidad: {settings().privacy_notice_url}" in notice  # where the rest is
    assert notice.endswith("¿Acepta?\n1. Acepto\n2. No")
    assert [sms_parts(body).parts for body in pack_sms([notice])] == [1]


def test_unknown_number_gets_no_personal_data(db):
    phone = accepted(Phone(UNKNOWN))
    answer = phone.send("ask_payment_status", "cuando me pagan")
    assert "no está registrado" in answer and "$" not in answer and "Factura" not in answer


def test_shared_phone_asks_who_and_checks_that_person(db):
    phone = accepted(Phone(SHARED))
    who = phone.send("ask_payment_status", "kiero saber de mi pago")
    assert "varias personas" in who and "Guadalupe H." in who and "Juan H." in who
    assert "Hernández López" not in who  # only what a family needs to tell who is who
    phone.send("inform_number", "2")  # Juan
    wrong = phone.send("inform_number", "0942")  # Guadalupe's code does not open Juan's payments
    assert "no coincide" in wrong and "$" not in wrong
    assert phone.slots["awaiting"] == "verification"
    answer = phone.send("inform_number", "0117")
    assert "F-300301" in answer and "en revisión" in answer
    assert "F-300401" not in answer  # Guadalupe's


def test_asked_who_is_writing_why_is_answered_and_the_request_waits(db):
    """ "¿Y eso pq?" after "¿Quién pregunta?" gets why (each person sees only their own
    payments) and the same choice; a name nobody on the phone has keeps the request waiting too:
    once the person is chosen and checked, the payments they asked for come."""
    phone = accepted(Phone(SHARED))
    assert "varias personas" in phone.send("ask_payment_status", "kiero saber de mi pago")
    why = phone.send("ask_explanation", "y eso pq")
    assert "ve solo sus propios pagos" in why and "Guadalupe H." in why and "Juan H." in why
    assert [sms_parts(body).parts for body in pack_sms([why])] == [1]
    assert "No encuentro ese nombre" in phone.send("nlu_fallback", "soy pedro")
    phone.send("inform_number", "2")  # Juan
    answer = phone.send("inform_number", "0117")
    assert "F-300301" in answer and "en revisión" in answer  # the request that waited


def test_a_returning_farmer_is_greeted_by_name(db):
    phone = accepted(Phone(ROSA))
    greeting = phone.send("greet", "hola")
    assert "¡Hola, Rosa!" in greeting and "Disculpe" not in greeting
