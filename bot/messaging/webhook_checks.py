"""Checks on what reaches a Twilio webhook, before anything of it is believed.

Free of any web framework, so every entry point that takes Twilio's webhooks (the Rasa channels
in bot/channels today, a gateway tomorrow) refuses the same things in the same way:

* a body over ``max_body_bytes`` is refused with 413 before it is parsed: by its declared
  Content-Length without reading it, and by counting what arrives when there is none (chunked);
* a request without a valid ``X-Twilio-Signature`` for the public base URL + path gets 403;
* a MessageSid that does not look like Twilio's (``SM`` or ``MM`` and 32 hex digits) gets 400.

The per-number rate limit is a decision on stored messages: bot/messaging/rate_limit.py.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence

from twilio.request_validator import RequestValidator

MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-f]{32}$")

# Answers a webhook gives, with no detail a caller could use.
TOO_LARGE = 413
BAD_REQUEST = 400
FORBIDDEN = 403
UNAVAILABLE = 503


def looks_like_message_sid(sid: str) -> bool:
    return bool(MESSAGE_SID.fullmatch(sid or ""))


def declared_length(content_length: str | None) -> int | None:
    """The Content-Length header as a number; None when absent. A value that is not a plain
    non-negative number counts as too large: such a request is refused, never guessed at."""
    if content_length is None:
        return None
    text = content_length.strip()
    return int(text) if text.isdigit() and len(text) < 19 else 2**63


def declared_too_large(content_length: str | None, limit: int) -> bool:
    declared = declared_length(content_length)
    return declared is not None and declared > limit


async def read_within(read_chunk: Callable[[], Awaitable[bytes | None]], limit: int) -> bytes | None:
    """The whole body, read chunk by chunk (``read_chunk`` returns None at the end); None as
    soon as more than ``limit`` bytes have arrived, without reading the rest."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await read_chunk()
        if chunk is None:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


async def read_body(
    content_length: str | None,
    read_chunk: Callable[[], Awaitable[bytes | None]] | None,
    buffered: bytes | None,
    limit: int,
) -> bytes | None:
    """A webhook's body, or None when it is over the limit: by its Content-Length (unread), or by
    what arrived on the stream (``read_chunk``), or by the body an app buffered already."""
    if declared_too_large(content_length, limit):
        return None
    if read_chunk is not None:
        return await read_within(read_chunk, limit)
    body = buffered or b""
    return body if len(body) <= limit else None


def signature_valid(
    auth_token: str,
    public_url: str,
    query_string: str,
    params: Mapping[str, Sequence[str]],
    signature: str,
) -> bool:
    """Twilio's signature of the request: the public URL Twilio called (with its query string)
    and the form as posted. Never true without a signature, a token or a public URL."""
    if not signature or not auth_token or not public_url:
        return False
    url = f"{public_url}?{query_string}" if query_string else public_url
    return bool(RequestValidator(auth_token).validate(url, params, signature))
