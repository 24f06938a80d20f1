"""An ARCO access request's file: everything the program holds about the farmer, gathered from
the program records (bot/records/personal_data.py), the messages of their numbers
(bot/messaging/personal_data.py), Rasa's events of their conversations (tracker_data.py) and the
console's own rows about them (queries/personal_data.py), as one JSON document. The readable HTML
page (templates/arco_access.html) shows the same document, section by section.

What the farmer typed as a check code or PIN is masked (••••), as everywhere in the console. A
number another farmer also keeps (a family phone) is named, but its conversations, messages and
requests for a person are left out: they may be the other person's; staff go over them with the
farmer. Each file made writes a step on the request and an entry in the console's audit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.console import tracker_data
from bot.console.auth import StaffUser
from bot.console.masking import mask_codes
from bot.console.queries import audit
from bot.console.queries.personal_data import console_rows
from bot.console.services.arco import Outcome
from bot.messaging.personal_data import messages_of
from bot.records import arco
from bot.records.arco_schema import ArcoRequest
from bot.records.personal_data import farmer_records
from bot.timeutil import utcnow

FORMATS = ("json", "html")
# Each section of the file: its key (the table it comes from) and the title the farmer reads.
SECTIONS: dict[str, str] = {
    "farmers": "Registro del productor",
    "farmer_phones": "Teléfonos",
    "farmer_crops": "Cultivos",
    "deliveries": "Entregas de fruta",
    "invoices": "Facturas",
    "enrolments": "Inscripciones a capacitaciones",
    "consents": "Aviso de privacidad: respuestas y revocaciones",
    "news_choices": "Avisos de capacitaciones nuevas: sus respuestas",
    "phone_verifications": "Verificaciones con código o NIP",
    "payment_access_log": "Veces que se mostraron sus datos de pago",
    "human_requests": "Solicitudes para hablar con una persona",
    "phone_releases": "Números que dejaron de ser suyos",
    "arco_requests": "Solicitudes de derechos ARCO",
    "purpose_oppositions": "Oposiciones a finalidades",
    "notices": "Avisos que el programa le mandó sin que preguntara",
    "inbound_messages": "Mensajes recibidos de sus números",
    "outbound_messages": "Mensajes enviados a sus números",
    "message_status_events": "Estados de entrega de los mensajes enviados",
    "opt_out_events": "Bajas y altas de mensajes",
    "tracker_events": "Conversaciones con el asistente (eventos de Rasa)",
    "console_audit": "Consultas del personal a sus datos",
    "console_replies": "Mensajes que le escribió el personal",
    "console_reviews": "Revisiones de sus conversaciones",
    "console_corrections": "Correcciones de lo que entendió el asistente",
}
MASKED_NOTE = "Los códigos de verificación y los NIP que escribió se muestran como ••••."
SHARED_NOTE = (
    "El número terminado en {tail} también está registrado para otra persona: sus conversaciones, "
    "mensajes y solicitudes de atención no se incluyen porque pueden ser de esa persona."
)


@dataclass
class AccessFile:
    document: dict[str, Any]
    filename: str  # without the extension

    def json_bytes(self) -> bytes:
        return json.dumps(self.document, ensure_ascii=False, indent=2).encode("utf-8")


def access_file(
    session: Session, actor: StaffUser, request: ArcoRequest, tracker_url: str, fmt: str
) -> AccessFile | Outcome:
    """The farmer's file for an access request that is not refused; its making is a step of the
    request and is audited. An Outcome when it cannot be made (nothing is written then)."""
    if request.arco_right != "access":
        return Outcome(False, "Esta solicitud no es de acceso.", "error")
    if request.status == "rejected" or fmt not in FORMATS:
        return Outcome(False, "Esta solicitud fue rechazada: no se genera el archivo.", "warning")
    farmer_id = request.farmer_id
    phones = arco.phones_of(session, farmer_id)
    shared = arco.other_holders(session, phones, farmer_id)
    own = [p for p in phones if p not in shared]
    try:
        events = tracker_data.events_of(tracker_url, own)
    except (SQLAlchemyError, OSError):
        return Outcome(
            False, "No se pudieron leer las conversaciones del asistente: inténtelo de nuevo.", "error"
        )
    sections = farmer_records(session, farmer_id, phones, own) or {}
    sections.update(messages_of(session, own))
    sections["tracker_events"] = [_event(e) for e in events]
    sections.update(console_rows(session, farmer_id, own))
    _mask_typed_codes(sections)
    farmer = request.farmer
    document = {
        "titulo": "Datos personales que guarda el programa Pequeño Productor",
        "generado_el": utcnow().isoformat(),
        "solicitud_arco": request.id,
        "titular": {"folio": farmer.folio, "nombre": farmer.name},
        "notas": [MASKED_NOTE] + [SHARED_NOTE.format(tail=p[-2:]) for p in shared],
        "secciones": [
            {"clave": key, "titulo": title, "filas": sections.get(key, [])} for key, title in SECTIONS.items()
        ],
    }
    total = sum(len(s["filas"]) for s in document["secciones"])
    detail = f"{total} registros en {len(SECTIONS)} secciones; conversaciones de {len(own)} número(s)"
    if shared:
        detail += f"; {len(shared)} número(s) compartido(s) sin sus conversaciones"
    arco.add_step(session, request, f"access_{fmt}", actor.username, detail + ".")
    audit.record(session, actor, f"arco_access_{fmt}", farmer_id=farmer_id, detail=f"{request.id}: {total}")
    return AccessFile(document, f"acceso-arco-{request.id}-{farmer.folio}")


def _event(event: dict[str, Any]) -> dict[str, Any]:
    """A Rasa event with its moment in ISO 8601 (Rasa keeps seconds since 1970) and, beside the
    whole event, what the farmer or the assistant said in it."""
    stamp = event.get("timestamp")
    if isinstance(stamp, (int, float)):
        event["timestamp"] = datetime.fromtimestamp(stamp, tz=timezone.utc).isoformat()
    data = event.get("data")
    event["text"] = data.get("text") if isinstance(data, dict) else None  # what was said, if anything
    return event


def _mask_typed_codes(sections: dict[str, list[dict[str, Any]]]) -> None:
    """What the farmer typed, without the codes and PINs in it."""
    for row in sections.get("inbound_messages", []):
        row["body"] = mask_codes(row.get("body") or "")
        params = row.get("raw_params")
        if isinstance(params, dict) and isinstance(params.get("Body"), str):
            params["Body"] = mask_codes(params["Body"])
    for row in sections.get("human_requests", []):
        if row.get("last_message"):
            row["last_message"] = mask_codes(row["last_message"])
    for event in sections.get("tracker_events", []):
        data = event.get("data")
        if event.get("type_name") == "user" and isinstance(data, dict):
            data["text"] = event["text"] = mask_codes(data.get("text") or "")
            parse = data.get("parse_data")
            if isinstance(parse, dict) and isinstance(parse.get("text"), str):
                parse["text"] = mask_codes(parse["text"])
            for entity in (parse or {}).get("entities") or []:
                if isinstance(entity, dict) and isinstance(entity.get("value"), str):
                    entity["value"] = mask_codes(entity["value"])


# --- the readable page --------------------------------------------------------------------------

# What the farmer reads for each column name of the file; a column not listed shows its name.
COLUMN_LABELS: dict[str, str] = {
    "id": "núm.",
    "folio": "folio",
    "name": "nombre",
    "state": "estado",
    "municipality": "municipio",
    "organisation": "organización",
    "organisation_id": "núm. de organización",
    "preferred_medium": "medio preferido",
    "created_at": "creado",
    "pin_set_at": "NIP elegido el",
    "has_personal_pin": "tiene NIP",
    "farmer_id": "núm. de productor",
    "phone": "teléfono",
    "product": "producto",
    "hectares": "hectáreas",
    "delivered_on": "entregada el",
    "collection_center": "centro de acopio",
    "kg_delivered": "kg entregados",
    "kg_accepted": "kg aceptados",
    "kg_rejected": "kg rechazados",
    "rejections": "rechazos",
    "grades": "calidades",
    "delivery_id": "núm. de entrega",
    "amount_mxn": "monto (MXN)",
    "status": "estado",
    "status_reason": "motivo",
    "status_reason_code": "clave del motivo",
    "issued_on": "emitida",
    "scheduled_on": "pago programado",
    "paid_on": "pagada",
    "bank_reference_last4": "referencia (últimos 4)",
    "updated_at": "actualizado",
    "training": "capacitación",
    "training_id": "núm. de capacitación",
    "cancelled_at": "cancelada el",
    "told_starts_at": "fecha que se le avisó",
    "told_venue": "lugar que se le avisó",
    "confirmed_at": "confirmó que va",
    "accepted": "aceptó",
    "notice_version": "versión del aviso",
    "recorded_at": "registrado",
    "kind": "tipo",
    "verified_until": "verificado hasta",
    "failed_attempts": "intentos fallidos",
    "locked_until": "bloqueado hasta",
    "last_attempt_at": "último intento",
    "lockouts": "bloqueos",
    "held_for_staff": "en espera del personal",
    "invoice_folios": "facturas mostradas",
    "shown_at": "mostrado",
    "conversation_id": "conversación",
    "reason": "motivo",
    "last_message": "último mensaje",
    "assigned_to": "asignada a",
    "closed_at": "cerrada",
    "released_at": "liberado",
    "released_by": "por",
    "note": "nota",
    "arco_right": "derecho",
    "identity_check": "identidad comprobada",
    "received_at": "recibido",
    "due_on": "fecha límite",
    "created_by": "registró",
    "notes": "notas",
    "steps": "pasos",
    "purpose": "finalidad",
    "since": "desde",
    "request_id": "núm. de solicitud",
    "body": "texto",
    "text": "texto",
    "sender_id": "conversación (número)",
    "medium": "medio",
    "timestamp": "cuándo",
    "type_name": "tipo de evento",
    "intent_name": "intención",
    "action_name": "acción",
    "data": "evento completo",
    "username": "usuario del personal",
    "action": "acción",
    "detail": "detalle",
    "at": "cuándo",
}


@dataclass
class ReadableSection:
    key: str
    title: str
    columns: list[tuple[str, str]]  # (column, label)
    rows: list[dict[str, str]]


def readable(document: dict[str, Any]) -> list[ReadableSection]:
    """The file's sections as tables of text: nested values (a delivery's rejections, a Rasa
    event) as indented JSON."""
    found = []
    for section in document["secciones"]:
        columns: list[str] = []
        for row in section["filas"]:
            columns += [c for c in row if c not in columns]
        found.append(
            ReadableSection(
                section["clave"],
                section["titulo"],
                [(c, COLUMN_LABELS.get(c, c)) for c in columns],
                [{c: _text(row.get(c)) for c in columns} for row in section["filas"]],
            )
        )
    return found


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, indent=2)
    return str(value)
