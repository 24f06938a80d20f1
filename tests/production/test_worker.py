"""The Rasa worker's mechanics on PostgreSQL and RabbitMQ, with a scripted stand-in for Rasa (the
real model: test_rasa_worker.py): a farmer's messages handled in sequence order whatever order
the broker delivers them in; a redelivered message answered once; a failing turn told once and
answered once when it succeeds; a message never published taken by the recovery loop; BAJA
recorded; two workers sharing the partitions and one taking over a dead one's."""

from __future__ import annotations

import asyncio
import urllib.request
from dataclasses import replace

from sqlalchemy import select

from bot.db import session_scope
from bot.messaging import texts
from bot.messaging.formatting import pack_for_medium
from bot.messaging.inbound_claims import Grace
from bot.messaging.optout import is_opted_out
from bot.messaging.schema import OutboxEntry
from bot.stack import free_port
from bot.worker.process import Worker
from tests.production.rabbit import queued
from tests.production.support import message
from tests.production.workers import (
    ScriptedAssistant,
    fast_settings,
    publish_marked,
    replies,
    start_worker,
    statuses,
    store,
    until,
)

PHONE = "+524431000401"


def all_done(url, sids):
    return lambda: all(statuses(url).get(sid) == "processed" for sid in sids)


def run_worker(pg, broker, assistant, stored, publish=None, grace=Grace(), then=None):
    """A worker started, ``publish`` (default: ``stored``) published as a gateway does, until every
    stored message is done; ``then`` (a coroutine function) runs before the worker stops."""

    async def scenario():
        worker = start_worker(broker, assistant, grace=grace)
        await worker.start(http=False)
        try:
            await publish_marked(pg, broker, stored if publish is None else publish)
            await until(all_done(pg, [s.message_sid for s in stored]))
            if then is not None:
                await then()
        finally:
            await worker.stop()

    asyncio.run(scenario())


def test_messages_published_out_of_order_are_handled_in_sequence_order(pg, broker):
    stored = store(pg, broker, [message(PHONE, f"m{n}") for n in range(1, 6)])
    assistant = ScriptedAssistant()

    async def queues_drained() -> None:
        """A message its turn reached through the database first (recovery) may still have its
        queue copy on the way: the worker acknowledges it as done when it comes (bounded)."""
        for _ in range(100):
            if sum((await queued(broker)).values()) == 0:
                return
            await asyncio.sleep(0.1)

    run_worker(
        pg, broker, assistant, stored, publish=[stored[i] for i in (4, 2, 0, 3, 1)], then=queues_drained
    )
    assert assistant.seen == ["m1", "m2", "m3", "m4", "m5"]
    assert replies(pg) == [(s.message_sid, f"Eco: m{n}") for n, s in enumerate(stored, start=1)]
    with session_scope(pg) as session:  # each reply waits in the outbox for the senders
        assert len(session.execute(select(OutboxEntry.id)).all()) == 5
    assert sum(asyncio.run(queued(broker)).values()) == 0


def test_a_redelivered_done_message_sends_no_second_reply(pg, broker):
    stored = store(pg, broker, [message(PHONE, "hola")])
    assistant = ScriptedAssistant()

    async def deliver_again():
        await publish_marked(pg, broker, stored * 2)  # the broker delivers it again, twice
        await asyncio.sleep(1.0)
        assert sum((await queued(broker)).values()) == 0

    run_worker(pg, broker, assistant, stored, then=deliver_again)
    assert assistant.seen == ["hola"]
    assert replies(pg) == [(stored[0].message_sid, "Eco: hola")]


def test_a_failing_turn_is_told_once_and_answered_once_when_it_succeeds(pg, broker):
    stored = store(pg, broker, [message(PHONE, "falla"), message(PHONE, "despues")])
    assistant = ScriptedAssistant(failures={"falla": 3})
    run_worker(pg, broker, assistant, stored)
    first, second = (s.message_sid for s in stored)
    assert assistant.seen.count("falla") == 4 and assistant.seen[-1] == "despues"
    note = pack_for_medium("sms", [texts.TURN_DELAYED])[0]  # SMS: GSM-7, no accents
    assert replies(pg) == [(first, note), (first, "Eco: falla"), (second, "Eco: despues")]


def test_a_stored_message_never_published_is_taken_by_the_recovery_loop(pg, broker):
    stored = store(pg, broker, [message(PHONE, "sin publicar")])  # the gateway lost the broker
    assistant = ScriptedAssistant()
    run_worker(pg, broker, assistant, stored, publish=[], grace=Grace(unpublished_seconds=0.5))
    assert replies(pg) == [(stored[0].message_sid, "Eco: sin publicar")]


def test_baja_is_recorded_and_confirmed_without_a_turn(pg, broker):
    stored = store(pg, broker, [message(PHONE, "BAJA")])
    assistant = ScriptedAssistant()
    run_worker(pg, broker, assistant, stored)
    assert assistant.seen == []
    assert replies(pg) == [(stored[0].message_sid, pack_for_medium("sms", [texts.OPT_OUT_CONFIRMED])[0])]
    with session_scope(pg) as session:
        assert is_opted_out(session, PHONE)


def test_two_workers_share_the_partitions_and_one_takes_over_a_dead_ones(pg, broker):
    assistant = ScriptedAssistant()

    async def scenario():
        first, second = start_worker(broker, assistant, "w1"), start_worker(broker, assistant, "w2")
        await first.start(http=False)
        await second.start(http=False)
        try:
            await until(lambda: (len(first.consumers.held), len(second.consumers.held)) == (8, 8), timeout=20)
            assert set(first.consumers.held).isdisjoint(second.consumers.held)
            orphaned = second.consumers.held
            # the second dies: no clean stop, no retirement; its broker connection drops
            for task in second.tasks:
                task.cancel()
            await second.consumers.connection.close()
            await until(lambda: len(first.consumers.held) == 16, timeout=20)
            phone = next(
                f"+52443100{n:04d}" for n in range(9999) if _partition(f"+52443100{n:04d}") in orphaned
            )
            taken = store(pg, broker, [message(phone, "tras la caida")])
            await publish_marked(pg, broker, taken)
            await until(all_done(pg, [taken[0].message_sid]))
        finally:
            await first.stop()

    def _partition(phone):
        from bot.messaging.partitions import partition_of

        return partition_of(phone, broker.partitions)

    asyncio.run(scenario())
    assert assistant.seen == ["tras la caida"]


def test_a_worker_answers_liveness_readiness_and_metrics(pg, broker):
    port = free_port()

    async def scenario():
        worker = Worker(replace(fast_settings("w-http"), http_port=port), broker, ScriptedAssistant())
        await worker.start()
        try:
            await until(lambda: worker.ready, timeout=10)
            loop = asyncio.get_running_loop()
            pages = {}
            for path in ("/healthz", "/readyz", "/metrics"):
                pages[path] = await loop.run_in_executor(None, _get, f"http://127.0.0.1:{port}{path}")
            return pages
        finally:
            await worker.stop()

    pages = asyncio.run(scenario())
    assert pages["/healthz"][0] == 200
    assert pages["/readyz"][0] == 200 and '"partitions": [0, 1' in pages["/readyz"][1]
    assert "worker_partitions_owned 16.0" in pages["/metrics"][1]
    assert 'worker_queue_depth{partition="0"}' in pages["/metrics"][1]


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as answer:
        return answer.status, answer.read().decode()
