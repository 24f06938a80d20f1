"""Replies and notices out through Twilio, recorded one by one, never silently dropped.

``deliver`` records the outbound message, sends it with retries, and on final failure puts it in
the outbox. ``OutboxWorker`` retries the outbox every ``outbox_interval`` seconds and at start-up,
and replays inbound messages spooled while the database was down.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import replace
from typing import Awaitable, Callable, Optional

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.db import session_scope
from bot.messaging import records
from bot.messaging.config import spool_path
from bot.messaging.formatting import pack_for_medium, sms_parts
from bot.messaging.records import Outgoing
from bot.messaging.schema import InboundMessage
from bot.messaging.sender import UNSUBSCRIBED_RECIPIENT, SendResult, TwilioSender
from bot.phones import mask_phone
from bot.timeutil import utcnow

logger = logging.getLogger(__name__)


def address_for(phone: str, medium: str) -> str:
    """Twilio's address for a normalised phone: the one the farmer last wrote from, if any."""
    with session_scope() as session:
        known = session.execute(
            select(InboundMessage.from_address)
            .where(InboundMessage.phone == phone, InboundMessage.medium == medium)
            .order_by(InboundMessage.received_at.desc())
            .limit(1)
        ).scalar_one_or_none()
    if known:
        return known
    if medium == "whatsapp":
        # WhatsApp (via Twilio) still shows Mexican mobiles with the old "1" after +52.
        if phone.startswith("+52") and len(phone) == 13:
            return f"whatsapp:+521{phone[3:]}"
        return f"whatsapp:{phone}"
    return phone


async def deliver(sender: TwilioSender, message: Outgoing) -> SendResult:
    """Sends one already-shaped body (or a WhatsApp template), then records what happened in
    one transaction: sent (with Twilio's SID), or in the outbox, or failed for good."""
    if message.medium == "sms" and message.body:
        parts = sms_parts(message.body)
        message = replace(message, sms_parts=parts.parts, encoding=parts.encoding)
    result = await sender.send(
        medium=message.medium, to_address=message.to_address, body=message.body,
        content_sid=message.content_sid, content_variables=message.content_variables,
    )
    retry_in = max(sender.settings.outbox_interval, result.retry_after or 0)
    try:
        await records.run_db(records.record_outbound, message, result, retry_in)
        if result.error_code == str(UNSUBSCRIBED_RECIPIENT):
            await records.run_db(records.record_opt, message.phone, "opt_out", "carrier",
                                 message.medium, "twilio_21610")
    except (SQLAlchemyError, OSError):
        # The database is down: the farmer was answered all the same, unrecorded.
        if result.ok:
            logger.error("database unavailable: reply to %s sent without a record",
                         mask_phone(message.phone))
        else:
            logger.error("reply to %s lost: not sent (%s) and database unavailable",
                         mask_phone(message.phone), result.error)
    return result


async def deliver_turn(
    sender: TwilioSender,
    *,
    medium: str,
    phone: str,
    to_address: str,
    texts: list[str],
    in_reply_to: Optional[str] = None,
) -> list[SendResult]:
    """All the assistant's messages of one turn, shaped for the medium, in order."""
    return [
        await deliver(sender, Outgoing(medium, phone, to_address, body, in_reply_to=in_reply_to))
        for body in pack_for_medium(medium, texts)
    ]


async def send_proactive(
    sender: TwilioSender,
    *,
    phone: str,
    medium: str,
    text: str = "",
    content_sid: Optional[str] = None,
    content_variables: Optional[dict] = None,
) -> list[SendResult]:
    """A notice the farmer did not ask for in this conversation. Nothing is sent to a number
    that opted out (BAJA). Outside WhatsApp's 24-hour window pass an approved template
    (``content_sid`` and its variables) instead of free text."""
    to_address = await records.run_db(address_for, phone, medium)
    template = Outgoing(
        medium, phone, to_address, proactive=True, content_sid=content_sid,
        content_variables=json.dumps(content_variables) if content_variables else None,
    )
    if await records.run_db(records.is_opted_out, phone):
        outbound_id = await records.run_db(records.create_outbound, replace(template, body=text))
        await records.run_db(records.mark_outbound_skipped, outbound_id)
        logger.info("proactive message to %s skipped: opted out", mask_phone(phone))
        return []
    if content_sid:
        return [await deliver(sender, template)]
    return [await deliver(sender, replace(template, body=body))
            for body in pack_for_medium(medium, [text])]


class OutboxWorker:
    """Retries the outbox every ``outbox_interval`` seconds (and at once at start-up)."""

    def __init__(
        self,
        sender: TwilioSender,
        replay_inbound: Optional[Callable[[records.Inbound], Awaitable[None]]] = None,
    ):
        self.sender = sender
        self.settings = sender.settings
        self.replay_inbound = replay_inbound
        self._task: Optional[asyncio.Task] = None
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
            except Exception:  # a database outage must not kill the worker
                logger.exception("outbox round failed")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.outbox_interval)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()

    async def run_once(self, startup: bool = False) -> int:
        """One round; returns how many outbox entries were sent."""
        await self._replay_spool()
        if startup and self.replay_inbound is not None:
            unfinished = await records.run_db(records.unfinished_inbound, 60, 6, 2)
            for message in unfinished:
                logger.warning("answering message %s left unanswered by a restart",
                               message.message_sid)
                await self.replay_inbound(message)
        sent = 0
        lock = int(self.settings.send_attempts * (self.settings.send_timeout + self.settings.backoff_max)) + 60
        for item in await records.run_db(records.claim_due_outbox, 50, lock):
            age_hours = (utcnow() - item.created_at).total_seconds() / 3600
            result = await self.sender.send(
                medium=item.medium, to_address=item.to_address, body=item.body,
                content_sid=item.content_sid, content_variables=item.content_variables,
                attempts=2,
            )
            if result.ok:
                await records.run_db(
                    records.mark_outbound_sent, item.outbound_id, result.sid, result.status,
                    result.attempts,
                )
                sent += 1
                continue
            give_up = not result.retryable or age_hours >= self.settings.outbox_max_age_hours
            delay = min(3600.0, self.settings.outbox_interval * 2 ** min(item.attempts, 8))
            delay = max(delay * random.uniform(0.9, 1.1), result.retry_after or 0)
            await records.run_db(
                records.reschedule_outbox, item.outbox_id, result.error, delay, give_up
            )
            if give_up:
                logger.error("outbox message %d given up: %s", item.outbound_id, result.error)
            if result.retryable:
                break  # Twilio is still unreachable: wait for the next round
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
                message = records.Inbound.from_json(line)
                await records.run_db(records.store_inbound, message)
                await records.run_db(records.mark_inbound, message.message_sid, "processed")
            except Exception:
                kept.append(line)
        if kept:
            with path.open("a", encoding="utf-8") as handle:
                handle.write("\n".join(kept) + "\n")
        replaying.unlink()
        if len(lines) - len(kept):
            logger.info("%d spooled inbound messages stored", len(lines) - len(kept))
