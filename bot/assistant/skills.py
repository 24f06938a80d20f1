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

from bot.assistant import (
    conversation,
    data_rights,
    deliveries,
    follow_up,
    identity,
    intents,
    knowledge,
    notices,
    payments,
    redelivery,
    routing,
    standards,
    steps,
    trainings,
)
from bot.assistant.turn import SLOT_FARMER, Context, Handler, Reply, Turn
from bot.config import settings
from bot.db import session_scope, watch_writes
from bot.logs import failure

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
    Skill(intents.SET_PIN, identity.ask_new_pin),
    Skill(intents.ASK_DELIVERIES, deliveries.ask_deliveries),
    Skill(intents.ASK_PAYMENT_HISTORY, payments.payment_history),
    Skill(intents.ASK_EXPLANATION, knowledge.ask_explanation),
    Skill(intents.ASK_HOWTO, knowledge.ask_howto),
    Skill(intents.ASK_MY_ENROLMENTS, trainings.my_enrolments),
    Skill(intents.FOLLOW_UP, follow_up.follow_up),
    Skill(intents.SEND_MEDIA, conversation.media),
    Skill(intents.OUT_OF_SCOPE, conversation.out_of_scope),
    Skill(intents.BOT_CHALLENGE, conversation.fixed("bot_challenge")),
    Skill(intents.REVOKE_CONSENT, data_rights.ask_revoke),
    Skill(intents.NOTICE, notices.deliver_notice),
    Skill(intents.NLU_FALLBACK, conversation.fallback),
)

# Reached only from a numbered option or a resumed request; keys as the options name them.
STEPS: dict[str, Handler] = {
    steps.CONSENT_YES: conversation.consent_yes,
    steps.CONSENT_NO: conversation.consent_no,
    steps.FARMER_CHOSEN: conversation.farmer_chosen,
    steps.ENROL_CONFIRMED: trainings.confirm_enrol,
    steps.CANCEL_CONFIRMED: trainings.confirm_cancel,
    steps.ATTENDANCE_CONFIRMED: trainings.confirm_attendance,
    steps.NEWS_YES: trainings.news_yes,
    steps.NEWS_NO: trainings.news_no,
    steps.QUALITY_DETAIL: standards.quality_detail,
    steps.DISMISS: conversation.fixed("ok"),
    steps.EXPLAIN: knowledge.ask_explanation,
    steps.WHAT_TO_DO: knowledge.what_to_do,
    steps.REVOKE_CONFIRMED: data_rights.confirm_revoke,
    steps.MORE: trainings.more_trainings,
    steps.STOP_MESSAGES: conversation.fixed("stop_messages_how"),
    steps.ACCOUNT_NUMBER: conversation.fixed("account_number_not_here"),
    steps.CHECK_WHY: identity.explain_check,
    steps.WHO_WHY: conversation.explain_farmer_choice,
}

HANDLERS: dict[str, Handler] = {**{skill.intent: skill.handler for skill in SKILLS}, **STEPS}


def respond(intent: str, turn: Turn) -> Reply:
    """Handles one turn in one unit of work. A message handled before gets the reply it got then
    and changes nothing again (bot/assistant/redelivery.py). Any failure becomes a polite reply
    and a log line, never a traceback."""
    try:
        with session_scope() as session:
            earlier = redelivery.earlier_reply(session, turn)
            if earlier is not None:
                log.info("turn %s: message handled before, its reply given again", intent)
                return earlier
            wrote = watch_writes(session)
            ctx = Context(turn=turn, session=session, config=settings(), handlers=HANDLERS)
            if intent == intents.NOTICE:  # no words of the farmer's to route or to read a name in
                switched, named = None, None
            else:
                intent = routing.routed(ctx, intent)
                switched = conversation.person_named(ctx)
                named = conversation.farmer_named(ctx)
            reply = named if named is not None else HANDLERS[intent](ctx, None)
            if switched is not None:
                reply.remember.setdefault(SLOT_FARMER, switched)
            redelivery.remember(ctx, reply, wrote)
        log.info("turn handled: %s -> %d message(s)", intent, len(reply.messages))
        return reply
    except Exception as exc:
        # the same message handled by another process at the same moment: its reply, once
        given = redelivery.reply_given(turn)
        if given is not None:
            log.info("turn %s: the same message was handled elsewhere, its reply given", intent)
            return given
        log.error("turn failed: %s: %s", intent, failure(exc))
        log.debug("turn failed: %s", intent, exc_info=exc)
        return Reply.say("error")
