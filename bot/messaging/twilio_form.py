"""What a Twilio webhook posts, read into an ``Inbound``: the form as it was signed, and the message
in it. Free of any web framework and of Rasa, so every entry point that takes Twilio's webhooks
(the Rasa channels in bot/channels, the webhook gateway in bot/gateway) reads it the same way."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from bot.messaging.inbound import Inbound
from bot.phones import normalize_phone


class FormParams(dict):
    """Form fields as lists, blank values kept (Twilio signs ``Body=`` too; Sanic drops it)."""

    def getlist(self, name: str) -> list:
        return self[name]

    def first(self, name: str, default: str = "") -> str:
        values = self.get(name)
        return values[0] if values else default


def parse_form(body: bytes) -> FormParams:
    """A form-encoded body as it was sent (the signature covers exactly that), whatever bytes
    it holds: never raises."""
    text = (body or b"").decode("utf-8", errors="replace")
    return FormParams(parse_qs(text, keep_blank_values=True))


def _without_nul(params: FormParams) -> FormParams:
    """NUL characters dropped: no phone sends them, and no database column can keep them."""
    return FormParams(
        {
            key.replace("\x00", ""): [value.replace("\x00", "") for value in values]
            for key, values in params.items()
        }
    )


def _media(params: FormParams) -> list[dict[str, str]]:
    try:
        num_media = max(0, min(int(params.first("NumMedia", "0") or 0), 10))
    except ValueError:
        num_media = 0
    media = []
    for index in range(num_media):
        url = params.first(f"MediaUrl{index}")
        if url:
            media.append({"url": url, "content_type": params.first(f"MediaContentType{index}")})
    return media


def _location(params: FormParams) -> dict[str, Any] | None:
    lat, lon = params.first("Latitude"), params.first("Longitude")
    if not (lat and lon):
        return None
    try:
        latitude, longitude = float(lat), float(lon)
    except ValueError:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):  # also refuses nan and inf
        return None
    return {
        "latitude": latitude,
        "longitude": longitude,
        "label": params.first("Label") or params.first("Address") or None,
    }


def parse_inbound(medium: str, params: FormParams) -> Inbound:
    """The message in a webhook's form. Raises InvalidPhone when From is not a usable number."""
    params = _without_nul(params)
    from_address = params.first("From")
    phone = normalize_phone(from_address)
    location = _location(params)
    body = params.first("Body")
    if location and body.strip() in (location.get("label") or "", params.first("Address")):
        body = ""  # a location pin carries no question of its own
    return Inbound(
        message_sid=params.first("MessageSid") or params.first("SmsMessageSid"),
        medium=medium,
        phone=phone,
        from_address=from_address,
        to_address=params.first("To"),
        body=body,
        profile_name=params.first("ProfileName") or None,
        wa_id=params.first("WaId") or None,
        media=_media(params),
        location=location,
        raw_params={k: v[0] if len(v) == 1 else v for k, v in params.items()},
    )
