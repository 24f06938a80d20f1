"""What staff must not read: payment amounts (hidden from viewers), a farmer's whole program
folio (its last 4 digits are the check; hidden from viewers) and whatever a farmer types as a
check code or PIN (hidden from everyone: masked when the console copies Rasa's events)."""

from __future__ import annotations

import json
import re

MASK = "•"

_AMOUNT = re.compile(r"\$\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*(?:\.\d+)?\s*(?:pesos|mxn)\b", re.IGNORECASE)
# A code or PIN as farmers type it: 4 digits on their own, perhaps spaced ("8204", "82 04",
# "8-2-0-4"); and a program folio typed whole ("PP-108204", "pp 108204").
_CODE = re.compile(r"(?<!\d)\d(?:[ .-]?\d){3}(?!\d)")
_FOLIO = re.compile(r"\bPP[ -]?\d+", re.IGNORECASE)
_DIGIT = re.compile(r"\d")


def mask_amounts(text: str) -> str:
    """For viewers: '$37,765.00' -> '$ •••••' wherever it appears in a message."""
    return _AMOUNT.sub("$ •••••", text or "")


def mask_folio(folio: str) -> str:
    """For viewers: 'PP-108204' -> 'PP-••••04' (every digit but the last two)."""
    digits = sum(ch.isdigit() for ch in folio or "")
    seen = 0
    out = []
    for ch in folio or "":
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > digits - 2 else MASK)
        else:
            out.append(ch)
    return "".join(out)


def mask_codes(text: str) -> str:
    """A farmer's message without any code or PIN in it: '8204' -> '••••', 'PP-108204' ->
    'PP-••••04'. Lengths are kept, so entity offsets into the text stay right."""
    text = _FOLIO.sub(lambda m: mask_folio(m.group()), text or "")
    return _CODE.sub(lambda m: _DIGIT.sub(MASK, m.group()), text)


def mask_entities_json(entities_json: str | None) -> str | None:
    """The same masking on the values of stored entities (a JSON list of dicts)."""
    if not entities_json:
        return entities_json
    entities = json.loads(entities_json)
    changed = False
    for entity in entities:
        value = entity.get("value")
        if isinstance(value, (str, int)) and mask_codes(str(value)) != str(value):
            entity["value"], changed = mask_codes(str(value)), True
    return json.dumps(entities, ensure_ascii=False) if changed else entities_json
