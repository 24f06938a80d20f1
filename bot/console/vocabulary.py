"""Each list of words the console's own tables use, defined once: the code stored in the database
beside the Spanish label staff read. The program records' words (media, invoice and request
statuses) are in bot/records/vocabulary.py; delivery statuses in bot/messaging/statuses.py. Also
Twilio's error codes, in plain words for staff."""

from __future__ import annotations

from typing import NamedTuple

from bot.assistant import intents


class Role(NamedTuple):
    label: str  # what staff read
    summary: str  # what the role may do, as the accounts page says it
    permissions: frozenset[str]


# read: every page but accounts and corrections; amounts: payment amounts; folios: a farmer's
# whole program folio (its last 4 digits are the check, so viewers see "PP-••••04"); unlock: lift
# a phone's check lock and reset a farmer's PIN; knowledge: edit the explanations and the FAQ the
# assistant answers with (everyone reads them); privacy: record and answer farmers' ARCO requests
# (access, rectification, cancellation, opposition), of which viewers see nothing.
_OFFICER = frozenset(
    {"read", "amounts", "folios", "reply", "review", "edit", "unlock", "knowledge", "privacy", "broadcast"}
)

ROLES: dict[str, Role] = {
    "viewer": Role(
        "consulta", "lee conversaciones sin montos de pago ni folios completos", frozenset({"read"})
    ),
    "officer": Role("técnico(a) de campo", "lee todo, responde a productores y edita registros", _OFFICER),
    "admin": Role(
        "administración",
        "además maneja las cuentas y aprueba la difusión de otros",
        _OFFICER | {"accounts", "approve_broadcasts"},
    ),
}

# How an officer's reply from the console went.
REPLY_STATUSES: dict[str, str] = {
    "pending": "pendiente",
    "sent": "enviada",
    "failed": "falló",
    "skipped_opt_out": "no enviada (BAJA)",
}

UPLOAD_KINDS: dict[str, str] = {"invoices": "Facturas", "trainings": "Capacitaciones"}

# How sure the source of an explanation is (explanations.confidence, from the seed's labels in
# shared/domain/glossary.md).
SOURCE_CONFIDENCE: dict[str, str] = {
    "VERIFIED": "fuente oficial o primaria",
    "SECONDARY": "fuente secundaria",
}

# How an attempt to sign in ended (console_logins).
LOGIN_OUTCOMES: dict[str, str] = {
    "success": "entró",
    "failure": "usuario o contraseña incorrectos",
    "throttled": "rechazado: demasiados intentos",
}

# Why Twilio did not deliver a message, in plain words for staff: the error codes our docs name
# (docs/twilio.md); any other shows as "error de Twilio NNNNN" (twilio_error_reason).
TWILIO_ERRORS: dict[str, str] = {
    "63016": "fuera de la ventana de 24 horas de WhatsApp: hace falta una plantilla aprobada",
    "63018": "límite de WhatsApp alcanzado: demasiados productores contactados en 24 horas o demasiado rápido",
    "21610": "el número pidió BAJA (STOP) con el operador",
    "21211": "número no válido",
    "30003": "teléfono apagado o fuera de servicio",
    "30005": "número desconocido o ya no existe",
    "30006": "número fijo o que no recibe SMS",
    "30007": "el operador lo filtró como spam",
    "63024": "destinatario no válido para WhatsApp",
}

# The assistant's own names that the console looks for in conversations (bot/assistant/intents.py).
FALLBACK_ACTION = intents.action_for(intents.NLU_FALLBACK)
OUT_OF_SCOPE_INTENT = intents.OUT_OF_SCOPE
HUMAN_INTENT = intents.REQUEST_HUMAN

# Assistant actions a transcript marks, with the badge's style and its text.
MARKED_ACTIONS: dict[str, tuple[str, str]] = {
    FALLBACK_ACTION: ("bad", f"el asistente no entendió ({FALLBACK_ACTION})"),
    intents.action_for(intents.OUT_OF_SCOPE): ("bad", "fuera de tema"),
    intents.action_for(intents.REQUEST_HUMAN): ("person", "pidió una persona"),
}


def role_label(role: str) -> str:
    known = ROLES.get(role)
    return known.label if known else role


def role_can(role: str, permission: str) -> bool:
    known = ROLES.get(role)
    return known is not None and permission in known.permissions


def twilio_error_reason(code: str | None) -> str | None:
    """A Twilio error code in plain Spanish; None without a code."""
    code = (code or "").strip()
    if not code:
        return None
    return TWILIO_ERRORS.get(code, f"error de Twilio {code}")
