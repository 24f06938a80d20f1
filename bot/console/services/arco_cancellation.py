"""An ARCO cancellation, in the two steps the 2025 law names (shared/domain/facts.md §8.2, from
law firms' summaries): bloqueo, then supresión. How long the bloqueo must last is not verified:
staff decide when to suppress, after checking it.

Bloqueo: the farmer's numbers are unlinked from them, so the assistant no longer recognises them
and shows their data to no one; the numbers are kept on the request for the supresión.

Supresión: Rasa's events of those conversations are deleted (first, in the tracker store's own
transaction: if that fails, nothing else changes and staff try again); message bodies, media
references, locations, raw Twilio parameters, what staff wrote to them, their requests for a
person and the console's copies, reviews and corrections of their conversations are erased; their
numbers become a token in consents, payment access log, audit and messages; their checks are
deleted. Invoices, deliveries, enrolments and payments stay, linked to the farmer's record under
"Titular cancelado #<id>". A number another farmer keeps (a family phone) stays theirs: its
conversations are erased too (they cannot be told apart), its consents are kept."""

from __future__ import annotations

import logging
import re

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.console import tracker_data
from bot.console.auth import StaffUser
from bot.console.queries import audit
from bot.console.queries.personal_data import erase_console
from bot.console.services.arco import CLOSED, Outcome
from bot.messaging.personal_data import erase_messages
from bot.records import arco, erasure
from bot.records.arco_schema import ArcoRequest

logger = logging.getLogger(__name__)

_QUOTED = re.compile(r"«([^»]*)»")


def block(session: Session, actor: StaffUser, request: ArcoRequest) -> Outcome:
    """Bloqueo of an open cancellation."""
    if request.arco_right != "cancellation":
        return Outcome(False, "Esta solicitud no es de cancelación.", "error")
    if request.status != "open":
        return Outcome(False, CLOSED if request.status != "blocked" else "Ya está en bloqueo.", "warning")
    phones = arco.block(session, request)
    arco.add_step(
        session,
        request,
        "blocked",
        actor.username,
        f"{len(phones)} número(s) desvinculado(s) del titular: el asistente ya no lo reconoce en ellos "
        "ni muestra sus datos a nadie. Falta la supresión.",
    )
    audit.record(
        session, actor, "arco_block", farmer_id=request.farmer_id, detail=f"{request.id}: {len(phones)}"
    )
    return Outcome(True, "Datos bloqueados: el asistente ya no reconoce al titular en sus números.")


def suppress(session: Session, actor: StaffUser, request: ArcoRequest, tracker_url: str) -> Outcome:
    """Supresión of a cancellation in bloqueo; the request is then answered."""
    if request.arco_right != "cancellation":
        return Outcome(False, "Esta solicitud no es de cancelación.", "error")
    if request.status != "blocked":
        return Outcome(False, "Primero haga el bloqueo." if request.status == "open" else CLOSED, "warning")
    farmer_id = request.farmer_id
    phones = arco.blocked_phones(request)
    shared = arco.other_holders(session, phones, farmer_id)
    own = [p for p in phones if p not in shared]
    try:
        events = tracker_data.delete_events(tracker_url, phones)
    except (SQLAlchemyError, OSError) as error:
        logger.warning("ARCO suppression: tracker store not writable: %s", type(error).__name__)
        return Outcome(
            False,
            "No se pudieron borrar las conversaciones del asistente: no se cambió nada. Inténtelo de nuevo.",
            "error",
        )
    names = _names(session, request)
    redacted = erasure.redact_arco_texts(session, farmer_id, names, phones)
    token = erasure.phone_token(farmer_id)
    messages = erase_messages(session, phones, own, token)
    console = erase_console(session, farmer_id, phones, own, token)
    records = erasure.erase_farmer_records(session, farmer_id, phones, own)
    kept = erasure.kept_records(session, farmer_id)
    request = arco.request_by_id(session, request.id) or request
    request.blocked_phones = None
    detail = (
        f"Conversaciones del asistente: {events} eventos borrados. Mensajes recibidos vaciados: "
        f"{messages['inbound_messages']}; enviados: {messages['outbound_messages']}. Copias de la "
        f"consola borradas: {console['console_messages']}; revisiones y correcciones: "
        f"{console['console_reviews'] + console['console_corrections']}; respuestas del personal "
        f"vaciadas: {console['console_replies']}. Solicitudes de atención: {records['human_requests']}. "
        f"Consentimientos anonimizados: {records['consents']}; accesos a pagos: "
        f"{records['payment_access_log']}; verificaciones borradas: {records['phone_verifications']}; "
        f"textos de las solicitudes ARCO sin nombre ni número: {redacted}. Se conservan "
        f"{kept['invoices']} factura(s), {kept['deliveries']} entrega(s) y {kept['enrolments']} "
        f"inscripción(es), ligadas a «{erasure.anonymised_subject(farmer_id)}»."
    )
    if shared:
        detail += (
            f" {len(shared)} número(s) compartido(s) con otro productor: se borraron sus conversaciones; "
            "el número sigue registrado para esa persona."
        )
    arco.add_step(session, request, "suppressed", actor.username, detail)
    arco.close(session, request, "done", actor.username, "Cancelación atendida con la supresión.")
    audit.record(
        session,
        actor,
        "arco_suppress",
        farmer_id=farmer_id,
        detail=f"{request.id}: {events} eventos; {messages['inbound_messages']}+{messages['outbound_messages']} mensajes",
    )
    return Outcome(True, "Supresión hecha: la solicitud quedó atendida.")


def _names(session: Session, request: ArcoRequest) -> set[str]:
    """The farmer's name now and every value a rectification of theirs wrote (former names)."""
    names = {request.farmer.name} if request.farmer else set()
    for earlier in arco.requests_of_farmer(session, request.farmer_id):
        for step in earlier.steps:
            if step.action == "rectified":
                names.update(v for v in _QUOTED.findall(step.detail or "") if v != "—")
    return names
