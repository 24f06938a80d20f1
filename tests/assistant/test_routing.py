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


def test_asking_in_words_to_stop_the_messages_says_how_baja_works(db):
    phone = accepted(Phone(ROSA))
    for text in ("ya no me manden mensajes", "ya no quiero recibir mensajes", "dejen de mandarme avisos"):
        assert "responda BAJA" in phone.send("deny", text)
    # a complaint that messages stopped coming is not a request to stop them
    assert "BAJA" not in phone.send("ask_payment_status", "ya no me llegan mensajes de mis pagos")


def test_sessions_on_offer_are_not_the_farmers_own_enrolments(db):
    phone = accepted(Phone(NEW))
    offered = phone.send("ask_my_enrolments", "que talleres van a dar por aca", municipality="Uruapan")
    assert "Capacitaciones cerca de Uruapan" in offered
    own = phone.send("ask_my_enrolments", "a cual quede inscrito")  # the farmer's own stay their own
    assert "Capacitaciones cerca" not in own


def test_what_to_do_about_a_named_cause_is_its_explanation_not_a_person(db):
    phone = accepted(Phone(NEW))
    answer = phone.send("help", "q puedo hacer pa q no le caiga plaga a mi huerta")
    assert "Qué puede hacer" in answer and "controle la plaga" in answer
    assert "asesor" not in answer
    said_last = phone.send("ask_deliveries", "oiga y la antracnosis esa q es")  # "¿qué es?" at the end
    assert "Enfermedad" in said_last


def test_borreme_gives_the_seat_back_whatever_the_nlu_said(db):
    phone = accepted(Phone(NEW))
    phone.send("enrol_training", "quiero inscribirme al de riego")
    phone.send("affirm", "si")
    assert "Cancela su inscripción a Riego" in phone.send("deny", "fijese q no puedo, mejor borreme")
    assert "cancelamos" in phone.send("affirm", "si")


def test_what_fell_this_month_and_a_grade_asked_with_pay_words(db):
    phone = checked(Phone(ROSA))
    month = phone.send("ask_payment_status", "este mes q me ha caido de lana")
    assert "Sus pagos más recientes" not in month  # the month's payments, not the latest invoices
    grade = phone.send("ask_payment_status", "si trae manchitas todavia me la pagan de extra", grade="extra")
    assert "F-" not in grade and "calidad" in grade  # the quality answer (it asks which product)


def test_a_yes_that_says_more_still_answers_the_question_on_offer(db):
    phone = accepted(Phone(NEW))
    phone.send("enrol_training", "quiero inscribirme al de riego")
    assert "inscrito" in phone.send("send_media", "sale pues, ahi me pone en la lista")
    assert "cancelamos" not in phone.send("ask_payment_status", "ok y cuando me pagan")  # a new question
    phone.send("cancel_enrolment", "ya no voy a poder ir al de riego")
    assert "cancelamos" in phone.send("affirm", "si")


def test_the_year_and_what_is_still_owed_are_payment_history_whatever_the_follow_up(db):
    phone = checked(Phone(ROSA))
    phone.send("ask_payment_status", "cuando me pagan")
    year = phone.send("follow_up", "y sumando el año entero cuanto ha sido")
    assert "Total" in year or "total" in year
    owed = phone.send("ask_payment_status", "quedo algo colgado o ya me liquidaron todo")
    assert "Sus pagos más recientes" not in owed


def test_short_follow_ups_on_a_calibre_and_on_a_delivery(db):
    phone = Phone(UNKNOWN)
    phone.send("ask_avocado_size", "tengo unos de casi 400 gr", weight="400 gr")
    bought = phone.send("ask_payment_status", "y esos grandotes me los pagan o no")
    assert "últimos 4 números" not in bought and "compra el programa" in bought
    rosa = checked(Phone(ROSA))
    rosa.send("ask_deliveries", "cuantos kilos entregue la ultima vez")
    assert "¿En qué le ayudo?" not in rosa.send("greet", "q fecha fue")


def test_a_how_to_after_a_how_to_and_where_a_file_is_handed_in(db):
    phone = Phone(UNKNOWN)
    phone.send("ask_howto", "a que hora atienden")
    with session_scope(db) as s:
        contact, xml = faq_by_code(s, "program_contact"), faq_by_code(s, "send_xml")
        assert contact is not None and xml is not None
        contact_words, xml_words = contact.question, xml.question
    assert "no le entend" not in phone.send("nlu_fallback", "y a q numero les marco")
    assert "Entrega del" not in phone.send("ask_deliveries", "y el xml eso por donde se entrega")
    assert contact_words and xml_words


def test_the_farmers_own_courses_and_whether_a_calibre_is_bought(db):
    phone = accepted(Phone(NEW))
    phone.send("enrol_training", "quiero inscribirme al de riego")
    phone.send("affirm", "si")
    mine = phone.send("follow_up", "y a q cursos voy a ir pues")
    assert "Riego" in mine and "Capacitaciones cerca" not in mine
    phone.send("cancel_enrolment", "ya no voy a poder ir al de riego")
    phone.send("affirm", "si")
    calibre = Phone(UNKNOWN)
    calibre.send("ask_avocado_size", "pese un aguacate y dio 230 gr", weight="230 gr")
    assert "compra" in calibre.send("ask_howto", "ese si lo compran?")
