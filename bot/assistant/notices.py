"""A notice in the farmer's conversation (issue 14): the scheduler released it into the farmer's
stream of messages (bot/messaging/notices.py), and its turn says it, so what follows is answered
knowing what was just said: after a payment notice "¿por qué?" and "PAGOS"; after a reminder or
a moved session "1" (or "sí") confirms the farmer will go; after news of a new session "1" asks
to confirm the enrolment; after a broadcast, whatever the farmer asks next; "BAJA" always. A notice never carries
an amount: the check still guards the detail."""

from __future__ import annotations

import logging

from bot.assistant import intents, steps
from bot.assistant.turn import SLOT_CONTEXT, SLOT_OPTIONS, Context, Option, Reply
from bot.records import notices
from bot.records.notice_schema import Notice
from bot.replies.notices import broadcast_notice, payment_notice, training_notice

log = logging.getLogger(__name__)
# What a farmer answers to a reminder or a moved session with "1": they will go.
ATTENDING = "Sí voy"
# ... and to news of a new session: enrol (asked to confirm, as any enrolment).
ENROLLING = "Inscribirme"


def deliver_notice(ctx: Context, _arg: str | None = None) -> Reply:
    notice_id = notices.notice_id_in(ctx.turn.message_id)
    notice = notices.notice_by_id(ctx.session, notice_id) if notice_id is not None else None
    if notice is None or notice.phone != ctx.turn.phone:
        # only the scheduler gives this intent, with its own notice's id: anything else says nothing
        log.warning("notice turn without its notice (message %s)", ctx.turn.message_id)
        return Reply()
    log.info("notice %d said in the conversation", notice.id)
    if notice.kind == "payment":
        return _payment(ctx, notice)
    if notice.kind == "broadcast":
        return Reply(messages=[broadcast_notice(notices.variables_of(notice))])
    return _training(notice)


def _payment(ctx: Context, notice: Notice) -> Reply:
    facts = notices.variables_of(notice)
    code = facts.get("reason_code")
    text = payment_notice(facts, notices.reason_of(facts), notices.what_to_do_of(ctx.session, facts))
    context = {
        "skill": intents.ASK_PAYMENT_STATUS,
        "folios": [facts.get("folio")],
        "reasons": [code] if code else [],
    }
    return Reply(messages=[text], remember={SLOT_CONTEXT: context})


def _training(notice: Notice) -> Reply:
    """The sentence says "Responda 1 para confirmar que va" itself (a WhatsApp template carries
    no list), so the option is remembered, not listed again."""
    facts = notices.variables_of(notice)
    text = training_notice(notice.kind, facts)
    if notice.kind == "training_cancelled":
        return Reply(messages=[text])
    if notice.kind == "training_new":
        enrol = Option(ENROLLING, steps.with_arg(intents.ENROL_TRAINING, facts["training_id"]))
        return Reply(messages=[text], remember={SLOT_OPTIONS: [enrol.to_dict()]})
    attending = Option(
        ATTENDING, steps.with_arg(steps.ATTENDANCE_CONFIRMED, f"{facts['training_id']}:{notice.farmer_id}")
    )
    return Reply(messages=[text], remember={SLOT_OPTIONS: [attending.to_dict()]})
