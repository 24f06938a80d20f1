"""The same message delivered twice (the worker's retry of a turn whose action had run, a channel's
redelivery) is answered with its first reply and changes nothing again: one code attempt, one
seat, one request for a person (bot/assistant/redelivery.py). Another message with the same
words is another message. On SQLite and PostgreSQL (the ``db`` fixture)."""

from __future__ import annotations

import uuid

from rasa_sdk import Tracker
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from actions.actions import turn_from_tracker
from bot.assistant import redelivery
from bot.db import engine_for, session_scope, watch_writes
from bot.records import erasure
from bot.records.schema import (
    FarmerPhone,
    HandledMessage,
    HumanRequest,
    PaymentAccessLog,
    PhoneVerification,
    Training,
)
from tests.assistant.phone import NEW, ROSA, Phone, accepted

ROSA_CODE = "8204"


def sid() -> str:
    """A message id as Twilio gives it (34 characters)."""
    return "SM" + uuid.uuid4().hex


def _scalar(url: str, query):
    with session_scope(url) as s:
        return s.execute(query).scalar()


def failed_attempts(url: str, phone: str) -> int:
    query = select(func.sum(PhoneVerification.failed_attempts)).where(PhoneVerification.phone == phone)
    return int(_scalar(url, query) or 0)


def seats_taken(url: str) -> int:
    return int(_scalar(url, select(func.sum(Training.seats_taken))) or 0)


def handled(url: str, message_id: str) -> int:
    query = select(func.count()).select_from(HandledMessage).where(HandledMessage.message_id == message_id)
    return int(_scalar(url, query) or 0)


def asked_for_the_code(phone: Phone) -> Phone:
    assert "últimos 4 números" in phone.send("ask_payment_status", "cuando me pagan")
    return phone


def test_a_wrong_code_delivered_twice_counts_once_and_gets_the_same_reply(db):
    phone = asked_for_the_code(accepted(Phone(ROSA)))
    message = sid()
    first = phone.send("inform_number", "1111", message_id=message)
    assert "no coincide" in first and "Le quedan 2 intentos" in first
    assert phone.redeliver() == first  # the worker's retry, on the conversation taken back
    assert phone.send("inform_number", "1111", message_id=message) == first  # or as Rasa saved it
    assert failed_attempts(db, ROSA) == 1
    assert handled(db, message) == 1


def test_the_same_words_in_another_message_count_again(db):
    phone = asked_for_the_code(accepted(Phone(ROSA)))
    first = phone.send("inform_number", "1111", message_id=sid())
    second = phone.send("inform_number", "1111", message_id=sid())
    assert "Le quedan 2 intentos" in first and "Le queda 1 intento" in second
    assert failed_attempts(db, ROSA) == 2


def test_the_right_code_delivered_twice_shows_the_payments_once(db):
    phone = asked_for_the_code(accepted(Phone(ROSA)))
    answer = phone.send("inform_number", ROSA_CODE, message_id=sid())
    assert "F-300102" in answer
    assert phone.redeliver() == answer
    views = select(func.count()).select_from(PaymentAccessLog).where(PaymentAccessLog.phone == ROSA)
    assert _scalar(db, views) == 1


def test_a_seat_is_taken_once_and_given_back_once(db):
    phone = accepted(Phone(ROSA))
    phone.send("ask_trainings", "cuando es la proxima capacitacion")
    assert "¿Confirma su inscripción" in phone.send("inform_number", "1")
    seats = seats_taken(db)
    enrolled = phone.send("affirm", "si", message_id=sid())
    assert "quedó inscrito" in enrolled
    assert phone.redeliver() == enrolled  # not "Ya estaba inscrito"
    assert seats_taken(db) == seats + 1

    assert "¿Cancela su inscripción" in phone.send("cancel_enrolment", "ya no puedo ir al taller")
    cancelled = phone.send("affirm", "si", message_id=sid())
    assert "cancelamos su inscripción" in cancelled
    assert phone.redeliver() == cancelled
    assert seats_taken(db) == seats


def test_a_request_for_a_person_is_opened_once(db):
    phone = accepted(Phone(NEW))
    requested = phone.send("request_human", "quiero hablar con alguien", message_id=sid())
    assert "S-" in requested and "Ya tiene una solicitud abierta" not in requested
    assert phone.redeliver() == requested
    requests = select(func.count()).select_from(HumanRequest).where(HumanRequest.phone == NEW)
    assert _scalar(db, requests) == 1
    # another message asking again is told of the open request (one per number), as before
    again = phone.send("request_human", "pasame con alguien", message_id=sid())
    assert "Ya tiene una solicitud abierta" in again


def test_a_turn_that_only_reads_or_has_no_message_id_is_not_recorded(db):
    phone = Phone(ROSA)
    message = sid()
    sizes = phone.send("ask_avocado_size", "que calibre es uno de 250 gramos", message_id=message)
    assert sizes and handled(db, message) == 0
    phone = asked_for_the_code(accepted(Phone(ROSA)))
    phone.send("inform_number", "1111")
    phone.redeliver()  # no id: a message of its own, counted
    assert failed_attempts(db, ROSA) == 2
    assert _scalar(db, select(func.count()).select_from(HandledMessage)) == 0


def test_the_same_message_handled_at_the_same_moment_elsewhere_is_rolled_back(db, monkeypatch):
    """Another process recorded the message after this turn looked (and found nothing): this
    turn's code attempt is rolled back and the other's reply given."""
    phone = asked_for_the_code(accepted(Phone(ROSA)))
    first = phone.send("inform_number", "1111", message_id=sid())
    looked = redelivery.earlier_reply
    calls: list[int] = []

    def finds_nothing_the_first_time(session, turn):
        calls.append(1)
        return None if len(calls) == 1 else looked(session, turn)

    monkeypatch.setattr(redelivery, "earlier_reply", finds_nothing_the_first_time)
    assert phone.redeliver() == first
    assert len(calls) == 2  # the turn ran, its record conflicted, the other's reply was read
    assert failed_attempts(db, ROSA) == 1


def test_an_arco_cancellation_erases_the_replies_kept_for_the_phone(db):
    phone = asked_for_the_code(accepted(Phone(ROSA)))
    phone.send("inform_number", "1111", message_id=sid())
    with Session(engine_for(db), future=True) as s:
        farmer_id = s.execute(select(FarmerPhone.farmer_id).where(FarmerPhone.phone == ROSA)).scalar()
        counts = erasure.erase_farmer_records(s, farmer_id, [ROSA], [ROSA])
        assert counts["handled_messages"] == 1
        left = s.execute(select(func.count()).select_from(HandledMessage).where(HandledMessage.phone == ROSA))
        assert left.scalar() == 0
        s.rollback()  # the shared seeded database keeps Rosa


def test_the_action_passes_rasas_message_id_to_the_turn():
    message = {"text": "1111", "intent": {"name": "inform_number"}, "entities": [], "message_id": "SMabc"}
    tracker = Tracker(ROSA, {}, message, [], False, None, {}, "action_listen")
    assert turn_from_tracker(tracker).message_id == "SMabc"
    without = Tracker(ROSA, {}, {"text": "hola"}, [], False, None, {}, None)
    assert turn_from_tracker(without).message_id is None


def test_watch_writes_sees_a_flush_and_a_statement_but_not_a_read(db):
    with session_scope(db) as s:
        wrote = watch_writes(s)
        s.execute(select(Training.id)).all()
        assert not wrote()
    with session_scope(db) as s:
        wrote = watch_writes(s)
        s.execute(update(Training).where(Training.id == -1).values(seats_taken=0))  # no row, still a write
        assert wrote()
    with Session(engine_for(db), future=True) as s:
        wrote = watch_writes(s)
        s.add(HumanRequest(phone=NEW, conversation_id=NEW, reason="asked"))
        assert wrote()  # added, flushed when asked
        s.rollback()
