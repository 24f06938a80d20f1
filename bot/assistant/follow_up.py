"""Follow-ups: a short message that only makes sense after the previous answer ("¿y el limón?",
"y de primera?", "el de riego", "el primero", "esa factura", "y uno de 250?"), resolved against
what was just said: an option on offer, or the last answer's skill with what it was about."""

from __future__ import annotations

import re
from datetime import date

from bot.assistant import conversation, intents, knowledge, steps
from bot.assistant.choices import pick_option
from bot.assistant.turn import SLOT_CONTEXT, Context, Reply
from bot.nlu.dates import month_asked, year_asked
from bot.nlu.numbers import parse_grams
from bot.records.knowledge import explanation_for
from bot.text import plain

# How a message that follows on from the last answer starts: "¿y …?", "e …", "entonces …".
FOLLOW_UP_START = re.compile(r"^\W*(?:(?:ok|bueno|va|ah|oiga|oye)\W+)?(?:y|e|entonces|osea|o sea)\b")
# "¿Cómo la evito?" after an explanation: what the farmer can do.
HOW = re.compile(
    r"como (?:la |lo |le |las |los )?(?:evito|hago|quito|controlo|prevengo|arreglo|combato)|"
    r"(?:que|q|k) (?:hago|puedo hacer|le hago)|como se (?:evita|quita|controla|previene)|"
    r"como (?:la |lo |las |los )?(?:cuido|protejo)"
)
# "¿Y de dónde sacan ese dato?" after a requirement: its source.
SOURCE = re.compile(r"de donde|fuente|quien (?:lo )?dice|donde (?:lo )?(?:saco|tramito|consigo)")
# "¿por qué?", "¿y por qué?", "¿y eso por qué?", "eso porque"
WHY = re.compile(
    r"^\W*(?:(?:a poco|a+h+|aja|ok|oiga|oye|pero|bueno|entonces|mm+)\W+)*(?:y\W+)?(?:(?:eso|esto)\W+)?"
    r"(?:por ?que|porque|xq|pq|x ?que)\b"
)

# What a follow-up may leave out and the last answer said: carried over unless the message
# names it again.
CARRIED = ("product", "grade", "training_topic", "calibre", "municipality", "state")
PLACE = ("municipality", "state")
THAT_INVOICE = ("esa factura", "esa", "la factura", "esa misma", "la misma")
# "¿y pa cuándo?", "¿de cuánto va a ser?", "¿a qué cuenta llegó?", "¿me pasa la referencia?"
WHEN = ("cuando", "que dia", "fecha", "cuanto", "cuenta", "referencia")
# Words that make "¿por qué …?" a new question, not "why" about the last answer's reasons.
NEW_SUBJECT = re.compile(r"entreg|rechaz|descont|kilo|\bkg\b|factur|pag|calibre|curso|taller")
# "¿Y cuánto pesa uno de esos?" after a calibre: its weight, or whether it is bought.
SIZE_QUESTION = re.compile(r"\bpesa|\bpeso\b|gramos|compra|caja")
# "¿Entonces esa ya no la cobro?" after a held or rejected invoice: what its status means.
NO_LONGER_PAID = re.compile(r"\bya no (?:me |se )?(?:la |lo )?(?:cobro|cobra|pagan|pagaran|van a pagar)\b")
EXPLAINED = ("on_hold", "rejected", "in_review")  # statuses the program explains (status_<status>)
# "El de nutrición de aquí": the farmer's own town, not the last place named.
HERE = re.compile(r"\b(?:aqui|aca|mi pueblo|mi rancho|mi comunidad)\b")


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
    said = plain(ctx.turn.text)
    reasons = context.get("reasons") or []
    if skill == intents.ASK_EXPLANATION and explanation_for(ctx.session, said) is not None:
        return ctx.handlers[intents.ASK_EXPLANATION](ctx, None)  # "¿y la antracnosis?"
    statuses = context.get("statuses") or []
    if reasons and HOW.search(said) and statuses[:1] == ["rejected"]:
        return knowledge.rejected_what_to_do(ctx, reasons[0])  # "¿entonces la vuelvo a hacer?"
    if reasons and (bare_why(said) or HOW.search(said)):
        step = steps.EXPLAIN if bare_why(said) else steps.WHAT_TO_DO  # "¿por qué?", "¿cómo la evito?"
        return ctx.run(steps.with_arg(step, reasons[0]))
    if skill == intents.ASK_QUALITY_STANDARD and SOURCE.search(said) and context.get("grade"):
        return ctx.run(steps.with_arg(steps.QUALITY_DETAIL, f"{context.get('product')}:{context['grade']}"))
    by_calibre = skill != intents.ASK_AVOCADO_SIZE and not re.search(r"\d|cuales", said)
    if context.get("calibre") and by_calibre and SIZE_QUESTION.search(said):
        ctx.turn.entities["calibre"] = [str(context["calibre"])]  # "¿y cuánto pesa uno de esos?"
        return ctx.handlers[intents.ASK_AVOCADO_SIZE](ctx, None)
    folios = context.get("folios") or []
    about_payments = skill in (intents.ASK_PAYMENT_STATUS, intents.ASK_PAYMENT_HISTORY) and folios
    if about_payments and NO_LONGER_PAID.search(said) and statuses and statuses[0] in EXPLAINED:
        return ctx.run(steps.with_arg(steps.EXPLAIN, f"status_{statuses[0]}"))
    latest = re.search(r"\bultim[ao]\b", said) and not any(w in said.split() for w in ("esa", "ese"))
    that_one = any(words in said for words in THAT_INVOICE + WHEN) and not names_a_period(said)
    if about_payments and that_one and not latest and not ctx.turn.entity("invoice_folio"):
        return ctx.handlers[intents.ASK_PAYMENT_STATUS](ctx, folios[0])
    place_named = any(ctx.turn.entity(name) for name in PLACE) or HERE.search(said)
    for name in CARRIED:
        if name in PLACE and place_named:
            continue  # "¿y en Jalisco?": the new place, not the last one's town
        if name == "calibre" and (re.search(r"\d", said) or "cuales" in said):
            continue  # "¿y el 84?", "¿cuáles sí compran?": not the last calibre
        if not ctx.turn.entity(name) and context.get(name):
            ctx.turn.entities[name] = [str(context[name])]
    return ctx.handlers[skill](ctx, None)


def asks_how(text: str) -> bool:
    return HOW.search(plain(text)) is not None


def asks_source(text: str) -> bool:
    return SOURCE.search(plain(text)) is not None


def bare_why(text: str) -> bool:
    """ "¿Y por qué?", "por que?? si iba bien la fruta": why, about what was just said."""
    said = plain(text)
    return WHY.match(said) is not None and not NEW_SUBJECT.search(said) and len(said.split()) <= 8


def names_a_period(text: str) -> bool:
    """ "¿Y cuánto en octubre?", "¿y en el año?": a new question about a period, not that invoice."""
    today = date.today()
    return month_asked(text, today) is not None or year_asked(text, today) is not None
