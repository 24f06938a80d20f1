"""The farmer's own deliveries: what was delivered, accepted and rejected, and why; after
consent and the same check as payments."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from bot.assistant import identity, intents
from bot.assistant.follow_up import FOLLOW_UP_START
from bot.assistant.knowledge import explain_options
from bot.assistant.standards import product_named
from bot.assistant.turn import SLOT_CONTEXT, Context, Reply
from bot.nlu.dates import month_asked
from bot.records.deliveries import last_rejected_delivery, recent_deliveries
from bot.records.knowledge import explanation_for
from bot.records.schema import Delivery, DeliveryGrade
from bot.records.vocabulary import REJECTION_REASONS
from bot.replies.catalog import render
from bot.replies.spanish import kilos, month_name, short_date
from bot.text import plain
from bot.timeutil import local_today

REJECTION_WORDS = ("rechaz", "regres", "devolv", "devuelv", "por que", "porque", "xq", "malo")


EARLIER_WORDS = ("anterior", "antes", "pasada", "otra entrega", "la otra")
LAST_TIME = re.compile(r"\bultima vez\b|\bla ultima (?:que|q|en que|donde)\b")
LATEST = re.compile(r"\bultim[ao]\b")
SHORT = 5  # words: a question this short, right after a delivery, is about that delivery
SMS_ROOM = 290  # characters of two SMS parts, less room for the channel's joins
GRADE_WORDS = ("extra", "primera", "segunda", "calidad", "calibre", "calibres")


def ask_deliveries(ctx: Context, _arg: str | None = None) -> Reply:
    pending = {"key": intents.ASK_DELIVERIES}
    farmer = identity.checked_farmer(ctx, pending)
    if isinstance(farmer, Reply):
        return farmer
    product = product_named(ctx)
    month = month_asked(ctx.turn.text, local_today(ctx.config.timezone))
    chosen = _asked_about(ctx, farmer.id, product, month)
    if not chosen:
        if month is not None:
            return Reply.say("deliveries_none_in", month=month_name(month[0]))
        return Reply.say("deliveries_none", product=f" de {product}" if product else "")
    said = plain(ctx.turn.text)
    grades = bool(ctx.turn.entity("grade")) or any(w in said for w in GRADE_WORDS)
    reply = _describe(chosen, with_grades=grades, by_calibre="calibre" in said)
    if ctx.turn.medium == "sms" and len(chosen) > 1 and len("\n".join(reply.texts())) > SMS_ROOM:
        reply = _describe(chosen[:1], with_grades=grades, by_calibre="calibre" in said)  # two parts at most
        reply.footer = render("deliveries_one_more", date=short_date(chosen[1].delivered_on))
        reply.remember[SLOT_CONTEXT]["next_id"] = chosen[1].id  # what "la anterior" shows then
    return reply


def _asked_about(
    ctx: Context, farmer_id: int, product: str | None, month: tuple[date, date] | None
) -> list[Delivery]:
    """The deliveries the question is about: the one before the last one shown ("¿y la
    anterior?"), those of a month (the ones with kilos rejected, when it asks about rejections),
    the last one rejected ("¿cuándo fue la última vez que me regresaron?"), the latest ("de mi
    última entrega"), the one just shown ("¿me rechazaron algo?"), the last one rejected for a
    reason it names, the last one with rejected kilos, or the last one."""
    said = plain(ctx.turn.text)
    recent = recent_deliveries(ctx.session, farmer_id, product, limit=20)
    shown = (ctx.turn.slots.get(SLOT_CONTEXT) or {}).get("delivery_id")
    ids = [d.id for d in recent]
    rejection = any(word in said for word in REJECTION_WORDS)
    if shown in ids and any(word in said for word in EARLIER_WORDS):
        context = ctx.turn.slots.get(SLOT_CONTEXT) or {}
        if context.get("next_id") in ids:
            return [recent[ids.index(context["next_id"])]]  # the other one of the month asked about
        oldest = max(ids.index(i) for i in context.get("shown_ids") or [shown] if i in ids)
        return recent[oldest + 1 : oldest + 2]
    if month is not None:
        in_month = [d for d in recent if month[0] <= d.delivered_on <= month[1]]
        rejected = [d for d in in_month if d.kg_rejected]
        return ((rejected if rejection else []) or in_month)[: 1 if LATEST.search(said) else 2]
    if LAST_TIME.search(said) and rejection:
        last = last_rejected_delivery(ctx.session, farmer_id, product)
        return [last] if last is not None else []
    if LATEST.search(said):
        return recent[:1]
    if shown in ids and (FOLLOW_UP_START.match(said) or len(said.split()) <= SHORT):
        return [recent[ids.index(shown)]]  # "¿y me rechazaron algo?" about the one shown
    named = explanation_for(ctx.session, ctx.turn.text)
    if named is not None and named.kind == "rejection":
        return [d for d in recent if any(r.reason == named.code for r in d.rejections)][:1]
    if rejection:
        last = last_rejected_delivery(ctx.session, farmer_id, product)
        return [last] if last is not None else []
    return recent[:1]


def _describe(deliveries: list[Delivery], with_grades: bool = False, by_calibre: bool = False) -> Reply:
    """Each delivery (two at most) in a sentence or two, with the options to explain its reasons."""
    texts, reasons = [], []
    for delivery in deliveries:
        own = list(dict.fromkeys(r.reason for r in delivery.rejections))
        texts.append(_sentence(delivery, own, with_grades, by_calibre))
        reasons += [code for code in own if code not in reasons]
    reply = Reply(
        messages=["\n".join(texts)],
        options=explain_options([(code, REJECTION_REASONS.get(code, code)) for code in reasons]),
    )
    reply.remember[SLOT_CONTEXT] = {
        "skill": intents.ASK_DELIVERIES,
        "reasons": reasons,
        "delivery_id": deliveries[0].id,
        "shown_ids": [d.id for d in deliveries],
        "product": deliveries[0].product,
    }
    return reply


def _sentence(delivery: Delivery, reasons: list[str], with_grades: bool, by_calibre: bool) -> str:
    lines = [
        render(
            "delivery",
            date=short_date(delivery.delivered_on),
            product=delivery.product,
            delivered=kilos(delivery.kg_delivered),
            accepted=kilos(delivery.kg_accepted),
        )
    ]
    if delivery.kg_rejected:
        lines.append(
            render("delivery_rejected", kg=kilos(delivery.kg_rejected), reasons=rejection_reasons(reasons))
        )
    else:
        lines.append(render("delivery_nothing_rejected"))
    calibres = [row for row in delivery.grades if row.calibre]
    if by_calibre and calibres:
        lines.append(render("delivery_calibres", calibres=_calibres(calibres)))
    elif (with_grades or by_calibre) and delivery.grades:
        lines.append(render("delivery_grades", grades=_grades(delivery)))
    return " ".join(lines)


def rejection_reasons(codes: list[str]) -> str:
    """'daño mecánico (golpes) y madurez': the labels of a delivery's rejection reasons."""
    labels = [REJECTION_REASONS.get(code, code) for code in dict.fromkeys(codes)]
    return " y ".join(labels) or REJECTION_REASONS["other"]


def _calibres(rows: list[DeliveryGrade]) -> str:
    """'81 kg de calibre 48, 71 kg de calibre 60': accepted kilos by calibre, the most first."""
    by_calibre: dict[int, Decimal] = {}
    for row in rows:
        by_calibre[row.calibre] = by_calibre.get(row.calibre, Decimal(0)) + Decimal(row.kg)
    ordered = sorted(by_calibre.items(), key=lambda item: -item[1])
    return ", ".join(render("delivery_calibre", kg=kilos(kg), calibre=calibre) for calibre, kg in ordered)


def _grades(delivery: Delivery) -> str:
    """'primera 176 kg, extra 75 kg': accepted kilos by grade, the most first."""
    by_grade: dict[str, Decimal] = {}
    for row in delivery.grades:
        by_grade[row.grade] = by_grade.get(row.grade, Decimal(0)) + Decimal(row.kg)
    ordered = sorted(by_grade.items(), key=lambda item: -item[1])
    return ", ".join(f"{grade} {kilos(kg)}" for grade, kg in ordered)
