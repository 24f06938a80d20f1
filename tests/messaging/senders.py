"""For the sender tests: a Twilio stand-in of their own, the settings that point a sender at it,
entries queued in the outbox, the outbox sent until it is empty, and the embedded outbox workers
of a channel server still running from earlier tests kept quiet meanwhile (they read
DATABASE_URL as it is now, so they would take these tests' entries)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.channels import runtime
from bot.db import session_scope
from bot.messaging import dispatch, outbound
from bot.messaging.config import TwilioSettings
from bot.messaging.delivery import OutboxWorker
from bot.messaging.schema import OutboundMessage, OutboxEntry
from bot.messaging.sender import SendResult, TwilioSender
from tests.support.standin import StandinHandle, start_standin

ACCOUNT_SID, AUTH_TOKEN = "ACsenders", "senders-token"
OnSent = Callable[[dispatch.Sent], None] | None
SMS_FROM = "+15005550006"


@contextlib.contextmanager
def embedded_workers_quiet() -> Iterator[None]:
    """Stops the outbox worker of every channel runtime of this process, and starts it again."""
    stopped = []
    for each in list(runtime._RUNTIMES.values()):
        worker = each.worker
        task = worker._task if worker is not None else None
        if worker is not None and task is not None and not task.done():
            loop = task.get_loop()
            asyncio.run_coroutine_threadsafe(worker.stop(), loop).result(10)
            stopped.append((worker, loop))
    try:
        yield
    finally:
        for worker, loop in stopped:
            asyncio.run_coroutine_threadsafe(_start(worker), loop).result(10)


async def _start(worker: OutboxWorker) -> None:
    worker.start()  # on the worker's own loop


@pytest.fixture
def quiet():
    with embedded_workers_quiet():
        yield


@pytest.fixture(scope="module")
def own_standin():
    handle = start_standin(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    yield handle
    handle.stop()


@pytest.fixture
def api(own_standin: StandinHandle) -> StandinHandle:
    """The module's own stand-in, reset for the test."""
    own_standin.reset()
    return own_standin


def settings_for(standin: StandinHandle, **overrides: object) -> TwilioSettings:
    settings = TwilioSettings(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        whatsapp_from="whatsapp:+14155238886",
        sms_from=SMS_FROM,
        public_base_url="http://127.0.0.1:9",
        api_base=standin.url,
        send_timeout=1.0,
        send_attempts=2,
        backoff_base=0.05,
        backoff_max=0.2,
        outbox_interval=0.2,
        status_callbacks=False,
    )
    return replace(settings, **overrides)  # type: ignore[arg-type]


def queue(
    phone: str, body: str, *, medium: str = "sms", in_reply_to: str | None = None, proactive: bool = False
) -> int:
    """An entry due now, as a reply (or notice) waiting in the outbox; returns its message's id."""
    message = outbound.Outgoing(medium, phone, phone, body, in_reply_to=in_reply_to, proactive=proactive)
    with session_scope() as session:
        return outbound.record_outbound(
            session, message, SendResult(False, 0, error="queued", retryable=True)
        )


def message(outbound_id: int) -> OutboundMessage:
    with session_scope() as session:
        return session.get(OutboundMessage, outbound_id)


def entry(outbound_id: int) -> OutboxEntry:
    with session_scope() as session:
        return session.execute(select(OutboxEntry).where(OutboxEntry.outbound_id == outbound_id)).scalar_one()


def pending() -> int:
    with session_scope() as session:
        return outbound.pending_outbox_count(session)


async def _drain(sender: TwilioSender, timeout: float, on_sent: OnSent) -> list[dispatch.Sent]:
    results: list[dispatch.Sent] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            results += await dispatch.run_round(sender, on_sent=on_sent)
            if pending() == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        await sender.close()
    return results


def drain(sender: TwilioSender, timeout: float = 15, on_sent: OnSent = None) -> list[dispatch.Sent]:
    """Rounds of the outbox until it is empty (or ``timeout``); what became of each try."""
    return asyncio.run(_drain(sender, timeout, on_sent))


def one_round(sender: TwilioSender) -> list[dispatch.Sent]:
    async def go() -> list[dispatch.Sent]:
        try:
            return await dispatch.run_round(sender)
        finally:
            await sender.close()

    return asyncio.run(go())
