"""End to end through a real `rasa run` (trained model, action server, credentials.yml): signed
webhooks in, replies out through the Twilio stand-in. Skipped when there is no model in models/.

The stack is the lead's session fixture ``rasa_stack`` (tests/conftest.py); this module puts the
stand-in's address and the Twilio settings into ``stack_env`` before the stack starts.
"""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from bot.messaging.formatting import is_gsm7
from bot.phones import twilio_address
from bot.replies.catalog import render
from bot.twilio_standin.client import signed_post, webhook_params
from tests.conftest import TWILIO_PUBLIC_BASE_URL as PUBLIC_BASE_URL
from tests.conftest import TWILIO_TEST_TOKEN as TOKEN

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
