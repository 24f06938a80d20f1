"""Each sender's newest user message, for many senders in one query."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.console.queries.messages import last_user_messages
from bot.console.schema import ConsoleMessage
from bot.db import engine_for, session_scope
from tests.console.conftest import counting


def test_newest_user_message_per_sender(console_env):
    now = datetime.now(timezone.utc)
    a, b = "+525588800001", "+525588800002"
    with session_scope(console_env.url) as session:
        session.add_all(
            [
                ConsoleMessage(
                    event_id=8_000_001,
                    sender_id=a,
                    ts=now - timedelta(hours=2),
                    kind="user",
                    text="primero",
                    medium="sms",
                    message_id="SMa1",
                ),
                # copied later from the tracker, but written earlier
                ConsoleMessage(
                    event_id=8_000_003,
                    sender_id=a,
                    ts=now - timedelta(hours=3),
                    kind="user",
                    text="llegó después",
                    medium="whatsapp",
                    message_id="SMa0",
                ),
                ConsoleMessage(
                    event_id=8_000_002,
                    sender_id=a,
                    ts=now - timedelta(hours=1),
                    kind="bot",
                    text="respuesta",
                    medium="sms",
                ),
                ConsoleMessage(
                    event_id=8_000_004,
                    sender_id=b,
                    ts=now,
                    kind="user",
                    text="hola",
                    medium="whatsapp",
                    message_id="SMb1",
                ),
            ]
        )
    with session_scope(console_env.url) as session:
        with counting(engine_for(console_env.url)) as statements:
            by_time = last_user_messages(session, [a, b, "+520000000000"])
        assert len(statements) == 1
        assert {s: r.text for s, r in by_time.items()} == {a: "primero", b: "hola"}
        by_arrival = last_user_messages(session, [a], in_arrival_order=True)
        assert (by_arrival[a].text, by_arrival[a].medium, by_arrival[a].message_id) == (
            "llegó después",
            "whatsapp",
            "SMa0",
        )
        assert last_user_messages(session, []) == {}


def test_a_notice_is_not_a_message_the_farmer_wrote(console_env):
    """A notice (kind "notice") opens no WhatsApp window and is not the farmer's last message or
    medium; what came in last, for the tracker's copy, counts it."""
    from bot.console.queries.messages import last_medium, last_user_message_at
    from bot.records.notices import message_sid_for

    now = datetime.now(timezone.utc)
    phone, sid = "+525588800003", message_sid_for(880_003)
    with session_scope(console_env.url) as session:
        session.add_all(
            [
                ConsoleMessage(
                    event_id=8_000_011,
                    sender_id=phone,
                    ts=now - timedelta(hours=30),
                    kind="user",
                    text="hola",
                    medium="sms",
                    message_id="SMc1",
                ),
                ConsoleMessage(
                    event_id=8_000_012,
                    sender_id=phone,
                    ts=now - timedelta(hours=1),
                    kind="notice",
                    text="",
                    intent="notice",
                    medium="whatsapp",
                    message_id=sid,
                ),
            ]
        )
    with session_scope(console_env.url) as session:
        assert last_user_messages(session, [phone])[phone].message_id == "SMc1"
        assert (
            last_user_messages(session, [phone], in_arrival_order=True, with_notices=True)[phone].message_id
            == sid
        )
        assert last_medium(session, phone) == "sms"
        assert last_user_message_at(session, phone, "whatsapp") is None
