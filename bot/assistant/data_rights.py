"""The farmer's own say over their data in the conversation: revoking the consent they gave
(LFPDPPP). A revocation is recorded with its time and from then on the phone is treated as one
whose owner declined: no payment answers and no notices by this medium, until consent is given
again ("ACEPTO"). The program's own records (invoices, payments) stay, as the law and the
contract require. Opting out of messages (BAJA) is another thing, handled by the channels."""

from __future__ import annotations

import logging

from bot.assistant import steps
from bot.assistant.identity import consented
from bot.assistant.turn import Context, Option, Reply
from bot.records.consents import revoke

log = logging.getLogger(__name__)


def ask_revoke(ctx: Context, _arg: str | None = None) -> Reply:
    """ "Ya no quiero que usen mis datos": what it means, and a yes or no."""
    if not consented(ctx):
        return Reply.say("revoke_nothing")
    options = [Option.named("revoke", steps.REVOKE_CONFIRMED), Option.named("no", steps.DISMISS)]
    return Reply.say("revoke_confirm", options=options)


def confirm_revoke(ctx: Context, _arg: str | None = None) -> Reply:
    if not consented(ctx):
        return Reply.say("revoke_nothing")
    revoke(ctx.session, ctx.phone)
    log.info("consent revoked in the conversation")
    return Reply.say("revoked")
