"""The channel tests use the channel server, the stand-in and the messaging database registered
for the whole run in tests/conftest.py (tests/support/channel_server.py); the names below are
kept for the test modules that import them from here."""

from __future__ import annotations

from tests.support.channel_server import ACCOUNT_SID, AUTH_TOKEN, EchoAssistant

__all__ = ["ACCOUNT_SID", "AUTH_TOKEN", "EchoAssistant"]
