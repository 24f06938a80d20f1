"""Fixtures for the messaging tests: the messaging database (tests/support/messaging_db.py),
emptied before each test that asks for ``db``; and for the sender tests (tests/messaging/senders.py)
a Twilio stand-in of their own (``api``) and the embedded outbox workers kept ``quiet``."""

from __future__ import annotations

import random

import pytest

from bot.messaging.inbound import Inbound
from tests.messaging.senders import api, own_standin, quiet  # noqa: F401  (fixtures of the sender tests)
from tests.support.messaging_db import clean_messaging_tables


@pytest.fixture
def db(messaging_db):
    clean_messaging_tables()
    return messaging_db


def new_phone() -> str:
    return "+52443" + "".join(random.choice("0123456789") for _ in range(7))


def inbound_message(sid: str, body: str = "hola", phone: str = "+524431112233") -> Inbound:
    return Inbound(
        message_sid=sid,
        medium="sms",
        phone=phone,
        from_address=phone,
        to_address="+15005550006",
        body=body,
        profile_name=None,
        wa_id=None,
        media=[],
        location=None,
        raw_params={"Body": body},
    )
