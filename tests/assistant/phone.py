"""A farmer's phone talking to the assistant's logic directly (no Rasa), and the demo phones."""

from __future__ import annotations

from bot.assistant import intents
from bot.assistant.skills import respond
from bot.assistant.turn import Turn

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

    def send(self, intent: str, text: str, **entities: str) -> str:
        turn = Turn(
            conversation_id=self.conversation,
            phone=self.number,
            text=text,
            entities={k: [v] for k, v in entities.items()},
            slots=dict(self.slots),
            metadata=dict(self.metadata),
        )
        reply = respond(intent, turn)
        self.slots.update(reply.slot_values())
        return "\n".join(reply.texts())


def accepted(phone: Phone) -> Phone:
    """The phone after greeting and accepting the privacy notice."""
    phone.send(intents.GREET, "hola")
    phone.send(intents.INFORM_NUMBER, "1")
    return phone
