"""The words that stop and restart the program's messages, defined once: the keywords (BAJA,
ALTO, STOP, CANCELAR / ALTA, START, in any case or accents) and the same asked in a sentence
("ya no me manden mensajes", "sí quiero seguir recibiendo mensajes"). The channels record them
before the NLU reads the message (bot/messaging/optout.py)."""

from __future__ import annotations

import re

from bot.text import plain

OPT_OUT_WORDS = frozenset({"baja", "alto", "stop", "cancelar", "unsubscribe", "darme de baja"})
OPT_IN_WORDS = frozenset({"alta", "start", "darme de alta"})
# Asking in a sentence to stop the messages; "ya no me llegan mensajes" (a complaint) is not this.
OPT_OUT_SENTENCE = re.compile(
    r"\b(?:ya no|no|dejen de|deje de)\s+(?:me\s+|nos\s+)?(?:manden|mande|envien|envie|escriban|"
    r"mandar|enviar|escribir|quiero recibir|quiero que me (?:manden|envien|escriban))(?:me|nos)?\b"
    r".*\b(?:mensajes?|msjs?|avisos?|sms|whats|notificaciones)\b"
    r"|\bno quiero (?:mas |recibir )?(?:mensajes|msjs?|avisos|notificaciones)\b"
)
# Asking in a sentence to have them back.
OPT_IN_SENTENCE = re.compile(
    r"\b(?:si )?quiero (?:seguir|volver a) recibi\w*\b|\bvuelvan a (?:mandar|enviar)(?:me|nos)\b"
)


def keyword(body: str | None) -> str:
    """The message reduced to plain lower-case words."""
    return re.sub(r"[^\w ]+", "", plain(body or "")).strip()


def opt_action(body: str | None) -> str | None:
    """'opt_out', 'opt_in', or None: a keyword alone, or a sentence that asks for it."""
    said = keyword(body)
    if said in OPT_OUT_WORDS or OPT_OUT_SENTENCE.search(said):
        return "opt_out"
    if said in OPT_IN_WORDS or OPT_IN_SENTENCE.search(said):
        return "opt_in"
    return None
