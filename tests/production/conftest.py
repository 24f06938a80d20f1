"""Fixtures of the production-mode tests: a fresh PostgreSQL database of their own (created and
migrated for the run, dropped after it, as tests/databases.py does) and a RabbitMQ prefix of their
own (exchange and queues deleted after the run). Each skips with its reason when its service is
absent: PostgreSQL at TEST_POSTGRES_URL, RabbitMQ at TEST_RABBITMQ_URL
(default amqp://guest:guest@127.0.0.1:5672/)."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from sqlalchemy import delete

from bot.db import session_scope
from bot.messaging.broker import BrokerSettings
from bot.messaging.schema import FarmerSequence, PartitionLease, WorkerHeartbeat
from tests.databases import make_database, postgres_admin_url
from tests.production.rabbit import delete_topology, rabbit_reachable
from tests.support.messaging_db import clean_messaging_tables

RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


@pytest.fixture(scope="session")
def production_db(tmp_path_factory):
    """A migrated PostgreSQL database for the production tests."""
    if postgres_admin_url() is None:
        pytest.skip("PostgreSQL is not reachable at TEST_POSTGRES_URL (the production mode runs on it)")
    url, drop = make_database("postgresql", tmp_path_factory.mktemp("production"), seeded=False)
    yield url
    drop()


@pytest.fixture
def pg(production_db, monkeypatch):
    """The production database, emptied of messages, sequences and leases, as DATABASE_URL."""
    monkeypatch.setenv("DATABASE_URL", production_db)
    clean_messaging_tables()
    with session_scope(production_db) as session:
        for table in (FarmerSequence, PartitionLease, WorkerHeartbeat):
            session.execute(delete(table))
    return production_db


@pytest.fixture(scope="session")
def rabbit_url():
    if not asyncio.run(rabbit_reachable(RABBITMQ_URL)):
        pytest.skip(f"RabbitMQ is not reachable at {RABBITMQ_URL} (TEST_RABBITMQ_URL)")
    return RABBITMQ_URL


@pytest.fixture
def broker(rabbit_url):
    """Broker settings with an exchange and queues of this test's own, deleted after it."""
    settings = BrokerSettings(url=rabbit_url, partitions=16, prefix=f"pp.test.{uuid.uuid4().hex[:8]}")
    yield settings
    asyncio.run(delete_topology(settings))
