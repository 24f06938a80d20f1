"""The supresión of an ARCO cancellation, in the program records: the farmer's record stays (their
invoices, deliveries, enrolments and payments must be kept, linked to it) under an anonymised
subject, "Titular cancelado #<id>", without phones or PIN; their numbers are replaced by a token
wherever they stood for them, their checks and the replies kept against redelivery are deleted,
and what they wrote to a person is erased.

A number shared with another farmer who stays (a family phone) is still that farmer's number:
what it holds that is the cancelled farmer's, or cannot be told apart, is erased, but the rows
that are about the number itself (its consents) keep it. Every function takes the caller's
Session and returns how many rows it changed, by table (counts only, never values)."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Update

from bot.records.arco_schema import ArcoRequest, ArcoStep, PurposeOpposition
from bot.records.notice_schema import NewsChoice, Notice
from bot.records.schema import (
    Consent,
    Delivery,
    Enrolment,
    Farmer,
    FarmerPhone,
    HandledMessage,
    HumanRequest,
    Invoice,
    PaymentAccessLog,
    PhoneRelease,
    PhoneVerification,
)

NAME_REDACTED = "[dato suprimido]"
NUMBER_REDACTED = "[número suprimido]"
# A run of digits as people write phone numbers: "+52 443 100 0001", "(443) 100-0001".
_DIGIT_RUN = re.compile(r"\+?\(?\d[\d\s().-]*\d")


def anonymised_subject(farmer_id: int) -> str:
    return f"Titular cancelado #{farmer_id}"


def phone_token(farmer_id: int) -> str:
    """What stands where a cancelled farmer's number stood (never a number anyone can have)."""
    return f"cancelado-{farmer_id}"


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def erase_farmer_records(
    session: Session, farmer_id: int, phones: Collection[str], own_phones: Collection[str]
) -> dict[str, int]:
    """Anonymises the farmer and the records that name them or their numbers. ``phones``: every
    number of theirs; ``own_phones``: those no other farmer keeps."""
    token, phones, own = phone_token(farmer_id), list(phones), list(own_phones)
    counts: dict[str, int] = {}
    farmer = session.get(Farmer, farmer_id)
    if farmer is None:
        return counts
    farmer.name = anonymised_subject(farmer_id)
    farmer.pin_hash = farmer.pin_set_at = None
    counts["farmers"] = 1
    counts["farmer_phones"] = _count(
        session.execute(delete(FarmerPhone).where(FarmerPhone.farmer_id == farmer_id))
    )
    counts["phone_verifications"] = _count(
        session.execute(
            delete(PhoneVerification).where(
                or_(PhoneVerification.farmer_id == farmer_id, PhoneVerification.phone.in_(own))
            )
        )
    )
    counts["consents"] = _count(
        session.execute(_update(Consent).where(Consent.phone.in_(own)).values(phone=token))
    )
    counts["news_choices"] = _count(
        session.execute(_update(NewsChoice).where(NewsChoice.phone.in_(own)).values(phone=token))
    )
    counts["payment_access_log"] = _count(
        session.execute(
            _update(PaymentAccessLog).where(PaymentAccessLog.farmer_id == farmer_id).values(phone=token)
        )
    )
    theirs = or_(HumanRequest.farmer_id == farmer_id, HumanRequest.phone.in_(own))
    counts["human_requests"] = _count(
        session.execute(
            _update(HumanRequest).where(or_(theirs, HumanRequest.phone.in_(phones))).values(last_message=None)
        )
    )
    session.execute(_update(HumanRequest).where(theirs).values(phone=token, conversation_id=token))
    # the replies kept against redelivery say what the numbers were told (a shared phone's cannot
    # be told apart): deleted, the only loss being that a late redelivery runs again
    counts["handled_messages"] = _count(
        session.execute(
            delete(HandledMessage).where(
                or_(HandledMessage.phone.in_(phones), HandledMessage.conversation_id.in_(phones))
            )
        )
    )
    # a notice names the phone and the invoice it told about: gone with the farmer's messages
    counts["notices"] = _count(
        session.execute(delete(Notice).where(or_(Notice.farmer_id == farmer_id, Notice.phone.in_(own))))
    )
    counts["phone_releases"] = _count(
        session.execute(_update(PhoneRelease).where(PhoneRelease.farmer_id == farmer_id).values(note=None))
    )
    counts["purpose_oppositions"] = _count(
        session.execute(
            _update(PurposeOpposition).where(PurposeOpposition.farmer_id == farmer_id).values(phone=None)
        )
    )
    session.flush()
    session.expire_all()
    return counts


def _update(model: Any) -> Update:
    return update(model).execution_options(synchronize_session=False)


def redact(text: str | None, names: Iterable[str], phones: Iterable[str]) -> str | None:
    """The text without these names (any case) and without these numbers however written."""
    if not text:
        return text
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 3}, key=len, reverse=True):
        text = re.sub(re.escape(name), NAME_REDACTED, text, flags=re.IGNORECASE)
    tails = {_digits(p)[-10:] for p in phones if len(_digits(p)) >= 10}

    def number(match: re.Match[str]) -> str:
        digits = _digits(match.group())
        return NUMBER_REDACTED if len(digits) >= 10 and digits[-10:] in tails else match.group()

    return _DIGIT_RUN.sub(number, text)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def redact_arco_texts(session: Session, farmer_id: int, names: Iterable[str], phones: Iterable[str]) -> int:
    """Removes the names and numbers from what staff wrote on the farmer's ARCO requests (how the
    identity was checked, notes, each step's detail); the requests and steps stay as the record
    of what was asked and done. Returns how many texts changed."""
    names, phones = list(names), list(phones)
    changed = 0
    requests = session.execute(select(ArcoRequest).where(ArcoRequest.farmer_id == farmer_id)).scalars().all()
    for request in requests:
        for field in ("identity_check", "notes"):
            before = getattr(request, field)
            after = redact(before, names, phones)
            if after != before:
                setattr(request, field, after)
                changed += 1
    steps = session.execute(
        select(ArcoStep).where(ArcoStep.request_id.in_([r.id for r in requests]))
    ).scalars()
    for step in steps:
        after = redact(step.detail, names, phones)
        if after != step.detail:
            step.detail, changed = after, changed + 1
    session.flush()
    return changed


def kept_records(session: Session, farmer_id: int) -> dict[str, int]:
    """What stays linked to the anonymised subject: invoices, deliveries, enrolments."""
    return {
        table: session.execute(
            select(func.count()).select_from(model).where(model.farmer_id == farmer_id)
        ).scalar()
        or 0
        for table, model in (("invoices", Invoice), ("deliveries", Delivery), ("enrolments", Enrolment))
    }
