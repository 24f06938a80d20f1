"""Each list of words the program records use, defined once: the code stored in the database
beside the Spanish label that farmers and staff read. The schema's CHECK constraints, CSV
validation, the console's filters and the assistant's sentences all take their codes from here."""

from __future__ import annotations

MEDIA: dict[str, str] = {"whatsapp": "WhatsApp", "sms": "SMS"}

INVOICE_STATUSES: dict[str, str] = {
    "received": "recibida",
    "in_review": "en revisión",
    "scheduled": "pago programado",
    "paid": "pagada",
    "rejected": "rechazada",
    "on_hold": "retenida",
}

REJECTION_REASONS: dict[str, str] = {
    "mechanical_damage": "daño mecánico (golpes)",
    "size_out_of_range": "calibre fuera de rango",
    "ripeness": "madurez",
    "pests": "plagas",
    "disease": "enfermedad",
    "sunburn": "quemadura de sol",
    "other": "otros defectos",
}

# Why an invoice is on hold or rejected (invoices.status_reason_code; the free text stays as a note).
HOLD_REASONS: dict[str, str] = {
    "missing_cfdi_xml": "falta el XML del CFDI",
    "rfc_mismatch": "los datos fiscales no coinciden",
    "amount_mismatch": "el monto no coincide con lo aceptado",
    "duplicate_invoice": "factura duplicada",
    "bank_account": "problema con la cuenta bancaria",
    "other": "otro motivo",
}

# What an explanation explains (explanations.kind).
EXPLANATION_KINDS: dict[str, str] = {
    "rejection": "motivo de rechazo de fruta",
    "hold": "motivo de retención o rechazo de factura",
    "status": "estado de una factura",
    "term": "palabra de calidad o de facturación",
}

# ARCO requests (LFPDPPP): the right a farmer asked for (arco_requests.arco_right).
ARCO_RIGHTS: dict[str, str] = {
    "access": "acceso",
    "rectification": "rectificación",
    "cancellation": "cancelación",
    "opposition": "oposición",
}
# Where an ARCO request stands; "blocked": a cancellation in bloqueo, waiting for its supresión.
ARCO_STATUSES: dict[str, str] = {
    "open": "abierta",
    "blocked": "en bloqueo (falta la supresión)",
    "done": "atendida",
    "rejected": "rechazada",
}
PENDING_ARCO_STATUSES: tuple[str, ...] = ("open", "blocked")
# What staff did on an ARCO request (arco_steps.action): the request's audit trail.
ARCO_ACTIONS: dict[str, str] = {
    "recorded": "solicitud registrada",
    "access_json": "archivo de acceso generado (JSON)",
    "access_html": "archivo de acceso generado (página HTML)",
    "rectified": "datos corregidos",
    "blocked": "bloqueo: teléfonos desvinculados",
    "suppressed": "supresión: datos borrados o anonimizados",
    "opposed": "oposición registrada",
    "closed": "solicitud atendida",
    "rejected": "solicitud rechazada",
}
# The purposes a farmer may oppose (purpose_oppositions.purpose).
OPPOSITION_PURPOSES: dict[str, str] = {
    "notices": "avisos del programa",
    "broadcasts": "mensajes de difusión a muchos productores",
}

TRAINING_TOPICS: dict[str, str] = {
    "agronomia": "agronomía",
    "regenerativa": "agricultura regenerativa",
    "calidad": "calidad e inocuidad",
    "negocios": "negocios y formalización",
    "liderazgo": "liderazgo de mujeres productoras",
}

ENROLMENT_STATUSES: dict[str, str] = {"active": "inscrito(a)", "cancelled": "canceló"}

REQUEST_STATUSES: dict[str, str] = {
    "open": "abierta",
    "in_progress": "en atención",
    "closed": "cerrada",
}
# A request for a person that staff still have to act on.
PENDING_REQUEST_STATUSES: tuple[str, ...] = ("open", "in_progress")

# Why a request for a person was opened.
REQUEST_REASONS: dict[str, str] = {
    "asked": "pidió una persona",
    "not_understood": "el asistente no le entendió dos veces",
    "question": "pregunta que el asistente no sabe responder",
    "locked_out": "consultas de pago bloqueadas por códigos equivocados",
}


# What a notice tells a farmer without being asked (notices.kind), for staff.
NOTICE_KINDS: dict[str, str] = {
    "payment": "aviso de pago",
    "reminder": "recordatorio de capacitación",
    "training_moved": "capacitación cambiada",
    "training_cancelled": "capacitación cancelada",
    "training_new": "capacitación nueva cerca",
    "broadcast": "mensaje de difusión",
}
# What a notice's subject is (notices.subject), by kind: an invoice's folio or a training's code.
NOTICE_SUBJECTS: dict[str, str] = {
    "payment": "factura",
    "reminder": "capacitación",
    "training_moved": "capacitación",
    "training_cancelled": "capacitación",
    "training_new": "capacitación",
    "broadcast": "difusión",
}
# Where a notice stands (notices.status): waiting, handed to the conversation, or not sent and why.
NOTICE_STATUSES: dict[str, str] = {
    "scheduled": "programado",
    "released": "entregado a la conversación",
    "skipped_opt_out": "no enviado: el número pidió BAJA",
    "skipped_no_consent": "no enviado: sin consentimiento al aviso de privacidad",
    "skipped_opposed": "no enviado: el productor se opuso a los avisos o a la difusión",
    "skipped_no_phone": "no enviado: el productor no tiene teléfono",
    "skipped_stale": "no enviado: la inscripción o la capacitación cambió antes",
    "skipped_no_news": "no enviado: no pidió noticias del programa",
}
# Where a broadcast stands (broadcasts.status): an admin other than its author decides.
BROADCAST_STATUSES: dict[str, str] = {
    "pending": "espera aprobación",
    "approved": "aprobada",
    "rejected": "rechazada",
}
# A notice's last word on how it goes out (notices.route), for staff.
NOTICE_ROUTES: dict[str, str] = {
    "whatsapp_text": "WhatsApp, texto (dentro de las 24 horas)",
    "whatsapp_template": "WhatsApp, plantilla aprobada (fuera de las 24 horas)",
    "sms": "SMS",
    "sms_no_template": "SMS: fuera de las 24 horas de WhatsApp y sin plantilla aprobada",
}


# What a consents row records: the answer to the privacy notice, or a later revocation.
CONSENT_KINDS: dict[str, str] = {"answer": "respuesta al aviso", "revocation": "revocación"}


# The kinds of data kept for a limited time (bot/retention.py; each has a period in bot/config.py).
RETENTION_KINDS: dict[str, str] = {
    "transcripts": "conversaciones y mensajes",
    "raw_params": "datos técnicos de cada mensaje (parámetros de Twilio, nombre de perfil de WhatsApp)",
    "media": "enlaces a fotos, audios y videos enviados",
    "audit": "registro de quién del personal consultó sus datos",
    "replies": "respuestas guardadas para no repetir lo hecho si un mensaje llega dos veces",
}


def codes(vocabulary: dict[str, str]) -> tuple[str, ...]:
    """The stored codes of a vocabulary, in their defined order."""
    return tuple(vocabulary)


def label(vocabulary: dict[str, str], code: str | None, default: str = "—") -> str:
    """The Spanish label of a code; an unknown code is shown as it is, a missing one as a dash."""
    if not code:
        return default
    return vocabulary.get(code, code)
