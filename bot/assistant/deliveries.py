"""The farmer's own deliveries: what was delivered, accepted and rejected, and why; after
consent and the same check as payments."""

from __future__ import annotations

from decimal import Decimal

from bot.assistant import identity, intents
from bot.assistant.follow_up import FOLLOW_UP_START
from bot.assistant.knowledge import explain_options
from bot.assistant.standards import product_named
from bot.assistant.turn import SLOT_CONTEXT, Context, Reply
from bot.records.deliveries import last_rejected_delivery, recent_deliveries
from bot.records.knowledge import explanation_for
from bot.records.schema import Delivery
from bot.records.vocabulary import REJECTION_REASONS
from bot.replies.catalog import render
from bot.replies.spanish import kilos, short_date
from bot.text import plain

REJECTION_WORDS = ("rechaz", "regres", "devolv", "devuelv", "por que", "porque", "xq", "malo")


EARLIER_WORDS = ("anterior", "antes", "pasada", "otra entrega", "la otra")
GRADE_WORDS = ("extra", "primera", "segunda", "calidad", "calibre", "calibres")


def ask_deliveries(ctx: Context, _arg: str | None = None) -> Reply:
    pending = {"key": intents.ASK_DELIVERIES}
    farmer = identity.checked_farmer(ctx, pending)
    if isinstance(farmer, Reply):
        return farmer
    product = product_named(ctx)
    delivery = _asked_about(ctx, farmer.id, product)
    if delivery is None:
        return Reply.say("deliveries_none", product=f" de {product}" if product else "")
    said = plain(ctx.turn.text)
    return _describe(
        delivery, with_grades=bool(ctx.turn.entity("grade")) or any(w in said for w in GRADE_WORDS)
    )


def _asked_about(ctx: Context, farmer_id: int, product: str | None) -> Delivery | None:
    """The delivery the question is about: the one before the last one shown ("¿y la
    anterior?"), the last one rejected for a reason it names, the last one with rejected kilos,
    or the last one."""
    said = plain(ctx.turn.text)
    recent = recent_deliveries(ctx.session, farmer_id, product, limit=20)
    shown = (ctx.turn.slots.get(SLOT_CONTEXT) or {}).get("delivery_id")
    ids = [d.id for d in recent]
    if shown in ids and any(word in said for word in EARLIER_WORDS):
        return recent[ids.index(shown) + 1] if ids.index(shown) + 1 < len(ids) else None
    if shown in ids and FOLLOW_UP_START.match(said):  # "¿y me rechazaron algo?" about the one shown
        return recent[ids.index(shown)]
    named = explanation_for(ctx.session, ctx.turn.text)
    if named is not None and named.kind == "rejection":
        return next((d for d in recent if any(r.reason == named.code for r in d.rejections)), None)
    if any(word in said for word in REJECTION_WORDS):
        return last_rejected_delivery(ctx.session, farmer_id, product)
    return recent[0] if recent else None


def _describe(delivery: Delivery, with_grades: bool = False) -> Reply:
    lines = [
        render(
            "delivery",
            date=short_date(delivery.delivered_on),
            product=delivery.product,
            delivered=kilos(delivery.kg_delivered),
            accepted=kilos(delivery.kg_accepted),
        )
    ]
    reasons = list(dict.fromkeys(r.reason for r in delivery.rejections))
    if delivery.kg_rejected:
        lines.append(
            render("delivery_rejected", kg=kilos(delivery.kg_rejected), reasons=rejection_reasons(reasons))
        )
    else:
        lines.append(render("delivery_nothing_rejected"))
    if with_grades and delivery.grades:
        lines.append(render("delivery_grades", grades=_grades(delivery)))
    reply = Reply(
        messages=[" ".join(lines)],
        options=explain_options([(code, REJECTION_REASONS.get(code, code)) for code in reasons]),
    )
    reply.remember[SLOT_CONTEXT] = {
        "skill": intents.ASK_DELIVERIES,
        "reasons": reasons,
        "delivery_id": delivery.id,
        "product": delivery.product,
    }
    return reply


def rejection_reasons(codes: list[str]) -> str:
    """'daño mecánico (golpes) y madurez': the labels of a delivery's rejection reasons."""
    labels = [REJECTION_REASONS.get(code, code) for code in dict.fromkeys(codes)]
    return " y ".join(labels) or REJECTION_REASONS["other"]


def _grades(delivery: Delivery) -> str:
    """'primera 176 kg, extra 75 kg': accepted kilos by grade, the most first."""
    by_grade: dict[str, Decimal] = {}
    for row in delivery.grades:
        by_grade[row.grade] = by_grade.get(row.grade, Decimal(0)) + Decimal(row.kg)
    ordered = sorted(by_grade.items(), key=lambda item: -item[1])
    return ", ".join(f"{grade} {kilos(kg)}" for grade, kg in ordered)
