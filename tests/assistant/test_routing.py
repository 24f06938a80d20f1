"""Where a turn goes when the NLU read it alone and got it wrong: each test gives the intent the
NLU gave in a real run (or a plainly wrong one) and checks that the words and what was just said
win (bot/assistant/routing.py)."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select

from bot.db import session_scope
from bot.records.knowledge import faq_by_code
from bot.records.schema import Farmer, FarmerPhone, Invoice
from bot.replies.spanish import money
from bot.timeutil import local_today
from tests.assistant.phone import NEW, ROSA, SHARED, UNKNOWN, Phone, accepted

ROSA_CODE = "8204"


def checked(phone: Phone, code: str = ROSA_CODE) -> Phone:
    """Rosa's phone after consent and the check."""
    accepted(phone)
    phone.send("ask_payment_status", "mis pagos")
    phone.send("inform_number", code)
    return phone


def test_a_plain_yes_answers_the_question_on_offer_whatever_the_nlu_said(db):
    phone = accepted(Phone(NEW))
    confirm = phone.send("enrol_training", "quiero inscribirme al de riego")
    assert "Confirma su inscripción a Riego" in confirm  # one title on two dates: the soonest
    assert "inscrito" in phone.send("ask_explanation", "sí")
    assert "Cancela su inscripción a Riego" in phone.send(
        "cancel_enrolment", "ya no voy a poder ir al de riego"
    )
    assert "cancelamos" in phone.send("affirm", "claro")  # the seat is given back for other tests


def test_a_message_without_words_gets_the_menu(db):
    for text in ("?", "🙏🙏"):
        assert "Mis pagos" in Phone(UNKNOWN).send("thank", text)


def test_an_invoice_folio_alone_is_a_payment_question(db):
    phone = accepted(Phone(ROSA))
    assert "últimos 4 números" in phone.send("nlu_fallback", "F300102")
    assert "F-300102" in phone.send("inform_number", ROSA_CODE)


def test_a_follow_up_keeps_the_calibre_the_grade_or_the_product(db):
    phone = Phone(UNKNOWN)
    phone.send("ask_avocado_size", "cuantos aguacates caben en una caja de calibre 48", calibre="calibre 48")
    assert "227 a 283 g" in phone.send("ask_avocado_size", "y cuanto pesa cada uno")
    assert "Calibre 48" in phone.send("ask_deliveries", "y cuantos van en la caja")  # no consent asked
    phone.send("ask_quality_standard", "que es lo minimo q debe tener el aguacate", product="aguacate")
    assert "Segunda" in phone.send("ask_quality_standard", "¿y de segunda?")  # a grade, not option 2


def test_why_after_an_answer_with_reasons_explains_them(db):
    phone = checked(Phone(ROSA))
    phone.send("ask_deliveries", "xq me rechazaron fruta")
    assert "golpes" in phone.send("ask_quality_standard", "¿y por qué?").lower()
    kilos = phone.send("ask_deliveries", "y xq me descontaron kilos")  # a new question, not "why"
    assert "kg" in kilos


def test_a_general_question_is_the_faq_not_the_farmers_records(db):
    phone = Phone(NEW)
    answer = phone.send("ask_payment_status", "cuanto tardan en pagar despues de entregar")
    with session_scope(db) as s:
        entry = faq_by_code(s, "payment_time")
        assert entry is not None and entry.answer in answer
    assert "Aviso de privacidad" not in answer


def test_on_a_shared_phone_an_unknown_name_is_asked_again_and_a_named_person_takes_over(db):
    phone = accepted(Phone(SHARED))
    phone.send("ask_payment_status", "mi pago")
    assert "No encuentro ese nombre" in phone.send("ask_explanation", "soy pedro")
    phone.send("inform_number", "soy juan")
    phone.send("inform_number", "0117")
    switched = phone.send("nlu_fallback", "ahora pregunta mi esposa guadalupe, cuando le pagan a ella")
    assert "últimos 4 números" in switched  # Guadalupe has not been checked on this phone
    assert "F-300401" in phone.send("inform_number", "0942")  # her own invoice, not Juan's


def test_payments_of_the_year_and_the_one_before_the_last(db):
    phone = checked(Phone(ROSA))
    with session_scope(db) as s:
        farmer_id = s.execute(select(FarmerPhone.farmer_id).where(FarmerPhone.phone == ROSA)).scalar_one()
        year = local_today("America/Mexico_City").year
        paid = [
            i
            for i in s.execute(select(Invoice).where(Invoice.farmer_id == farmer_id)).scalars()
            if i.status == "paid" and i.paid_on and i.paid_on.year == year
        ]
        total = money(sum((i.amount_mxn for i in paid), Decimal(0)))
        assert s.get(Farmer, farmer_id) is not None
    assert total in phone.send("ask_payment_history", "cuanto llevo cobrado este año")
    last = phone.send("ask_payment_history", "cual fue mi ultimo pago")
    before = phone.send("follow_up", "y el de antes?")
    folios = re.findall(r"F-\d{6}", last), re.findall(r"F-\d{6}", before)
    assert folios[0] and folios[1] and folios[0] != folios[1]
