"""One form for every Mexican phone number, whatever channel it came from.

Twilio sends WhatsApp numbers as ``whatsapp:+521XXXXXXXXXX`` (the old mobile prefix 1) and SMS
numbers as ``+52XXXXXXXXXX``; farmers type ``443 123 4567``. All become ``+52XXXXXXXXXX``.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\d+")


class InvalidPhone(ValueError):
    pass


def normalize_phone(raw: str) -> str:
    text = (raw or "").strip().lower()
    for prefix in ("whatsapp:", "sms:", "tel:"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    digits = "".join(_DIGITS.findall(text))
    if text.startswith("00"):
        digits = digits[2:]
    if len(digits) == 10:  # national number without country code
        return "+52" + digits
    if digits.startswith("521") and len(digits) == 13:
        return "+52" + digits[3:]
    if digits.startswith("52") and len(digits) == 12:
        return "+" + digits
    if text.startswith("+") and 8 <= len(digits) <= 15:
        return "+" + digits  # a foreign number stays as it is
    raise InvalidPhone("not a phone number")


def try_normalize_phone(raw: str) -> str | None:
    try:
        return normalize_phone(raw)
    except InvalidPhone:
        return None


def twilio_address(phone: str, medium: str) -> str:
    """How Twilio writes a normalised number on a medium: WhatsApp (via Twilio) still shows
    Mexican mobiles with the old "1" after +52 (``whatsapp:+521XXXXXXXXXX``)."""
    if medium != "whatsapp":
        return phone
    if phone.startswith("+52") and len(phone) == 13:
        return f"whatsapp:+521{phone[3:]}"
    return f"whatsapp:{phone}"


def mask_phone(phone: str) -> str:
    """For logs: keep only the last two digits."""
    return "…" + phone[-2:] if phone else "?"
