"""Attacks on the Twilio webhooks: unsigned, forged, replayed, oversized, a bad MessageSid, the
database and the spool both down, and one number flooding the assistant.

Against the running Rasa stack (``rasa_stack``, marked ``rasa``) where the attack needs nothing
else; against the real channels in a Sanic app of this process (``channels``, an echo assistant)
where the attack needs the database or the spool taken away.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.messaging import inbound, texts
from bot.messaging.formatting import pack_for_medium
from bot.messaging.inbound import Inbound
from bot.messaging.schema import InboundMessage
from bot.phones import twilio_address
from bot.timeutil import utcnow
from bot.twilio_standin.client import signed_post, webhook_params
from tests.conftest import TWILIO_PUBLIC_BASE_URL, TWILIO_TEST_TOKEN
from tests.support.channel_server import AUTH_TOKEN
from tests.support.polling import wait_until

NOTICE_BY_SMS = pack_for_medium("sms", [texts.RATE_LIMITED])  # as the phone gets it (GSM-7)


def new_phone() -> str:
    return "+52443" + str(uuid.uuid4().int)[:7]


def sid() -> str:
    return "SM" + uuid.uuid4().hex


# -- the two targets: the running stack, the channels of this process ---------------------------


class Target:
    """Where the attacks go, and how to see what they reached."""

    def __init__(self, url, public_base_url, token, database_url, standin, turns):
        self.url, self.public_base_url, self.token = url, public_base_url, token
        self.port = int(url.rsplit(":", 1)[1])
        self.database_url, self.standin, self._turns = database_url, standin, turns

    def post(self, medium, params, token=None, path="webhook"):
        url_path = f"/webhooks/{medium}/{path}"
        status, body, _ = signed_post(
            self.url + url_path, params, token or self.token, public_url=self.public_base_url + url_path
        )
        return status, body

    def post_unsigned(self, medium, params):
        request = urllib.request.Request(
            f"{self.url}/webhooks/{medium}/webhook", data=urllib.parse.urlencode(params).encode()
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def rows(self, message_sid=None, phone=None):
        with session_scope(self.database_url) as session:
            query = select(InboundMessage)
            if message_sid:
                query = query.where(InboundMessage.message_sid == message_sid)
            if phone:
                query = query.where(InboundMessage.phone == phone)
            return session.execute(query).scalars().all()

    def turns(self, phone, message_sid=None):
        """The messages the assistant received from this number (or with this MessageSid)."""
        return [t for t in self._turns(phone) if message_sid is None or t == message_sid]


def tracker_turns(stack):
    def turns(phone):
        url = f"{stack['url']}/conversations/{phone}/tracker?token={stack['api_token']}"
        with urllib.request.urlopen(url, timeout=10) as response:
            state = json.loads(response.read().decode())
        return [e.get("message_id") for e in state["events"] if e["event"] == "user"]

    return turns


@pytest.fixture(scope="module")
def stack(rasa_stack, stack_env):
    stack_env["standin"].control(reset=True, callback_base=rasa_stack["url"])
    return Target(
        rasa_stack["url"],
        TWILIO_PUBLIC_BASE_URL,
        TWILIO_TEST_TOKEN,
        rasa_stack["database_url"],
        stack_env["standin"],
        tracker_turns(rasa_stack),
    )


@pytest.fixture
def here(channels, standin):
    assistant = channels.assistant
    return Target(
        channels.url,
        channels.settings.public_base_url,
        AUTH_TOKEN,
        None,
        standin,
        lambda phone: [m.message_id for m in assistant.received if m.sender_id == phone],
    )


@pytest.fixture(params=["here", pytest.param("stack", marks=pytest.mark.rasa)])
def target(request):
    return request.getfixturevalue(request.param)


def raw_request(port: int, head: str, body: bytes = b"", wait: float = 5.0) -> tuple[int, float]:
    """Sends bytes as they are (a lying Content-Length, a chunked body); returns the status the
    server answered and how long that took."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        try:
            sock.sendall(head.encode() + body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while b"\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, time.monotonic() - started


# -- each attack, on both targets ----------------------------------------------------------------


def test_unsigned_and_forged_webhooks_reach_nothing(target, attack):
    phone = new_phone()
    status, _ = target.post_unsigned("sms", webhook_params(phone, "sms", "mis pagos"))
    attack("POST /webhooks/sms/webhook unsigned, 'mis pagos'", f"{status}")
    assert status == 403
    status, _ = target.post("whatsapp", webhook_params(phone, "whatsapp", "mis pagos"), token="guessed-token")
    attack("POST /webhooks/whatsapp/webhook signed with a guessed token", f"{status}")
    assert status == 403
    for medium in ("sms", "whatsapp"):
        params = {"MessageSid": sid(), "MessageStatus": "delivered"}
        status, _ = target.post(medium, params, token="guessed-token", path="status")
        attack(f"POST /webhooks/{medium}/status forged", f"{status}")
        assert status == 403
    time.sleep(0.5)
    stored, turns = target.rows(phone=phone), target.turns(phone)
    attack("what the four reached", f"stored {len(stored)}, turns {len(turns)}")
    assert stored == [] and turns == []


def test_a_replayed_message_is_processed_once(target, attack):
    phone = new_phone()
    params = webhook_params(phone, "sms", "hola")
    first, _ = target.post("sms", params)
    assert target.standin.wait_for(1, to=phone, timeout=60)
    second, _ = target.post("sms", params)
    time.sleep(1.5)
    stored, turns = target.rows(params["MessageSid"]), target.turns(phone, params["MessageSid"])
    attack(
        "the same signed MessageSid posted twice",
        f"{first} then {second}; stored {len(stored)}, turns {len(turns)}",
    )
    assert first == second == 200
    assert len(stored) == 1 and len(turns) == 1


def test_oversized_bodies_get_413_before_they_are_read(target, attack):
    phone = new_phone()
    status, body = target.post("sms", webhook_params(phone, "sms", "x" * 70_000))
    attack("signed webhook with a 70 KB body", f"{status} {body!r}")
    assert status == 413 and body == ""
    lying = (
        "POST /webhooks/sms/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10485760\r\n\r\n"
    )
    status, seconds = raw_request(target.port, lying)
    attack("Content-Length: 10 MB declared, no body sent", f"{status} after {seconds:.2f}s (nothing read)")
    assert status == 413 and seconds < 3
    chunk = b"a" * 40_000
    head = (
        "POST /webhooks/whatsapp/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n\r\n"
    )
    chunks = b"".join(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for _ in range(3)) + b"0\r\n\r\n"
    status, _ = raw_request(target.port, head, chunks)
    attack("chunked body of 120 KB, no Content-Length", f"{status}")
    assert status == 413
    assert target.rows(phone=phone) == []


@pytest.mark.parametrize("bad", ["", "SMnot-a-sid", "SM" + "A" * 32, "XX" + "0" * 32, "SM" + "0" * 33])
def test_a_message_sid_unlike_twilios_gets_400(target, attack, bad):
    phone = new_phone()
    params = webhook_params(phone, "sms", "hola")
    params["MessageSid"] = params["SmsMessageSid"] = params["SmsSid"] = bad
    status, body = target.post("sms", params)
    attack(f"signed webhook with MessageSid {bad!r}", f"{status} {body!r}")
    assert status == 400 and body == ""
    assert target.rows(phone=phone) == []


def store_earlier(database_url: str | None, phone: str, count: int) -> None:
    """``count`` messages of the number already stored in the last minute (as a loop leaves them)."""
    with session_scope(database_url) as session:
        for index in range(count):
            message = Inbound(
                sid(), "sms", phone, phone, "+15005550006", f"eco {index}", None, None, [], None, {}
            )
            inbound.store_inbound(session, message)
            inbound.mark_inbound(session, message.message_sid, "processed")


@pytest.mark.rasa
def test_the_31st_message_in_a_minute_is_kept_but_not_answered_by_the_assistant(stack, attack):
    """On the running stack: 30 messages of the number are already stored (a loop's minute), the
    31st and 32nd come through the webhook."""
    phone = new_phone()
    store_earlier(stack.database_url, phone, 30)
    first, second = webhook_params(phone, "sms", "mis pagos"), webhook_params(phone, "sms", "hola?")
    stack.post("sms", first)
    notices = stack.standin.wait_for(1, to=phone, timeout=30)
    stack.post("sms", second)
    time.sleep(2)
    rows = {row.message_sid: row for row in stack.rows(phone=phone)}
    sent = [m["body"] for m in stack.standin.messages(to=phone)]
    held = [rows[first["MessageSid"]].error, rows[second["MessageSid"]].error]
    attack(
        "31st and 32nd message of one number within a minute",
        f"stored ({len(rows)} rows), errors {held}, turns {len(stack.turns(phone))}, replies {sent}",
    )
    assert held == ["rate_limited", "rate_limited"]
    assert stack.turns(phone) == []  # the assistant never saw them
    assert sent == [notices[0]["body"]] == NOTICE_BY_SMS  # one notice, not one per message


# -- against the channels in this process (the database and the spool taken away) -------------


def test_database_and_spool_both_down_gives_503_and_a_retry_is_processed(here, monkeypatch, attack):
    phone = new_phone()
    params = webhook_params(phone, "sms", "hola sin base ni archivo")
    with monkeypatch.context() as down:
        down.setenv("DATABASE_URL", "sqlite:////proc/no-such-dir/program.db")
        down.setattr(
            "bot.channels.runtime.spool_path", lambda settings: Path("/proc/no-such-dir/spool.jsonl")
        )
        status, body = here.post("sms", params)
    attack("signed webhook while the database and the spool are both unavailable", f"{status} {body!r}")
    assert status == 503 and body == ""
    assert here.turns(phone) == [] and here.rows(phone=phone) == []
    retry, _ = here.post("sms", params)  # Twilio's retry, when the webhook URL asks for it (#rp=5xx)
    replies = [m["body"] for m in here.standin.wait_for(1, to=phone)]
    attack(
        "the same message again once the database is back (Twilio's retry)", f"{retry}, answered {replies}"
    )
    assert retry == 200 and replies == ["Eco: hola sin base ni archivo"]
    assert here.turns(phone) == [params["MessageSid"]]


def test_one_number_sending_32_messages_in_a_minute(here, attack):
    phone = new_phone()
    sids = []
    for index in range(32):
        params = webhook_params(phone, "sms", f"loop {index}")
        sids.append(params["MessageSid"])
        assert here.post("sms", params)[0] == 200
    wait_until(lambda: len(here.standin.messages(to=phone)) >= 31, timeout=30)
    time.sleep(0.5)
    errors = {row.message_sid: row.error for row in here.rows(phone=phone)}
    bodies = [m["body"] for m in here.standin.messages(to=phone)]
    attack(
        "32 signed messages from one number within a minute",
        f"stored {len(errors)}, sent to the assistant {len(here.turns(phone))}, "
        f"held back {list(errors.values()).count('rate_limited')}, notices {bodies.count(NOTICE_BY_SMS[0])}",
    )
    assert len(errors) == 32  # all kept
    assert here.turns(phone) == sids[:30]
    assert [errors[s] for s in sids[30:]] == ["rate_limited", "rate_limited"]
    assert bodies.count(NOTICE_BY_SMS[0]) == 1 and len(bodies) == 31


def test_staff_see_the_numbers_held_back(here):
    phone = new_phone()
    store_earlier(None, phone, 30)
    here.post("whatsapp", webhook_params(phone, "whatsapp", "otra vez"))
    assert here.standin.wait_for(1, to=twilio_address(phone, "whatsapp"))
    with session_scope() as session:
        since = utcnow() - timedelta(hours=1)
        held = [row for row in inbound.rate_limited_phones(session, since) if row.phone == phone]
    assert len(held) == 1 and held[0].held_back == 1 and len(here.rows(phone=phone)) == 31
