"""Follow-ups resolve against what was just said; explanations and how-tos; a how-to the FAQ
cannot answer (or whose answer staff have not filled in) goes to a person with the question."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import session_scope
from bot.records.knowledge import explanation_by_code, faq_entries, placeholders
from bot.records.schema import HumanRequest
from tests.assistant.phone import NEW, ROSA, SHARED, Phone, accepted


def test_a_product_or_a_weight_after_an_answer_keeps_the_question(db):
    phone = accepted(Phone(ROSA))
    phone.send(
        "ask_quality_standard", "que piden para aguacate de primera", product="aguacate", grade="primera"
    )
    tomato = phone.send("follow_up", "y para jitomate?", product="jitomate")
    assert "primera" in tomato.lower() and "Disculpe" not in tomato
    phone.send("ask_avocado_size", "que calibre es uno de 200 gramos", weight="200 gramos")
    heavier = phone.send("inform_number", "y uno de 250?")  # the NLU may call it a number
    assert "250 g" in heavier and "calibre" in heavier


def test_what_does_it_mean_answers_from_the_programs_explanations(db):
    phone = Phone(NEW)
    answer = phone.send("ask_explanation", "que es dano mecanico")
    with session_scope(db) as s:
        entry = explanation_by_code(s, "mechanical_damage")
        assert entry.explanation in answer
    assert "Aviso de privacidad" not in answer  # no personal data: no consent needed
    assert "golpes" in phone.send("ask_explanation", "que significa eso")  # what was just explained
    assert "palabra quiere que le explique" in Phone(NEW + "9").send("ask_explanation", "que significa eso")


def test_a_how_to_with_a_placeholder_goes_to_a_person_with_the_question(db):
    with session_scope(db) as s:
        unfilled = [e for e in faq_entries(s) if placeholders(e.answer)]
    assert unfilled, "the seeded FAQ marks what staff must fill"
    phone = accepted(Phone(ROSA))
    answer = phone.send("ask_howto", "como le mando el xml")
    assert "POR LLENAR" not in answer and "asesor" in answer
    with session_scope(db) as s:
        request = s.execute(select(HumanRequest).where(HumanRequest.phone == ROSA)).scalar_one()
        assert request.reason == "question" and request.last_message == "como le mando el xml"


def test_on_a_shared_phone_the_person_answers_by_name_or_nickname(db):
    phone = accepted(Phone(SHARED))
    assert "Quién pregunta" in phone.send("ask_payment_status", "mi pago")
    assert "últimos 4 números" in phone.send("inform_number", "soy lupe")
    assert "F-300401" in phone.send("inform_number", "0942")  # Guadalupe's own invoice
