"""Messages for the production tests."""

from __future__ import annotations

import uuid

from bot.messaging.inbound import Inbound
from tests.messaging.conftest import inbound_message


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex


def message(phone: str, body: str = "hola", sid: str | None = None) -> Inbound:
    """An SMS from the phone, with a new MessageSid unless one is given."""
    return inbound_message(sid or new_sid(), body, phone)
