"""The menu, numbered answers, requests for a person, files, and failures that never reach the farmer.
Conversations with the assistant's logic, as farmers write, against real seeded databases
(the same flows run through Rasa itself in tests/rasa/test_conversations_e2e.py)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from bot.assistant.skills import respond
from bot.assistant.turn import Turn
from bot.db import session_scope
from bot.records.schema import HumanRequest
from tests.assistant.phone import NEW, ROSA, Phone, accepted


def test_help_menu_and_numbers(db):
    phone = accepted(Phone(ROSA))
    menu = phone.send("help", "menu")
    assert "1. Mis pagos" in menu and "5. Hablar con una persona" in menu
    sizes = phone.send("inform_number", "4")
    assert "caja de 11.3 kg" in sizes


def test_number_out_of_range_repeats_the_options(db):
    phone = accepted(Phone(ROSA))
    phone.send("help", "menu")
    answer = phone.send("inform_number", "9")
    assert "del 1 al 5" in answer and "1. Mis pagos" in answer


def test_request_for_a_person_is_queued_once(db):
    phone = Phone(ROSA)
    first = phone.send("request_human", "quiero hablar con un asesor")
    assert "solicitud" in first and "S-" in first
    assert "Ya tiene una solicitud abierta" in phone.send("request_human", "pasame con alguien")
    with session_scope(db) as s:
        requests = s.execute(select(HumanRequest).where(HumanRequest.phone == ROSA)).scalars().all()
        assert len(requests) == 1 and requests[0].conversation_id == ROSA


def test_two_misunderstandings_hand_over_to_staff(db):
    phone = Phone(NEW)
    assert "no le entendí" in phone.send("nlu_fallback", "xjxjxj")
    assert "asesor" in phone.send("nlu_fallback", "ññññ")
    with session_scope(db) as s:
        request = s.execute(select(HumanRequest).where(HumanRequest.phone == NEW)).scalar_one()
        assert request.reason == "not_understood"


def test_a_database_failure_never_reaches_the_farmer(db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody@127.0.0.1:1/{uuid.uuid4().hex}")
    answer = "\n".join(
        respond("ask_payment_status", Turn(conversation_id=ROSA, phone=ROSA, text="mi pago")).texts()
    )
    assert "tuve un problema" in answer and "Traceback" not in answer


@pytest.mark.parametrize(
    "content_types, template",
    [
        (["audio/ogg"], "media_audio"),
        (["image/jpeg"], "media_image"),
        (["video/mp4"], "media_video"),
        (["application/pdf"], "media_document"),
        (["image/jpeg", "audio/ogg"], "media_audio"),
        ([], "media_missing"),
    ],
)
def test_files_get_a_kind_answer_by_their_kind(db, content_types, template):
    from bot.replies.catalog import render

    media = [
        {"url": f"https://api.twilio.com/m/ME{i}", "content_type": c} for i, c in enumerate(content_types)
    ]
    turn = Turn(
        conversation_id=ROSA,
        phone=ROSA,
        text="" if media else "le mando una foto",
        intent="send_media",
        metadata={"media": media, "num_media": len(media)},
    )
    assert respond("send_media", turn).texts() == [render(template)]
