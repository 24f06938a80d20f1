"""Staff accounts, roles and the audit log.

Passwords are hashed by werkzeug.security with its current default (scrypt); sessions are
Flask-Login's, CSRF is Flask-WTF's. Nothing here hand-rolls any of them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import wraps
from typing import Callable

from flask import abort
from flask_login import UserMixin, current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from bot.console.schema import ROLES, ConsoleAudit, ConsoleUser
from bot.timeutil import utcnow

PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "officer": frozenset({"read", "amounts", "reply", "review", "edit"}),
    "admin": frozenset({"read", "amounts", "reply", "review", "edit", "accounts"}),
}
ROLE_NAMES = {"viewer": "consulta", "officer": "técnico(a) de campo", "admin": "administración"}
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD = 10
# Checked when the username does not exist, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class AccountError(ValueError):
    pass


@dataclass
class StaffUser(UserMixin):
    id: int
    username: str
    role: str

    def get_id(self) -> str:
        return str(self.id)

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)


def check_new_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"La contraseña debe tener al menos {MIN_PASSWORD} caracteres.")


def create_user(session: Session, username: str, role: str, password: str) -> ConsoleUser:
    username = (username or "").strip().lower()
    if not USERNAME.match(username):
        raise AccountError("Usuario inválido: use minúsculas, números, punto, guion o guion bajo.")
    if role not in ROLES:
        raise AccountError(f"Rol inválido: use uno de {', '.join(ROLES)}.")
    check_new_password(password)
    exists = session.execute(
        select(ConsoleUser.id).where(func.lower(ConsoleUser.username) == username)
    ).first()
    if exists:
        raise AccountError(f"Ya existe el usuario {username}.")
    user = ConsoleUser(username=username, role=role, password_hash=generate_password_hash(password))
    session.add(user)
    session.flush()
    return user


def set_password(user: ConsoleUser, password: str) -> None:
    check_new_password(password)
    user.password_hash = generate_password_hash(password)


def authenticate(session: Session, username: str, password: str) -> ConsoleUser | None:
    user = session.execute(
        select(ConsoleUser).where(ConsoleUser.username == (username or "").strip().lower())
    ).scalar_one_or_none()
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or ""):
        return None
    user.last_login_at = utcnow()
    return user


def load_user(session: Session, user_id: str) -> StaffUser | None:
    try:
        row = session.get(ConsoleUser, int(user_id))
    except (TypeError, ValueError):
        return None
    if row is None or not row.active:
        return None
    return StaffUser(row.id, row.username, row.role)


def requires(permission: str) -> Callable:
    """For views: 403 unless the logged-in user's role has the permission (login is checked
    before, for every view, by the app)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated or not current_user.can(permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def audit(session: Session, user: StaffUser, action: str, *, farmer_id: int | None = None,
          phone: str | None = None, detail: str | None = None) -> None:
    session.add(ConsoleAudit(user_id=user.id, username=user.username, action=action,
                             farmer_id=farmer_id, phone=phone, detail=detail))
