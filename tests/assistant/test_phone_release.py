"""A number that changed hands: once staff release it, the next person writing from it is a new
contact. The assistant's logic is called the way every turn reaches it (respond, with the slots
Rasa would still hold for that sender), on a database of its own (the release removes a demo
farmer's link, which other tests rely on)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.db import session_scope
from bot.records.farmers import farmers_for_phone
from bot.records.phone_releases import release_phone
from bot.records.privacy import set_pin
from bot.records.schema import PaymentAccessLog, PhoneVerification
from tests.assistant.phone import ROSA, Phone, accepted
from tests.databases import make_database

PIN = "5927"


@pytest.fixture(params=["sqlite", "postgresql"])
def own_db(request, tmp_path, monkeypatch):
    url, cleanup = make_database(request.param, tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    cleanup()


def test_the_next_person_on_a_released_number_is_a_new_contact(own_db):
    with session_scope(own_db) as s:
        rosa = farmers_for_phone(s, ROSA)[0]
        rosa_id, rosa_name = rosa.id, rosa.name
        set_pin(s, rosa, PIN)
    # Rosa, before: consent given, her PIN opens her payments.
    phone = accepted(Phone(ROSA))
    asked = phone.send("ask_payment_status", "cuando me pagan")
    assert "NIP" in asked
    waiting_for_pin = dict(phone.slots)  # what Rasa holds while the check question is open
    shown = phone.send("inform_number", PIN)
    assert "$" in shown and "F-300102" in shown
    with session_scope(own_db) as s:
        views_before = s.execute(select(func.count(PaymentAccessLog.id))).scalar()

    with session_scope(own_db) as s:
        assert release_phone(s, rosa_id, ROSA, by="ana", note="cambió de número")

    # The new owner of the number types Rosa's PIN into the question still open in the slots.
    phone.slots = waiting_for_pin
    after_pin = phone.send("inform_number", PIN)
    assert "$" not in after_pin and "F-30010" not in after_pin and "Rosa" not in after_pin
    # First contact: the privacy notice, and nothing of the previous owner.
    first = phone.send("greet", "hola")
    assert "Aviso de privacidad" in first and "1. Acepto" in first
    assert "Rosa" not in first and rosa_name not in first
    assert "Gracias" in phone.send("inform_number", "1")
    asked_again = phone.send("ask_payment_status", "cuando me pagan")
    assert "no está registrado" in asked_again
    assert "$" not in asked_again and "F-30010" not in asked_again and "NIP" not in asked_again
    # The PIN reaches nobody: no check row for Rosa on this phone, no payment shown since.
    assert "$" not in phone.send("inform_number", PIN)
    with session_scope(own_db) as s:
        checks = s.execute(
            select(func.count(PhoneVerification.id)).where(
                PhoneVerification.phone == ROSA, PhoneVerification.farmer_id == rosa_id
            )
        ).scalar()
        assert checks == 0
        assert s.execute(select(func.count(PaymentAccessLog.id))).scalar() == views_before
