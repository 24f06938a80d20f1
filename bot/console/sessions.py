"""The console's units of work.

Each request has one session (``request_session``): committed when the request ends without an
error, so the audit entries of a page view are kept, and rolled back otherwise. Work that must be
committed on its own, apart from the request (copying the tracker, an officer's reply around its
network send, a CSV import that may be refused whole), opens a ``separate_session``.

This module imports no views: the app, the views and the login loader all import it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy.orm import Session, sessionmaker

from bot.db import engine

_FACTORY = "console_sessions"


def init_app(app: Flask, database_url: str) -> None:
    app.extensions[_FACTORY] = sessionmaker(bind=engine(database_url), future=True, expire_on_commit=False)
    app.teardown_request(_end_request_session)


def request_session() -> Session:
    """This request's session; the request owns its unit of work."""
    if "db" not in g:
        g.db = current_app.extensions[_FACTORY]()
    return g.db


@contextmanager
def separate_session() -> Iterator[Session]:
    """A session of its own; whoever opens it commits it."""
    session = current_app.extensions[_FACTORY]()
    try:
        yield session
    finally:
        session.close()


def _end_request_session(exc: BaseException | None) -> None:
    session = g.pop("db", None)
    if session is None:
        return
    try:
        if exc is None:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()
