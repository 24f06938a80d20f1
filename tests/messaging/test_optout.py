"""Opt-out history on the real database (SQLite, or PostgreSQL via DATABASE_URL)."""

from __future__ import annotations

import uuid

from bot.db import session_scope
from bot.messaging import optout


def opted_out(phone: str) -> bool:
    with session_scope() as session:
        return optout.is_opted_out(session, phone)


def test_opt_out_history_latest_wins(db):
    phone = "+52443" + uuid.uuid4().hex[:7].translate(str.maketrans("abcdef", "123456"))
    assert not opted_out(phone)
    with session_scope() as session:
        optout.record_opt(session, phone, "opt_out", "baja", "sms")
    assert opted_out(phone)
    with session_scope() as session:
        optout.record_opt(session, phone, "opt_in", "alta", "whatsapp")
    assert not opted_out(phone)
