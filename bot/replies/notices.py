"""The sentence of a notice, from the facts it was planned with: the same words in the farmer's
conversation (bot/assistant/notices.py) and in the approved WhatsApp template's variables
(bot/messaging/notices.py), so the two never differ. Payment notices name an invoice; training
notices (reminder, training_moved, training_cancelled) a session."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.replies.catalog import render
from bot.replies.spanish import local_datetime, short_date


def payment_what(facts: dict[str, Any], reason: str = "", what_to_do: str = "") -> str:
    """What happened to the invoice, as the middle of "su factura F-… {what}.": ``reason`` and
    ``what_to_do`` (bot/records/notices.py) for an invoice on hold or rejected."""
    status = facts.get("status")
    when = short_date(date.fromisoformat(facts["date"])) if facts.get("date") else ""
    if status == "scheduled":
        return render("notice_scheduled", date=when)
    if status == "paid":
        if facts.get("last4"):
            return render("notice_paid", date=when, last4=facts["last4"])
        return render("notice_paid_no_reference", date=when)
    return render(f"notice_{status}", reason=reason, what_to_do=what_to_do).rstrip(". ").strip()


def payment_notice(facts: dict[str, Any], reason: str = "", what_to_do: str = "") -> str:
    return render(
        "notice_payment", folio=facts.get("folio", ""), what=payment_what(facts, reason, what_to_do)
    )


def training_variables(facts: dict[str, Any]) -> dict[str, str]:
    """A training notice's template variables: {{1}} the title, {{2}} when (in the venue's
    time), {{3}} the venue."""
    when = local_datetime(datetime.fromisoformat(facts["starts_at"]), facts["timezone"])
    return {"1": str(facts.get("title", "")), "2": when, "3": str(facts.get("venue", ""))}


def training_notice(kind: str, facts: dict[str, Any]) -> str:
    values = training_variables(facts)
    return render(f"notice_{kind}", title=values["1"], when=values["2"], venue=values["3"])


def broadcast_notice(facts: dict[str, Any]) -> str:
    """A broadcast as the farmer reads it: the program's heading, then the officer's text."""
    return render("notice_broadcast", text=str(facts.get("text", "")).strip())
