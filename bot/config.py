"""Settings read from the environment, with defaults that need no server (SQLite under var/)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


@dataclass(frozen=True)
class Settings:
    database_url: str
    verification_ttl_days: int
    verification_max_attempts: int
    verification_lock_minutes: int
    verification_second_lock_hours: int
    privacy_notice_url: str
    program_phone: str
    timezone: str  # the program's own clock, for the times it tells farmers (e.g. a lock's end)
    # How long each kind of data is kept, in days (bot/retention.py purges what is older; the
    # README's "Privacy: retention" lists them; the full privacy notice shows them).
    retention_transcripts_days: int = 365
    retention_raw_params_days: int = 30
    retention_media_days: int = 90
    retention_audit_days: int = 1827
    # Replies kept to answer a redelivered message the same way (bot/assistant/redelivery.py):
    # only as long as a message can come again (a worker's retry, a channel's redelivery).
    retention_replies_days: int = 7
    # What the full privacy notice says the project cannot know: empty shows "[POR LLENAR: …]".
    privacy_controller_name: str = ""
    privacy_controller_address: str = ""
    privacy_arco_email: str = ""
    privacy_arco_phone: str = ""

    @classmethod
    def from_env(cls) -> Settings:
        default_db = f"sqlite:///{VAR_DIR / 'program.db'}"
        return cls(
            database_url=os.environ.get("DATABASE_URL", "").strip() or default_db,
            verification_ttl_days=_int("VERIFICATION_TTL_DAYS", 30),
            verification_max_attempts=_int("VERIFICATION_MAX_ATTEMPTS", 3),
            verification_lock_minutes=_int("VERIFICATION_LOCK_MINUTES", 30),
            verification_second_lock_hours=_int("VERIFICATION_SECOND_LOCK_HOURS", 24),
            privacy_notice_url=os.environ.get(
                "PRIVACY_NOTICE_URL", "pequenoproductor.mx/aviso-de-privacidad"
            ),
            program_phone=os.environ.get("PROGRAM_PHONE", "800 000 0000"),
            timezone=os.environ.get("PROGRAM_TIMEZONE", "").strip() or "America/Mexico_City",
            retention_transcripts_days=_int("RETENTION_TRANSCRIPTS_DAYS", 365),
            retention_raw_params_days=_int("RETENTION_RAW_PARAMS_DAYS", 30),
            retention_media_days=_int("RETENTION_MEDIA_DAYS", 90),
            retention_audit_days=_int("RETENTION_AUDIT_DAYS", 1827),
            retention_replies_days=_int("RETENTION_REPLIES_DAYS", 7),
            privacy_controller_name=os.environ.get("PRIVACY_CONTROLLER_NAME", "").strip(),
            privacy_controller_address=os.environ.get("PRIVACY_CONTROLLER_ADDRESS", "").strip(),
            privacy_arco_email=os.environ.get("PRIVACY_ARCO_EMAIL", "").strip(),
            privacy_arco_phone=os.environ.get("PRIVACY_ARCO_PHONE", "").strip(),
        )


def settings() -> Settings:
    """Settings are read on each call so tests and the CLI can change the environment."""
    return Settings.from_env()
