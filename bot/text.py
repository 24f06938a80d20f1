"""Small text helpers shared by the NLU component, the assistant and the channels."""

from __future__ import annotations

import unicodedata


def fold_accents(text: str) -> str:
    """'Michoacán' -> 'Michoacan', 'ñ' -> 'n': how farmers type on a basic phone."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def plain(text: str) -> str:
    """Lower case, no accents, single spaces: for matching what a farmer typed."""
    return " ".join(fold_accents(text).lower().split())


MONTH_NAMES = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio",
    "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
)  # fmt: skip
