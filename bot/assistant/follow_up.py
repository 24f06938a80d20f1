"""Follow-ups: a short message that only makes sense after the previous answer ("¿y el limón?",
"y de primera?", "el de riego", "el primero", "esa factura", "y uno de 250?"), resolved against
what was just said: an option on offer, or the last answer's skill with what it was about."""

from __future__ import annotations

import re

from bot.assistant import conversation, intents, steps
from bot.assistant.choices import pick_option
from bot.assistant.turn import SLOT_CONTEXT, Context, Reply
from bot.nlu.numbers import parse_grams
from bot.text import plain

# How a message that follows on from the last answer starts: "¿y …?", "e …", "entonces …".
FOLLOW_UP_START = re.compile(r"^\W*(?:y|e|entonces|osea|o sea)\b")

# What a follow-up may leave out and the last answer said: carried over unless the message
# names it again.
CARRIED = ("product", "grade", "training_topic", "municipality", "state")
THAT_INVOICE = ("esa factura", "esa", "la factura", "esa misma", "la misma")


def follow_up(ctx: Context, _arg: str | None = None) -> Reply:
    chosen = pick_option(ctx.turn.options, ctx.turn.text)
    if chosen is not None:
        return ctx.run(chosen.key)
    context = ctx.turn.slots.get(SLOT_CONTEXT) or {}
    skill = str(context.get("skill") or "")
    if skill not in ctx.handlers:
        if parse_grams(ctx.turn.text) or ctx.turn.entity("weight"):
            return ctx.handlers[intents.ASK_AVOCADO_SIZE](ctx, None)
        return conversation.fallback(ctx)
    reasons = context.get("reasons") or []
    if skill == intents.ASK_EXPLANATION and reasons:  # "¿y cómo le hago?" after an explanation
        return ctx.run(steps.with_arg(steps.WHAT_TO_DO, reasons[0]))
    folios = context.get("folios") or []
    if skill in (intents.ASK_PAYMENT_STATUS, intents.ASK_PAYMENT_HISTORY) and folios:
        said = plain(ctx.turn.text)
        if not ctx.turn.entity("invoice_folio") and any(words in said for words in THAT_INVOICE):
            return ctx.handlers[intents.ASK_PAYMENT_STATUS](ctx, folios[0])
    for name in CARRIED:
        if not ctx.turn.entity(name) and context.get(name):
            ctx.turn.entities[name] = [str(context[name])]
    return ctx.handlers[skill](ctx, None)
