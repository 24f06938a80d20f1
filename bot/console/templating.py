"""What templates may call: filters that format for staff (dates in the console's time zone,
money, waiting times, amounts and whole folios hidden from viewers, codes hidden from everyone)
and the vocabularies as globals."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask
from flask_login import current_user

from bot.console import vocabulary as console_vocabulary
from bot.console.local_time import local
from bot.console.masking import mask_amounts, mask_codes, mask_folio
from bot.messaging.statuses import delivery_label
from bot.records import vocabulary as records_vocabulary
from bot.replies.spanish import local_datetime, money

GLOBALS = {
    "label": records_vocabulary.label,
    "MEDIA": records_vocabulary.MEDIA,
    "INVOICE_STATUSES": records_vocabulary.INVOICE_STATUSES,
    "REQUEST_STATUSES": records_vocabulary.REQUEST_STATUSES,
    "REQUEST_REASONS": records_vocabulary.REQUEST_REASONS,
    "ENROLMENT_STATUSES": records_vocabulary.ENROLMENT_STATUSES,
    "TRAINING_TOPICS": records_vocabulary.TRAINING_TOPICS,
    "ARCO_RIGHTS": records_vocabulary.ARCO_RIGHTS,
    "ARCO_STATUSES": records_vocabulary.ARCO_STATUSES,
    "ARCO_ACTIONS": records_vocabulary.ARCO_ACTIONS,
    "OPPOSITION_PURPOSES": records_vocabulary.OPPOSITION_PURPOSES,
    "REPLY_STATUSES": console_vocabulary.REPLY_STATUSES,
    "ROLES": console_vocabulary.ROLES,
    "UPLOAD_KINDS": console_vocabulary.UPLOAD_KINDS,
    "MARKED_ACTIONS": console_vocabulary.MARKED_ACTIONS,
    "LOGIN_OUTCOMES": console_vocabulary.LOGIN_OUTCOMES,
    "SOURCE_CONFIDENCE": console_vocabulary.SOURCE_CONFIDENCE,
    "FALLBACK_ACTION": console_vocabulary.FALLBACK_ACTION,
    "delivery_label": delivery_label,
    "local_training": lambda t: local_datetime(t.starts_at, t.timezone),
}


def init_app(app: Flask, zone: str) -> None:
    app.jinja_env.globals.update(GLOBALS)
    app.jinja_env.filters.update(
        when=lambda moment, fmt="%d/%m/%Y %H:%M": when(moment, zone, fmt),
        day=day,
        money=money_or_dash,
        pct=pct,
        minutes=minutes,
        shown=shown,
        folio=folio,
        farmer_text=farmer_text,
    )


def when(moment: datetime | None, zone: str, fmt: str = "%d/%m/%Y %H:%M") -> str:
    value = local(moment, zone)
    return value.strftime(fmt) if value else "—"


def day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


def money_or_dash(amount: Decimal | None) -> str:
    return money(amount) if amount is not None else "—"


def pct(value: float | None) -> str:
    return f"{value:.0%}" if value is not None else "—"


def minutes(value: float | None) -> str:
    """Waiting time for people: '35 min', '4.5 h', '2.9 días'."""
    if value is None:
        return "—"
    if value < 90:
        return f"{value:.0f} min"
    if value < 48 * 60:
        return f"{value / 60:.1f} h"
    return f"{value / 1440:.1f} días"


def _may(permission: str) -> bool:
    return bool(current_user.is_authenticated and current_user.can(permission))


def shown(text: str) -> str:
    """Message text as this user may see it (no amounts for viewers)."""
    return (text or "") if _may("amounts") else mask_amounts(text or "")


def farmer_text(text: str | None) -> str:
    """What a farmer typed, read from outside the console's masked copy of the conversations (a
    request's last message): without any code or PIN in it."""
    return mask_codes(text or "")


def folio(value: str | None) -> str:
    """A farmer's program folio as this user may see it: 'PP-••••04' for viewers."""
    return (value or "") if _may("folios") else mask_folio(value or "")
