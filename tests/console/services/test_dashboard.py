"""The dashboard's figures for a period."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.db import session_scope


def test_dashboard_counts(console_env, copied_tracker):
    from bot.console.services.dashboard import summarise

    today = datetime.now(timezone.utc).date()
    with session_scope(console_env.url) as session:
        d = summarise(session, today - timedelta(days=60), today + timedelta(days=1), "America/Mexico_City")
    assert d.farmers_served == 4
    assert d.fallbacks == 1 and d.out_of_scope == 1
    assert dict(d.top_intents)["greet"] == 1
    assert sum(d.per_day["whatsapp"]) >= 8 and sum(d.per_day["sms"]) == 4
    assert d.human_requests == 1


def test_a_notice_is_no_message_of_the_farmer_in_the_figures(console_env, copied_tracker):
    """A notice released into a conversation (kind "notice") adds no message, conversation,
    farmer served or intent."""
    from sqlalchemy import delete

    from bot.console.schema import ConsoleMessage
    from bot.console.services.dashboard import summarise
    from bot.records.notices import message_sid_for

    today = datetime.now(timezone.utc).date()

    def figures():
        with session_scope(console_env.url) as session:
            return summarise(
                session, today - timedelta(days=60), today + timedelta(days=1), "America/Mexico_City"
            )

    before = figures()
    notices = [
        ConsoleMessage(
            event_id=9_100_000 + i,
            sender_id=phone,
            ts=datetime.now(timezone.utc) - timedelta(hours=1),
            kind="notice",
            text="",
            intent="notice",
            confidence=1.0,
            medium="sms",
            message_id=message_sid_for(910_000 + i),
        )
        for i, phone in enumerate(("+522441000003", "+524439999998"))
    ]
    with session_scope(console_env.url) as session:
        session.add_all(notices)
    try:
        assert figures() == before
    finally:
        with session_scope(console_env.url) as session:
            session.execute(delete(ConsoleMessage).where(ConsoleMessage.event_id >= 9_100_000))
