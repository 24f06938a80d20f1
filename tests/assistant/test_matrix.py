"""Every skill and step in every identity state, and every intent with texts that do not fit it:
never the error apology, never an ERROR log line. (A returning farmer's "hola" and a follow-up
the NLU read as a number once crashed; this keeps any such crash from coming back.)"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.assistant import intents, steps
from bot.assistant.skills import SKILLS, STEPS, respond
from bot.assistant.turn import SLOT_OPTIONS, Turn
from bot.db import session_scope
from bot.records.consents import record_consent
from bot.records.schema import Farmer, FarmerPhone, PhoneVerification, Training
from bot.replies.catalog import render
from tests.assistant.phone import ADRIANA, ROSA, SHARED, UNKNOWN

ERROR_REPLY = render("error")
STATES = ("unknown number", "first contact", "consented", "shared phone", "verified", "locked")


def _farmer_id(url: str, phone: str) -> int:
    with session_scope(url) as s:
        return s.execute(select(FarmerPhone.farmer_id).where(FarmerPhone.phone == phone)).scalars().first()


def _make_state(url: str, state: str) -> str:
    """The phone in that identity state (the db fixture has cleared the demo phones)."""
    now = datetime.now(timezone.utc)
    phone = {"unknown number": UNKNOWN, "shared phone": SHARED, "locked": ADRIANA}.get(state, ROSA)
    if state == "first contact":
        return phone
    with session_scope(url) as s:
        record_consent(s, phone, accepted=True)
        if state in ("verified", "locked"):
            s.add(
                PhoneVerification(
                    phone=phone,
                    farmer_id=_farmer_id(url, phone),
                    failed_attempts=0,
                    lockouts=1 if state == "locked" else 0,
                    verified_until=now + timedelta(days=1) if state == "verified" else None,
                    locked_until=now + timedelta(minutes=30) if state == "locked" else None,
                )
            )
    return phone


def _step_args(url: str, phone: str) -> dict[str, str]:
    with session_scope(url) as s:
        training = s.execute(select(Training.id).where(Training.cancelled.is_(False))).scalars().first()
        farmer = s.execute(select(Farmer.id)).scalars().first()
    return {
        steps.FARMER_CHOSEN: str(_farmer_id(url, phone) or farmer),
        steps.ENROL_CONFIRMED: str(training),
        steps.CANCEL_CONFIRMED: str(training),
        steps.QUALITY_DETAIL: "aguacate:primera",
        steps.EXPLAIN: "mechanical_damage",
        steps.WHAT_TO_DO: "missing_cfdi_xml",
    }


def _turn(phone: str, text: str, intent: str, slots: dict | None = None) -> Turn:
    return Turn(conversation_id=phone, phone=phone, text=text, intent=intent, slots=slots or {})


@pytest.mark.parametrize("state", STATES)
def test_every_skill_and_step_in_every_identity_state(db, state, caplog):
    phone = _make_state(db, state)
    caplog.set_level(logging.ERROR, logger="bot")
    for skill in SKILLS:
        reply = respond(skill.intent, _turn(phone, "que onda con eso", skill.intent))
        assert ERROR_REPLY not in reply.texts(), (state, skill.intent)
    args = _step_args(db, phone)
    for key in STEPS:
        option = {"label": "x", "key": steps.with_arg(key, args[key]) if key in args else key}
        reply = respond("inform_number", _turn(phone, "1", "inform_number", {SLOT_OPTIONS: [option]}))
        assert ERROR_REPLY not in reply.texts(), (state, key)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text[-2000:]


ODD_TEXTS = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        ["", "1", "99", "0", "-1", "1.5", "F-999999", "8204", "y?", "¿por qué?", "el primero", "el 29",
         "'; DROP TABLE farmers; --", "😀" * 10, "a" * 600, "y uno de 250?", "soy nadie", "NIP 12345"]
    ),
)  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# A notice's intent comes only with its own notice (tests/messaging/test_notices.py), never with text.
@given(text=ODD_TEXTS, intent=st.sampled_from([s.intent for s in SKILLS if s.intent != intents.NOTICE]))
def test_any_text_under_any_intent_gets_an_answer_never_the_apology(db, text, intent):
    for phone in (ROSA, UNKNOWN):
        reply = respond(intent, _turn(phone, text, intent))
        assert reply.messages and ERROR_REPLY not in reply.texts(), (intent, text)
