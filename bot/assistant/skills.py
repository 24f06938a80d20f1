"""What the assistant does, in one table, and the entry point for every turn.

Each skill is an intent, the handler that answers it, and the Rasa action that runs the handler
(``action_<intent>``): actions/ generates one Rasa action per skill, and a test checks domain.yml,
the rules and the test stories against this table. Steps are handlers that only a numbered option
or a resumed request reaches (confirming an enrolment, choosing who asks on a shared phone...),
never the NLU. Options and pending requests name a skill by its intent, or a step by its key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.assistant import conversation, intents, payments, standards, steps, trainings
from bot.assistant.turn import Context, Handler, Reply, Turn
from bot.config import settings
from bot.db import session_scope

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Skill:
    intent: str
    handler: Handler

    @property
    def action(self) -> str:
        return intents.action_for(self.intent)


SKILLS: tuple[Skill, ...] = (
    Skill(intents.GREET, conversation.greet),
    Skill(intents.GOODBYE, conversation.fixed("goodbye")),
    Skill(intents.THANK, conversation.fixed("thanks_reply")),
    Skill(intents.AFFIRM, conversation.affirm),
    Skill(intents.DENY, conversation.deny),
    Skill(intents.HELP, conversation.menu),
    Skill(intents.INFORM_NUMBER, conversation.number),
    Skill(intents.ASK_PAYMENT_STATUS, payments.payment_status),
    Skill(intents.ASK_TRAININGS, trainings.list_trainings),
    Skill(intents.ENROL_TRAINING, trainings.ask_enrol),
    Skill(intents.CANCEL_ENROLMENT, trainings.ask_cancel),
    Skill(intents.ASK_QUALITY_STANDARD, standards.quality),
    Skill(intents.ASK_AVOCADO_SIZE, standards.avocado_size),
    Skill(intents.REQUEST_HUMAN, conversation.human),
    Skill(intents.SEND_MEDIA, conversation.media),
    Skill(intents.OUT_OF_SCOPE, conversation.fixed("out_of_scope", with_menu=True)),
    Skill(intents.BOT_CHALLENGE, conversation.fixed("bot_challenge")),
    Skill(intents.NLU_FALLBACK, conversation.fallback),
)

# Reached only from a numbered option or a resumed request; keys as the options name them.
STEPS: dict[str, Handler] = {
    steps.CONSENT_YES: conversation.consent_yes,
    steps.CONSENT_NO: conversation.consent_no,
    steps.FARMER_CHOSEN: conversation.farmer_chosen,
    steps.ENROL_CONFIRMED: trainings.confirm_enrol,
    steps.CANCEL_CONFIRMED: trainings.confirm_cancel,
    steps.QUALITY_DETAIL: standards.quality_detail,
    steps.DISMISS: conversation.fixed("ok"),
}

HANDLERS: dict[str, Handler] = {**{skill.intent: skill.handler for skill in SKILLS}, **STEPS}


def respond(intent: str, turn: Turn) -> Reply:
    """Handles one turn in one unit of work. Any failure becomes a polite reply and a log line,
    never a traceback."""
    try:
        with session_scope() as session:
            ctx = Context(turn=turn, session=session, config=settings(), handlers=HANDLERS)
            if conversation.is_number_reply(turn.text):
                intent = intents.INFORM_NUMBER
            reply = HANDLERS[intent](ctx, None)
        log.info("turn handled: %s -> %d message(s)", intent, len(reply.messages))
        return reply
    except Exception:
        log.exception("turn failed: %s", intent)
        return Reply.say("error")
