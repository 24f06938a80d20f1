"""What a farmer pays by SMS on the standard journeys (issue 15): the privacy notice and the consent
in two parts at most before the farmer's own question is answered, a question asked before
consent answered right after it (and the check) without asking it again, payments in one part.
Measured end to end, through the channels and Rasa, by bench/journeys.py."""

from __future__ import annotations

import pytest

from bot.messaging.formatting import pack_sms, sms_parts
from tests.assistant.phone import ADRIANA, ROSA, SHARED, Phone, accepted


def parts(reply: str) -> int:
    return sum(sms_parts(body).parts for body in pack_sms([reply]))


def test_first_contact_costs_two_parts_with_the_notice_and_the_consent(db):
    phone = Phone(ROSA, medium="sms")
    notice = phone.send("greet", "hola")
    thanks = phone.send("inform_number", "1")
    assert "Aviso de privacidad" in notice and "¿En qué le ayudo?" in thanks and "1. Mis pagos" in thanks
    assert parts(notice) + parts(thanks) == 2


def test_a_question_before_consent_is_answered_after_consent_and_code_without_asking_again(db):
    phone = Phone(ROSA, medium="sms")
    notice = phone.send("ask_payment_status", "cuando me pagan")
    asked = phone.send("inform_number", "1")
    assert "Aviso de privacidad" in notice and "últimos 4 números" in asked
    assert parts(notice) + parts(asked) == 2
    answer = phone.send("inform_number", "8204")  # the third message: the answer
    assert "F-300102: $36,270.00, se pagará el" in answer and parts(answer) == 1


@pytest.mark.parametrize(
    "number, who, code, folios",
    [
        (ROSA, None, "8204", ("F-443948", "F-300102")),
        (ADRIANA, None, "1365", ("F-300201", "F-300202")),
        (SHARED, "2", "0117", ("F-300301", "F-807856")),
    ],
)
def test_two_invoices_with_their_reasons_fit_one_part(db, number, who, code, folios):
    phone = accepted(Phone(number, medium="sms"))
    asked = phone.send("ask_payment_status", "cuando me pagan")
    if who:
        asked = phone.send("inform_number", who)
    assert parts(asked) == 1
    answer = phone.send("inform_number", code)
    assert all(folio in answer for folio in folios), answer
    assert parts(answer) == 1, answer


def test_a_held_invoice_says_why_in_the_programs_words(db):
    phone = accepted(Phone(ADRIANA, medium="sms"))
    phone.send("ask_payment_status", "cuando me pagan")
    answer = phone.send("inform_number", "1365")
    assert "retenida: falta el XML del CFDI." in answer
    assert "rechazada: el monto no coincide con lo aceptado." in answer
