"""Migration 0009 on PostgreSQL (SQLite: tests/records/test_migrations.py runs every migration
there): up, down and up again, and two processes upgrading a fresh database at the same moment
(as two machines of `make production` starting together) both succeed, one after the other."""

from __future__ import annotations

import subprocess
import sys

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from bot.config import PROJECT_ROOT
from bot.db import engine_for
from bot.records.migrate import upgrade
from tests.databases import empty_database
from tests.production.processes import ROOT


def _config(url):
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    return config


def _columns(url, table):
    return {c["name"] for c in inspect(engine_for(url)).get_columns(table)}


def test_0009_up_down_and_up_again_on_postgresql(production_db, tmp_path):
    url, drop = empty_database("postgresql", tmp_path, "pp_migration")
    try:
        upgrade(url)
        assert {"farmer_seq", "queue_partition", "published_at", "claimed_until"} <= _columns(
            url, "inbound_messages"
        )
        assert "reply_position" in _columns(url, "outbound_messages")
        command.downgrade(_config(url), "0008")
        assert "farmer_seq" not in _columns(url, "inbound_messages")
        assert "farmer_sequences" not in inspect(engine_for(url)).get_table_names()
        upgrade(url)
        assert "farmer_seq" in _columns(url, "inbound_messages")
    finally:
        drop()


def test_two_processes_upgrading_at_once_both_succeed(production_db, tmp_path):
    url, drop = empty_database("postgresql", tmp_path, "pp_migration")
    code = f"from bot.records.migrate import upgrade; upgrade({url!r})"
    try:
        runs = [
            subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        outcomes = [(run.wait(120), run.stderr.read() if run.stderr else "") for run in runs]
        assert [code for code, _ in outcomes] == [0, 0], outcomes
        with engine_for(url).connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        head = ScriptDirectory.from_config(_config(url)).get_current_head()
        assert versions == [head]
    finally:
        drop()
