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
