"""Engine and unit of work: one short session per piece of work, never a shared long-lived one."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from bot.config import settings

# SQLite keeps NUMERIC as REAL; amounts have two decimals, well inside a double's precision.
warnings.filterwarnings("ignore", message="Dialect sqlite\\+pysqlite does \\*not\\* support Decimal")


# Connections a process keeps open to PostgreSQL: more than the messaging threads that use them at
# once (bot/messaging/work.py, 8), so a burst reuses them instead of opening and closing some on
# each turn of the pool (SQLAlchemy's default of 5 opened 48 in eight bursts of 100 webhooks to
# two gateways; 10 opened 2). Up to as many again are opened for a peak, then closed.
POOL_SIZE = 10


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        from pathlib import Path

        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            future=True,
            hide_parameters=True,  # an error's text never carries a phone, a message or an amount
            connect_args={"timeout": 30, "check_same_thread": False},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, future=True, pool_pre_ping=True, hide_parameters=True, pool_size=POOL_SIZE)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def engine(url: str | None = None) -> Engine:
    return engine_for(url or settings().database_url)


@lru_cache(maxsize=8)
def _session_factory(url: str) -> sessionmaker:
    return sessionmaker(bind=engine_for(url), future=True, expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A unit of work: commits when the block ends normally, rolls back on any error."""
    session = _session_factory(url or settings().database_url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


T = TypeVar("T")


def chunks(values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``values`` a slice of ``size`` at a time: an IN list or a multi-row insert stays well under
    the databases' limits on bound parameters."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def insert_ignoring_conflict(session: Session, table: Any, values: dict[str, Any], unique: list[Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on the two databases the program runs on: one statement
    that inserts nothing when a row with the same unique columns exists (another process was
    first), so it neither raises nor spoils the caller's unit of work. True when it inserted."""
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[session.get_bind().dialect.name]
    result = session.execute(insert(table).values(**values).on_conflict_do_nothing(index_elements=unique))
    return bool(result.rowcount == 1)


def insert_many_ignoring_conflict(
    session: Session, table: Any, rows: list[dict[str, Any]], unique: list[Any]
) -> int:
    """The same for many rows in one statement (they must share their columns); returns how many
    were inserted."""
    if not rows:
        return 0
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[session.get_bind().dialect.name]
    result = session.execute(insert(table).values(rows).on_conflict_do_nothing(index_elements=unique))
    return int(result.rowcount)


def watch_writes(session: Session) -> Callable[[], bool]:
    """From now on, whether the session's unit of work changes anything: a flush that writes
    objects, or a statement other than a SELECT run through the session (an ``update()``, an
    ``insert()``, or any text, counted as a change). Ask with the function returned; it flushes
    first, so objects added and not yet written count."""
    changed = False

    def flushed(_session: Session, _context: Any) -> None:
        nonlocal changed
        changed = True

    def executed(state: ORMExecuteState) -> None:
        nonlocal changed
        changed = changed or not state.is_select

    event.listen(session, "after_flush", flushed)
    event.listen(session, "do_orm_execute", executed)

    def wrote() -> bool:
        session.flush()
        return changed

    return wrote
