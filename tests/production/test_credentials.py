"""The production processes refuse PostgreSQL, RabbitMQ and Redis without credentials of their own
(bot/messaging/credentials.py): no password, PostgreSQL's ``postgres``, RabbitMQ's ``guest``;
unless ALLOW_LOCAL_CREDENTIALS=1. The refusal names the variable and never prints the password.
No service is needed: the check runs before any connection."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from bot.messaging.credentials import fit_for_production, problem
from tests.production.processes import ROOT

GOOD = {
    "DATABASE_URL": "postgresql://pp:Zq8%40w%2Fx%3A1@127.0.0.1:5432/pequeno_productor",
    "TRACKER_DATABASE_URL": "postgresql+psycopg2://pp:Zq8%40w%2Fx%3A1@db.internal/pequeno_productor_tracker",
    "RABBITMQ_URL": "amqp://pp:Zq8%40w%2Fx%3A1@127.0.0.1:5672/pp",
    "REDIS_URL": "redis://pp:Zq8%40w%2Fx%3A1@127.0.0.1:6379/1",
}


@pytest.mark.parametrize(
    "name, url",
    [
        *GOOD.items(),
        ("REDIS_URL", "redis://:s3cret@cache.internal:6379/1"),  # requirepass: a password, no user
        ("REDIS_URL", "rediss://pp:s3cret@cache.internal:6380/1"),
        ("RABBITMQ_URL", "amqps://pp:%20@mq.internal/pp"),  # a password of one space is a password
        ("DATABASE_URL", "sqlite:////var/lib/pp/program.db"),  # a file: no credentials to check
    ],
)
def test_urls_with_credentials_of_their_own_pass(name, url):
    assert problem(name, url) is None


@pytest.mark.parametrize(
    "name, url, why",
    [
        ("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/pequeno_productor", "shared user 'postgres'"),
        ("DATABASE_URL", "postgresql://postgres:Zq8%40w@127.0.0.1/pp", "shared user 'postgres'"),
        ("DATABASE_URL", "postgresql://pp@127.0.0.1/pp", "no password"),
        ("DATABASE_URL", "postgresql://pp:@127.0.0.1/pp", "no password"),
        ("TRACKER_DATABASE_URL", "postgresql://127.0.0.1:5432/pp_tracker", "no password"),
        ("TRACKER_DATABASE_URL", "postgresql://%70ostgres:Zq8%40w@127.0.0.1/pp", "shared user 'postgres'"),
        ("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/", "shared user 'guest'"),
        ("RABBITMQ_URL", "amqp://gu%65st:Zq8%40w@127.0.0.1:5672/", "shared user 'guest'"),
        ("RABBITMQ_URL", "amqp://127.0.0.1:5672/", "no password"),  # aio-pika's default: guest
        ("RABBITMQ_URL", "amqp://:Zq8%40w@127.0.0.1:5672/", "no user"),
        ("REDIS_URL", "redis://127.0.0.1:6379/1", "no password"),
        ("REDIS_URL", "redis://pp@127.0.0.1:6379/1", "no password"),
        ("REDIS_URL", "http://pp:Zq8%40w@127.0.0.1:6379/1", "unexpected scheme"),
        ("REDIS_URL", "redis://pp:Zq8%40w@127.0.0.1:port/1", "not a valid URL"),
    ],
)
def test_urls_without_credentials_of_their_own_are_refused_by_name(name, url, why):
    found = problem(name, url)
    assert found is not None and found.startswith(name) and why in found
    assert "Zq8" not in found and "@" not in found  # never the password, nor the URL


def test_every_problem_is_told_and_allow_local_credentials_lets_it_start():
    urls = dict(GOOD, RABBITMQ_URL="amqp://guest:guest@127.0.0.1:5672/", REDIS_URL="redis://127.0.0.1/1")
    out = io.StringIO()
    assert not fit_for_production(urls, environ={}, stream=out)
    told = out.getvalue()
    assert "RABBITMQ_URL" in told and "REDIS_URL" in told and "DATABASE_URL" not in told
    assert "ALLOW_LOCAL_CREDENTIALS=1" in told
    assert fit_for_production(GOOD, environ={}, stream=out)
    quiet = io.StringIO()
    assert fit_for_production(urls, environ={"ALLOW_LOCAL_CREDENTIALS": "1"}, stream=quiet)
    assert quiet.getvalue() == ""
    assert not fit_for_production(urls, environ={"ALLOW_LOCAL_CREDENTIALS": "yes"}, stream=io.StringIO())


def _start(argv: list[str], **settings: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "ALLOW_LOCAL_CREDENTIALS"}
    env.update(GOOD, ACTION_SERVER_TOKEN="test", **settings)
    return subprocess.run(
        [sys.executable, "-m", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "argv, variable, url",
    [
        (["bot.gateway", "--port", "9"], "RABBITMQ_URL", "amqp://guest:s3cr%40t-guest@127.0.0.1:5672/"),
        (["bot.gateway", "--port", "9"], "RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/"),
        (["bot.worker", "--model", "none.tar.gz"], "REDIS_URL", "redis://127.0.0.1:6379/1"),
        (["bot.messaging.send_loop"], "DATABASE_URL", "postgresql://postgres:s3cr%40t@127.0.0.1/pp"),
        (["bot.action_server", "--port", "9"], "DATABASE_URL", "postgresql://pp_actions@127.0.0.1/pp"),
    ],
)
def test_a_production_process_given_shared_or_no_credentials_exits_2_naming_the_variable(argv, variable, url):
    done = _start(argv, **{variable: url})
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"refusing to start: {variable} " in done.stderr
    assert "s3cr" not in done.stderr + done.stdout
    assert "Zq8" not in done.stderr + done.stdout  # nor the passwords of the good ones
