"""Queries on console_uploads: CSV files between their preview and their application."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.console.schema import ConsoleUpload


def add_upload(session: Session, *, kind: str, filename: str, content: str, username: str) -> ConsoleUpload:
    upload = ConsoleUpload(kind=kind, filename=filename, content=content, username=username)
    session.add(upload)
    session.flush()
    return upload


def upload_by_id(session: Session, upload_id: int) -> ConsoleUpload | None:
    return session.get(ConsoleUpload, upload_id)
