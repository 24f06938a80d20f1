"""What of a Twilio message a Rasa turn gets: the metadata, the text a location pin stands for, the
intent of a file sent without text, as one ``UserMessage`` (the channels and the Rasa workers of
the production mode build it here). The form itself is read in bot/messaging/twilio_form.py."""

from __future__ import annotations

from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage

from bot.assistant import intents
from bot.messaging.inbound import NOTICE, Inbound

# A location pin asks for the trainings near it (Rasa reads "/intent" as that intent).
LOCATION_INTENT_TEXT = f"/{intents.ASK_TRAININGS}"
# A file without text has nothing for the NLU to read: it enters the conversation as this intent,
# with the files in the metadata, and the assistant answers it.
MEDIA_INTENT = intents.SEND_MEDIA


def metadata_for(message: Inbound) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "medium": message.medium,
        "message_sid": message.message_sid,
        "profile_name": message.profile_name,
        "wa_id": message.wa_id,
        "num_media": len(message.media),
        "media": list(message.media),
    }
    if message.location:
        metadata["location"] = dict(message.location)
    return metadata


def intent_parse_data(intent: str) -> dict[str, Any]:
    """A message that enters the conversation as an intent, with no text for the NLU."""
    return {
        "text": "",
        "intent": {"name": intent, "confidence": 1.0},
        "intent_ranking": [{"name": intent, "confidence": 1.0}],
        "entities": [],
    }


def _text_of(message: Inbound) -> str:
    """What the NLU reads. Rasa takes a text that starts with "/" as an intent by name: a
    farmer's slashes are dropped, so no typed "/notice" or "/ask_payment_status{...}" skips the
    NLU (or reaches an intent only the channels give)."""
    if message.kind == "location":
        return LOCATION_INTENT_TEXT
    return message.body.lstrip().lstrip("/") if message.body.lstrip().startswith("/") else message.body


def _parse_data(message: Inbound) -> dict[str, Any] | None:
    if message.kind == "media":
        return intent_parse_data(MEDIA_INTENT)
    if message.kind == NOTICE:
        return intent_parse_data(intents.NOTICE)
    return None


def user_message(message: Inbound, output_channel: OutputChannel) -> UserMessage:
    """The farmer's message as Rasa's input: sender_id the normalised phone (WhatsApp and SMS
    share one conversation), message_id the MessageSid."""
    return UserMessage(
        text=_text_of(message),
        output_channel=output_channel,
        sender_id=message.phone,
        input_channel=message.medium,
        message_id=message.message_sid,
        metadata=metadata_for(message),
        parse_data=_parse_data(message),
    )
