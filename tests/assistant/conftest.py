"""The seeded databases of tests/conftest.py, with the demo phones' consent, checks, payment
views, requests for a person and replies kept against redelivery cleared before each test."""

from __future__ import annotations

import pytest

from tests.assistant.phone import DEMO_PHONES, reset_phone


@pytest.fixture
def db(seeded_db):
    for number in DEMO_PHONES:
        reset_phone(seeded_db, number)
    return seeded_db
