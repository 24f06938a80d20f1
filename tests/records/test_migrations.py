"""The SQLAlchemy models and the Alembic migrations describe the same schema: a database
migrated to head has every table, column, type, index and foreign key the models declare, and
nothing more (Alembic's own comparison, as `alembic check` runs it), on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData

import bot.console.schema
import bot.messaging.schema  # registers the messaging tables on Base
import bot.records.arco_schema  # noqa: F401  (and the ARCO tables)
from bot.db import engine_for
from bot.records.schema import Base


def _differences(url: str, metadata: MetaData = Base.metadata) -> list:
    with engine_for(url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def test_models_and_migrations_agree(empty_db):
    assert _differences(empty_db) == []


def test_the_comparison_sees_a_column_the_migrations_lack(empty_db):
    """The check can fail: a model column no migration created is reported."""
    models = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(models)
    models.tables["farmers"].append_column(Column("not_migrated", Integer))
    differences = _differences(empty_db, models)
    assert any(d[0] == "add_column" and d[3].name == "not_migrated" for d in differences)
