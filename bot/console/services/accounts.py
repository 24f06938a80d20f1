"""Staff accounts (created by administration or from the command line, never by oneself) and the
log of who viewed personal or payment data."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from sqlalchemy.orm import Session

from bot.console.auth import StaffUser, hash_password
from bot.console.queries import audit, logins, users
from bot.console.schema import ConsoleUser
from bot.console.services.paging import Page, fetch_page
from bot.console.vocabulary import ROLES
from bot.text import fold_accents

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD = 12
COMMON_PASSWORDS = Path(__file__).resolve().parents[1] / "common_passwords.txt"
_TRAILING = re.compile(r"[\W\d_]+$")  # digits and symbols at the end: 'mexico2026!'
AUDIT_PAGE_SIZE = 100


class AccountError(ValueError):
    """An account change refused; the message is for staff, in Spanish."""


def _folded(text: str) -> str:
    return fold_accents(text.strip().lower())


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(_folded(line) for line in lines if line.strip() and not line.startswith("#"))


def check_new_password(password: str, username: str) -> None:
    """Refuses (AccountError) a password shorter than MIN_PASSWORD, a common one (alone or with
    digits and symbols after it) or one that contains the username."""
    password = password or ""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"La contraseña debe tener al menos {MIN_PASSWORD} caracteres.")
    folded = _folded(password)
    if folded in common_passwords() or _TRAILING.sub("", folded) in common_passwords():
        raise AccountError("Esa contraseña es de las más comunes y fácil de adivinar. Elija otra.")
    name = _folded(username or "")
    if name and name in folded:
        raise AccountError("La contraseña no puede contener el nombre de usuario.")


def create_account(session: Session, username: str, role: str, password: str) -> ConsoleUser:
    """A new account; raises AccountError before anything is written."""
    username = (username or "").strip().lower()
    if not USERNAME.match(username):
        raise AccountError("Usuario inválido: use minúsculas, números, punto, guion o guion bajo.")
    if role not in ROLES:
        raise AccountError(f"Rol inválido: use uno de {', '.join(ROLES)}.")
    check_new_password(password, username)
    if users.username_taken(session, username):
        raise AccountError(f"Ya existe el usuario {username}.")
    return users.add_user(session, username, role, hash_password(password))


def add_account(session: Session, actor: StaffUser, username: str, role: str, password: str) -> ConsoleUser:
    """An account created by an administrator, audited."""
    user = create_account(session, username, role, password)
    audit.record(session, actor, "create_account", detail=username)
    return user


def find_account(session: Session, user_id: int) -> ConsoleUser | None:
    return users.user_by_id(session, user_id)


def edit_account(
    session: Session, actor: StaffUser, user: ConsoleUser, *, role: str, active: bool, password: str = ""
) -> None:
    """Changes an account's role, whether it is active and (optionally) its password; raises
    AccountError before changing anything. Nobody removes their own administration."""
    if user.id == actor.id and (role != "admin" or not active):
        raise AccountError("No puede quitarse a sí mismo el rol de administración ni desactivar su cuenta.")
    if password:
        check_new_password(password, user.username)
    user.role, user.active = role, bool(active)
    if password:
        user.password_hash = hash_password(password)
    audit.record(session, actor, "edit_account", detail=user.username)


def accounts_page(session: Session) -> list[ConsoleUser]:
    return users.all_users(session)


def audit_page(session: Session, page: int) -> Page:
    return fetch_page(
        page,
        AUDIT_PAGE_SIZE,
        lambda: audit.count_entries(session),
        lambda limit, offset: audit.entries(session, limit=limit, offset=offset),
    )


def logins_page(session: Session, page: int) -> Page:
    """Every attempt to sign in, the newest first."""
    return fetch_page(
        page,
        AUDIT_PAGE_SIZE,
        lambda: logins.count_attempts(session),
        lambda limit, offset: logins.attempts(session, limit=limit, offset=offset),
    )
