"""Queries on console_users: staff accounts."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.console.schema import ConsoleUser


def user_by_id(session: Session, user_id: int) -> ConsoleUser | None:
    return session.get(ConsoleUser, user_id)


def user_by_username(session: Session, username: str) -> ConsoleUser | None:
    return session.execute(select(ConsoleUser).where(ConsoleUser.username == username)).scalar_one_or_none()


def username_taken(session: Session, username: str) -> bool:
    return (
        session.execute(
            select(ConsoleUser.id).where(func.lower(ConsoleUser.username) == username.lower())
        ).first()
        is not None
    )


def add_user(session: Session, username: str, role: str, password_hash: str) -> ConsoleUser:
    user = ConsoleUser(username=username, role=role, password_hash=password_hash)
    session.add(user)
    session.flush()
    return user


def all_users(session: Session) -> list[ConsoleUser]:
    return list(session.execute(select(ConsoleUser).order_by(ConsoleUser.username)).scalars())


def active_usernames(session: Session, roles: Iterable[str]) -> list[str]:
    """Usernames of the active accounts with one of these roles, in order."""
    return list(
        session.execute(
            select(ConsoleUser.username)
            .where(ConsoleUser.active.is_(True), ConsoleUser.role.in_(tuple(roles)))
            .order_by(ConsoleUser.username)
        ).scalars()
    )
