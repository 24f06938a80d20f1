"""Shared fixtures: real databases (SQLite always, PostgreSQL when reachable), the channel server
(tests/support/channel_server.py) and one running Rasa stack (action server + Rasa server on the
trained model) reused by every test that needs it. The stack is started the way `make run`
starts it (bot/stack.py): on 127.0.0.1, the action server behind a shared secret, Rasa's HTTP API
only with a token, which tests pass as ``?token=`` (``rasa_stack["api"]``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.databases import ANCHOR, drop_templates, make_database  # noqa: F401  (ANCHOR: used by test modules)
from tests.support.channel_server import channel_server, channels, standin  # noqa: F401  (fixtures)
from tests.support.messaging_db import messaging_db  # noqa: F401  (fixture: channels, messaging)
from tests.support.stack import (  # noqa: F401  (free_port, wait_for, TWILIO_*: imported by test modules)
    TWILIO_PUBLIC_BASE_URL,
    TWILIO_TEST_TOKEN,
    free_port,
    running_stack,
    stack_environment,
    wait_for,
)

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def pytest_sessionfinish(session, exitstatus):
    """The run's template databases (tests/databases.py) go when the run ends."""
    drop_templates()


@contextmanager
def seeded_database_named(kind: str, tmp_dir: Path) -> Iterator[str]:
    """A seeded database that DATABASE_URL names while the block runs (then as it was before)."""
    url, cleanup = make_database(kind, tmp_dir)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    try:
        yield url
    finally:
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
        cleanup()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def seeded_db(request, tmp_path_factory):
    """A seeded database shared by tests that only read, or that write on their own rows."""
    with seeded_database_named(request.param, tmp_path_factory.mktemp(request.param)) as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def own_seeded_db(request, tmp_path_factory):
    """A seeded database for one test module alone (a copy of the template, so cheap): for a
    module whose tests change records other modules read. DATABASE_URL names it meanwhile."""
    with seeded_database_named(request.param, tmp_path_factory.mktemp(f"own-{request.param}")) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request, tmp_path, monkeypatch):
    url, cleanup = make_database(request.param, tmp_path, seeded=False)
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    cleanup()


# --- the running Rasa stack --------------------------------------------------------------------


def model_path() -> Path:
    model = os.environ.get("RASA_MODEL")
    if model and (ROOT / model).exists():
        return ROOT / model
    candidates = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        pytest.skip("no trained model in models/: run `make test` (it trains one)")
    return candidates[-1]


@pytest.fixture(scope="session")
def stack_env(tmp_path_factory):
    """Environment shared by the action server and the Rasa server: a seeded SQLite database, the
    local Twilio stand-in (so the WhatsApp and SMS channels send their replies to it), the action
    server's secret and the API token, both made for this run (tests/support/stack.py)."""
    with stack_environment(tmp_path_factory.mktemp("stack")) as env:
        yield env


@pytest.fixture(scope="session")
def rasa_stack(stack_env):
    """Action server + Rasa server (REST and our channels, API with a token) on the trained model,
    started once, with the command lines `make run` uses."""
    with running_stack(model_path(), stack_env) as running:
        yield running
