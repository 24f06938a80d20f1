"""The gateway while the database is down, as a real process on PostgreSQL and RabbitMQ: the
connection to PostgreSQL goes through a proxy the test cuts (the machine's PostgreSQL goes on
serving the rest of the suite). Messages are spooled to the gateway's disk and answered 200;
when the database answers again they are stored in the order they came, each farmer's behind
their earlier ones, and published; a gateway killed with SIGKILL with messages in its spool
delivers them when it is started again on the same disk."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import urllib.request
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.messaging.schema import InboundMessage
from bot.stack import free_port
from bot.twilio_standin.client import signed_post, webhook_params
from tests.production.processes import AUTH_TOKEN, PUBLIC_BASE_URL, ROOT, gateway_env, wait_ready
from tests.production.rabbit import queued
from tests.production.support import new_sid
from tests.support.polling import wait_until
from tests.support.tcp_proxy import TcpProxy

PATH = "/webhooks/sms/webhook"
ROSARIO, TOMAS = "+524431000301", "+524431000302"


@pytest.fixture
def proxy(pg):
    parts = urlsplit(pg)
    found = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    yield found
    found.close()


def _through(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@contextmanager
def gateway(database_url, broker, spool, log):
    port = free_port()
    env = dict(gateway_env(database_url, broker), GATEWAY_SPOOL=str(spool))
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.gateway", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", process, log)
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def post(base, phone, body):
    params = webhook_params(phone, "sms", body, message_sid=new_sid())
    status, _, _ = signed_post(base + PATH, params, AUTH_TOKEN, public_url=PUBLIC_BASE_URL + PATH)
    return status


def stored(url) -> dict[str, list[str]]:
    with session_scope(url) as session:
        rows = session.execute(
            select(InboundMessage.phone, InboundMessage.body).order_by(
                InboundMessage.phone, InboundMessage.farmer_seq
            )
        ).all()
    found: dict[str, list[str]] = {}
    for phone, body in rows:
        found.setdefault(phone, []).append(body)
    return found


def ready(base) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(base + "/readyz", timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def test_spooled_while_the_database_is_down_then_stored_in_order(pg, broker, proxy, tmp_path):
    spool = tmp_path / "gateway.spool"
    with gateway(_through(pg, proxy), broker, spool, tmp_path / "gateway.log") as (base, _):
        assert post(base, ROSARIO, "uno") == 200
        proxy.cut()
        answers = [post(base, ROSARIO, "dos"), post(base, TOMAS, "hola"), post(base, ROSARIO, "tres")]
        assert answers == [200, 200, 200]  # Twilio has its answer: nothing rests on its retries
        assert stored(pg) == {ROSARIO: ["uno"]}
        status, checks = ready(base)
        assert status == 200 and checks["database"] == "unavailable" and checks["spool"] == "3 waiting"
        proxy.restore()
        assert post(base, ROSARIO, "cuatro") == 200  # behind what waits, never ahead of it
        assert wait_until(
            lambda: stored(pg) == {ROSARIO: ["uno", "dos", "tres", "cuatro"], TOMAS: ["hola"]}, 30, 0.2
        )
        assert ready(base) == (200, {"broker": "ok", "database": "ok", "spool": "empty"})
    assert sum(asyncio.run(queued(broker)).values()) == 5  # each published once


def test_a_gateway_killed_with_messages_in_its_spool_delivers_them_when_started_again(
    pg, broker, proxy, tmp_path
):
    spool, log = tmp_path / "gateway.spool", tmp_path / "gateway.log"
    with gateway(_through(pg, proxy), broker, spool, log) as (base, process):
        proxy.cut()
        assert [post(base, TOMAS, text) for text in ("a", "b")] == [200, 200]
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    assert stored(pg) == {} and len(spool.read_text().splitlines()) == 2
    proxy.restore()
    with gateway(_through(pg, proxy), broker, spool, log):
        assert wait_until(lambda: stored(pg) == {TOMAS: ["a", "b"]}, 30, 0.2)
    assert spool.read_text() == ""
