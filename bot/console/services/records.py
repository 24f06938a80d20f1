"""The program records pages: farmers (search and a farmer's file, marking a phone as no longer
theirs), invoices, trainings and a training's enrolments. Every view of personal or payment data,
and every change, is audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.console.auth import StaffUser
from bot.console.queries import audit
from bot.console.services.paging import Page, fetch_page
from bot.records import farmers, payments, phone_releases, trainings
from bot.records.farmers import FarmerFile, FarmerMatches
from bot.records.schema import Enrolment, PhoneRelease, Training
from bot.records.vocabulary import INVOICE_STATUSES
from bot.text import plain
from bot.timeutil import utcnow

UPCOMING = "proximas"  # the trainings filter: from now on (anything else: all)


def farmer_search(session: Session, actor: StaffUser, text: str) -> FarmerMatches:
    """Whom a staff search finds: farmers by name, folio or phone; by name and phone only for
    those who may not see whole folios (finding a farmer by folio digits would tell them the
    check)."""
    found = farmers.search_farmers(session, text)
    if actor.can("folios") or not found.by_name:
        return found
    needle, named = plain(text), farmers.farmers_by_id(session, found.by_name)
    by_name = {
        farmer_id: phones
        for farmer_id, phones in found.by_name.items()
        if farmer_id in named and needle in plain(named[farmer_id].name)
    }
    return FarmerMatches(by_name, found.by_phone)


def farmers_page(session: Session, actor: StaffUser, text: str, page: int, page_size: int) -> Page:
    """Farmers by name, or those whose name, folio or phone matches the text; audited."""
    ids = farmer_search(session, actor, text).farmer_ids if text else None
    found = fetch_page(
        page,
        page_size,
        lambda: farmers.count_farmers(session, ids),
        lambda limit, offset: farmers.farmers_by_name(session, ids, limit=limit, offset=offset),
    )
    audit.record(session, actor, "list_farmers", detail=f"página {found.page}; {found.total} resultados")
    return found


def farmer_page(session: Session, actor: StaffUser, farmer_id: int) -> FarmerFile | None:
    """A farmer's file; its view is audited, and so is the view of their payments."""
    file = farmers.farmer_file(session, farmer_id)
    if file is None:
        return None
    audit.record(session, actor, "view_farmer", farmer_id=farmer_id, detail=file.farmer.folio)
    if actor.can("amounts") and file.invoices:
        audit.record(
            session,
            actor,
            "view_payments",
            farmer_id=farmer_id,
            detail=",".join(i.folio for i in file.invoices),
        )
    return file


def farmer_releases(session: Session, farmer_id: int) -> list[PhoneRelease]:
    """The numbers staff marked as no longer the farmer's (shown on the farmer's page)."""
    return phone_releases.releases_of_farmer(session, farmer_id)


def release_phone(session: Session, actor: StaffUser, farmer_id: int, phone: str, note: str | None) -> bool:
    """The number changed hands: its link, check and consent stop applying at once; audited.
    False when the phone was not the farmer's."""
    released = phone_releases.release_phone(session, farmer_id, phone, actor.username, note)
    if released:
        audit.record(session, actor, "release_phone", farmer_id=farmer_id, phone=phone)
    return released


def invoices_page(
    session: Session, actor: StaffUser, text: str, status: str, page: int, page_size: int
) -> Page:
    """Invoices, the newest first: in a status, and by invoice folio or the farmer's name or
    folio; audited (as a view of payments for those who see amounts)."""
    chosen = status if status in INVOICE_STATUSES else None
    farmer_ids = list(farmer_search(session, actor, text).by_name) if text else None
    found = fetch_page(
        page,
        page_size,
        lambda: payments.count_invoices(session, status=chosen, text=text, farmer_ids=farmer_ids),
        lambda limit, offset: payments.newest_invoices(
            session, status=chosen, text=text, farmer_ids=farmer_ids, limit=limit, offset=offset
        ),
    )
    audit.record(
        session,
        actor,
        "view_payments" if actor.can("amounts") else "list_invoices",
        detail=",".join(i.folio for i in found.rows)[:2000] or None,
    )
    return found


def trainings_page(session: Session, when: str, page: int, page_size: int) -> Page:
    starting_after = utcnow() if when == UPCOMING else None
    return fetch_page(
        page,
        page_size,
        lambda: trainings.count_trainings(session, starting_after),
        lambda limit, offset: trainings.trainings_from(session, starting_after, limit=limit, offset=offset),
    )


@dataclass
class TrainingPage:
    training: Training
    enrolments: list[Enrolment]


def training_page(session: Session, actor: StaffUser, training_id: int) -> TrainingPage | None:
    """A training and its enrolments; the list of enrolled farmers is audited."""
    training = trainings.training_by_id(session, training_id)
    if training is None:
        return None
    enrolments = trainings.enrolments_in(session, training_id)
    audit.record(session, actor, "view_enrolments", detail=training.code)
    return TrainingPage(training, enrolments)
