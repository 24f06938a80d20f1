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


def test_a_sentence_that_asks_to_stop_or_restart_the_messages_counts_like_the_keyword():
    for text in (
        "BAJA",
        "baja.",
        "ya no me manden mensajes porfa",
        "dejen de mandarme avisos",
        "no quiero mas mensajes",
    ):
        assert optout.opt_action(text) == "opt_out", text
    for text in ("ALTA", "me equivoque, si quiero seguir recibiendo", "quiero volver a recibir los avisos"):
        assert optout.opt_action(text) == "opt_in", text
    for text in (
        "ya no me llegan mensajes de mis pagos",
        "cuando me pagan",
        "no me mandaron el aviso del pago",
    ):
        assert optout.opt_action(text) is None, text
