"""Opt-out and opt-in keywords (BAJA, ALTO, STOP, CANCELAR / ALTA, START), any case or accents."""
from __future__ import annotations

import re

from bot.text import plain

OPT_OUT_WORDS = frozenset({"baja", "alto", "stop", "cancelar", "unsubscribe", "darme de baja"})
OPT_IN_WORDS = frozenset({"alta", "start", "darme de alta"})


def _keyword(body: str | None) -> str:
    text = plain(body or "")
    return re.sub(r"[^\w ]+", "", text).strip()


def opt_action(body: str | None) -> str | None:
    """'opt_out', 'opt_in', or None when the message is not exactly one of the keywords."""
    word = _keyword(body)
    if word in OPT_OUT_WORDS:
        return "opt_out"
    if word in OPT_IN_WORDS:
        return "opt_in"
    return None


def keyword_of(body: str | None) -> str:
    return _keyword(body)[:20]
