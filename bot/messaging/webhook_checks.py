"""Checks on what reaches a Twilio webhook, before anything of it is believed.

Free of any web framework, so every entry point that takes Twilio's webhooks (the Rasa channels
in bot/channels today, a gateway tomorrow) refuses the same things in the same way:

* a body over ``max_body_bytes`` is refused with 413 before it is parsed: by its declared
  Content-Length without reading it, and by counting what arrives when there is none (chunked);
* a MessageSid that does not look like Twilio's (``SM`` or ``MM`` and 32 hex digits) gets 400.

The per-number rate limit is a decision on stored messages: bot/messaging/rate_limit.py.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-f]{32}$")

# Answers a webhook gives, with no detail a caller could use.
TOO_LARGE = 413
BAD_REQUEST = 400
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
