"""Payment amounts hidden from accounts that may not see them."""

from __future__ import annotations

import re

_AMOUNT = re.compile(r"\$\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*(?:\.\d+)?\s*(?:pesos|mxn)\b", re.IGNORECASE)


def mask_amounts(text: str) -> str:
    """For viewers: '$37,765.00' -> '$ •••••' wherever it appears in a message."""
    return _AMOUNT.sub("$ •••••", text or "")
