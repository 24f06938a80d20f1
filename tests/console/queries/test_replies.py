"""The first staff reply after each request for a person, for many requests in one query."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.console.queries.replies import first_replies
from bot.console.schema import ConsoleReply
from bot.db import engine_for, session_scope
from bot.records.schema import HumanRequest
from bot.timeutil import as_utc
from tests.console.conftest import counting


def test_first_reply_after_each_request_in_one_query(console_env):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    phones = [f"+5255777000{i:02d}" for i in range(3)]
    with session_scope(console_env.url) as session:
        requests = [
            HumanRequest(
                phone=phone, conversation_id=phone, reason="asked", created_at=now - timedelta(hours=5)
            )
            for phone in phones
        ]
        session.add_all(requests)
        session.add_all(
            [
                # before the request: not an answer to it
                ConsoleReply(
                    phone=phones[0],
                    medium="sms",
                    body="antes",
                    username="officer",
                    status="sent",
                    created_at=now - timedelta(hours=6),
                ),
                ConsoleReply(
                    phone=phones[0],
                    medium="sms",
                    body="primera",
                    username="officer",
                    status="pending",
                    created_at=now - timedelta(hours=4),
                ),
                ConsoleReply(
                    phone=phones[0],
                    medium="sms",
                    body="segunda",
                    username="officer",
                    status="sent",
                    created_at=now - timedelta(hours=3),
                ),
                # a failed reply does not count
                ConsoleReply(
                    phone=phones[1],
                    medium="sms",
                    body="falló",
                    username="officer",
                    status="failed",
                    created_at=now - timedelta(hours=4),
                ),
            ]
        )
        session.flush()
        ids = [r.id for r in requests]
    with session_scope(console_env.url) as session:
        with counting(engine_for(console_env.url)) as statements:
            first = first_replies(session, ids)
        assert len(statements) == 1
        assert set(first) == {ids[0]}
        assert as_utc(first[ids[0]]) == now - timedelta(hours=4)
        assert first_replies(session, []) == {}
