"""A no that closes the conversation, a list to cancel from that fits two SMS parts, a grade asked
right after a quality answer, and "aquí" after another town: as farmers write them."""

from __future__ import annotations

from bot.db import session_scope
from bot.messaging.formatting import pack_sms, sms_parts
from bot.records.standards import standards_for
from bot.text import plain
from tests.assistant.phone import NEW, Phone, checked, farmer_phone


def test_a_no_that_says_thanks_is_thanked_not_read_as_something_else(db):
    folio = "PP-878600"
    phone = farmer_phone(db, folio, "sms")
    checked(phone, folio, "ask_payment_status", "ya me pagaron lo de mi ultima entrega?")
    answer = phone.send("deny", "nel es todo gracias")
    assert "Con gusto" in answer and "cancelar" not in answer.lower()


def test_a_long_list_of_enrolments_to_cancel_fits_two_sms_parts(db):
    folio = "PP-878600"
    phone = farmer_phone(db, folio, "sms")
    phone.send("cancel_enrolment", "quiero cancelar un taller")
    answer = phone.send("inform_number", "1")
    assert "cancelar" in answer and "4." in answer  # the seeded records hold four enrolments
    bodies = pack_sms(answer.split("\n\n"))
    assert sum(sms_parts(body).parts for body in bodies) <= 2


def test_pa_primera_after_a_quality_answer_is_the_grade_not_the_first_option(db):
    phone = Phone(NEW, "whatsapp")
    phone.send(
        "ask_quality_standard",
        "oiga q le piden al aguacate pa q salga calidad extra",
        product="aguacate",
        grade="extra",
    )
    with session_scope(db) as s:
        first = standards_for(s, "aguacate")["primera"].summary
    assert plain(first) in plain(phone.send("follow_up", "y pa primera?", grade="primera"))


def test_aqui_after_another_town_is_the_farmers_own_town(db):
    phone = farmer_phone(db, "PP-404430", "sms")
    phone.send("ask_trainings", "q cursos va a haber aqui en uruapan", municipality="Uruapan")
    assert "tancitaro" in plain(
        phone.send("nlu_fallback", "y en tancitaro? tengo un terrenito alla tmb", municipality="Tancítaro")
    )
    answer = phone.send("follow_up", "ok y cuando es el de nutricion de aqui")
    if "Acepta" in answer:  # the farmer's own town is in the records: consent first
        answer = phone.send("inform_number", "1")
    assert "Uruapan" in answer and "tancitaro" not in plain(answer) and "nutricion" in plain(answer)
