"""One Rasa action per skill of the assistant, generated from bot.assistant.skills.SKILLS.

The work happens in bot.assistant; an action only turns Rasa's tracker into a Turn and the Reply
into messages and slot events. rasa_sdk finds the generated classes as subclasses of Action.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.assistant.skills import SKILLS, Skill, respond
from bot.assistant.turn import (
    SLOT_AWAITING,
    SLOT_CONTEXT,
    SLOT_FALLBACKS,
    SLOT_FARMER,
    SLOT_OPTIONS,
    SLOT_PENDING,
    Turn,
)
from bot.phones import try_normalize_phone

REMEMBERED_SLOTS = (SLOT_OPTIONS, SLOT_AWAITING, SLOT_PENDING, SLOT_FARMER, SLOT_FALLBACKS, SLOT_CONTEXT)


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
        ranking=[str(item.get("name")) for item in message.get("intent_ranking") or [] if item.get("name")],
        message_id=message.get("message_id") or None,
    )


async def run_skill(skill: Skill, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """Runs one skill's handler for the latest message."""
    turn = turn_from_tracker(tracker)
    reply = await asyncio.to_thread(respond, skill.intent, turn)  # database work off the loop
    for text in reply.texts():
        dispatcher.utter_message(text=text)
    return [SlotSet(name, value) for name, value in reply.slot_values().items()]


def action_class(skill: Skill) -> type[Action]:
    """A Rasa action class named after the skill (ActionAskTrainings for ask_trainings)."""

    def name(self: Action) -> str:
        return skill.action

    async def run(
        self: Action, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        return await run_skill(skill, dispatcher, tracker)

    class_name = "Action" + "".join(part.capitalize() for part in skill.intent.split("_"))
    return type(
        class_name,
        (Action,),
        {
            "name": name,
            "run": run,
            "skill": skill,
            "__module__": __name__,
            "__doc__": f"Runs {skill.intent}.",
        },
    )


ACTIONS: dict[str, type[Action]] = {skill.action: action_class(skill) for skill in SKILLS}
globals().update({cls.__name__: cls for cls in ACTIONS.values()})
