"""Shared fixtures: real databases (SQLite always, PostgreSQL when reachable), the channel server
(tests/support/channel_server.py) and one running Rasa stack (action server + Rasa server on the
trained model) reused by every test that needs it. The stack is started the way `make run`
starts it (bot/stack.py): on 127.0.0.1, the action server behind a shared secret, Rasa's HTTP API
only with a token, which tests pass as ``?token=`` (``rasa_stack["api"]``)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bot import stack
from tests.databases import ANCHOR, make_database  # noqa: F401  (ANCHOR: used by test modules)
from tests.support.channel_server import channel_server, channels, standin  # noqa: F401  (fixtures)
from tests.support.messaging_db import messaging_db  # noqa: F401  (fixture: channels, messaging)
from tests.support.standin import rasa_env, start_standin

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def seeded_db(request, tmp_path_factory):
    """A seeded database shared by tests that only read, or that write on their own rows."""
    url, cleanup = make_database(request.param, tmp_path_factory.mktemp(request.param))
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    yield url
    if previous is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = previous
    cleanup()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request, tmp_path, monkeypatch):
    url, cleanup = make_database(request.param, tmp_path, seeded=False)
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    cleanup()


# --- the running Rasa stack --------------------------------------------------------------------


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


def model_path() -> Path:
    model = os.environ.get("RASA_MODEL")
    if model and (ROOT / model).exists():
        return ROOT / model
    candidates = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        pytest.skip("no trained model in models/: run `make test` (it trains one)")
    return candidates[-1]


TWILIO_TEST_TOKEN = "test-token"
TWILIO_PUBLIC_BASE_URL = "https://bot.example.test"  # what Twilio would call; tests post to 127.0.0.1


@pytest.fixture(scope="session")
def stack_env(tmp_path_factory):
    """Environment shared by the action server and the Rasa server: a seeded SQLite database, the
    local Twilio stand-in (so the WhatsApp and SMS channels send their replies to it), the action
    server's secret and the API token, both made for this run."""
    work = tmp_path_factory.mktemp("stack")
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
        **{stack.ACTION_TOKEN: action_token},
    )
    env.update(rasa_env(twilio.url, TWILIO_PUBLIC_BASE_URL, auth_token=TWILIO_TEST_TOKEN))
    yield {
        "env": env,
        "work": work,
        "database_url": url,
        "standin": twilio,
        "action_token": action_token,
        "api_token": api_token,
    }
    twilio.stop()


@pytest.fixture(scope="session")
def rasa_stack(stack_env):
    """Action server + Rasa server (REST and our channels, API with a token) on the trained model,
    started once, with the command lines `make run` uses."""
    model = model_path()
    work: Path = stack_env["work"]
    env = stack_env["env"]
    actions_port, rasa_port = free_port(), free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(stack.endpoints_for(actions_port, work / "tracker.db"), encoding="utf-8")
    api = stack.Api(token=stack_env["api_token"])
    actions_log, rasa_log = work / "actions.log", work / "rasa.log"
    actions = subprocess.Popen(
        stack.action_server_command(actions_port),
        cwd=ROOT,
        env=env,
        stdout=actions_log.open("w"),
        stderr=subprocess.STDOUT,
    )
    rasa = subprocess.Popen(
        stack.rasa_run_command(model, rasa_port, endpoints, stack.CREDENTIALS, api),
        cwd=ROOT,
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
