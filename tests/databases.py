"""Real databases for tests: SQLite files, and fresh PostgreSQL databases when the server named by
TEST_POSTGRES_URL answers (each created for the test run and dropped after it).

Migrating through every revision and seeding takes seconds on PostgreSQL, and the suite asks for
a migrated database many times. So the first request of a run builds a template (migrated, and
seeded or not) and every later one is a copy of it: ``CREATE DATABASE … TEMPLATE`` on PostgreSQL,
a file copy on SQLite. A copy is the same database the migration and the seed would have made;
``drop_templates`` removes the templates at the end of the run (tests/conftest.py)."""

from __future__ import annotations

import os
import shutil
import tempfile
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


def fresh_postgres(
    admin_url: str, prefix: str = "pp_test", template_name: str | None = None, name: str | None = None
) -> tuple[str, Callable[[], None]]:
    """Creates a database, empty or a copy of ``template_name``; returns its URL and the function
    that drops it. Named ``prefix`` and a random suffix, or ``name`` (a benchmark's: what a killed
    run of it left under that name is dropped first)."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    template = f' TEMPLATE "{template_name}"' if template_name else ""
    with admin.connect() as conn:
        if name is not None:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        name = name or f"{prefix}_{uuid.uuid4().hex[:10]}"
        conn.execute(text(f'CREATE DATABASE "{name}"{template}'))
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
    return fresh_postgres(_admin_or_skip(), prefix)


def make_database(kind: str, tmp_dir: Path, seeded: bool = True) -> tuple[str, Callable[[], None]]:
    """A migrated (and, by default, seeded with the demo records) database: a copy of this run's
    template for the kind."""
    template = _template(kind, seeded)
    if kind == "sqlite":
        path = tmp_dir / f"pp_test-{uuid.uuid4().hex[:6]}.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}", lambda: None
    return fresh_postgres(_admin_or_skip(), template_name=template)


# kind and seeded -> the template: a SQLite file's path, or a PostgreSQL database's name
_templates: dict[tuple[str, bool], str] = {}
_template_drops: list[Callable[[], None]] = []


def _template(kind: str, seeded: bool) -> str:
    key = (kind, seeded)
    if key not in _templates:
        _templates[key] = _build_template(kind, seeded)
    return _templates[key]


def _build_template(kind: str, seeded: bool) -> str:
    if kind == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="pp_templates_"))
        url = f"sqlite:///{directory / 'template.db'}"
        _template_drops.append(lambda: shutil.rmtree(directory, ignore_errors=True))
    else:
        url, drop = fresh_postgres(_admin_or_skip(), "pp_template")
        _template_drops.append(drop)
    upgrade(url)
    if seeded:
        with session_scope(url) as session:
            seed_demo(session, ANCHOR)
    engine_for(url).dispose()  # PostgreSQL copies a template only while nobody is connected to it
    return url.removeprefix("sqlite:///") if kind == "sqlite" else url.rsplit("/", 1)[1]


def drop_templates() -> None:
    """Removes this run's templates (called once, when the run ends)."""
    for cleanup in _template_drops:
        cleanup()
    _template_drops.clear()
    _templates.clear()


def _admin_or_skip() -> str:
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("PostgreSQL is not reachable at TEST_POSTGRES_URL")
    return admin
