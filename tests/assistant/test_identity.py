"""Who is writing: consent at first contact, unknown numbers, shared phones.
Conversations with the assistant's logic, as farmers write, against real seeded databases
(the same flows run through Rasa itself in tests/rasa/test_conversations_e2e.py)."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import session_scope
from bot.records.schema import Consent
from tests.assistant.phone import ROSA, SHARED, UNKNOWN, Phone, accepted


def test_first_contact_shows_privacy_notice_and_records_consent(db):
    phone = Phone(ROSA)
    first = phone.send("greet", "ola buenas")
    assert "Aviso de privacidad" in first and "pequenoproductor.mx/privacidad" in first
    assert "1. Sí, acepto" in first
    assert "Gracias" in phone.send("inform_number", "1")
    with session_scope(db) as s:
        consent = s.execute(select(Consent).where(Consent.phone == ROSA)).scalar_one()
        assert consent.accepted and consent.recorded_at is not None


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


def test_a_returning_farmer_is_greeted_by_name(db):
    phone = accepted(Phone(ROSA))
    greeting = phone.send("greet", "hola")
    assert "¡Hola, Rosa!" in greeting and "Disculpe" not in greeting
