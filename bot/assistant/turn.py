"""What one turn carries in (Turn) and out (Reply), and the numbered options a farmer picks from."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.assistant import intents
from bot.config import Settings
from bot.replies.catalog import OPTION_LABELS, numbered, render

SLOT_OPTIONS = "offered_options"
SLOT_AWAITING = "awaiting"
SLOT_PENDING = "pending"
SLOT_FARMER = "farmer_id"
SLOT_FALLBACKS = "fallback_count"
# What the last answer was about (its skill, product, invoice, reasons...), for follow-ups.
SLOT_CONTEXT = "context"


@dataclass(frozen=True)
class Option:
    label: str
    key: str  # handler name, optionally ":arg"

    def to_dict(self) -> dict[str, str]:
        return {"label": self.label, "key": self.key}

    @classmethod
    def named(cls, label_key: str, key: str) -> Option:
        return cls(OPTION_LABELS[label_key], key)


MAIN_MENU = (
    Option.named("payments", intents.ASK_PAYMENT_STATUS),
    Option.named("trainings", intents.ASK_TRAININGS),
    Option.named("quality", intents.ASK_QUALITY_STANDARD),
    Option.named("size", intents.ASK_AVOCADO_SIZE),
    Option.named("human", intents.REQUEST_HUMAN),
)


@dataclass
class Turn:
    conversation_id: str
    phone: str | None
    text: str
    intent: str | None = None
    entities: dict[str, list[str]] = field(default_factory=dict)
    slots: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    ranking: list[str] = field(default_factory=list)  # the NLU's intents, most likely first
    # The message's id (Twilio's MessageSid by our channels and the worker, Rasa's uuid by REST
    # and the shell): a redelivered message is answered with its first reply (redelivery.py).
    message_id: str | None = None

    def entity(self, name: str) -> str | None:
        values = self.entities.get(name) or []
        return values[0] if values else None

    @property
    def medium(self) -> str | None:
        """ "sms" or "whatsapp" when the message came through our Twilio channels."""
        return (self.metadata or {}).get("medium")

    @property
    def options(self) -> list[Option]:
        return [Option(o["label"], o["key"]) for o in self.slots.get(SLOT_OPTIONS) or []]


@dataclass
class Reply:
    """Messages for the farmer, the options they can answer with, and what to remember."""

    messages: list[str] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)
    footer: str | None = None  # a line after the numbered options ("Responda MAS para ver más.")
    awaiting: str | None = None
    pending: dict[str, Any] | None = None
    remember: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def say(cls, template: str, options: Iterable[Option] = (), **values: Any) -> Reply:
        return cls(messages=[render(template, **values)], options=list(options))

    def then(self, other: Reply) -> Reply:
        """This reply followed by another; the later one's options and state win."""
        return Reply(
            messages=self.messages + other.messages,
            options=other.options,
            footer=other.footer,
            awaiting=other.awaiting,
            pending=other.pending,
            remember={**self.remember, **other.remember},
        )

    def texts(self) -> list[str]:
        """Messages with the options as one numbered list (and the footer) inside the last message."""
        if not self.options and not self.footer:
            return list(self.messages)
        listing = "\n".join(filter(None, (numbered([o.label for o in self.options]), self.footer)))
        head = self.messages[:-1]
        last = self.messages[-1] if self.messages else ""
        return head + [f"{last}\n{listing}".strip()]

    def to_record(self) -> dict[str, Any]:
        """The reply as JSON values, to give it again as it was (from_record)."""
        return {
            "messages": list(self.messages),
            "options": [o.to_dict() for o in self.options],
            "footer": self.footer,
            "awaiting": self.awaiting,
            "pending": self.pending,
            "remember": dict(self.remember),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Reply:
        return cls(
            messages=list(record.get("messages") or []),
            options=[Option(o["label"], o["key"]) for o in record.get("options") or []],
            footer=record.get("footer"),
            awaiting=record.get("awaiting"),
            pending=record.get("pending"),
            remember=dict(record.get("remember") or {}),
        )

    def slot_values(self) -> dict[str, Any]:
        values = {
            SLOT_OPTIONS: [o.to_dict() for o in self.options] or None,
            SLOT_AWAITING: self.awaiting,
            SLOT_PENDING: self.pending,
            SLOT_FALLBACKS: 0,
        }
        values.update(self.remember)
        return values


Handler = Callable[["Context", "str | None"], Reply]


@dataclass
class Context:
    """One turn's unit of work: the turn, an open database session, the settings, and the
    handlers that numbered options and pending requests name (bot/assistant/skills.py)."""

    turn: Turn
    session: Any
    config: Settings
    handlers: Mapping[str, Handler] = field(default_factory=dict)

    @property
    def phone(self) -> str:
        """The sender's normalised phone. Records are reached only after identify(), which
        answers a sender without a usable number first, so a missing one here is a bug."""
        if self.turn.phone is None:
            raise LookupError("this turn has no usable phone number")
        return self.turn.phone

    def run(self, key: str) -> Reply:
        """Runs what an option names: a handler, optionally with its argument ("name:arg")."""
        name, _, arg = key.partition(":")
        return self.handlers[name](self, arg or None)

    def resume(self, pending: dict[str, Any] | None, fallback: Reply) -> Reply:
        """Runs the request that waited for consent, a choice or the check, with the words it was
        asked in (not the code or the "1" that let it through); else ``fallback``."""
        if not pending or pending.get("key") not in self.handlers:
            return fallback
        if "text" in pending:
            self.turn.text = pending["text"]
            self.turn.entities = {
                name: list(values) for name, values in (pending.get("entities") or {}).items()
            }
        return self.handlers[pending["key"]](self, pending.get("arg"))

    def waiting(self, pending: dict[str, Any]) -> dict[str, Any]:
        """A request put on hold (for consent, a choice or the check) with this turn's words."""
        return {"text": self.turn.text, "entities": self.turn.entities, **pending}
