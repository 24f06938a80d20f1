"""One Rasa turn of a stored message, on the model the worker loaded once.

The turn runs as the channels run it (bot/channels/twilio_form.py builds the same UserMessage:
sender_id the phone, message_id the MessageSid, the same metadata) on one thread of its own
(bot/channels/turn_threads.py), with the PostgreSQL tracker store and Redis lock store.

A turn *failed* when Rasa raised, when it took longer than the turn timeout, or when one of our
custom actions failed: Rasa 3.6 logs a failed action call (action server down, 401, 500) and
carries on, saving the tracker with the action marked as executed and its events lost. Every one
of our actions returns slot events (bot.assistant's Reply.slot_values), so an ``ActionExecuted``
of a custom action followed by no event of its own is a failed call. A failed turn is taken back
out of the conversation (``UserUtteranceReverted``) so that its retry runs on the conversation as
it was, and the farmer's message is not in it twice.

A retried message whose turn is in the tracker already (the worker stopped after Rasa saved the
tracker but before the replies were recorded) is not run again: its replies are read back from
the tracker's bot events, so the action server's side effects (a code attempt, a seat, a request
for a person) do not happen twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlparse

from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.lock_store import RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker

from bot import rasa_fixes
from bot.channels.turn_threads import TurnThreads
from bot.channels.twilio_form import user_message
from bot.logs import failure
from bot.messaging.formatting import collected_texts
from bot.messaging.inbound import Inbound
from bot.worker.config import WorkerSettings

logger = logging.getLogger(__name__)

ACTION_TOKEN_HEADER = "X-Action-Token"


@dataclass(frozen=True)
class TurnResult:
    replies: list[str]
    failure: str | None = None  # why the turn failed; None when it answered


class Assistant(Protocol):
    """What the worker needs of Rasa (tests give it a stand-in)."""

    async def turn(self, message: Inbound, retried: bool) -> TurnResult: ...


# -- reading a turn out of the tracker ----------------------------------------------------------


def turn_events(events: Sequence[Event], message_sid: str) -> list[Event] | None:
    """The events of the message's turn (after its UserUttered, up to the next one), or None when
    the conversation does not hold the message."""
    found: list[Event] | None = None
    for event in events:
        if isinstance(event, UserUttered):
            if found is not None:
                return found
            if event.message_id == message_sid:
                found = []
        elif found is not None:
            found.append(event)
    return found


def failed_action(events: Sequence[Event], custom_actions: frozenset[str]) -> str | None:
    """The first custom action of the turn that left no event of its own, or None."""
    running: str | None = None
    for event in events:
        if isinstance(event, ActionExecuted):
            if running:
                return running
            running = event.action_name if event.action_name in custom_actions else None
        else:
            running = None
    return running


def replies_of(events: Sequence[Event]) -> list[str]:
    """The bot's messages of a turn, as the collecting channel would have given them."""
    return collected_texts({"text": e.text, **(e.data or {})} for e in events if isinstance(e, BotUttered))


# -- the tracker store that tells the worker what it saved --------------------------------------


class TurnTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, keeping the last tracker saved per conversation so the worker
    checks the turn's actions without loading the conversation again."""

    engine: Engine

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.saved: dict[str, DialogueStateTracker] = {}
        engine = self.engine
        if engine.dialect.name != "sqlite":
            # Rasa's engine keeps pooled connections without checking them: after PostgreSQL
            # restarts, the first turn on each dead one failed (the farmer got the failure note
            # for nothing; bench/chaos.py, postgres). Checked out with a ping, as our own engines.
            url = engine.url
            engine.dispose()
            self.engine = create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
            self.sessionmaker = sessionmaker(bind=self.engine)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        self.saved[tracker.sender_id] = tracker


def tracker_store_for(url: str) -> TurnTrackerStore:
    parsed = make_url(url)
    dialect = parsed.drivername.split("+")[0]
    if dialect == "sqlite":
        return TurnTrackerStore(dialect="sqlite", db=parsed.database or "rasa.db")
    return TurnTrackerStore(
        dialect=dialect,
        host=parsed.host,
        port=parsed.port,
        db=parsed.database or "rasa",
        username=parsed.username,
        password=parsed.password,
    )


def lock_store_for(url: str) -> RedisLockStore:
    parsed = urlparse(url)
    return RedisLockStore(
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 6379,
        db=int((parsed.path or "/1").lstrip("/") or 1),
        username=parsed.username or None,
        password=parsed.password or None,
        use_ssl=parsed.scheme == "rediss",
        key_prefix="pp",
    )


# -- the turn -----------------------------------------------------------------------------------


class RasaAssistant:
    def __init__(self, agent: Agent, store: TurnTrackerStore, turn_timeout: float):
        self.agent = agent
        self.store = store
        self.turn_timeout = turn_timeout
        self.custom_actions = frozenset(agent.domain.user_actions if agent.domain else ())
        # One thread: Rasa's inference is CPU-bound, and a turn that timed out keeps the thread
        # until it ends, so the revert that follows it never overtakes it.
        self.threads = TurnThreads(1)

    async def turn(self, message: Inbound, retried: bool) -> TurnResult:
        sid = message.message_sid
        if retried:
            earlier = await self.threads.run(lambda: self._earlier_result(message))
            if earlier is not None:
                logger.info("turn %s found in the conversation already: its replies are used", sid)
                return earlier
        collector = CollectingOutputChannel()
        incoming = user_message(message, collector)
        self.store.saved.pop(message.phone, None)
        try:
            await asyncio.wait_for(
                self.threads.run(lambda: self.agent.handle_message(incoming)), self.turn_timeout
            )
        except Exception as exc:  # model error, tracker store down, timeout: the turn failed
            logger.error("turn %s failed: %s", sid, failure(exc))
            logger.debug("turn %s failed", sid, exc_info=exc)
            await self._take_back(message)
            return TurnResult([], type(exc).__name__)
        tracker = self.store.saved.pop(message.phone, None)
        events = turn_events(tracker.applied_events(), sid) if tracker else None
        failed = failed_action(events or [], self.custom_actions)
        if failed:
            logger.error("turn %s failed: action %s gave no result (action server unreachable?)", sid, failed)
            await self._take_back(message)
            return TurnResult([], f"action {failed} failed")
        return TurnResult(collected_texts(collector.messages))

    async def _earlier_result(self, message: Inbound) -> TurnResult | None:
        """The replies of an earlier try that Rasa saved; None when it must run (again)."""
        tracker = await self.store.retrieve(message.phone)
        events = turn_events(tracker.applied_events(), message.message_sid) if tracker else None
        if events is None:
            return None
        if failed_action(events, self.custom_actions):
            await self._revert(message)
            return None
        return TurnResult(replies_of(events))

    async def _take_back(self, message: Inbound) -> None:
        try:
            await self.threads.run(lambda: self._revert(message))
        except Exception as exc:  # the retry finds the failed turn and takes it back then
            logger.warning("turn %s not taken back: %s", message.message_sid, failure(exc))

    async def _revert(self, message: Inbound) -> None:
        async with self.agent.lock_store.lock(message.phone):
            tracker = await self.store.retrieve(message.phone)
            if tracker is None or turn_events(tracker.applied_events(), message.message_sid) is None:
                return
            # back to before the message, listening (as Rasa's own rewind leaves a conversation)
            tracker.update(UserUtteranceReverted())
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
            await self.store.save(tracker)
            self.store.saved.pop(message.phone, None)

    def close(self) -> None:
        self.threads.shutdown()


def load_assistant(model: str, settings: WorkerSettings) -> RasaAssistant:
    """The model, loaded once, with the tracker store, lock store and action server of the
    settings. Rasa's fail-safe wrapper around the tracker store is taken off: with the database
    down a turn must fail (and be retried), not run on an empty conversation."""
    rasa_fixes.apply()
    store = tracker_store_for(settings.tracker_url)
    endpoint = EndpointConfig(settings.action_url, headers={ACTION_TOKEN_HEADER: settings.action_token})
    agent = Agent.load(
        model, tracker_store=store, lock_store=lock_store_for(settings.redis_url), action_endpoint=endpoint
    )
    agent.tracker_store = store
    if agent.processor is not None:
        agent.processor.tracker_store = store
    store.domain = agent.domain
    return RasaAssistant(agent, store, settings.turn_timeout)
