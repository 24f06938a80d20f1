"""Payment status: the farmer's own invoices only, after consent and the second check."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from bot.assistant import identity, intents
from bot.assistant.turn import Context, Reply
from bot.records.payments import invoice_by_folio, log_payment_access, recent_invoices
from bot.records.schema import Farmer, Invoice
from bot.records.vocabulary import REJECTION_REASONS
from bot.replies.catalog import render
from bot.replies.spanish import kilos, money, short_date

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
    farmer = identity.identify(ctx, pending)
    if isinstance(farmer, Reply):
        return farmer
    blocked = identity.require_check(ctx, farmer, pending)
    if blocked is not None:
        return blocked
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
    tail = [] if brief else [render("payments_more")]
    return Reply(messages=["\n".join(head + lines + tail)], remember={"farmer_id": farmer.id})


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
    reasons = [REJECTION_REASONS.get(r.reason, r.reason) for r in delivery.rejections]
    joined = " y ".join(dict.fromkeys(reasons)) or REJECTION_REASONS["other"]
    return render("invoice_rejection", kg=kilos(delivery.kg_rejected), reasons=joined)
