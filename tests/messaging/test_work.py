"""One unit of work per call on the messaging threads."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.db import session_scope
from bot.messaging import inbound, work
from tests.messaging.conftest import inbound_message


def store_then_fail(session, message):
    inbound.store_inbound(session, message)
    raise RuntimeError("the rest of the step failed")


def test_in_session_commits_what_the_function_did(db):
    sid = "SM" + uuid.uuid4().hex
    assert asyncio.run(work.in_session(inbound.store_inbound, inbound_message(sid))) is True
    with session_scope() as session:
        assert inbound.inbound_exists(session, sid)


def test_in_session_rolls_back_the_whole_step_when_it_fails(db):
    sid = "SM" + uuid.uuid4().hex
    with pytest.raises(RuntimeError):
        asyncio.run(work.in_session(store_then_fail, inbound_message(sid)))
    with session_scope() as session:
        assert not inbound.inbound_exists(session, sid)
