"""What the database did during a load, from the private cluster's own counters: transactions
committed (``pg_stat_database.xact_commit``, every database) and statements run
(``pg_stat_statements``, loaded by ``PrivatePostgres(track_statements=True)``; BEGIN, COMMIT and
the like not counted), with the statements run most often. `make bench-load` divides them by the
replies, to show where the database's CPU per reply goes; the meter's own few statements count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

TOP = 40  # statements kept, most run first (the report shows the first SHOWN_IN_REPORT; the JSON all)
SHOWN_IN_REPORT = 12
SHOWN = 110  # characters of a statement shown


@dataclass(frozen=True)
class DatabaseWork:
    transactions: int = 0
    statements: int = 0
    top: list[tuple[int, str]] = field(default_factory=list)  # (calls, statement), most run first


def shortened(statement: str) -> str:
    """One line, parameters as PostgreSQL normalised them ($1 ...), cut to ``SHOWN`` characters."""
    line = re.sub(r"\s+", " ", statement).strip()
    return line if len(line) <= SHOWN else line[: SHOWN - 1] + "…"


class StatementMeter:
    """``start()`` resets the counts, ``stop()`` reads what was run since; over the superuser's URL."""

    def __init__(self, admin_url: str):
        self.engine = create_engine(admin_url, poolclass=NullPool)
        with self.engine.begin() as connection:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
        self._commits = 0

    def _commits_so_far(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(text("SELECT sum(xact_commit) FROM pg_stat_database")).scalar_one())

    def start(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(text("SELECT pg_stat_statements_reset()"))
        self._commits = self._commits_so_far()

    def stop(self) -> DatabaseWork:
        transactions = self._commits_so_far() - self._commits
        with self.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT calls, query FROM pg_stat_statements ORDER BY calls DESC, query")
            ).all()
        return DatabaseWork(
            transactions=transactions,
            statements=sum(int(calls) for calls, _ in rows),
            top=[(int(calls), shortened(query)) for calls, query in rows[:TOP]],
        )

    def close(self) -> None:
        self.engine.dispose()
