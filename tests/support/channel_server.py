"""The real WhatsApp and SMS channels served by a real Sanic app on 127.0.0.1, whose assistant is a
stub that echoes (the channel mechanics are what is tested), and the Twilio stand-in they send
to. Registered once for the whole run through tests/conftest.py: the channel tests and the attack
suite (tests/security) share one server."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.channels.twilio_channels import SmsInput, WhatsAppInput
from bot.messaging.config import TwilioSettings
from tests.support.messaging_db import clean_messaging_tables
from tests.support.standin import SanicThread, free_port, start_standin

ACCOUNT_SID = "ACtest"
AUTH_TOKEN = "test-token"


@pytest.fixture(scope="session")
def standin():
    handle = start_standin(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    yield handle
    handle.stop()


class EchoAssistant:
    """Stands in for Rasa's agent: echoes, and a few words trigger the cases under test."""

    def __init__(self):
        self.received: list[UserMessage] = []
        self.replies: dict[str, list] = {}
        self.release = threading.Event()  # "lento" waits for it: a turn that takes its time
        # "bloquea" holds its thread without yielding, as Rasa's model inference does
        self.unblock = threading.Event()

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        out, who, text = message.output_channel, message.sender_id, message.text or ""
        if text == "explota":
            raise RuntimeError("action server down")
        if text == "bloquea":
            self.unblock.wait(timeout=20)
        if text == "lento":
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        if text in self.replies:
            for reply in self.replies[text]:
                if isinstance(reply, dict):
                    await out.send_text_with_buttons(who, reply["text"], reply["buttons"])
                else:
                    await out.send_text_message(who, reply)
            return
        if message.parse_data and message.parse_data["intent"]["name"] == "send_media":
            kinds = [m["content_type"] for m in (message.metadata or {}).get("media", [])]
            await out.send_text_message(who, f"Archivo: {', '.join(kinds)}")
            return
        if text == "/ask_trainings":
            location = (message.metadata or {}).get("location") or {}
            await out.send_text_message(
                who, f"Capacitaciones cerca de {location.get('latitude')},{location.get('longitude')}"
            )
            return
        await out.send_text_message(who, f"Eco: {text}" if text else "No entendí su mensaje.")


@pytest.fixture(scope="session")
def channel_server(messaging_db, standin, tmp_path_factory):
    port = free_port()
    settings = TwilioSettings(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        whatsapp_from="whatsapp:+14155238886",
        sms_from="+15005550006",
        public_base_url=f"http://127.0.0.1:{port}",
        api_base=standin.url,
        send_timeout=3,
        send_attempts=3,
        backoff_base=0.05,
        backoff_max=0.2,
        outbox_interval=0.5,
        turn_timeout=10,
        inbound_spool=str(tmp_path_factory.mktemp("spool") / "inbound_spool.jsonl"),
    )
    assistant = EchoAssistant()
    app = Sanic(f"channels_test_{uuid.uuid4().hex[:8]}")
    whatsapp, sms = WhatsAppInput(settings), SmsInput(settings)
    for channel in (whatsapp, sms):
        app.blueprint(channel.blueprint(assistant), url_prefix=f"/webhooks/{channel.name()}")
    server = SanicThread(app, port=port).start()
    server.settings = settings
    server.assistant = assistant
    server.runtime = whatsapp.runtime
    assert sms.runtime is whatsapp.runtime
    # Its assistant echoes, so it has no notices to say; and its scheduler, like its outbox worker,
    # reads DATABASE_URL as it is at each round, so it would release the notices of later tests
    # (the production ones among them) from their databases. It does not run here.
    if server.runtime.notices is not None:
        server.call(server.runtime.notices.stop())
    yield server
    server.stop()


@pytest.fixture
def channels(channel_server, standin):
    """Per test: empty messaging tables, a reset stand-in and no sender paused by the last one's
    Retry-After, a fresh assistant log."""
    channel_server.call(channel_server.runtime.drain(10))
    clean_messaging_tables()
    standin.reset()
    channel_server.runtime.sender.pauses.clear()
    channel_server.assistant.received.clear()
    channel_server.assistant.replies.clear()
    yield channel_server
    channel_server.call(channel_server.runtime.drain(10))
