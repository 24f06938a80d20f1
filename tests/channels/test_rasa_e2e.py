"""End to end through a real `rasa run` (trained model, action server, credentials.yml): signed
webhooks in, replies out through the Twilio stand-in. Skipped when there is no model in models/.

The stack is the lead's session fixture ``rasa_stack`` (tests/conftest.py); this module puts the
stand-in's address and the Twilio settings into ``stack_env`` before the stack starts.
"""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.messaging.formatting import is_gsm7
from bot.messaging.schema import OutboundMessage
from bot.phones import twilio_address
from bot.records import consents, news
from bot.records import notices as notice_records
from bot.records.knowledge import explanation_by_code
from bot.records.notice_schema import Notice
from bot.records.schema import Enrolment, Farmer, FarmerPhone, Invoice, Training
from bot.records.trainings import EnrolResult, enrol
from bot.replies.catalog import render
from bot.replies.notices import payment_notice, training_notice
from bot.twilio_standin.client import signed_post, webhook_params
from tests.conftest import TWILIO_PUBLIC_BASE_URL as PUBLIC_BASE_URL
from tests.conftest import TWILIO_TEST_TOKEN as TOKEN
from tests.support.polling import wait_until
from tests.support.records import new_training

pytestmark = pytest.mark.rasa


@pytest.fixture(scope="module")
def twilio_stack(stack_env, rasa_stack):
    standin = stack_env["standin"]
    url = rasa_stack["url"]
    standin.control(reset=True, callback_base=url)
    yield {"url": url, "standin": standin, "stack": rasa_stack}


def say(stack, phone, medium, body="", timeout=60, **extra):
    params = webhook_params(phone, medium, body, **extra)
    path = f"/webhooks/{medium}/webhook"
    status, answer, _seconds = signed_post(
        stack["url"] + path, params, TOKEN, public_url=PUBLIC_BASE_URL + path
    )
    assert status == 200, answer  # how fast: bench/channels_bench.py, not a timed assertion
    address = twilio_address(phone, medium)
    before = len(stack["standin"].messages(to=address))
    if not stack["standin"].wait_for(before + 1, to=address, timeout=timeout)[before:]:
        return params, []
    time.sleep(1.0)  # the rest of the turn's messages
    return params, stack["standin"].messages(to=address)[before:]


def tracker(stack, phone):
    # '+' is literal in a path, and Sanic does not unquote '%2B' in path parameters; the API
    # answers only with its token
    token = stack["stack"]["api_token"]
    with urllib.request.urlopen(
        f"{stack['url']}/conversations/{phone}/tracker?token={token}", timeout=10
    ) as r:
        return json.loads(r.read().decode())


def last_user_event(state):
    return [e for e in state["events"] if e["event"] == "user"][-1]


def test_sms_and_whatsapp_turns_through_rasa(twilio_stack):
    phone = "+524431234501"
    params, replies = say(twilio_stack, phone, "sms", "hola")
    assert replies, "the assistant answered the SMS"
    for message in replies:
        assert is_gsm7(message["body"]) and message["num_segments"] <= 3
    user_event = last_user_event(tracker(twilio_stack, phone))
    assert user_event["message_id"] == params["MessageSid"]
    assert user_event["input_channel"] == "sms"
    assert user_event["metadata"]["medium"] == "sms"
    params, replies = say(twilio_stack, phone, "whatsapp", "¿qué capacitaciones hay?", profile_name="Rosa")
    assert replies
    state = tracker(twilio_stack, phone)
    assert state["sender_id"] == phone  # one conversation for both media
    assert state["latest_message"]["metadata"]["profile_name"] == "Rosa"


def test_location_reaches_the_assistant_as_ask_trainings(twilio_stack):
    phone = "+524431234502"
    _, replies = say(twilio_stack, phone, "whatsapp", location=(19.4128, -102.0561, "Uruapan"))
    assert replies
    user_event = last_user_event(tracker(twilio_stack, phone))
    assert user_event["parse_data"]["intent"]["name"] == "ask_trainings"
    assert user_event["metadata"]["location"]["latitude"] == pytest.approx(19.4128)


def test_voice_note_without_text_is_in_the_conversation_and_answered_kindly(twilio_stack):
    phone = "+524431234504"
    media_url = "https://api.twilio.com/2010-04-01/Accounts/ACtest/Messages/MM9/Media/ME9"
    params, replies = say(twilio_stack, phone, "whatsapp", media=[(media_url, "audio/ogg")])
    assert [m["body"] for m in replies] == [render("media_audio")]
    user_event = last_user_event(tracker(twilio_stack, phone))
    assert user_event["message_id"] == params["MessageSid"]
    assert user_event["parse_data"]["intent"]["name"] == "send_media"
    assert user_event["metadata"]["media"] == [{"url": media_url, "content_type": "audio/ogg"}]


@pytest.mark.parametrize("body", ["", "🙏🙏", "Where is my payment?", "x" * 1600])
def test_odd_messages_get_an_answer(twilio_stack, body):
    _, replies = say(twilio_stack, "+524431234503", "sms", body)
    assert replies, f"no answer to {body[:20]!r}"


# -- notices (issue 14): told without asking, through the farmer's own conversation ----------------


def _farmer_with_invoice(database_url: str, phone: str) -> str:
    with session_scope(database_url) as s:
        farmer = Farmer(
            folio=f"PP-9{phone[-5:]}",
            name="Productora de prueba",
            state="Puebla",
            municipality="Atlixco",
            preferred_medium="whatsapp",
        )
        s.add(farmer)
        s.flush()
        s.add(FarmerPhone(farmer_id=farmer.id, phone=phone))
        folio = f"F-9{phone[-5:]}"
        s.add(
            Invoice(
                folio=folio, farmer_id=farmer.id, amount_mxn=8765, status="in_review", issued_on=date.today()
            )
        )
    return folio


def _replies_to(database_url: str, message_sid: str) -> list[OutboundMessage]:
    with session_scope(database_url) as s:
        query = select(OutboundMessage).where(OutboundMessage.in_reply_to == message_sid)
        return list(s.execute(query).scalars())


def test_a_held_invoice_is_told_in_the_conversation_and_why_follows(twilio_stack, stack_env):
    database_url = stack_env["database_url"]
    phone = "+522441234577"
    folio = _farmer_with_invoice(database_url, phone)
    say(twilio_stack, phone, "whatsapp", "hola")
    say(twilio_stack, phone, "whatsapp", "1")  # accepts the privacy notice: consent recorded
    with session_scope(database_url) as s:
        assert consents.has_consented(s, phone)
        invoice = s.execute(select(Invoice).where(Invoice.folio == folio)).scalar_one()
        invoice.status, invoice.status_reason_code = "on_hold", "missing_cfdi_xml"
        invoice.status_reason = "No llegó el XML (nota de la oficina)"
    address = twilio_address(phone, "whatsapp")
    before = len(twilio_stack["standin"].messages(to=address))
    told = twilio_stack["standin"].wait_for(before + 1, to=address, timeout=60)[before:]
    with session_scope(database_url) as s:
        (notice,) = s.execute(select(Notice).where(Notice.phone == phone)).scalars()
        facts = notice_records.variables_of(notice)
        expected = payment_notice(
            facts, notice_records.reason_of(facts), notice_records.what_to_do_of(s, facts)
        )
        explanation = explanation_by_code(s, "missing_cfdi_xml")
        assert notice.route == "whatsapp_text" and notice.status == "released"
    # the send is recorded once Twilio (the stand-in) has answered it, a moment after it got it
    sent = wait_until(lambda: _replies_to(database_url, notice.message_sid))
    assert sent and all(m.proactive for m in sent)
    assert [m["body"] for m in told] == [expected]
    assert folio in expected and "8,765" not in expected and "8765" not in expected  # never an amount
    assert "nota de la oficina" not in expected  # staff's own note stays with staff
    event = last_user_event(tracker(twilio_stack, phone))
    assert (event["message_id"], event["parse_data"]["intent"]["name"]) == (notice.message_sid, "notice")
    _, replies = say(twilio_stack, phone, "whatsapp", "y eso por que")
    assert explanation.title in replies[0]["body"], replies  # the follow-up knows what was said


def test_a_moved_training_is_told_and_1_confirms_the_farmer_will_go(twilio_stack, stack_env):
    database_url = stack_env["database_url"]
    phone = "+522441234579"
    _farmer_with_invoice(database_url, phone)
    say(twilio_stack, phone, "whatsapp", "hola")
    say(twilio_stack, phone, "whatsapp", "1")  # accepts the privacy notice
    with session_scope(database_url) as s:
        farmer_id = s.execute(select(FarmerPhone.farmer_id).where(FarmerPhone.phone == phone)).scalar_one()
    training_id = new_training(
        database_url,
        datetime.now(timezone.utc) + timedelta(days=20),
        title="Poda de aguacate",
        venue="Casa ejidal",
    )
    with session_scope(database_url) as s:
        assert enrol(s, training_id, farmer_id) is EnrolResult.ENROLLED
    address = twilio_address(phone, "whatsapp")
    before = len(twilio_stack["standin"].messages(to=address))
    with session_scope(database_url) as s:  # staff move it to another venue
        s.get(Training, training_id).venue = "Auditorio municipal"
    told = twilio_stack["standin"].wait_for(before + 1, to=address, timeout=60)[before:]
    with session_scope(database_url) as s:
        (notice,) = s.execute(
            select(Notice).where(Notice.phone == phone, Notice.kind == "training_moved")
        ).scalars()
        expected = training_notice("training_moved", notice_records.variables_of(notice))
    assert [m["body"] for m in told] == [expected] and "Auditorio municipal" in expected
    _, replies = say(twilio_stack, phone, "whatsapp", "1")
    assert "le esperamos en Poda de aguacate" in replies[0]["body"], replies
    with session_scope(database_url) as s:
        enrolment = s.execute(select(Enrolment).where(Enrolment.training_id == training_id)).scalar_one()
        assert enrolment.confirmed_at is not None


def test_after_a_first_enrolment_news_is_asked_once_and_a_yes_recorded(twilio_stack, stack_env):
    database_url = stack_env["database_url"]
    phone = "+522441234581"
    _farmer_with_invoice(database_url, phone)  # in Atlixco, Puebla
    say(twilio_stack, phone, "sms", "hola")
    say(twilio_stack, phone, "sms", "1")  # accepts the privacy notice
    _, listing = say(twilio_stack, phone, "sms", "talleres")
    assert "1." in listing[0]["body"], listing
    _, confirm = say(twilio_stack, phone, "sms", "1")
    assert "Confirma su inscripci" in confirm[0]["body"], confirm
    _, enrolled = say(twilio_stack, phone, "sms", "si")
    said = "\n".join(m["body"] for m in enrolled)
    assert "inscrito" in said and "capacitaciones nuevas cerca de usted" in said, said
    assert all(is_gsm7(m["body"]) for m in enrolled) and sum(m["num_segments"] for m in enrolled) <= 2
    _, answered = say(twilio_stack, phone, "sms", "si")
    assert "le enviaremos noticias" in answered[0]["body"], answered
    with session_scope(database_url) as s:
        assert news.wants_news(s, phone)


def test_a_typed_slash_intent_is_read_as_words(twilio_stack):
    phone = "+524431234578"
    _, replies = say(twilio_stack, phone, "sms", "/notice")
    state = tracker(twilio_stack, phone)
    assert last_user_event(state)["parse_data"]["intent"]["name"] != "notice"
    assert replies  # answered as words, not as a notice
