"""A notice in the farmer's conversation (issue 14): the scheduler released it into the farmer's
stream of messages (bot/messaging/notices.py), and its turn says it, so what follows ("¿por
qué?", "PAGOS", "BAJA") is answered knowing what was just said. A notice never carries an amount:
the check still guards the detail."""

from __future__ import annotations

import logging

from bot.assistant import intents
from bot.assistant.turn import SLOT_CONTEXT, Context, Reply
from bot.records import notices
from bot.replies.notices import payment_notice

log = logging.getLogger(__name__)


def deliver_notice(ctx: Context, _arg: str | None = None) -> Reply:
    notice_id = notices.notice_id_in(ctx.turn.message_id)
    notice = notices.notice_by_id(ctx.session, notice_id) if notice_id is not None else None
    if notice is None or notice.phone != ctx.turn.phone:
        # only the scheduler gives this intent, with its own notice's id: anything else says nothing
        log.warning("notice turn without its notice (message %s)", ctx.turn.message_id)
        return Reply()
    facts = notices.variables_of(notice)
    code = facts.get("reason_code")
    text = payment_notice(facts, notices.reason_of(facts), notices.what_to_do_of(ctx.session, facts))
    context = {
        "skill": intents.ASK_PAYMENT_STATUS,
        "folios": [facts.get("folio")],
        "reasons": [code] if code else [],
    }
    log.info("notice %d said in the conversation", notice.id)
    return Reply(messages=[text], remember={SLOT_CONTEXT: context})
