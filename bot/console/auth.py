"""Who is signed in and what their role lets them do; how passwords are kept.

Passwords are hashed by werkzeug.security with its current default (scrypt); sessions are
Flask-Login's, CSRF is Flask-WTF's. Nothing here hand-rolls any of them. Roles and their
permissions are listed once, in vocabulary.ROLES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import abort
from flask_login import UserMixin, current_user
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from bot.console.queries import users
from bot.console.schema import ConsoleUser
from bot.console.vocabulary import role_can, role_label

# Checked when the username does not exist, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


@dataclass
class StaffUser(UserMixin):
    id: int
    username: str
    role: str

    @classmethod
    def of(cls, row: ConsoleUser) -> StaffUser:
        return cls(row.id, row.username, row.role)

    def get_id(self) -> str:
        return str(self.id)

    def can(self, permission: str) -> bool:
        return role_can(self.role, permission)

    @property
    def role_name(self) -> str:
        return role_label(self.role)


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether the password is the one hashed; with no hash, as slow as a real check."""
    if password_hash is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return False
    return check_password_hash(password_hash, password or "")


def load_user(session: Session, user_id: str) -> StaffUser | None:
    """Flask-Login's loader: the signed-in account, if it still exists and is active."""
    try:
        row = users.user_by_id(session, int(user_id))
    except (TypeError, ValueError):
        return None
    if row is None or not row.active:
        return None
    return StaffUser.of(row)


def requires(permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """For views: 403 unless the logged-in user's role has the permission (login is checked
    before, for every view, by the app)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated or not current_user.can(permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = permission  # type: ignore[attr-defined]  # read by the attack suite
        return wrapped

    return decorator
