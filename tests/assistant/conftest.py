"""The seeded databases of tests/conftest.py, with the demo phones' consent, checks, payment
views, requests for a person and replies kept against redelivery cleared before each test."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from bot.db import session_scope
from bot.records.schema import (
    Consent,
    HandledMessage,
    HumanRequest,
    PaymentAccessLog,
    PhoneVerification,
)
from tests.assistant.phone import DEMO_PHONES


def reset_phone(url: str, number: str) -> None:
    """The phone as a new contact: no consent, check, payment view, request or kept reply."""
    with session_scope(url) as s:
        for model in (Consent, PhoneVerification, PaymentAccessLog, HumanRequest, HandledMessage):
            s.execute(delete(model).where(model.phone == number))


@pytest.fixture
def db(seeded_db):
    for number in DEMO_PHONES:
        reset_phone(seeded_db, number)
    return seeded_db
