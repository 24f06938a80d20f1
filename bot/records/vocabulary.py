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
}


def codes(vocabulary: dict[str, str]) -> tuple[str, ...]:
    """The stored codes of a vocabulary, in their defined order."""
    return tuple(vocabulary)


def label(vocabulary: dict[str, str], code: str | None, default: str = "—") -> str:
    """The Spanish label of a code; an unknown code is shown as it is, a missing one as a dash."""
    if not code:
        return default
    return vocabulary.get(code, code)
