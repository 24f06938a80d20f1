"""One action per thing the assistant does. The work happens in bot.assistant.conversation;
these classes only translate between Rasa's tracker and our Turn/Reply."""
from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.assistant.conversation import respond
from bot.assistant.turn import SLOT_AWAITING, SLOT_FALLBACKS, SLOT_FARMER, SLOT_OPTIONS, SLOT_PENDING, Turn
from bot.phones import try_normalize_phone

REMEMBERED_SLOTS = (SLOT_OPTIONS, SLOT_AWAITING, SLOT_PENDING, SLOT_FARMER, SLOT_FALLBACKS)


def turn_from_tracker(tracker: Tracker) -> Turn:
    message = tracker.latest_message or {}
    entities: dict[str, list[str]] = {}
    for entity in message.get("entities") or []:
        entities.setdefault(entity["entity"], []).append(str(entity.get("value")))
    return Turn(
        conversation_id=tracker.sender_id,
        phone=try_normalize_phone(tracker.sender_id),
        text=message.get("text") or "",
        intent=(message.get("intent") or {}).get("name"),
        entities=entities,
        slots={name: tracker.get_slot(name) for name in REMEMBERED_SLOTS},
        metadata=message.get("metadata") or {},
    )


class AssistantAction(Action):
    """Runs one handler of bot.assistant for the latest message."""

    key = ""
    action_name = ""

    def name(self) -> str:
        return self.action_name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        turn = turn_from_tracker(tracker)
        reply = await asyncio.to_thread(respond, self.key, turn)  # database work off the loop
        for text in reply.texts():
            dispatcher.utter_message(text=text)
        return [SlotSet(name, value) for name, value in reply.slot_values().items()]


class ActionGreet(AssistantAction):
    key, action_name = "greet", "action_greet"


class ActionGoodbye(AssistantAction):
    key, action_name = "goodbye", "action_goodbye"


class ActionThank(AssistantAction):
    key, action_name = "thank", "action_thank"


class ActionAffirm(AssistantAction):
    key, action_name = "affirm", "action_affirm"


class ActionDeny(AssistantAction):
    key, action_name = "deny", "action_deny"


class ActionHelp(AssistantAction):
    key, action_name = "help", "action_help"


class ActionNumber(AssistantAction):
    key, action_name = "number", "action_number"


class ActionPaymentStatus(AssistantAction):
    key, action_name = "payments", "action_payment_status"


class ActionTrainings(AssistantAction):
    key, action_name = "trainings", "action_trainings"


class ActionEnrollTraining(AssistantAction):
    key, action_name = "enrol", "action_enroll_training"


class ActionCancelEnrollment(AssistantAction):
    key, action_name = "cancel_enrolment", "action_cancel_enrollment"


class ActionQualityStandard(AssistantAction):
    key, action_name = "quality", "action_quality_standard"


class ActionAvocadoSize(AssistantAction):
    key, action_name = "size", "action_avocado_size"


class ActionRequestHuman(AssistantAction):
    key, action_name = "human", "action_request_human"


class ActionMediaReply(AssistantAction):
    """A voice note, photo, video or document, or a message saying one is coming."""

    key, action_name = "media", "action_media_reply"


class ActionOutOfScope(AssistantAction):
    key, action_name = "out_of_scope", "action_out_of_scope"


class ActionBotChallenge(AssistantAction):
    key, action_name = "bot_challenge", "action_bot_challenge"


class ActionClarify(AssistantAction):
    """Low NLU confidence: ask with the menu instead of guessing."""

    key, action_name = "fallback", "action_clarify"
