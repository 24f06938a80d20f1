"""One form for every phone number, whatever channel it came from, read by libphonenumber.

Twilio sends WhatsApp numbers as ``whatsapp:+521XXXXXXXXXX`` (Mexican mobiles still carry the old
"1" after +52 there, which libphonenumber calls impossible, so it is dropped first) and SMS numbers
as ``+52XXXXXXXXXX``; farmers and staff type ``443 123 4567``. All become E.164, ``+52XXXXXXXXXX``.
A number with its country code stays in its country (``+354 123 4567`` is Icelandic, never a
Michoacán number); one without is read as Mexican. A number libphonenumber finds impossible is
refused.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

_PREFIXES = ("whatsapp:", "sms:", "tel:")
_MEXICAN_MOBILE_1 = re.compile(r"^\+521(\d{10})$")
_DIALLABLE = re.compile(r"^[+(\d][\d\s().\-/]*$")


class InvalidPhone(ValueError):
    pass


def _international(text: str) -> str:
    """The typed number with a leading '+' when it carries its country code ('00…' or '52…')."""
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        return "+" + digits
    if text.startswith("00"):
        return "+" + digits[2:]
    if len(digits) in (12, 13) and digits.startswith("52"):  # 52 + 10 digits (+1 for old mobiles)
        return "+" + digits
    return digits


@lru_cache(maxsize=65536)  # every webhook parses its From: the program's phones, read once each
def normalize_phone(raw: str) -> str:
    text = (raw or "").strip().lower()
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :].strip()
    if not text or not _DIALLABLE.match(text):
        raise InvalidPhone("not a phone number")
    number = _MEXICAN_MOBILE_1.sub(r"+52\1", _international(text))
    try:
        parsed = phonenumbers.parse(number, "MX")
    except phonenumbers.NumberParseException as error:
        raise InvalidPhone("not a phone number") from error
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhone("not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


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
