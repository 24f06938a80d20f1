"""Signing in with a username and password."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.console.auth import StaffUser, password_matches
from bot.console.queries.users import user_by_username
from bot.timeutil import utcnow


def sign_in(session: Session, username: str, password: str) -> StaffUser | None:
    """The account, when active and the password is right (its last login is noted)."""
    user = user_by_username(session, (username or "").strip().lower())
    if user is None or not user.active:
        password_matches(None, password)  # as slow as a real check
        return None
    if not password_matches(user.password_hash, password):
        return None
    user.last_login_at = utcnow()
    return StaffUser.of(user)
