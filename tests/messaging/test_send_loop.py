"""`python -m bot.messaging.send_loop`, the sender process of production mode, run as a real
process against the real databases and a Twilio stand-in: health, readiness and metrics, sending,
two processes sharing one outbox, and a graceful stop on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from bot.db import session_scope
from bot.messaging import outbound, outbox
from bot.messaging.schema import OutboxEntry
from bot.messaging.sender import SendResult
from tests.messaging.conftest import new_phone
from tests.messaging.senders import ACCOUNT_SID, AUTH_TOKEN, SMS_FROM, entry, message, queue
from tests.support.standin import free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.usefixtures("quiet")


class SenderProcess:
    def __init__(self, process: subprocess.Popen, port: int, log: Path):
        self.process, self.port, self.log = process, port, log
        self.url = f"http://127.0.0.1:{port}"

    def get(self, path: str) -> requests.Response:
        return requests.get(self.url + path, timeout=5)

    def sends(self) -> int:
        found = re.findall(r'^sender_sends_total\{medium="sms"\} ([0-9.]+)$', self.get("/metrics").text, re.M)
        return int(float(found[0])) if found else 0

    def wait_ready(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the sender exited:\n{self.log.read_text()[-3000:]}")
            try:
                if self.get("/readyz").status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the sender did not get ready:\n{self.log.read_text()[-3000:]}")

    def terminate(self, seconds: float = 20) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(seconds)


@contextmanager
def sender_process(database_url: str, api, work: Path, **extra: str) -> Iterator[SenderProcess]:
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        ALLOW_LOCAL_CREDENTIALS="1",  # the test databases trust this machine
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_SMS_FROM=SMS_FROM,
        TWILIO_PUBLIC_BASE_URL="http://127.0.0.1:9",
        TWILIO_STATUS_CALLBACKS="0",
        TWILIO_API_BASE=api.url,
        TWILIO_SEND_TIMEOUT="3",
        TWILIO_BACKOFF_BASE="0.05",
        TWILIO_BACKOFF_MAX="0.2",
        TWILIO_OUTBOX_INTERVAL="0.3",
        SENDER_HEALTH_PORT=str(port),
        SENDER_POLL_INTERVAL="0.1",
        SENDER_MEASURE_INTERVAL="0.2",
    )
    env.update(extra)
    log = work / f"sender-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.messaging.send_loop"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    running = SenderProcess(process, port, log)
    try:
        running.wait_ready()
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_the_sender_process_serves_health_and_metrics_sends_and_stops_on_sigterm(empty_db, api, tmp_path):
    phone = new_phone()
    with sender_process(empty_db, api, tmp_path) as sender:
        assert sender.get("/healthz").status_code == 200
        assert sender.get("/readyz").json() == {"status": "ok"}
        outbound_id = queue(phone, "Su pago sale el viernes.", in_reply_to="SMfromthefarmer")
        taken = api.wait_for(1, to=phone)
        assert [m["body"] for m in taken] == ["Su pago sale el viernes."]
        deadline = time.monotonic() + 10
        while sender.sends() < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        metrics = sender.get("/metrics").text
        assert 'sender_sends_total{medium="sms"} 1.0' in metrics
        assert "outbox_depth " in metrics and "outbox_oldest_due_age_seconds " in metrics
        assert sender.terminate() == 0
    assert message(outbound_id).twilio_sid == taken[0]["sid"]
    log = sender.log.read_text()
    assert "sender stopped" in log and "SMfromthefarmer" in log and taken[0]["sid"] in log
    assert phone not in log and phone[-10:] not in log  # numbers are masked


def test_sigterm_finishes_the_send_in_flight_and_gives_back_the_other_claims(empty_db, api, tmp_path):
    api.control(latency=1.5)  # each send takes 1.5 s at Twilio
    with sender_process(empty_db, api, tmp_path, SENDER_CONCURRENCY="1") as sender:
        ids = [queue(new_phone(), f"aviso {n}") for n in range(3)]
        deadline = time.monotonic() + 10
        while api.attempts() < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sender.terminate() == 0
    assert len(api.messages()) == 1  # the one in flight, and no other
    done = [i for i in ids if message(i).twilio_sid]
    assert len(done) == 1 and message(done[0]).twilio_sid == api.messages()[0]["sid"]
    for waiting in set(ids) - set(done):
        assert entry(waiting).locked_until is None and entry(waiting).done_at is None


def test_two_sender_processes_send_every_entry_once_in_each_farmers_order(empty_db, api, tmp_path):
    api.control(latency=0.02)
    phones = [new_phone() for _ in range(20)]
    batch = {"SENDER_BATCH": "4", "SENDER_CONCURRENCY": "2"}
    with (
        sender_process(empty_db, api, tmp_path, **batch) as one,
        sender_process(empty_db, api, tmp_path, **batch) as two,
    ):
        for n in range(3):
            for index, phone in enumerate(phones):
                queue(phone, f"{index}-{n}")
        taken = api.wait_for(60, timeout=60)
        deadline = time.monotonic() + 10
        while sum(shares := (one.sends(), two.sends())) < 60 and time.monotonic() < deadline:
            time.sleep(0.1)  # the last sends are being recorded
        assert one.terminate() == 0 and two.terminate() == 0
    bodies = [m["body"] for m in taken]
    assert len(bodies) == 60 and len(set(bodies)) == 60
    for index, phone in enumerate(phones):
        assert [m["body"] for m in taken if m["to"] == phone] == [f"{index}-{n}" for n in range(3)]
    assert sum(shares) == 60 and min(shares) > 0, shares
    with session_scope() as session:
        assert session.query(OutboxEntry).filter(OutboxEntry.done_at.is_(None)).count() == 0


def test_a_notify_at_commit_wakes_the_sender_long_before_its_next_poll(empty_db, api, tmp_path):
    if not empty_db.startswith("postgresql"):
        pytest.skip("LISTEN / NOTIFY: PostgreSQL (SQLite's senders poll)")
    phone = new_phone()
    with sender_process(empty_db, api, tmp_path, SENDER_POLL_INTERVAL="60") as sender:
        time.sleep(0.5)  # its first round is over: it waits for the next
        queued = time.monotonic()
        with session_scope() as session:  # queued and announced in one unit of work
            message = outbound.Outgoing("sms", phone, phone, "Ya quedó su inscripción.")
            outbound.record_outbound(session, message, SendResult(False, 0, error="queued", retryable=True))
            outbox.notify_due(session)
        assert [m["body"] for m in api.wait_for(1, to=phone, timeout=20)] == ["Ya quedó su inscripción."]
        assert time.monotonic() - queued < 5
        assert sender.terminate() == 0
