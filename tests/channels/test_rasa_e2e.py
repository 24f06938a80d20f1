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
from bot.twilio_standin.testing import (
    rasa_env,
    signed_post,
    start_standin,
    twilio_address,
    webhook_params,
)

PUBLIC_BASE_URL = "https://bot.example.test"  # what Twilio would call; we post to 127.0.0.1
TOKEN = "test-token"


@pytest.fixture(scope="module")
def twilio_stack(request, tmp_path_factory):
    try:
        stack_env = request.getfixturevalue("stack_env")
    except pytest.FixtureLookupError:
        pytest.skip("tests/conftest.py has no stack_env / rasa_stack fixture")
    standin = stack_env.get("standin")
    owned = standin is None
    if owned:
        standin = start_standin(auth_token=TOKEN)
        stack_env["standin"] = standin
        stack_env["env"].update(rasa_env(standin.url, PUBLIC_BASE_URL, auth_token=TOKEN))
        stack_env["env"]["TWILIO_INBOUND_SPOOL"] = str(
            tmp_path_factory.mktemp("spool") / "inbound_spool.jsonl")
    stack = request.getfixturevalue("rasa_stack")
    url = stack["url"] if isinstance(stack, dict) else stack.url
    standin.control(reset=True, callback_base=url)
    probe = webhook_params("+524439990000", "sms", "hola")
    status, _, _ = signed_post(f"{url}/webhooks/sms/webhook", probe, TOKEN,
                               public_url=f"{PUBLIC_BASE_URL}/webhooks/sms/webhook")
    if status == 404:
        pytest.skip("the Rasa server was started without our channels in credentials.yml")
    if status == 403:
        pytest.skip("rasa_stack was started before the Twilio settings were put in stack_env "
                    "(the lead's fixture should add bot.twilio_standin.testing.rasa_env(...))")
    standin.wait_for(1, to="+524439990000", timeout=60)
    yield {"url": url, "standin": standin, "stack": stack}
    if owned:
        standin.stop()


def say(stack, phone, medium, body="", timeout=60, **extra):
    params = webhook_params(phone, medium, body, **extra)
    path = f"/webhooks/{medium}/webhook"
    status, answer, seconds = signed_post(stack["url"] + path, params, TOKEN,
                                          public_url=PUBLIC_BASE_URL + path)
    assert status == 200, answer
    assert seconds < 1.0, f"Twilio must be answered at once, took {seconds:.2f}s"
    address = twilio_address(phone, medium)
    before = len(stack["standin"].messages(to=address))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = stack["standin"].messages(to=address)[before:]
        if found:
            time.sleep(1.0)  # the rest of the turn's messages
            return params, stack["standin"].messages(to=address)[before:]
        time.sleep(0.1)
    return params, []


def tracker(stack, phone):
    quoted = urllib.request.quote(phone)
    with urllib.request.urlopen(f"{stack['url']}/conversations/{quoted}/tracker", timeout=10) as r:
        return json.loads(r.read().decode())


def last_user_event(state):
    print([(e["event"], e.get("name") or e.get("text")) for e in state["events"]])
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
    params, replies = say(twilio_stack, phone, "whatsapp", "¿qué capacitaciones hay?",
                          profile_name="Rosa")
    assert replies
    state = tracker(twilio_stack, phone)
    assert state["sender_id"] == phone  # one conversation for both media
    assert state["latest_message"]["metadata"]["profile_name"] == "Rosa"


def test_location_reaches_the_assistant_as_ask_trainings(twilio_stack):
    phone = "+524431234502"
    _, replies = say(twilio_stack, phone, "whatsapp", location=(19.4128, -102.0561, "Uruapan"))
    assert replies
    latest = tracker(twilio_stack, phone)["latest_message"]
    assert latest["intent"]["name"] == "ask_trainings"
    assert latest["metadata"]["location"]["latitude"] == pytest.approx(19.4128)


@pytest.mark.parametrize("body", ["", "🙏🙏", "Where is my payment?", "x" * 1600])
def test_odd_messages_get_an_answer(twilio_stack, body):
    _, replies = say(twilio_stack, "+524431234503", "sms", body)
    assert replies, f"no answer to {body[:20]!r}"
