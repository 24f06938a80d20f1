"""Payment status: the farmer's own invoices only, after consent and the second check."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from decimal import Decimal

from bot.assistant import identity, intents
from bot.assistant.deliveries import rejection_reasons
from bot.assistant.knowledge import explain_options
from bot.assistant.turn import SLOT_CONTEXT, Context, Reply
from bot.nlu.dates import month_asked
from bot.records.payments import (
    invoice_by_folio,
    last_paid_invoice,
    log_payment_access,
    paid_between,
    recent_invoices,
    unpaid_invoices,
)
from bot.records.schema import Farmer, Invoice
from bot.records.vocabulary import HOLD_REASONS
from bot.replies.catalog import render
from bot.replies.spanish import count_of, kilos, money, month_name, short_date
from bot.text import plain
from bot.timeutil import local_today

log = logging.getLogger(__name__)

PAYMENT_DAYS = 7  # the program pays smallholders in about 7 days (shared/domain/facts.md §6)
FOLIO = re.compile(r"\b[Ff]\s?-?\s?(\d{6})\b|\bfactura\s+(?:no\.?\s*|numero\s*|#\s*)?(\d{6})\b", re.I)
UNPAID_FIRST = {"on_hold": 0, "rejected": 1, "in_review": 2, "received": 3, "scheduled": 4, "paid": 5}


def folio_in(ctx: Context, given: str | None = None) -> str | None:
    for text in (given, ctx.turn.entity("invoice_folio"), ctx.turn.text):
        match = FOLIO.search(text or "")
        if match:
            return f"F-{match.group(1) or match.group(2)}"
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
        invoices = _most_relevant(recent_invoices(ctx.session, farmer.id, limit=6))
    if not invoices:
        return Reply.say("no_invoices")
    log_payment_access(ctx.session, ctx.phone, farmer.id, [i.folio for i in invoices])
    log.info("payment status shown: %d invoice(s)", len(invoices))
    lines = [describe(i) for i in invoices]
    brief = folio or ctx.turn.medium == "sms"  # two SMS parts at most
    head = [] if brief else [render("payments_intro")]
    tail = [] if brief else [render("payments_more")] + ([] if farmer.pin_hash else [render("pin_offer")])
    reasons = [i.status_reason_code for i in invoices if i.status_reason_code]
    reasons += [r.reason for i in invoices if i.delivery is not None for r in i.delivery.rejections]
    context = {"skill": intents.ASK_PAYMENT_STATUS, "folios": [i.folio for i in invoices], "reasons": reasons}
    return Reply(
        messages=["\n".join(head + lines + tail)], remember={"farmer_id": farmer.id, SLOT_CONTEXT: context}
    )


def _most_relevant(invoices: list[Invoice]) -> list[Invoice]:
    """Up to two: what is still open comes first, then the latest paid one."""
    return sorted(invoices, key=lambda i: (UNPAID_FIRST[i.status], -i.issued_on.toordinal()))[:2]


def describe(invoice: Invoice) -> str:
    expected = invoice.scheduled_on or invoice.issued_on + timedelta(days=PAYMENT_DAYS)
    values = {"folio": invoice.folio, "amount": money(invoice.amount_mxn)}
    if invoice.status == "paid":
        text = render("invoice_paid", date=short_date(invoice.paid_on or expected), **values)
        if invoice.bank_reference_last4:
            text += " " + render("bank_reference", ref=invoice.bank_reference_last4)
    elif invoice.status in ("on_hold", "rejected"):
        text = render(f"invoice_{invoice.status}", reason=invoice.status_reason or "-", **values)
    else:
        text = render(f"invoice_{invoice.status}", date=short_date(expected), **values)
    rejection = _rejection(invoice)
    return f"{text} {rejection}" if rejection else text


def _rejection(invoice: Invoice) -> str | None:
    delivery = invoice.delivery
    if delivery is None or not delivery.kg_rejected:
        return None
    reasons = rejection_reasons([r.reason for r in delivery.rejections])
    return render("invoice_rejection", kg=kilos(delivery.kg_rejected), reasons=reasons)


# --- payment history ----------------------------------------------------------------------------

PENDING_WORDS = ("falta", "pendiente", "debe", "deben", "por cobrar", "no me han pagado")


def payment_history(ctx: Context, _arg: str | None = None) -> Reply:
    """The last payment, the payments of a month, or what is still to be paid."""
    pending = {"key": intents.ASK_PAYMENT_HISTORY}
    farmer = identity.checked_farmer(ctx, pending)
    if isinstance(farmer, Reply):
        return farmer
    month = month_asked(ctx.turn.text, local_today(ctx.config.timezone))
    if month is not None:
        return _paid_in(ctx, farmer, *month)
    if any(word in plain(ctx.turn.text) for word in PENDING_WORDS):
        return _still_unpaid(ctx, farmer)
    return _last_payment(ctx, farmer)


def _shown(ctx: Context, farmer: Farmer, invoices: list[Invoice], reply: Reply) -> Reply:
    log_payment_access(ctx.session, ctx.phone, farmer.id, [i.folio for i in invoices])
    reasons = [i.status_reason_code for i in invoices if i.status_reason_code]
    reply.remember[SLOT_CONTEXT] = {
        "skill": intents.ASK_PAYMENT_HISTORY,
        "folios": [i.folio for i in invoices],
        "reasons": reasons,
    }
    reply.remember["farmer_id"] = farmer.id
    return reply


def _last_payment(ctx: Context, farmer: Farmer) -> Reply:
    invoice = last_paid_invoice(ctx.session, farmer.id)
    if invoice is None:
        return Reply.say("history_none")
    return _shown(ctx, farmer, [invoice], Reply(messages=[describe(invoice)]))


def _paid_in(ctx: Context, farmer: Farmer, first: date, last: date) -> Reply:
    invoices = paid_between(ctx.session, farmer.id, first, last)
    if not invoices:
        return Reply.say("history_month_none", month=month_name(first))
    items = [
        render("history_item", folio=i.folio, amount=money(i.amount_mxn), date=short_date(i.paid_on or first))
        for i in invoices[:4]
    ]
    total = money(sum((i.amount_mxn for i in invoices), Decimal(0)))
    text = render(
        "history_month",
        month=month_name(first),
        count=count_of(len(invoices), "factura", "facturas"),
        lines="; ".join(items),
        total=total,
    )
    return _shown(ctx, farmer, invoices, Reply(messages=[text]))


def _still_unpaid(ctx: Context, farmer: Farmer) -> Reply:
    invoices = unpaid_invoices(ctx.session, farmer.id)
    if not invoices:
        return Reply.say("history_pending_none")
    shown = invoices[: 1 if ctx.turn.medium == "sms" else 2]  # two SMS parts at most
    lines = "\n".join(describe(i) for i in shown)
    if len(invoices) > len(shown):
        lines += " " + render(
            "history_more", count=count_of(len(invoices) - len(shown), "factura", "facturas")
        )
    reply = Reply.say("history_pending", lines=lines)
    reasons = [
        (i.status_reason_code, HOLD_REASONS.get(i.status_reason_code, ""))
        for i in invoices
        if i.status_reason_code
    ]
    reply.options = explain_options(reasons)
    return _shown(ctx, farmer, shown, reply)
