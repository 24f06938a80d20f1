"""Each list of words the messaging tables use, defined once, with the Spanish label staff read.

Outbound statuses are ours ("pending", "outbox", "uncertain", "skipped_opt_out") and then Twilio's
own, each with its rank in the order a message moves through them: a late status callback never
moves a message backwards (e.g. "sent" arriving after "delivered")."""

from __future__ import annotations

from typing import NamedTuple


class DeliveryStatus(NamedTuple):
    rank: int
    label: str


OUTBOUND_STATUSES: dict[str, DeliveryStatus] = {
    "pending": DeliveryStatus(0, "enviando"),
    "outbox": DeliveryStatus(0, "en cola de reintento"),
    # Twilio's answer to the send was lost: it may have the message; looked up before any retry.
    "uncertain": DeliveryStatus(0, "envío sin confirmar"),
    "skipped_opt_out": DeliveryStatus(0, "no enviado (BAJA)"),
    "accepted": DeliveryStatus(1, "aceptado"),
    "scheduled": DeliveryStatus(1, "programado"),
    "queued": DeliveryStatus(2, "en cola"),
    "sending": DeliveryStatus(3, "enviando"),
    "sent": DeliveryStatus(4, "enviado"),
    "delivered": DeliveryStatus(5, "entregado"),
    "partially_delivered": DeliveryStatus(5, "entregado en parte"),
    "read": DeliveryStatus(6, "leído"),
    "undelivered": DeliveryStatus(7, "no entregado"),
    "failed": DeliveryStatus(7, "falló"),
    "canceled": DeliveryStatus(7, "cancelado"),
}
# Statuses that mean the message did not reach the phone.
FAILED_STATUSES: tuple[str, ...] = ("failed", "undelivered")

# "notice": a notice handed to the farmer's conversation (bot/messaging/notices.py), not typed by them.
INBOUND_KINDS: tuple[str, ...] = ("text", "empty", "media", "location", "opt_out", "opt_in", "notice")
INBOUND_STATUSES: tuple[str, ...] = ("received", "processing", "processed", "failed")
OPT_ACTIONS: tuple[str, ...] = ("opt_out", "opt_in")


def rank(status: str | None) -> int:
    """How far a message got; -1 for a status we do not know."""
    known = OUTBOUND_STATUSES.get(status or "")
    return known.rank if known else -1


def moves_forward(current: str | None, new: str) -> bool:
    """Whether a callback's status may replace the current one."""
    return new in OUTBOUND_STATUSES and rank(new) >= max(rank(current), 0)


def delivery_label(status: str) -> str:
    known = OUTBOUND_STATUSES.get(status)
    return known.label if known else status
