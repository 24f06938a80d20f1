"""Real databases for tests: SQLite files, and fresh PostgreSQL databases when the server named by
TEST_POSTGRES_URL answers (each created for the test run and dropped after it)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.db import engine_for, session_scope
from bot.records.migrate import upgrade
from bot.records.seed import seed_demo

ANCHOR = date.today()


def postgres_admin_url() -> str | None:
    """The PostgreSQL server to create test databases on, or None when there is none."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        return None
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception:
        return None
    return url


def fresh_postgres(admin_url: str, prefix: str = "pp_test") -> tuple[str, Callable[[], None]]:
    """Creates an empty database; returns its URL and the function that drops it."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"

    def drop() -> None:
        engine_for(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def empty_database(kind: str, tmp_dir: Path, prefix: str = "pp_test") -> tuple[str, Callable[[], None]]:
    """An empty database of the kind ("sqlite" or "postgresql"); skips when PostgreSQL is absent."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_dir / f'{prefix}-{uuid.uuid4().hex[:6]}.db'}", lambda: None
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("PostgreSQL is not reachable at TEST_POSTGRES_URL")
    return fresh_postgres(admin, prefix)


def make_database(kind: str, tmp_dir: Path, seeded: bool = True) -> tuple[str, Callable[[], None]]:
    """A migrated (and, by default, seeded with the demo records) database."""
    url, cleanup = empty_database(kind, tmp_dir)
    upgrade(url)
    if seeded:
        with session_scope(url) as session:
            seed_demo(session, ANCHOR)
    return url, cleanup
