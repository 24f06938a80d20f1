"""ARCO requests (LFPDPPP), as staff record and answer them: the list (still to answer first, by
due date), recording a request from a farmer's page, a request's page with its steps and the
actions of its right, rectifying the farmer's record, recording an opposition, and closing a
request as answered or refused. The access file is built in arco_access.py; the cancellation's
bloqueo and supresión in arco_cancellation.py.

The legal deadline to answer is not verified for the 2025 law (shared/domain/facts.md §8.3): it is
a setting (ARCO_RESPONSE_BUSINESS_DAYS) and, while it is empty, requests have no due date and
their page says "Plazo legal: por confirmar". Every action writes a step on the request and an
entry in the console's audit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from bot.console.auth import StaffUser
from bot.console.local_time import start_of
from bot.console.queries import audit
from bot.console.services.paging import Page, fetch_page
from bot.records import arco, oppositions
from bot.records.arco_schema import ArcoRequest, PurposeOpposition
from bot.records.farmers import farmers_by_id
from bot.records.schema import Farmer, Organisation
from bot.records.vocabulary import (
    ARCO_RIGHTS,
    MEDIA,
    OPPOSITION_PURPOSES,
    PENDING_ARCO_STATUSES,
    label,
)
from bot.timeutil import local_today, utcnow

SETTING = "ARCO_RESPONSE_BUSINESS_DAYS"  # the legal deadline, in business days (console config)
MAX_TEXT = 2000
FIELD_LABELS = {
    "name": "Nombre",
    "municipality": "Municipio",
    "state": "Estado",
    "organisation_id": "Organización",
    "preferred_medium": "Medio preferido",
}
CLOSED = "La solicitud ya está cerrada: no se cambió nada."


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str
    category: str = "info"  # the flash message's kind
    request_id: int | None = None


@dataclass
class RequestDraft:
    """A request as staff typed it on the farmer's page (views parse it, this module checks it)."""

    arco_right: str
    received_on: date | None  # None: today
    identity_check: str
    notes: str = ""


# --- the list -----------------------------------------------------------------------------------


@dataclass
class ListPage:
    page: Page
    farmer: Farmer | None  # the list is of this farmer's requests only
    business_days: int | None


def list_page(
    session: Session,
    actor: StaffUser,
    farmer_id: int | None,
    page: int,
    page_size: int,
    business_days: int | None,
) -> ListPage:
    """ARCO requests, still to answer first, the nearest due date first; audited."""
    found = fetch_page(
        page,
        page_size,
        lambda: arco.count_requests(session, farmer_id),
        lambda limit, offset: arco.requests_in_order(session, farmer_id, limit=limit, offset=offset),
    )
    farmer = farmers_by_id(session, [farmer_id]).get(farmer_id) if farmer_id else None
    audit.record(
        session,
        actor,
        "list_arco",
        farmer_id=farmer_id,
        detail=f"página {found.page}; {found.total} solicitudes",
    )
    return ListPage(found, farmer, business_days)


# --- recording a request ------------------------------------------------------------------------


def due_date(received_on: date, business_days: int | None) -> date | None:
    return arco.business_days_after(received_on, business_days) if business_days else None


def record(
    session: Session,
    actor: StaffUser,
    farmer_id: int,
    draft: RequestDraft,
    business_days: int | None,
    zone: str,
) -> Outcome:
    """Records a request for the farmer, open, with its due date when the deadline is set."""
    if session.get(Farmer, farmer_id) is None:
        return Outcome(False, "Ese productor no existe.", "error")
    today = local_today(zone)
    draft.received_on = draft.received_on or today
    problems = _problems(draft, today)
    if problems:
        return Outcome(False, "No se registró: " + " ".join(problems), "error")
    received_at = utcnow() if draft.received_on == today else start_of(draft.received_on, zone)
    due_on = due_date(draft.received_on, business_days)
    deadline = (
        f"fecha límite {due_on.strftime('%d/%m/%Y')} ({business_days} días hábiles)"
        if due_on
        else f"plazo legal por confirmar ({SETTING} sin llenar)"
    )
    request = arco.record_request(
        session,
        farmer_id=farmer_id,
        arco_right=draft.arco_right,
        identity_check=draft.identity_check.strip(),
        received_at=received_at,
        due_on=due_on,
        created_by=actor.username,
        notes=draft.notes.strip(),
        detail=f"Derecho de {ARCO_RIGHTS[draft.arco_right]}; recibida el "
        f"{draft.received_on.strftime('%d/%m/%Y')}; {deadline}.",
    )
    audit.record(
        session, actor, "arco_record", farmer_id=farmer_id, detail=f"{request.id}: {draft.arco_right}"
    )
    return Outcome(True, f"Solicitud de {ARCO_RIGHTS[draft.arco_right]} registrada.", request_id=request.id)


def _problems(draft: RequestDraft, today: date) -> list[str]:
    problems = []
    if draft.arco_right not in ARCO_RIGHTS:
        problems.append("Elija el derecho que pide el productor.")
    if draft.received_on and draft.received_on > today:
        problems.append("La fecha de recepción no puede ser posterior a hoy.")
    if not draft.identity_check.strip():
        problems.append("Escriba cómo se comprobó la identidad de quien pide.")
    if len(draft.identity_check) > MAX_TEXT or len(draft.notes) > MAX_TEXT:
        problems.append(f"Los textos pueden tener hasta {MAX_TEXT} caracteres.")
    return problems


# --- a request's page ---------------------------------------------------------------------------


@dataclass
class RequestPage:
    request: ArcoRequest
    farmer: Farmer
    business_days: int | None  # the setting now (None: "por confirmar")
    setting: str = SETTING
    phones: list[str] = field(default_factory=list)  # the farmer's numbers (or those blocked)
    shared: dict[str, list[Farmer]] = field(default_factory=dict)  # numbers other farmers keep
    organisations: list[Organisation] = field(default_factory=list)  # for a rectification
    oppositions: list[PurposeOpposition] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        return self.request.status in PENDING_ARCO_STATUSES


def find(session: Session, request_id: int) -> ArcoRequest | None:
    return arco.request_by_id(session, request_id)


def request_page(
    session: Session, actor: StaffUser, request_id: int, business_days: int | None
) -> RequestPage | None:
    """A request with its steps and what its right's actions need; audited."""
    request = arco.request_by_id(session, request_id)
    if request is None:
        return None
    phones = arco.blocked_phones(request) or arco.phones_of(session, request.farmer_id)
    page = RequestPage(
        request=request,
        farmer=request.farmer,
        business_days=business_days,
        phones=phones,
        shared=arco.other_holders(session, phones, request.farmer_id),
        organisations=arco.organisations(session) if request.arco_right == "rectification" else [],
        oppositions=oppositions.oppositions_of(session, request.farmer_id),
    )
    audit.record(session, actor, "view_arco", farmer_id=request.farmer_id, detail=str(request.id))
    return page


# --- actions ------------------------------------------------------------------------------------


def close(session: Session, actor: StaffUser, request: ArcoRequest, status: str, note: str) -> Outcome:
    """Closes a pending request as answered ("done") or refused ("rejected", with the reason)."""
    if request.status not in PENDING_ARCO_STATUSES:
        return Outcome(False, CLOSED, "warning")
    if status not in ("done", "rejected"):
        return Outcome(False, "Elija cómo se cierra la solicitud.", "error")
    if request.status == "blocked":  # its numbers are unlinked: only the supresión ends it
        return Outcome(False, "Falta la supresión: la solicitud se cierra sola al hacerla.", "error")
    if request.arco_right == "cancellation" and status == "done":
        return Outcome(False, "Una cancelación se atiende con el bloqueo y la supresión.", "error")
    note = note.strip()[:MAX_TEXT]
    if status == "rejected" and not note:
        return Outcome(False, "Escriba por qué se rechaza la solicitud.", "error")
    arco.close(session, request, status, actor.username, note or None)
    audit.record(session, actor, f"arco_{status}", farmer_id=request.farmer_id, detail=str(request.id))
    return Outcome(True, "Solicitud atendida." if status == "done" else "Solicitud rechazada.")


def rectify(session: Session, actor: StaffUser, request: ArcoRequest, wanted: dict[str, Any]) -> Outcome:
    """Corrects the farmer's record as the request asks; each change, with its value before and
    after, goes in the request's step (the audit names the fields only)."""
    if request.arco_right != "rectification":
        return Outcome(False, "Esta solicitud no es de rectificación.", "error")
    if request.status not in PENDING_ARCO_STATUSES:
        return Outcome(False, CLOSED, "warning")
    cleaned, problems = _rectification(session, wanted)
    if problems:
        return Outcome(False, "No se corrigió nada: " + " ".join(problems), "error")
    changes = arco.rectify(session, request.farmer, cleaned)
    if not changes:
        return Outcome(False, "Los datos ya eran esos: no se cambió nada.", "warning")
    detail = "\n".join(
        f"{FIELD_LABELS[c.field]}: «{_value(c.field, c.before)}» → «{_value(c.field, c.after)}»"
        for c in changes
    )
    arco.add_step(session, request, "rectified", actor.username, detail)
    audit.record(
        session,
        actor,
        "arco_rectify",
        farmer_id=request.farmer_id,
        detail=f"{request.id}: {', '.join(c.field for c in changes)}",
    )
    return Outcome(True, f"Datos corregidos: {', '.join(FIELD_LABELS[c.field] for c in changes)}.")


def _value(field_name: str, value: str | None) -> str:
    return label(MEDIA, value) if field_name == "preferred_medium" else (value or "—")


def _rectification(session: Session, wanted: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    cleaned: dict[str, Any] = {}
    problems = []
    for name, limit in (("name", 160), ("municipality", 100), ("state", 60)):
        value = " ".join(str(wanted.get(name) or "").split())
        if not value:
            problems.append(f"{FIELD_LABELS[name]}: no puede quedar vacío.")
        elif len(value) > limit:
            problems.append(f"{FIELD_LABELS[name]}: hasta {limit} caracteres.")
        cleaned[name] = value
    medium = wanted.get("preferred_medium")
    if medium not in MEDIA:
        problems.append("Elija el medio preferido.")
    cleaned["preferred_medium"] = medium
    organisation = wanted.get("organisation_id")
    known = {o.id for o in arco.organisations(session)}
    if organisation is not None and organisation not in known:
        problems.append("Elija una organización de la lista.")
    cleaned["organisation_id"] = organisation
    return cleaned, problems


def oppose(
    session: Session, actor: StaffUser, request: ArcoRequest, purposes: list[str], phone: str | None
) -> Outcome:
    """Records the farmer's opposition to each purpose, for all their numbers or one of them."""
    if request.arco_right != "opposition":
        return Outcome(False, "Esta solicitud no es de oposición.", "error")
    if request.status not in PENDING_ARCO_STATUSES:
        return Outcome(False, CLOSED, "warning")
    chosen = [p for p in purposes if p in OPPOSITION_PURPOSES]
    if not chosen:
        return Outcome(False, "Elija al menos una finalidad a la que se opone.", "error")
    if phone and phone not in arco.phones_of(session, request.farmer_id):
        return Outcome(False, "Ese número no es del productor.", "error")
    added = oppositions.oppose(session, request.farmer_id, chosen, phone or None, request.id)
    if not added:
        return Outcome(False, "Esa oposición ya estaba registrada: no se cambió nada.", "warning")
    which = f"el número terminado en {phone[-2:]}" if phone else "todos sus números"
    names = ", ".join(OPPOSITION_PURPOSES[p] for p in added)
    arco.add_step(session, request, "opposed", actor.username, f"Se opuso a: {names} ({which}).")
    audit.record(
        session, actor, "arco_oppose", farmer_id=request.farmer_id, detail=f"{request.id}: {','.join(added)}"
    )
    return Outcome(True, f"Oposición registrada: {names}.")
