"""Replies and notices out through Twilio, recorded one by one, never silently dropped.

``deliver`` records the outbound message, sends it with retries, and on final failure puts it in
the outbox (uncertain when Twilio's answer was lost). ``OutboxWorker`` sends the outbox every
``outbox_interval`` seconds and at start-up, through the same claim / send / record path as the
sender processes of production mode (dispatch.py), and replays inbound messages spooled while the
database was down.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.logs import failure
from bot.messaging import dispatch, inbound, optout, outbound
from bot.messaging.config import spool_path
from bot.messaging.formatting import pack_for_medium, sms_parts
from bot.messaging.inbound import Inbound
from bot.messaging.outbound import Outgoing
from bot.messaging.sender import UNSUBSCRIBED_RECIPIENT, SendResult, TwilioSender, message_ref
from bot.messaging.work import in_session
from bot.phones import mask_phone, twilio_address

logger = logging.getLogger(__name__)


def address_for(session: Session, phone: str, medium: str) -> str:
    """Twilio's address for a normalised phone: the one the farmer last wrote from, if any."""
    return inbound.last_from_address(session, phone, medium) or twilio_address(phone, medium)


def _record_send(session: Session, message: Outgoing, result: SendResult, retry_in: float) -> None:
    """What became of one send; a number the carrier reports unsubscribed (21610) is recorded
    as opted out in the same unit of work."""
    outbound.record_outbound(session, message, result, retry_in)
    if result.error_code == str(UNSUBSCRIBED_RECIPIENT):
        optout.record_opt(session, message.phone, "opt_out", "carrier", message.medium, "twilio_21610")


async def deliver(sender: TwilioSender, message: Outgoing) -> SendResult:
    """Sends one already-shaped body (or a WhatsApp template), then records what happened in
    one transaction: sent (with Twilio's SID), or in the outbox, or failed for good."""
    if message.medium == "sms" and message.body:
        parts = sms_parts(message.body)
        message = replace(message, sms_parts=parts.parts, encoding=parts.encoding)
    result = await sender.send_message(message)
    retry_in = max(sender.settings.outbox_interval, result.retry_after or 0)
    try:
        await in_session(_record_send, message, result, retry_in)
    except (SQLAlchemyError, OSError):
        # The database is down: the farmer was answered all the same, unrecorded.
        who = message_ref(message.phone, message.in_reply_to)
        if result.ok:
            logger.error("database unavailable: reply to %s sent as %s without a record", who, result.sid)
        else:
            logger.error("reply to %s lost: not sent (%s) and database unavailable", who, result.error)
    return result


async def deliver_turn(
    sender: TwilioSender,
    *,
    medium: str,
    phone: str,
    to_address: str,
    texts: list[str],
    in_reply_to: str | None = None,
) -> list[SendResult]:
    """All the assistant's messages of one turn, shaped for the medium, in order."""
    return [
        await deliver(sender, Outgoing(medium, phone, to_address, body, in_reply_to=in_reply_to))
        for body in pack_for_medium(medium, texts)
    ]


def _proactive_recipient(session: Session, phone: str, medium: str) -> tuple[str, bool]:
    """Where a notice to this phone goes, and whether the number opted out."""
    return address_for(session, phone, medium), optout.is_opted_out(session, phone)


async def send_proactive(
    sender: TwilioSender,
    *,
    phone: str,
    medium: str,
    text: str = "",
    content_sid: str | None = None,
    content_variables: dict | None = None,
) -> list[SendResult]:
    """A notice the farmer did not ask for in this conversation. Nothing is sent to a number
    that opted out (BAJA). Outside WhatsApp's 24-hour window pass an approved template
    (``content_sid`` and its variables) instead of free text."""
    to_address, opted_out = await in_session(_proactive_recipient, phone, medium)
    template = Outgoing(
        medium,
        phone,
        to_address,
        proactive=True,
        content_sid=content_sid,
        content_variables=json.dumps(content_variables) if content_variables else None,
    )
    if opted_out:
        await in_session(outbound.record_skipped_opt_out, replace(template, body=text))
        logger.info("proactive message to %s skipped: opted out", mask_phone(phone))
        return []
    if content_sid:
        return [await deliver(sender, template)]
    return [await deliver(sender, replace(template, body=body)) for body in pack_for_medium(medium, [text])]


def _store_spooled(session: Session, message: Inbound) -> None:
    """A message spooled while the database was down: stored (unless a Twilio retry of it
    already was) as processed: its turn ran when it came."""
    inbound.store_inbound(session, message)
    inbound.mark_inbound(session, message.message_sid, "processed")


class OutboxWorker:
    """Retries the outbox every ``outbox_interval`` seconds (and at once at start-up)."""

    def __init__(
        self,
        sender: TwilioSender,
        replay_inbound: Callable[[Inbound], Awaitable[None]] | None = None,
    ):
        self.sender = sender
        self.settings = sender.settings
        self.replay_inbound = replay_inbound
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        first = True
        while True:
            try:
                await self.run_once(startup=first)
                first = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a database outage must not kill the worker
                logger.error("outbox round failed: %s", failure(exc))
                logger.debug("outbox round failed", exc_info=exc)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.outbox_interval)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()

    async def run_once(self, startup: bool = False) -> int:
        """One round; returns how many outbox entries were sent."""
        await self._replay_spool()
        if startup and self.replay_inbound is not None:
            unfinished = await in_session(inbound.unfinished_inbound, 60, 6, 2)
            for message in unfinished:
                logger.warning("answering message %s left unanswered by a restart", message.message_sid)
                await self.replay_inbound(message)
        results = await dispatch.run_round(self.sender)
        sent = sum(r.outcome in (dispatch.Outcome.SENT, dispatch.Outcome.RECONCILED) for r in results)
        if sent:
            logger.info("outbox: %d messages sent", sent)
        return sent

    async def _replay_spool(self) -> None:
        path = spool_path(self.settings)
        if not path.exists() or path.stat().st_size == 0:
            return
        replaying = path.with_suffix(".replaying")
        if not replaying.exists():
            path.rename(replaying)
        lines = replaying.read_text(encoding="utf-8").splitlines()
        kept = []
        for line in lines:
            if not line.strip():
                continue
            try:
                await in_session(_store_spooled, Inbound.from_json(line))
            except Exception:
                kept.append(line)
        if kept:
            with path.open("a", encoding="utf-8") as handle:
                handle.write("\n".join(kept) + "\n")
        replaying.unlink()
        if len(lines) - len(kept):
            logger.info("%d spooled inbound messages stored", len(lines) - len(kept))
