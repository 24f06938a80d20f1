"""The Rasa worker on the trained model, with PostgreSQL (records and tracker store), Redis (lock
store), RabbitMQ and a real action server: a turn answered; with the action server down, the
failed action found in the tracker (Rasa logs it and saves the tracker all the same), the farmer
told once, the turn taken back out of the conversation; once the action server is back, the retry
answers once; a redelivery sends nothing more. Skipped without a model in models/ (`make test`
trains one) or without Redis."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys

import pytest
import redis

from bot.db import session_scope
from bot.messaging import texts
from bot.messaging.formatting import pack_for_medium
from bot.records import seed
from bot.stack import free_port
from bot.worker.config import WorkerSettings
from bot.worker.process import Worker
from bot.worker.rasa_turns import load_assistant, turn_events
from tests.conftest import ANCHOR, model_path
from tests.production.processes import ROOT, wait_ready
from tests.production.support import message
from tests.production.workers import fast_settings, publish_marked, replies, statuses, store, until

pytestmark = pytest.mark.rasa

REDIS_URL = "redis://127.0.0.1:6379/15"
PHONE = "+524431000501"


@pytest.fixture(scope="module")
def redis_url():
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} (Rasa's lock store in production)")
    return REDIS_URL


@pytest.fixture(scope="module")
def seeded(production_db):
    with session_scope(production_db) as session:
        if not seed.is_seeded(session):
            seed.seed_demo(session, ANCHOR)
    return production_db


class ActionServer:
    def __init__(self, database_url, log):
        self.port, self.token, self.log = free_port(), secrets.token_urlsafe(16), log
        # the tests' PostgreSQL trusts this machine (bot/messaging/credentials.py)
        self.env = dict(
            __import__("os").environ,
            DATABASE_URL=database_url,
            ACTION_SERVER_TOKEN=self.token,
            ALLOW_LOCAL_CREDENTIALS="1",
        )
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.action_server", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )
        wait_ready(f"http://127.0.0.1:{self.port}/health", self.process, self.log, seconds=120)

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(20)
            self.process = None


@pytest.fixture(scope="module")
def rasa_world(seeded, redis_url, tmp_path_factory):
    model = model_path()
    actions = ActionServer(seeded, tmp_path_factory.mktemp("actions") / "actions.log")
    actions.start()
    settings = WorkerSettings(
        **{
            **fast_settings("rasa-w1").__dict__,
            "tracker_url": seeded,
            "redis_url": redis_url,
            "action_url": f"http://127.0.0.1:{actions.port}/webhook",
            "action_token": actions.token,
            "turn_timeout": 60,
            "retry_base_seconds": 1,
            "retry_max_seconds": 2,
        }
    )
    assistant = load_assistant(str(model), settings)
    yield {"settings": settings, "assistant": assistant, "actions": actions}
    actions.stop()
    assistant.close()


def test_a_failed_action_is_told_once_taken_back_and_answered_once_when_the_action_server_is_back(
    pg, broker, rasa_world
):
    settings, assistant, actions = rasa_world["settings"], rasa_world["assistant"], rasa_world["actions"]
    note = pack_for_medium("sms", [texts.TURN_DELAYED])[0]
    hello = store(pg, broker, [message(PHONE, "hola")])[0]

    async def scenario():
        worker = Worker(settings, broker, assistant)
        await worker.start(http=False)
        try:
            await publish_marked(pg, broker, [hello])
            await until(lambda: statuses(pg)[hello.message_sid] == "processed", timeout=120)
            actions.stop()
            menu = store(pg, broker, [message(PHONE, "menu")])[0]
            await publish_marked(pg, broker, [menu])
            await until(lambda: (menu.message_sid, note) in replies(pg), timeout=120)
            await asyncio.sleep(3)  # a retry or two, with the action server still down
            assert statuses(pg)[menu.message_sid] == "processing"
            tracker = await assistant.store.retrieve(PHONE)
            assert turn_events(tracker.applied_events(), menu.message_sid) is None  # taken back
            actions.start()
            await until(lambda: statuses(pg)[menu.message_sid] == "processed", timeout=120)
            await publish_marked(pg, broker, [menu, hello])  # delivered again: nothing more
            await asyncio.sleep(2)
            return menu
        finally:
            await worker.stop()

    menu = asyncio.run(scenario())
    recorded = replies(pg)
    hello_replies = [body for ref, body in recorded if ref == hello.message_sid]
    menu_replies = [body for ref, body in recorded if ref == menu.message_sid]
    assert hello_replies and note not in hello_replies
    assert menu_replies.count(note) == 1 and menu_replies[0] == note
    assert len(menu_replies) >= 2  # the note, then the answer: once
    assert "Capacitaciones" in "\n".join(menu_replies[1:])  # the menu, as on a first try
    tracker = asyncio.run(assistant.store.retrieve(PHONE))
    user_events = [e for e in tracker.applied_events() if getattr(e, "message_id", None) == menu.message_sid]
    assert len(user_events) == 1
