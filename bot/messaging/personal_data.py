"""A farmer's messages, for an ARCO request: what their numbers sent and were sent (with Twilio's
status callbacks and their BAJA / ALTA history), and, for a cancellation, the same erased:
bodies, media references, locations, raw webhook parameters, WhatsApp profile names and the error
texts of sends. The rows stay (counts, dates and statuses say nothing of the person); a number no other
farmer keeps is replaced by the cancelled farmer's token. Each function takes the caller's
Session; the caller owns the unit of work."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.messaging.schema import (
    FarmerSequence,
    InboundMessage,
    MessageStatusEvent,
    OptOutEvent,
    OutboundMessage,
    OutboxEntry,
)
from bot.records.personal_data import Row, as_row


def _parsed(row: Row, *columns: str) -> Row:
    """JSON kept as text (media, the webhook's parameters), read back for the export."""
    for column in columns:
        value = row.get(column)
        if isinstance(value, str) and value:
            try:
                row[column] = json.loads(value)
            except ValueError:
                pass
    return row


def messages_of(session: Session, phones: Collection[str]) -> dict[str, list[Row]]:
    """Everything the messaging tables hold for these numbers, oldest first."""
    wanted = list(phones)
    inbound = [
        _parsed(as_row(m), "media_json", "raw_params")
        for m in session.execute(
            select(InboundMessage)
            .where(InboundMessage.phone.in_(wanted))
            .order_by(InboundMessage.received_at, InboundMessage.id)
        ).scalars()
    ]
    outbound = list(
        session.execute(
            select(OutboundMessage)
            .where(OutboundMessage.phone.in_(wanted))
            .order_by(OutboundMessage.created_at, OutboundMessage.id)
        ).scalars()
    )
    events = session.execute(
        select(MessageStatusEvent)
        .where(MessageStatusEvent.outbound_id.in_([m.id for m in outbound]))
        .order_by(MessageStatusEvent.received_at, MessageStatusEvent.id)
    ).scalars()
    opt_outs = session.execute(
        select(OptOutEvent).where(OptOutEvent.phone.in_(wanted)).order_by(OptOutEvent.recorded_at)
    ).scalars()
    return {
        "inbound_messages": inbound,
        "outbound_messages": [as_row(m) for m in outbound],
        "message_status_events": [as_row(e) for e in events],
        "opt_out_events": [as_row(e) for e in opt_outs],
    }


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def erase_messages(
    session: Session, phones: Collection[str], own_phones: Collection[str], token: str
) -> dict[str, int]:
    """Erases what the numbers' messages said (every number: a shared phone's messages cannot be
    told apart), and replaces the numbers no other farmer keeps by ``token``."""
    phones, own = list(phones), list(own_phones)
    sync = {"synchronize_session": False}
    counts = {
        "inbound_messages": _count(
            session.execute(
                update(InboundMessage)
                .where(InboundMessage.phone.in_(phones))
                .values(
                    body="",
                    profile_name=None,
                    wa_id=None,
                    media_json=None,
                    latitude=None,
                    longitude=None,
                    location_label=None,
                    raw_params=None,
                )
                .execution_options(**sync)
            )
        ),
        "outbound_messages": _count(
            session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.phone.in_(phones))
                .values(body="", content_variables=None, error=None)
                .execution_options(**sync)
            )
        ),
    }
    sent = select(OutboundMessage.id).where(OutboundMessage.phone.in_(phones)).scalar_subquery()
    counts["outbox"] = _count(
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.outbound_id.in_(sent))
            .values(last_error=None)
            .execution_options(**sync)
        )
    )
    # a renamed message leaves its phone's sequence (several numbers may become one token)
    session.execute(
        update(InboundMessage)
        .where(InboundMessage.phone.in_(own))
        .values(phone=token, from_address=token, farmer_seq=None)
        .execution_options(**sync)
    )
    session.execute(delete(FarmerSequence).where(FarmerSequence.phone.in_(own)).execution_options(**sync))
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.phone.in_(own))
        .values(phone=token, to_address=token)
        .execution_options(**sync)
    )
    counts["opt_out_events"] = _count(
        session.execute(
            update(OptOutEvent)
            .where(OptOutEvent.phone.in_(own))
            .values(phone=token)
            .execution_options(**sync)
        )
    )
    session.flush()
    return counts
