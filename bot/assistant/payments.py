"""Payment status: the farmer's own invoices only, after consent and the second check."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from decimal import Decimal

from bot.assistant import identity, intents, invoice_refs
from bot.assistant.deliveries import rejection_reasons
from bot.assistant.knowledge import explain_options
from bot.assistant.turn import SLOT_CONTEXT, Context, Reply
from bot.nlu.dates import month_asked, weekday_asked, year_asked
from bot.records.knowledge import faq_by_code, placeholders
from bot.records.payments import (
    invoice_by_folio,
    last_paid_invoice,
    log_payment_access,
    paid_between,
    recent_invoices,
    unpaid_invoices,
)
from bot.records.schema import Farmer, Invoice
from bot.records.vocabulary import HOLD_REASONS, INVOICE_STATUSES
from bot.replies.catalog import render
from bot.replies.spanish import kilos, money, month_name, short_date
from bot.text import plain
from bot.timeutil import local_today

log = logging.getLogger(__name__)

PAYMENT_TIME_FAQ = "payment_time"  # the FAQ entry that says how long payment takes
PAYMENT_DAYS = 7  # the program pays smallholders in about 7 days (shared/domain/facts.md §6)
UNPAID_FIRST = {"on_hold": 0, "rejected": 1, "in_review": 2, "received": 3, "scheduled": 4, "paid": 5}


def folio_in(ctx: Context, given: str | None = None) -> str | None:
    """The folio given, or the one the message names (six digits alone, right after a payments
    answer: "¿y la 570 811?")."""
    bare = invoice_refs.about_payments(ctx.turn.slots.get(SLOT_CONTEXT) or {})
    for text in (given, ctx.turn.entity("invoice_folio"), ctx.turn.text):
        folio = invoice_refs.folio_named(text or "", bare=bare and text == ctx.turn.text)
        if folio:
            return folio
    return None


def payment_status(ctx: Context, folio: str | None = None) -> Reply:
    folio = folio_in(ctx, folio)
    pending = {"key": intents.ASK_PAYMENT_STATUS, "arg": folio}
    farmer = identity.checked_farmer(ctx, pending)
    if isinstance(farmer, Reply):
        return farmer
    return show_payments(ctx, farmer, folio)


def show_payments(ctx: Context, farmer: Farmer, folio: str | None) -> Reply:
    if folio:
        invoice = invoice_by_folio(ctx.session, farmer.id, folio)
        if invoice is None:
            return Reply.say("invoice_not_found", folio=folio)
        invoices = [invoice]
    else:
        recent = recent_invoices(ctx.session, farmer.id, limit=24)
        today, context = local_today(ctx.config.timezone), ctx.turn.slots.get(SLOT_CONTEXT) or {}
        named = invoice_refs.described(ctx.turn.text, recent, today)
        if named == []:  # "la de 9450 pesos": none of the farmer's is
            return Reply.say("invoice_not_described")
        invoices = (
            _most_relevant(named)
            if named
            else invoice_refs.of_delivery(ctx.turn.text, recent, today, context)
            or _most_relevant(recent[:6], weekday_asked(ctx.turn.text))
        )
    if not invoices:
        return Reply.say("no_invoices").then(_payment_time(ctx))
    log_payment_access(ctx.session, ctx.phone, farmer.id, [i.folio for i in invoices])
    log.info("payment status shown: %d invoice(s)", len(invoices))
    lines = [describe(i) for i in invoices]
    brief = folio or ctx.turn.medium == "sms"  # two SMS parts at most
    head = [] if brief else [render("payments_intro")]
    tail = [] if brief else [render("payments_more")] + ([] if farmer.pin_hash else [render("pin_offer")])
    reasons = [i.status_reason_code for i in invoices if i.status_reason_code]
    reasons += [r.reason for i in invoices if i.delivery is not None for r in i.delivery.rejections]
    context = {
        "skill": intents.ASK_PAYMENT_STATUS,
        "folios": [i.folio for i in invoices],
        "statuses": [i.status for i in invoices],
        "reasons": reasons,
    }
    return Reply(
        messages=["\n".join(head + lines + tail)], remember={"farmer_id": farmer.id, SLOT_CONTEXT: context}
    )


ASKS_WHEN = re.compile(r"cuando|cuanto tiempo|en cuanto|dias")


def _payment_time(ctx: Context) -> Reply:
    """ "¿En cuánto me pagan?" with no invoice yet: how long the program takes, from the FAQ."""
    entry = faq_by_code(ctx.session, PAYMENT_TIME_FAQ)
    if entry is None or placeholders(entry.answer) or not ASKS_WHEN.search(plain(ctx.turn.text)):
        return Reply()
    return Reply(messages=[entry.answer])


def _most_relevant(invoices: list[Invoice], weekday: int | None = None) -> list[Invoice]:
    """Up to two: what is still open comes first, then the latest paid one. "¿Qué me depositan
    el viernes?": the unpaid ones expected on that day of the week, when there are any."""
    on_that_day = [i for i in invoices if i.status != "paid" and _expected(i).weekday() == weekday]
    chosen = on_that_day or invoices
    return sorted(chosen, key=lambda i: (UNPAID_FIRST[i.status], -i.issued_on.toordinal()))[:2]


def _expected(invoice: Invoice) -> date:
    return invoice.scheduled_on or invoice.issued_on + timedelta(days=PAYMENT_DAYS)


def describe(invoice: Invoice) -> str:
    expected = _expected(invoice)
    values = {"folio": invoice.folio, "amount": money(invoice.amount_mxn)}
    if invoice.status == "paid":
        text = render("invoice_paid", date=short_date(invoice.paid_on or expected), **values)
        if invoice.bank_reference_last4:
            text += " " + render("bank_reference", ref=invoice.bank_reference_last4)
    elif invoice.status in ("on_hold", "rejected"):
        text = render(f"invoice_{invoice.status}", reason=hold_reason(invoice), **values)
    else:
        text = render(f"invoice_{invoice.status}", date=short_date(expected), **values)
    rejection = _rejection(invoice)
    return f"{text} {rejection}" if rejection else text


def hold_reason(invoice: Invoice) -> str:
    """Why an invoice is held or rejected, in the program's words for its reason code (short and
    the same for everyone); the staff's note when the code says no more than "other"."""
    code = invoice.status_reason_code
    if code and code != "other" and code in HOLD_REASONS:
        return HOLD_REASONS[code]
    return (invoice.status_reason or HOLD_REASONS["other"]).strip().rstrip(".")


def _brief(invoice: Invoice) -> str:
    """ "F-510526 $49,400.00, pago programado, mié 2 dic": an invoice in short, for SMS lists."""
    expected = _expected(invoice)
    return render(
        "invoice_brief",
        folio=invoice.folio,
        amount=money(invoice.amount_mxn),
        status=INVOICE_STATUSES.get(invoice.status, invoice.status),
        date=short_date(expected),
    )


def _rejection(invoice: Invoice) -> str | None:
    delivery = invoice.delivery
    if delivery is None or not delivery.kg_rejected:
        return None
    reasons = rejection_reasons([r.reason for r in delivery.rejections])
    return render("invoice_rejection", kg=kilos(delivery.kg_rejected), reasons=reasons)


# --- payment history ----------------------------------------------------------------------------

PENDING_WORDS = (
    "falta", "pendiente", "debe", "deben", "por cobrar", "no me han", "nunca", "sin pagar",
    "sin pagarse", "sigue sin", "sin cobrar", "no me la pagaron", "no me lo pagaron", "colgad",
    "liquidaron todo", "quedo algo", "facturas detenidas", "facturas retenidas", "atorad",
)  # fmt: skip


def asks_unpaid(text: str) -> bool:
    """Whether a message asks what is still to be paid ("¿quedó algo colgado?")."""
    said = plain(text)
    return any(word in said for word in PENDING_WORDS)


def payment_history(ctx: Context, _arg: str | None = None) -> Reply:
    """The last payment, the payments of a month, or what is still to be paid."""
    pending = {"key": intents.ASK_PAYMENT_HISTORY}
    farmer = identity.checked_farmer(ctx, pending)
    if isinstance(farmer, Reply):
        return farmer
    if weekday_asked(ctx.turn.text) is not None:  # "¿cuánto me depositan el viernes?"
        return show_payments(ctx, farmer, None)
    today = local_today(ctx.config.timezone)
    year = year_asked(ctx.turn.text, today)
    if year is not None:
        return _paid_this_year(ctx, farmer, *year)
    month = month_asked(ctx.turn.text, today)
    if asks_unpaid(ctx.turn.text):  # "la de septiembre nunca me la pagaron": that month's, if there is one
        return _still_unpaid(ctx, farmer, month)
    if month is not None:
        return _paid_in(ctx, farmer, *month)
    return _last_payment(ctx, farmer, _shown_before(ctx))


EARLIER = re.compile(r"\b(?:antes|anterior|pasado|otro)\b")


def _shown_before(ctx: Context) -> list[str]:
    """ "¿Y el de antes?" after a payment: the folios already shown, to go one further back."""
    context = ctx.turn.slots.get(SLOT_CONTEXT) or {}
    if context.get("skill") != intents.ASK_PAYMENT_HISTORY or not EARLIER.search(plain(ctx.turn.text)):
        return []
    return list(context.get("folios") or [])


def _shown(
    ctx: Context, farmer: Farmer, invoices: list[Invoice], reply: Reply, keep: list[str] | None = None
) -> Reply:
    """Logs what was shown and remembers it (with ``keep``, the folios shown before it)."""
    log_payment_access(ctx.session, ctx.phone, farmer.id, [i.folio for i in invoices])
    reasons = [i.status_reason_code for i in invoices if i.status_reason_code]
    reply.remember[SLOT_CONTEXT] = {
        "skill": intents.ASK_PAYMENT_HISTORY,
        "folios": [i.folio for i in invoices] + (keep or []),
        "statuses": [i.status for i in invoices],
        "reasons": reasons,
    }
    reply.remember["farmer_id"] = farmer.id
    return reply


def _last_payment(ctx: Context, farmer: Farmer, shown: list[str]) -> Reply:
    """The latest payment, or the one before those already shown."""
    invoice = last_paid_invoice(ctx.session, farmer.id, skip=shown)
    if invoice is None:
        return Reply.say("history_none_before" if shown else "history_none")
    return _shown(ctx, farmer, [invoice], Reply(messages=[describe(invoice)]), keep=shown)


def _paid_this_year(ctx: Context, farmer: Farmer, first: date, last: date) -> Reply:
    invoices = paid_between(ctx.session, farmer.id, first, last)
    if not invoices:
        return Reply.say("history_year_none", year=first.year)
    total = money(sum((i.amount_mxn for i in invoices), Decimal(0)))
    text = render("history_year", year=first.year, count=len(invoices), total=total)
    return _shown(ctx, farmer, invoices, Reply(messages=[text]))


# "Me da la referencia", "¿a qué cuenta llegó?": each payment with its deposit reference.
REFERENCE = re.compile(r"referencia|a (?:que|q) cuenta|en (?:que|q) cuenta|no lo veo en el banco")


def _paid_in(ctx: Context, farmer: Farmer, first: date, last: date) -> Reply:
    invoices = paid_between(ctx.session, farmer.id, first, last)
    if not invoices:
        return Reply.say("history_month_none", month=month_name(first))
    if REFERENCE.search(plain(ctx.turn.text)):  # "el de octubre no lo veo en el banco"
        latest = invoices[-2:][::-1]
        return _shown(ctx, farmer, latest, Reply(messages=["\n".join(describe(i) for i in latest)]))
    items = [
        render("history_item", folio=i.folio, amount=money(i.amount_mxn), date=short_date(i.paid_on or first))
        for i in invoices[:4]
    ]
    total = money(sum((i.amount_mxn for i in invoices), Decimal(0)))
    text = render(
        "history_month",
        month=month_name(first),
        count=len(invoices),
        lines="; ".join(items),
        total=total,
    )
    return _shown(ctx, farmer, invoices, Reply(messages=[text]))


def _still_unpaid(ctx: Context, farmer: Farmer, month: tuple[date, date] | None = None) -> Reply:
    invoices = unpaid_invoices(ctx.session, farmer.id)
    if month is not None:
        invoices = [i for i in invoices if month[0] <= i.issued_on <= month[1]] or invoices
    if not invoices:
        return Reply.say("history_pending_none")
    sms = ctx.turn.medium == "sms"
    shown = invoices[: 3 if sms else 2]  # two SMS parts at most: short lines by SMS
    lines = "; ".join(_brief(i) for i in shown) if sms else "\n".join(describe(i) for i in shown)
    if len(invoices) > len(shown):
        lines += " " + render("history_more", count=len(invoices) - len(shown))
    reply = Reply.say("history_pending", lines=lines)
    reasons = [
        (i.status_reason_code, HOLD_REASONS.get(i.status_reason_code, ""))
        for i in invoices
        if i.status_reason_code
    ]
    reply.options = explain_options(reasons)
    return _shown(ctx, farmer, shown, reply)
