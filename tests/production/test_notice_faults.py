"""The production notice scheduler killed with SIGKILL in the middle of releasing, and started
again: every notice is released once, stored once as the farmer's next message and published to
the farmer's queue; none is lost and none told twice. A real process (`python -m
bot.messaging.notice_loop`), PostgreSQL and RabbitMQ; bounded in time."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from bot.db import session_scope
from bot.messaging.schema import InboundMessage
from bot.records.notice_schema import Notice
from tests.production.processes import ROOT, gateway_env
from tests.production.rabbit import queued
from tests.production.support import farmers_with_changed_invoices

FARMERS = 300


def _scheduler(url: str, broker, log: Path) -> subprocess.Popen:
    env = dict(
        gateway_env(url, broker),
        NOTICE_BATCH="5",  # many small units of work, so the kill falls between and inside them
        NOTICE_INTERVAL="0.05",
        NOTICE_QUIET_START="24",  # the real clock: no quiet hours
        NOTICE_QUIET_END="0",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot.messaging.notice_loop"],
        cwd=ROOT,
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )


def _released(url: str) -> int:
    with session_scope(url) as s:
        return s.execute(select(func.count()).select_from(Notice).where(Notice.status == "released")).scalar()


def _wait(condition, seconds: float, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"scheduler exited {process.returncode}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"not in {seconds:.0f} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)


def test_a_scheduler_killed_mid_release_and_restarted_tells_each_farmer_once(pg, broker, tmp_path):
    phones = farmers_with_changed_invoices(pg, FARMERS)
    log = tmp_path / "notices.log"
    first = _scheduler(pg, broker, log)
    try:
        _wait(lambda: _released(pg) >= FARMERS // 3, 120, first, log)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    killed_at = _released(pg)
    assert killed_at < FARMERS, "the kill came too late to fall in the middle"
    second = _scheduler(pg, broker, log)
    try:
        _wait(lambda: _released(pg) == FARMERS, 120, second, log)
    finally:
        second.terminate()
        second.wait(15)
    with session_scope(pg) as s:
        rows = s.execute(select(Notice).where(Notice.phone.in_(phones))).scalars().all()
        assert len(rows) == FARMERS and {n.status for n in rows} == {"released"}  # planned once each
        messages = (
            s.execute(
                select(InboundMessage).where(InboundMessage.message_sid.in_([n.message_sid for n in rows]))
            )
            .scalars()
            .all()
        )
        assert len(messages) == FARMERS  # stored once each, as the farmer's next message
        assert all(m.kind == "notice" and m.farmer_seq == 1 for m in messages)
        published = sum(1 for m in messages if m.published_at is not None)
    # published once each, but a kill between publishing and marking it may leave one or two
    # unmarked (the gateways' recovery loop publishes those again; the worker drops a repeat)
    in_queues = sum(asyncio.run(queued(broker)).values())
    assert FARMERS - 5 <= published <= in_queues <= FARMERS + 5, (published, in_queues)
