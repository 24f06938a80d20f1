"""Attacks on the action server (bot/action_server.py), started as `make run` starts it, on the
demo records: without its shared secret nothing but /health answers, and a crafted tracker that
says it is Rosa asking for her payments gets nothing at all."""

from __future__ import annotations

import os
import secrets
import subprocess

import pytest
import requests

from bot import stack
from bot.config import PROJECT_ROOT
from tests.conftest import free_port, wait_for
from tests.databases import make_database

ROSA = "+524431000001"


def crafted_call(sender: str = ROSA) -> dict:
    """What Rasa would post to run action_ask_payment_status for Rosa's number, already
    verified and asking for her payments."""
    latest = {
        "text": "mis pagos",
        "intent": {"name": "ask_payment_status", "confidence": 1.0},
        "entities": [],
    }
    return {
        "next_action": "action_ask_payment_status",
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": {},
            "latest_message": latest,
            "events": [{"event": "user", "text": "mis pagos", "parse_data": latest}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    work = tmp_path_factory.mktemp("action_server")
    url, _cleanup = make_database("sqlite", work)
    token = secrets.token_urlsafe(32)
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, ACTION_SERVER_TOKEN=token, TF_CPP_MIN_LOG_LEVEL="3")
    log = work / "actions.log"
    process = subprocess.Popen(
        stack.action_server_command(port),
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health", process, 120, log)
        yield {"url": f"http://127.0.0.1:{port}", "token": token}
    finally:
        process.terminate()
        process.wait(30)


def test_only_health_answers_without_the_secret(action_server, attack):
    health = requests.get(f"{action_server['url']}/health", timeout=10)
    attack("GET action server /health, no secret", f"{health.status_code} {health.text!r}")
    assert health.status_code == 200
    for method, path in (
        ("GET", "/actions"),
        ("POST", "/webhook"),
        ("OPTIONS", "/webhook"),
        ("GET", "/nope"),
    ):
        response = requests.request(method, action_server["url"] + path, timeout=10)
        attack(f"{method} action server {path}, no secret", f"{response.status_code} {response.text!r}")
        assert response.status_code == 401 and response.text == ""


@pytest.mark.parametrize(
    ("label", "headers"),
    [
        ("no secret", {}),
        ("an empty secret", {"X-Action-Token": ""}),
        ("a wrong secret", {"X-Action-Token": "dev-token"}),
        ("the secret in another header", {"Authorization": "Bearer {token}"}),
        ("the secret as a query parameter", {"_query": "token={token}"}),
        ("the secret's first half", {"X-Action-Token": "{half}"}),
    ],
)
def test_a_crafted_tracker_for_rosa_gets_nothing_without_the_secret(action_server, attack, label, headers):
    token = action_server["token"]
    headers = {k: v.format(token=token, half=token[: len(token) // 2]) for k, v in headers.items()}
    query = headers.pop("_query", "")
    response = requests.post(
        f"{action_server['url']}/webhook" + (f"?{query}" if query else ""),
        json=crafted_call(),
        headers=headers,
        timeout=30,
    )
    attack(
        f"POST /webhook, action_ask_payment_status for {ROSA} ('mis pagos'), {label}",
        f"{response.status_code} {response.text!r}",
    )
    assert response.status_code == 401 and response.text == ""


def test_with_the_secret_the_same_call_runs(action_server):
    """The refusals above are the secret's doing, not a broken server (and even then an
    unverified number gets no amounts: that is the check code's part)."""
    response = requests.post(
        f"{action_server['url']}/webhook",
        json=crafted_call(),
        headers={"X-Action-Token": action_server["token"]},
        timeout=60,
    )
    assert response.status_code == 200
    texts = " ".join(r.get("text") or "" for r in response.json()["responses"])
    assert texts and "$" not in texts


def test_it_does_not_start_without_a_secret():
    env = {k: v for k, v in os.environ.items() if k != "ACTION_SERVER_TOKEN"}
    result = subprocess.run(
        stack.action_server_command(free_port()),
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "ACTION_SERVER_TOKEN" in result.stderr
