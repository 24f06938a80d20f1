"""A farmer's phone talking to the assistant's logic directly (no Rasa), and the demo phones."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from bot.assistant import intents
from bot.assistant.skills import respond
from bot.assistant.turn import Turn
from bot.db import session_scope
from bot.records.schema import (
    Consent,
    Farmer,
    FarmerPhone,
    HandledMessage,
    HumanRequest,
    PaymentAccessLog,
    PhoneVerification,
)

ROSA, SHARED, ADRIANA, NEW, UNKNOWN = (
    "+524431000001",
    "+524431000002",
    "+522441000003",
    "+526671000004",
    "+524439999999",
)
DEMO_PHONES = (ROSA, SHARED, ADRIANA, NEW, UNKNOWN)


class Phone:
    """Keeps the slots between turns like Rasa does; ``medium`` is what the channel says the
    message came by ("sms", "whatsapp"), as its metadata."""

    def __init__(self, number: str, medium: str | None = None):
        self.number = number
        self.slots: dict = {}
        self.conversation = f"{number}"
        self.metadata = {"medium": medium} if medium else {}
        self.last: tuple = ("", "", None, {}, {})

    def send(self, intent: str, text: str, *, message_id: str | None = None, **entities: str) -> str:
        """One message; ``message_id`` as a channel gives it (Twilio's MessageSid), none by default."""
        self.last = (intent, text, message_id, entities, dict(self.slots))
        return self._turn(intent, text, message_id, entities, dict(self.slots))

    def redeliver(self) -> str:
        """The last message again, with its id, on the conversation as it was before it: what the
        worker's retry does after it took a failed turn back out of the conversation."""
        intent, text, message_id, entities, slots = self.last
        return self._turn(intent, text, message_id, entities, dict(slots))

    def _turn(
        self, intent: str, text: str, message_id: str | None, entities: dict[str, str], slots: dict
    ) -> str:
        turn = Turn(
            conversation_id=self.conversation,
            phone=self.number,
            text=text,
            entities={k: [v] for k, v in entities.items()},
            slots=slots,
            metadata=dict(self.metadata),
            message_id=message_id,
        )
        reply = respond(intent, turn)
        self.slots.update(reply.slot_values())
        return "\n".join(reply.texts())


def accepted(phone: Phone) -> Phone:
    """The phone after greeting and accepting the privacy notice."""
    phone.send(intents.GREET, "hola")
    phone.send(intents.INFORM_NUMBER, "1")
    return phone


def reset_phone(url: str, number: str) -> None:
    """The phone as a new contact: no consent, check, payment view, request or kept reply."""
    with session_scope(url) as s:
        for model in (Consent, PhoneVerification, PaymentAccessLog, HumanRequest, HandledMessage):
            s.execute(delete(model).where(model.phone == number))


def farmer_phone(url: str, folio: str, medium: str | None = None) -> Phone:
    """A seeded farmer's own phone (one no other farmer shares), as a new contact."""
    with session_scope(url) as s:
        owners = func.count(FarmerPhone.farmer_id).over(partition_by=FarmerPhone.phone)
        rows = s.execute(
            select(FarmerPhone.phone, Farmer.folio, owners).join(Farmer, Farmer.id == FarmerPhone.farmer_id)
        ).all()
    number = sorted(phone for phone, owner, count in rows if owner == folio and count == 1)[0]
    reset_phone(url, number)
    return Phone(number, medium)


def checked(phone: Phone, folio: str, intent: str, text: str, **entities: str) -> str:
    """The first question of a farmer never seen, with the privacy notice accepted and the check
    code (the folio's last 4 digits) given: the answer to the question."""
    phone.send(intent, text, **entities)
    phone.send(intents.INFORM_NUMBER, "1")
    return phone.send(intents.INFORM_NUMBER, folio[-4:])
