"""Which of the farmer's own invoices a message means when it gives no F-folio as printed: the
folio typed with spaces or after "folio" ("la f 425 493", "folio 671253"; right after a payments
answer, a bare "¿y la 570 811?"), its amount ("la de 9450 pesos", "la de 64 mil"), the kilos of
its delivery ("la de 1900 kilos"), the month, the status or reason it was told ("la rechazada",
"la que estaba repetida"), or the delivery it was for ("lo que entregué la semana pasada", "esa
última"). Only ever among the invoices of the farmer already checked (bot/assistant/payments.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from bot.assistant import intents
from bot.nlu.dates import month_asked
from bot.records.schema import Invoice
from bot.text import plain

_NUMBER = r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?"
# "F-425493", "f 425 493", "folio 671253", "factura no. 671253"
FOLIO_NAMED = re.compile(
    r"\b(?:f|folio|factura)\s?-?\s?(?:no\.?\s?|numero\s?|#\s?)?(\d{3}) ?(\d{3})\b(?! ?\d)"
)
# "¿y la 570 811?" after a payments answer: six digits, not a weight, an amount, a longer number
# or the farmer's own folio of the program (PP-545740)
BARE_FOLIO = re.compile(
    r"(?<![\d$.,])(?<!pp)(?<!pp-)(?<!pp )\b(\d{3}) ?(\d{3})\b(?![.,]?\d| ?\d)(?!\s*(?:g\b|gr|gramos|kg|kilo|pesos|mil|mxn))"
)
# "la de 9450 pesos", "una de 64 mil", "la factura de $12,935.20": an invoice by its amount
AMOUNT = re.compile(
    rf"\b(?:la|una|esa|factura|pago|deposito) (?:de|por) (?:\$ ?{_NUMBER}( mil)?|{_NUMBER} ?(pesos|mil|mxn))"
)
KILOS = re.compile(rf"\b(?:la|una|esa|entrega) (?:de|por) {_NUMBER} ?(?:kg|kgs|kilos)\b")
# The status or reason a farmer was told, as they repeat it.
STATUS_WORDS = (
    ("rejected", re.compile(r"rechaz(?!.*(?:kilo|\bkg\b|fruta))")),  # an invoice, not kilos
    ("on_hold", re.compile(r"retenid|detenid|atorad")),
    ("in_review", re.compile(r"en revision")),
)
REASON_WORDS = (("duplicate_invoice", re.compile(r"repetid|duplicad|dos veces")),)
# "lo que entregué", "mi entrega": the invoice of a delivery
DELIVERED = re.compile(
    r"\b(?:entregue|entrego|lleve|mi (?:ultima )?entrega|ultim[ao] (?:entrega|corte|cosecha))\b"
)
LAST_WEEK = re.compile(r"\bsemana pasada\b|\bla otra semana\b|\bhace (?:una|1|unos) (?:semana|dias)\b")
LATEST = re.compile(r"\bultim[ao]\b")
THAT_ONE = re.compile(r"\b(?:esa|ese|eso|de esa|de ese)\b")


def _decimal(whole: str, cents: str | None) -> Decimal:
    return Decimal(whole.replace(",", "") + (f".{cents}" if cents else ""))


def folio_named(text: str, bare: bool = False) -> str | None:
    """ "F-425493" from the folio however it is typed; with ``bare`` (right after a payments
    answer) six digits alone count too."""
    said = plain(text)
    match = FOLIO_NAMED.search(said) or (BARE_FOLIO.search(said) if bare else None)
    return f"F-{match.group(1)}{match.group(2)}" if match else None


def amount_named(text: str) -> tuple[Decimal, Decimal] | None:
    """The amounts an invoice "de 9450 pesos" (to the peso) or "de 64 mil" (that thousand) may
    have, lowest included, highest not; None when no amount names one."""
    match = AMOUNT.search(plain(text))
    if match is None:
        return None
    dollar, dollar_cents, dollar_mil, number, cents, unit = match.groups()
    value = _decimal(dollar or number, dollar_cents if dollar else cents)
    if dollar_mil or unit == "mil":
        return value * 1000, (value + 1) * 1000
    step = Decimal("0.01") if (dollar_cents if dollar else cents) else Decimal(1)
    return value, value + step


def about_payments(context: dict[str, Any]) -> bool:
    """Whether the last answer showed the farmer's invoices."""
    skill = context.get("skill")
    return skill in (intents.ASK_PAYMENT_STATUS, intents.ASK_PAYMENT_HISTORY) and bool(context.get("folios"))


def described(text: str, invoices: list[Invoice], today: date) -> list[Invoice] | None:
    """The invoices the message picks out by amount, kilos, month, status or reason (newest
    first); [] when its amount or kilos match none; None when it describes no invoice. A month,
    status or reason that matches none is let go (the farmer may misremember it)."""
    said = plain(text)
    picked, told = list(invoices), False
    amount = amount_named(said)
    if amount is not None:
        picked, told = [i for i in picked if amount[0] <= Decimal(i.amount_mxn) < amount[1]], True
    kilos = KILOS.search(said)
    if kilos is not None:
        kg = _decimal(kilos.group(1), kilos.group(2))
        picked = [
            i
            for i in picked
            if i.delivery is not None and kg in (i.delivery.kg_delivered, i.delivery.kg_accepted)
        ]
        told = True
    if not picked:
        return [] if told else None
    month = month_asked(said, today)
    statuses = {status for status, words in STATUS_WORDS if words.search(said)}
    reasons = {reason for reason, words in REASON_WORDS if words.search(said)}
    tests: list[Callable[[Invoice], bool]] = []
    if month is not None:
        tests.append(lambda i: month[0] <= _day_of(i) <= month[1])
    if statuses:
        tests.append(lambda i: i.status in statuses)
    if reasons:
        tests.append(lambda i: i.status_reason_code in reasons)
    for test in tests:
        kept = [i for i in picked if test(i)]
        picked, told = (kept, True) if kept else (picked, told)
    return picked if told else None


def _day_of(invoice: Invoice) -> date:
    """The day an invoice is remembered by: its delivery's, else the day it was issued."""
    return invoice.delivery.delivered_on if invoice.delivery is not None else invoice.issued_on


def of_delivery(text: str, invoices: list[Invoice], today: date, context: dict[str, Any]) -> list[Invoice]:
    """ "¿Ya me pagaron lo que entregué la semana pasada?", "¿cuánto me toca de la última
    entrega?", "¿y esa última ya me la pagaron?" after a delivery: the invoice of that delivery."""
    said = plain(text)
    delivered = [i for i in invoices if i.delivery is not None]
    after_delivery = context.get("skill") == intents.ASK_DELIVERIES
    if not delivered or not (DELIVERED.search(said) or after_delivery):
        return []
    if LAST_WEEK.search(said):
        recent = [i for i in delivered if today - timedelta(days=14) <= i.delivery.delivered_on < today]
        delivered = recent or delivered
    elif after_delivery and THAT_ONE.search(said) and not LATEST.search(said):
        shown = [i for i in delivered if i.delivery.id == context.get("delivery_id")]
        return shown
    elif not (DELIVERED.search(said) or LATEST.search(said)):
        return []
    return [max(delivered, key=lambda i: (i.delivery.delivered_on, i.id))]
