"""Signing in with a username and password, throttled and audited.

Every attempt is written to console_logins and committed before the password is looked at, so
every console process (and every concurrent request) counts it. After
``login_failures_per_account`` failures for one account, or ``login_failures_per_address`` from
one client address, within ``login_window_minutes``, further attempts are refused without checking
the password until the oldest of those failures leaves the window; the refusal is written too.
A success clears the account's count (not the address's).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.console.auth import StaffUser, password_matches
from bot.console.config import ConsoleSettings
from bot.console.queries import logins
from bot.console.queries.users import user_by_username
from bot.console.services import SessionFactory
from bot.timeutil import as_utc, utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignIn:
    """How an attempt ended: the account signed in, or None; when refused for too many failed
    attempts, when the next attempt will be heard."""

    user: StaffUser | None
    retry_at: datetime | None = None


def sign_in(
    separate_session: SessionFactory,
    settings: ConsoleSettings,
    username: str,
    password: str,
    address: str | None,
) -> SignIn:
    """One attempt to sign in from a client address, in a unit of work of its own. It is written
    as a failure (and committed) first, then refused unchecked if throttled, else checked."""
    name = (username or "").strip().lower()[:80]
    with separate_session() as session:
        now = utcnow()
        attempt = logins.add_attempt(session, name, address, "failure", now)
        session.commit()  # counted by every other attempt from now on, even if this one fails
        retry_at = throttled_until(session, settings, name, address, attempt, now)
        if retry_at is not None:
            # Neither the username nor the address: console_logins has both, for administration.
            logger.warning("sign-in refused unchecked: too many failed attempts (attempt %s)", attempt)
            logins.set_outcome(session, attempt, "throttled")
            session.commit()
            return SignIn(None, retry_at)
        user = _check_password(session, name, password, now)
        if user is not None:
            logins.set_outcome(session, attempt, "success", user.id)
        session.commit()
        return SignIn(user)


def throttled_until(
    session: Session,
    settings: ConsoleSettings,
    username: str,
    address: str | None,
    attempt: int,
    now: datetime,
) -> datetime | None:
    """When attempts for this account and from this address will be heard again, if they are
    refused now (the failures before ``attempt`` are counted)."""
    window = timedelta(minutes=settings.login_window_minutes)
    since = now - window
    counted = [
        (logins.failures_by_username(session, username, since, attempt), settings.login_failures_per_account)
    ]
    if address:
        by_address = logins.failures_by_address(session, address, since, attempt)
        counted.append((by_address, settings.login_failures_per_address))
    # Refused while `limit` failures are in the window: until the oldest of the last `limit` leaves it.
    ends = [as_utc(times[-limit]) + window for times, limit in counted if 0 < limit <= len(times)]
    return max(ends) if ends else None


def _check_password(session: Session, username: str, password: str, now: datetime) -> StaffUser | None:
    """The account, when active and the password is right (its last login is noted)."""
    user = user_by_username(session, username)
    if user is None or not user.active:
        password_matches(None, password)  # as slow as a real check
        return None
    if not password_matches(user.password_hash, password):
        return None
    user.last_login_at = now
    return StaffUser.of(user)
