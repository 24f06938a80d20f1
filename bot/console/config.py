"""Console settings from the environment (defaults need no server: SQLite files under var/)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.config import VAR_DIR
from bot.config import settings as program_settings


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _positive_or_none(name: str) -> int | None:
    """A whole number of days above zero, or None when unset (or not such a number)."""
    value = os.environ.get(name, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "si", "sí"}


def _secret_key() -> str:
    """CONSOLE_SECRET_KEY, or a random key kept in var/console_secret_key (so sessions survive a
    restart); the file is created readable by its owner only."""
    key = os.environ.get("CONSOLE_SECRET_KEY", "").strip()
    if key:
        return key
    path = Path(os.environ.get("CONSOLE_SECRET_KEY_FILE", "").strip() or VAR_DIR / "console_secret_key")
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


@dataclass(frozen=True)
class ConsoleSettings:
    database_url: str
    tracker_database_url: str
    timezone: str
    page_size: int
    whatsapp_template_sid: str  # an approved WhatsApp template for outside the 24-hour window
    low_confidence: float = 0.5
    # Served over HTTPS (directly or by a proxy): Secure cookies and Strict-Transport-Security.
    https: bool = False
    # How many reverse proxies in front of the console set X-Forwarded-For/-Proto (ProxyFix);
    # 0 trusts none, so a client cannot choose the address the login throttle counts.
    trusted_proxies: int = 0
    # Failed sign-ins allowed within the window, per account and per client address.
    login_failures_per_account: int = 5
    login_failures_per_address: int = 20
    login_window_minutes: int = 15
    # The legal deadline to answer an ARCO request, in business days (Monday to Friday). The 2025
    # law's deadline is not verified (shared/domain/facts.md §8.3): None until staff set it, and
    # until then a request's page says "Plazo legal: por confirmar".
    arco_response_business_days: int | None = None

    @classmethod
    def from_env(cls) -> ConsoleSettings:
        return cls(
            database_url=program_settings().database_url,
            tracker_database_url=os.environ.get("TRACKER_DATABASE_URL", "").strip()
            or f"sqlite:///{VAR_DIR / 'tracker.db'}",
            timezone=os.environ.get("CONSOLE_TIMEZONE", "").strip() or "America/Mexico_City",
            page_size=_int("CONSOLE_PAGE_SIZE", 25),
            whatsapp_template_sid=os.environ.get("CONSOLE_WHATSAPP_TEMPLATE_SID", "").strip(),
            https=_flag("CONSOLE_HTTPS"),
            trusted_proxies=_int("CONSOLE_TRUSTED_PROXIES", 0),
            login_failures_per_account=_int("CONSOLE_LOGIN_FAILURES_PER_ACCOUNT", 5),
            login_failures_per_address=_int("CONSOLE_LOGIN_FAILURES_PER_ADDRESS", 20),
            login_window_minutes=_int("CONSOLE_LOGIN_WINDOW_MINUTES", 15),
            arco_response_business_days=_positive_or_none("ARCO_RESPONSE_BUSINESS_DAYS"),
        )


def secret_key() -> str:
    return _secret_key()


def flask_config(settings: ConsoleSettings) -> dict[str, Any]:
    """Flask's settings for the console; SECRET_KEY is filled in by the app when none is given."""
    return {
        "SECRET_KEY": None,
        "CONSOLE_SETTINGS": settings,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.https,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": settings.https,
        "PREFERRED_URL_SCHEME": "https" if settings.https else "http",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,  # CSV uploads
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    }
