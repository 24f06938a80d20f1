"""Conversations with the assistant's logic, as farmers write, against real seeded databases.
(The same flows run through Rasa itself in test_conversations_e2e.py.)"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from bot.assistant.conversation import respond
from bot.assistant.turn import Turn
from bot.db import session_scope
from bot.records.schema import Consent, HumanRequest, PaymentAccessLog, PhoneVerification

ROSA, SHARED, ADRIANA, NEW, UNKNOWN = "+524431000001", "+524431000002", "+522441000003", "+526671000004", "+524439999999"


class Phone:
    """A farmer's phone talking to the assistant: keeps the slots between turns like Rasa does."""

    def __init__(self, number: str):
        self.number = number
        self.slots: dict = {}
        self.conversation = f"{number}"

    def send(self, key: str, text: str, **entities: str) -> str:
        turn = Turn(conversation_id=self.conversation, phone=self.number, text=text,
                    entities={k: [v] for k, v in entities.items()}, slots=dict(self.slots))
        reply = respond(key, turn)
        self.slots.update(reply.slot_values())
        return "\n".join(reply.texts())


def accepted(phone: Phone) -> Phone:
    phone.send("greet", "hola")
    phone.send("number", "1")
    return phone


def _reset_phone(url: str, number: str) -> None:
    from sqlalchemy import delete

    with session_scope(url) as s:
        for model in (Consent, PhoneVerification, PaymentAccessLog, HumanRequest):
            s.execute(delete(model).where(model.phone == number))


@pytest.fixture
def db(seeded_db):
    for number in (ROSA, SHARED, ADRIANA, NEW, UNKNOWN):
        _reset_phone(seeded_db, number)
    return seeded_db


def test_first_contact_shows_privacy_notice_and_records_consent(db):
    phone = Phone(ROSA)
    first = phone.send("greet", "ola buenas")
    assert "Aviso de privacidad" in first and "pequenoproductor.mx/privacidad" in first
    assert "1. Sí, acepto" in first
    assert "Gracias" in phone.send("number", "1")
    with session_scope(db) as s:
        consent = s.execute(select(Consent).where(Consent.phone == ROSA)).scalar_one()
        assert consent.accepted and consent.recorded_at is not None


def test_payment_needs_consent_then_check_then_shows_own_invoices(db):
    phone = Phone(ROSA)
    notice = phone.send("payments", "cuando me pagan")
    assert "Aviso de privacidad" in notice and "$" not in notice
    ask = phone.send("affirm", "si")
    assert "últimos 4 números de su folio" in ask and "$" not in ask
    answer = phone.send("number", "8204")
    assert "F-300102" in answer and "programada para pago" in answer
    assert "84 kg por daño mecánico" in answer
    assert "$" in answer
    with session_scope(db) as s:
        assert s.execute(select(PaymentAccessLog).where(PaymentAccessLog.phone == ROSA)).scalars().first()
    # remembered: the next question needs no check
    again = phone.send("payments", "y la factura F-300101")
    assert "pagada" in again and "termina en 4821" in again


def test_another_farmers_invoice_gets_nothing(db):
    phone = accepted(Phone(ROSA))
    phone.send("payments", "mi pago")
    phone.send("number", "8204")
    answer = phone.send("payments", "como va la factura F-300201", invoice_folio="F-300201")
    assert "No encontré la factura F-300201" in answer
    assert "retenida" not in answer and "$" not in answer


def test_wrong_codes_lock_payment_answers(db):
    phone = accepted(Phone(ADRIANA))
    phone.send("payments", "ya me depositaron?")
    assert "Le quedan 2" in phone.send("number", "1111")
    assert "Le quedan 1" in phone.send("number", "2222")
    locked = phone.send("number", "3333")
    assert "bloqueadas" in locked
    # even the right code is refused while locked, and staff can see the lock
    phone.send("payments", "mi pago")
    assert "$" not in phone.send("number", "1365")
    with session_scope(db) as s:
        row = s.execute(select(PhoneVerification).where(PhoneVerification.phone == ADRIANA)).scalar_one()
        assert row.locked_until is not None


def test_unknown_number_gets_no_personal_data(db):
    phone = accepted(Phone(UNKNOWN))
    answer = phone.send("payments", "cuando me pagan")
    assert "no está registrado" in answer and "$" not in answer and "Factura" not in answer


def test_shared_phone_asks_who_and_checks_that_person(db):
    phone = accepted(Phone(SHARED))
    who = phone.send("payments", "kiero saber de mi pago")
    assert "varias personas" in who and "Guadalupe H." in who and "Juan H." in who
    assert "Hernández López" not in who  # only what a family needs to tell who is who
    phone.send("number", "2")  # Juan
    wrong = phone.send("number", "0942")  # Guadalupe's code does not open Juan's payments
    assert "no coincide" in wrong and "$" not in wrong
    assert phone.slots["awaiting"] == "verification"
    answer = phone.send("number", "0117")
    assert "F-300301" in answer and "en revisión" in answer
    assert "F-300401" not in answer  # Guadalupe's


def test_help_menu_and_numbers(db):
    phone = accepted(Phone(ROSA))
    menu = phone.send("help", "menu")
    assert "1. Mis pagos" in menu and "5. Hablar con una persona" in menu
    sizes = phone.send("number", "4")
    assert "caja de 11.3 kg" in sizes


def test_number_out_of_range_repeats_the_options(db):
    phone = accepted(Phone(ROSA))
    phone.send("help", "menu")
    answer = phone.send("number", "9")
    assert "del 1 al 5" in answer and "1. Mis pagos" in answer


def test_trainings_near_the_farmer_enrol_and_cancel(db):
    phone = accepted(Phone(ROSA))
    listing = phone.send("trainings", "cuando es la proxima capacitacion")
    assert "cerca de Uruapan" in listing and "(hora del centro)" in listing
    assert "1. " in listing
    confirm = phone.send("number", "1")
    assert "¿Confirma su inscripción" in confirm
    assert "quedó inscrito" in phone.send("affirm", "si")
    assert "Ya estaba inscrito" in (phone.send("enrol", "quiero inscribirme"), phone.send("number", "1"),
                                    phone.send("number", "1"))[2]
    assert "¿Cancela su inscripción" in phone.send("cancel_enrolment", "ya no puedo ir al taller")
    assert "cancelamos su inscripción" in phone.send("affirm", "si")


def test_trainings_by_place_named_without_personal_data(db):
    phone = Phone(UNKNOWN)
    listing = phone.send("trainings", "talleres en atlixco", municipality="Atlixco")
    assert "cerca de Atlixco" in listing and "Aviso de privacidad" not in listing


def test_trainings_by_whatsapp_location(db):
    phone = Phone(UNKNOWN)
    turn = Turn(conversation_id=UNKNOWN, phone=UNKNOWN, text="/ask_trainings",
                metadata={"location": {"latitude": 24.80, "longitude": -107.39}})
    listing = "\n".join(respond("trainings", turn).texts())
    assert "Culiacán" in listing and "(hora del Pacífico)" in listing


def test_quality_standard_short_answer_with_source_and_more_detail(db):
    phone = Phone(UNKNOWN)
    answer = phone.send("quality", "que piden pal aguacate de primera", product="aguacate", grade="primera")
    assert "tabla de referencia del programa" in answer and "norma oficial" not in answer
    assert "1. Sí, más detalle" in answer
    detail = phone.send("affirm", "si")
    assert "Fuente:" in detail and "leafconagro" in detail


def test_quality_grade_not_in_records_is_said_plainly(db):
    answer = Phone(UNKNOWN).send("quality", "aguacate de segunda", product="aguacate", grade="segunda")
    assert "No tengo en el registro del programa los requisitos de Segunda para aguacate" in answer


@pytest.mark.parametrize("text, expected", [
    ("de 250 gr q calibre es", "calibre 40 o 48"),
    ("doscientos gramos", "entre calibre 50 (cerca de 218 g) y calibre 60"),
    ("calibre cuarenta y ocho cuanto pesa", "48 frutos por caja de 11.3 kg"),
    ("y el 84?", "84 frutos por caja"),
    ("aguacate de medio kilo", "más grande que calibre 36"),
])
def test_avocado_sizes(db, text, expected):
    answer = Phone(UNKNOWN).send("size", text)
    assert expected in answer
    assert "no es la norma oficial" in answer


def test_request_for_a_person_is_queued_once(db):
    phone = Phone(ROSA)
    first = phone.send("human", "quiero hablar con un asesor")
    assert "solicitud" in first and "S-" in first
    assert "Ya tiene una solicitud abierta" in phone.send("human", "pasame con alguien")
    with session_scope(db) as s:
        requests = s.execute(select(HumanRequest).where(HumanRequest.phone == ROSA)).scalars().all()
        assert len(requests) == 1 and requests[0].conversation_id == ROSA


def test_two_misunderstandings_hand_over_to_staff(db):
    phone = Phone(NEW)
    assert "no le entendí" in phone.send("fallback", "xjxjxj")
    assert "asesor" in phone.send("fallback", "ññññ")
    with session_scope(db) as s:
        request = s.execute(select(HumanRequest).where(HumanRequest.phone == NEW)).scalar_one()
        assert request.reason == "not_understood"


def test_a_database_failure_never_reaches_the_farmer(db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody@127.0.0.1:1/{uuid.uuid4().hex}")
    answer = "\n".join(respond("payments", Turn(conversation_id=ROSA, phone=ROSA, text="mi pago")).texts())
    assert "tuve un problema" in answer and "Traceback" not in answer


@pytest.mark.parametrize("content_types, template", [
    (["audio/ogg"], "media_audio"), (["image/jpeg"], "media_image"), (["video/mp4"], "media_video"),
    (["application/pdf"], "media_document"), (["image/jpeg", "audio/ogg"], "media_audio"),
    ([], "media_missing"),
])
def test_files_get_a_kind_answer_by_their_kind(db, content_types, template):
    from bot.replies.catalog import render

    media = [{"url": f"https://api.twilio.com/m/ME{i}", "content_type": c}
             for i, c in enumerate(content_types)]
    turn = Turn(conversation_id=ROSA, phone=ROSA, text="" if media else "le mando una foto",
                intent="send_media", metadata={"media": media, "num_media": len(media)})
    assert respond("media", turn).texts() == [render(template)]
