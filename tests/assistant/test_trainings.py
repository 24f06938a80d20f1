"""Trainings near the farmer: listing, enrolling and cancelling.
Conversations with the assistant's logic, as farmers write, against real seeded databases
(the same flows run through Rasa itself in tests/rasa/test_conversations_e2e.py)."""

from __future__ import annotations

from bot.assistant.skills import respond
from bot.assistant.turn import Turn
from bot.messaging.formatting import pack_sms, sms_parts
from tests.assistant.phone import NEW, ROSA, UNKNOWN, Phone, accepted


def test_trainings_near_the_farmer_enrol_and_cancel(db):
    phone = accepted(Phone(ROSA))
    listing = phone.send("ask_trainings", "cuando es la proxima capacitacion")
    assert "cerca de Uruapan" in listing and "(hora del centro)" in listing
    assert "1. " in listing
    confirm = phone.send("inform_number", "1")
    assert "¿Confirma su inscripción" in confirm
    assert "quedó inscrito" in phone.send("affirm", "si")
    assert (
        "Ya estaba inscrito"
        in (
            phone.send("enrol_training", "quiero inscribirme"),
            phone.send("inform_number", "1"),
            phone.send("inform_number", "1"),
        )[2]
    )
    assert "¿Cancela su inscripción" in phone.send("cancel_enrolment", "ya no puedo ir al taller")
    assert "cancelamos su inscripción" in phone.send("affirm", "si")


def test_trainings_by_place_named_without_personal_data(db):
    phone = Phone(UNKNOWN)
    listing = phone.send("ask_trainings", "talleres en atlixco", municipality="Atlixco")
    assert "cerca de Atlixco" in listing and "Aviso de privacidad" not in listing


def test_trainings_by_whatsapp_location(db):
    turn = Turn(
        conversation_id=UNKNOWN,
        phone=UNKNOWN,
        text="/ask_trainings",
        metadata={"location": {"latitude": 24.80, "longitude": -107.39}},
    )
    listing = "\n".join(respond("ask_trainings", turn).texts())
    assert "Culiacán" in listing and "(hora del Pacífico)" in listing


def test_a_subject_in_the_title_is_found_and_never_a_wrong_no(db):
    phone = accepted(Phone(NEW))  # Miguel, Culiacán
    riego = phone.send("ask_trainings", "hay cursos de riego?", training_topic="agronomia")
    assert "Riego eficiente" in riego and "No hay" not in riego
    women = phone.send("ask_trainings", "hay algun taller para mujeres?")
    assert "Mujeres en la toma de decisiones" in women
    nothing = phone.send("ask_trainings", "hay talleres de apicultura?")
    assert "No hay capacitaciones de apicultura" in nothing and "1. " in nothing  # the nearest others


def test_enrol_by_name_and_order_and_see_and_cancel_my_enrolments(db):
    phone = accepted(Phone(NEW))
    phone.send("ask_trainings", "hay algun taller para mujeres?")
    assert "¿Confirma su inscripción a Mujeres" in phone.send("enrol_training", "me apunto al primero")
    assert "quedó inscrito" in phone.send("affirm", "si")
    mine = phone.send("ask_my_enrolments", "cuando es mi curso")
    assert "Mujeres en la toma de decisiones" in mine
    assert "¿Cancela su inscripción a Mujeres" in phone.send("cancel_enrolment", "ya no voy a poder ir")
    assert "cancelamos" in phone.send("affirm", "si")


def test_a_longer_list_is_paged_with_mas_and_numbered_afresh(db):
    phone = accepted(Phone(ROSA, medium="sms"))
    first = phone.send("ask_trainings", "hay talleres cerca?")
    assert first.count("\n1. ") == 1 and "\n2. " in first and "\n3. " not in first  # two by SMS
    assert first.endswith("Responda MAS para ver más.")
    assert [sms_parts(body).parts for body in pack_sms([first])] == [2]
    second = phone.send("nlu_fallback", "MAS")
    assert "\n1. " in second and "Responda MAS" not in second  # the rest fit this page
    assert set(_titles(first)).isdisjoint(_titles(second))
    assert "¿Confirma su inscripción a " + _titles(second)[0] in phone.send("inform_number", "1")
    phone.send("deny", "no")
    assert "No hay más en la lista" in phone.send("nlu_fallback", "más")


def test_whatsapp_pages_hold_three(db):
    listing = accepted(Phone(ROSA, medium="whatsapp")).send("ask_trainings", "hay talleres cerca?")
    assert "\n3. " in listing and listing.endswith("Responda MAS para ver más.")


def _titles(listing: str) -> list[str]:
    return [line[3:].split(",")[0] for line in listing.splitlines() if line[:1].isdigit()]
