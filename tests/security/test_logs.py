"""What the logs could give away: with every logger captured at DEBUG, a farmer's conversation up
to her invoice amounts (through the real WhatsApp/SMS channel and the assistant's own logic on the
demo records) and a send that keeps failing leave no phone number, no message body and no amount
in any line at INFO or above, nor in any exception logged. A database error's text carries no
parameters either (engines built with hide_parameters)."""

from __future__ import annotations

import logging
import re
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.assistant.skills import respond
from bot.assistant.turn import Turn
from bot.db import session_scope
from bot.logs import failure
from bot.twilio_standin.client import signed_post, webhook_params
from tests.databases import make_database
from tests.support.channel_server import AUTH_TOKEN
from tests.support.polling import wait_until

ROSA = "+524431000001"
PHONE_FORMS = (ROSA, "4431000001", "5214431000001")
# The conversation, as Rasa's NLU would have read it.
SAID = [("cuando me pagan", "ask_payment_status"), ("si", "affirm"), ("8204", "inform_number")]
FAILING = "explota con mis datos"  # a turn that raises an exception quoting the phone and the text


class Assistant:
    """Stands in for Rasa's agent with the assistant's own logic: the intent each text carries,
    slots kept between turns as Rasa keeps them."""

    def __init__(self):
        self.slots: dict = {}
        self.replies: list[str] = []

    async def __call__(self, message) -> None:
        if message.text == FAILING:
            raise RuntimeError(f"no answer for {message.sender_id}, who wrote {message.text!r}")
        intent = dict(SAID)[message.text]
        turn = Turn(message.sender_id, message.sender_id, message.text, intent, slots=dict(self.slots))
        reply = respond(intent, turn)
        self.slots.update(reply.slot_values())
        for body in reply.texts():
            self.replies.append(body)
            await message.output_channel.send_text_message(message.sender_id, body)


@pytest.fixture
def rosas_conversation(channels, tmp_path, monkeypatch):
    """The session's channel server (one Sanic server per process) on a database seeded with the
    demo records, its assistant swapped for Rosa's for this test."""
    url, _cleanup = make_database("sqlite", tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    runtime = channels.runtime
    echo, runtime.on_new_message = runtime.on_new_message, Assistant()
    channels.rosa = runtime.on_new_message
    yield channels
    channels.call(runtime.drain(10))
    runtime.on_new_message = echo


def leaks(records, secrets_: list[str]) -> list[str]:
    found = []
    for record in records:
        if record.levelno < logging.INFO:
            continue
        text_ = record.getMessage()
        if record.exc_info:
            text_ += "\n" + logging.Formatter().formatException(record.exc_info)
        for secret in secrets_:
            pattern = (
                re.escape(secret) if not secret.isdigit() else rf"(?<![0-9A-Za-z]){secret}(?![0-9A-Za-z])"
            )
            if re.search(pattern, text_):
                found.append(f"{record.levelname} {record.name}: {secret!r} in {text_[:200]!r}")
    return found


def test_a_turn_with_amounts_and_a_failing_send_leave_nothing_personal_in_the_logs(
    rosas_conversation, standin, caplog, attack
):
    server = rosas_conversation
    caplog.set_level(logging.DEBUG)
    path = "/webhooks/sms/webhook"
    for index, (said, _intent) in enumerate(SAID):
        if index == len(SAID) - 1:
            standin.control(fail_next=3, fail_status=500)  # the reply with the amounts: every try fails
        params = webhook_params(ROSA, "sms", said, message_sid="SM" + uuid.uuid4().hex)
        status, _, _ = signed_post(
            server.url + path, params, AUTH_TOKEN, public_url=server.settings.public_base_url + path
        )
        assert status == 200
        wait_until(lambda n=index: len(server.rosa.replies) > n, timeout=20)
    wait_until(lambda: standin.attempts() >= 2 + 4, timeout=20)  # tried 3 times, then sent from the outbox
    params = webhook_params(ROSA, "sms", FAILING, message_sid="SM" + uuid.uuid4().hex)
    assert (
        signed_post(server.url + path, params, AUTH_TOKEN, public_url=server.settings.public_base_url + path)[
            0
        ]
        == 200
    )
    server.call(server.runtime.drain(10))
    assert any(r.levelno == logging.ERROR and "RuntimeError" in r.getMessage() for r in caplog.records)
    amounts = sorted(
        {m.replace("$", "") for r in server.rosa.replies for m in re.findall(r"\$[\d,]+\.\d\d", r)}
    )
    assert amounts, "the conversation reached the invoice amounts"
    lines = [line for r in server.rosa.replies for line in r.splitlines() if len(line) > 12]
    words = [said for said, _ in SAID if len(said) >= 4] + [FAILING]  # "si" is in every other word
    secrets_ = [*PHONE_FORMS, *words, *amounts, *(a.replace(",", "") for a in amounts), *lines]
    found = leaks(caplog.records, secrets_)
    shown = sum(r.levelno >= logging.INFO for r in caplog.records)
    attack(
        "read every log line (INFO and above, exceptions included) of a conversation reaching Rosa's "
        "amounts and of a reply Twilio refused",
        f"{shown} lines, {len(found)} with a phone, a body or an amount",
    )
    assert not found, "\n".join(found)
    assert any(
        "…01" in r.getMessage() for r in caplog.records if r.levelno >= logging.INFO
    )  # masked, still useful


def test_database_errors_carry_no_parameters_and_are_logged_without_their_text(empty_db, attack):
    """hide_parameters keeps the statement's values out of the error; PostgreSQL's own DETAIL
    ("Failing row contains (…)") still quotes the row, which is why an error's text is never
    logged, only ``failure(error)``."""
    with pytest.raises(IntegrityError) as raised, session_scope() as session:
        session.execute(
            text("INSERT INTO inbound_messages (message_sid, phone, body) VALUES (:sid, :phone, :body)"),
            {"sid": "SM" + uuid.uuid4().hex, "phone": ROSA, "body": "mi pago de $36,270.00"},
        )
    message, logged = str(raised.value), failure(raised.value)
    quoted = "quotes the row" if ROSA in message else "no values"
    attack(
        f"an INSERT that fails on {empty_db.split(':', 1)[0]}, with Rosa's phone and an amount as parameters",
        f"parameters hidden; the database's own message: {quoted}; logged: {logged!r}",
    )
    assert "[SQL parameters hidden due to hide_parameters=True]" in message
    assert ROSA not in logged and "36,270" not in logged and "IntegrityError" in logged
