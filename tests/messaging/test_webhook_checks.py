"""The webhook's checks, free of any web framework."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.messaging import webhook_checks


def test_message_sids_look_like_twilios():
    assert webhook_checks.looks_like_message_sid("SM" + uuid.uuid4().hex)
    assert webhook_checks.looks_like_message_sid("MM" + "0" * 32)
    for bad in (
        "",
        "SM",
        "SM" + "A" * 32,
        "SM" + "0" * 31,
        "MG" + "0" * 32,
        " SM" + "0" * 32,
        "SM" + "0" * 32 + "\n",
    ):
        assert not webhook_checks.looks_like_message_sid(bad), bad


@pytest.mark.parametrize(
    ("header", "too_large"),
    [
        (None, False),
        ("0", False),
        ("65536", False),
        ("65537", True),
        ("-1", True),
        ("1e9", True),
        (" 12 ", False),
    ],
)
def test_declared_length(header, too_large):
    assert webhook_checks.declared_too_large(header, 65536) is too_large


def _reader(chunks):
    queue = list(chunks)

    async def read():
        return queue.pop(0) if queue else None

    return read, queue


def test_read_within_stops_as_soon_as_the_limit_is_passed():
    read, left = _reader([b"a" * 10, b"b" * 10, b"c" * 10, b"d"])
    assert asyncio.run(webhook_checks.read_within(read, 25)) is None
    assert left == [b"d"]  # the rest is never read
    read, _ = _reader([b"a" * 10, b"b" * 10])
    assert asyncio.run(webhook_checks.read_within(read, 20)) == b"a" * 10 + b"b" * 10
