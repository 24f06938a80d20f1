"""The running stack for tests and benchmarks: a seeded SQLite database, the local Twilio stand-in,
then the action server and the Rasa server on a trained model, started with the command lines
`make run` uses (bot/stack.py): on 127.0.0.1, the action server behind a shared secret, Rasa's
HTTP API only with a token.

tests/conftest.py's ``stack_env`` and ``rasa_stack`` fixtures and bench/journeys.py use these.

    with stack_environment(work) as env, running_stack(model, env) as stack:
        stack["url"], env["standin"], env["database_url"]
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from bot import stack
from bot.config import PROJECT_ROOT
from tests.databases import make_database
from tests.support.standin import rasa_env, start_standin

TWILIO_TEST_TOKEN = "test-token"
TWILIO_PUBLIC_BASE_URL = "https://bot.example.test"  # what Twilio would call; tests post to 127.0.0.1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: int, log: Path) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise RuntimeError(f"{url} did not come up in {seconds}s:\n{log.read_text()[-3000:]}")


@contextmanager
def stack_environment(work: Path, extra: Mapping[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """Environment shared by the action server and the Rasa server: a seeded SQLite database, the
    local Twilio stand-in (so the WhatsApp and SMS channels send their replies to it), the action
    server's secret and the API token, both made for this run; ``extra`` settings on top."""
    url, _cleanup = make_database("sqlite", work)
    twilio = start_standin(auth_token=TWILIO_TEST_TOKEN)
    action_token, api_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    env = dict(
        os.environ,
        DATABASE_URL=url,
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONWARNINGS="ignore",
        RASA_TELEMETRY_ENABLED="false",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        TWILIO_INBOUND_SPOOL=str(work / "inbound_spool.jsonl"),
        NOTICE_INTERVAL="1",  # the embedded notice scheduler's rounds (tests/channels/test_rasa_e2e.py)
        NOTICE_TRAININGS_INTERVAL="1",
        # The stack's scheduler runs on the real clock: no quiet hours, so a run at any hour gets
        # its notices (quiet hours are tested on a clock of their own, tests/messaging/test_notices.py).
        NOTICE_QUIET_START="24",
        NOTICE_QUIET_END="0",
        **{stack.ACTION_TOKEN: action_token},
    )
    env.update(rasa_env(twilio.url, TWILIO_PUBLIC_BASE_URL, auth_token=TWILIO_TEST_TOKEN))
    env.update(extra or {})
    try:
        yield {
            "env": env,
            "work": work,
            "database_url": url,
            "standin": twilio,
            "action_token": action_token,
            "api_token": api_token,
        }
    finally:
        twilio.stop()


@contextmanager
def running_stack(model: Path, stack_env: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Action server + Rasa server (REST and our channels, API with a token) on the trained model,
    until the block ends."""
    work: Path = stack_env["work"]
    env = stack_env["env"]
    actions_port, rasa_port = free_port(), free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(stack.endpoints_for(actions_port, work / "tracker.db"), encoding="utf-8")
    api = stack.Api(token=stack_env["api_token"])
    actions_log, rasa_log = work / "actions.log", work / "rasa.log"
    actions = subprocess.Popen(
        stack.action_server_command(actions_port),
        cwd=PROJECT_ROOT,
        env=env,
        stdout=actions_log.open("w"),
        stderr=subprocess.STDOUT,
    )
    rasa = subprocess.Popen(
        stack.rasa_run_command(model, rasa_port, endpoints, stack.CREDENTIALS, api),
        cwd=PROJECT_ROOT,
        env=env,
        stdout=rasa_log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{actions_port}/health", actions, 120, actions_log)
        wait_for(f"http://127.0.0.1:{rasa_port}/", rasa, 300, rasa_log)
        yield {
            "url": f"http://127.0.0.1:{rasa_port}",
            "port": rasa_port,
            "api": {"token": api.token},  # query parameters for Rasa's HTTP API
            "api_token": api.token,
            "actions_url": f"http://127.0.0.1:{actions_port}",
            "actions_port": actions_port,
            "action_token": stack_env["action_token"],
            "endpoints": endpoints,
            "credentials": stack.CREDENTIALS,
            "database_url": stack_env["database_url"],
            "tracker_db": work / "tracker.db",
            "rasa_log": rasa_log,
            "actions_log": actions_log,
        }
    finally:
        for process in (rasa, actions):
            process.terminate()
        for process in (rasa, actions):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
