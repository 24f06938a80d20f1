"""The workers' tracker store after PostgreSQL dropped its connections (a restart, a failover): the
next turn reads and saves on a fresh connection instead of failing on a dead pooled one (found by
`make chaos`, bench/chaos.py: after a restart, a turn failed and the farmer got the failure note)."""

from __future__ import annotations

import asyncio

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text

from bot.worker.rasa_turns import tracker_store_for

PHONE = "+524431000601"


def drop_other_connections(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            return len(
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
            )
    finally:
        engine.dispose()


def test_the_tracker_store_survives_postgresql_dropping_its_connections(production_db):
    store = tracker_store_for(production_db)
    store.domain = Domain.empty()

    async def scenario() -> DialogueStateTracker | None:
        tracker = DialogueStateTracker(PHONE, [])
        tracker.update(UserUttered("hola", message_id="SMbefore"))
        await store.save(tracker)
        assert drop_other_connections(production_db) >= 1  # the store's pooled connection among them
        again = await store.retrieve(PHONE)
        assert again is not None
        again.update(UserUttered("menu", message_id="SMafter"))
        await store.save(again)
        return await store.retrieve(PHONE)

    try:
        tracker = asyncio.run(scenario())
    finally:
        store.engine.dispose()
    assert tracker is not None
    assert [e.message_id for e in tracker.events if isinstance(e, UserUttered)] == ["SMbefore", "SMafter"]
