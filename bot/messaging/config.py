"""Twilio settings from the environment; a credentials.yml entry may override any of them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml

from bot.config import PROJECT_ROOT, VAR_DIR

CREDENTIALS_FILE = PROJECT_ROOT / "credentials.yml"
# Each medium's entry in credentials.yml: the import path of its Rasa input channel
# (bot/channels/twilio_channels.py), which is how Rasa names a custom channel there.
CREDENTIALS_KEYS = {
    "whatsapp": "bot.channels.twilio_channels.WhatsAppInput",
    "sms": "bot.channels.twilio_channels.SmsInput",
}

_ENV = {
    "account_sid": "TWILIO_ACCOUNT_SID",
    "auth_token": "TWILIO_AUTH_TOKEN",
    "whatsapp_from": "TWILIO_WHATSAPP_FROM",
    "sms_from": "TWILIO_SMS_FROM",
    "messaging_service_sid": "TWILIO_MESSAGING_SERVICE_SID",
    "public_base_url": "TWILIO_PUBLIC_BASE_URL",
    "api_base": "TWILIO_API_BASE",
    "send_timeout": "TWILIO_SEND_TIMEOUT",
    "send_attempts": "TWILIO_SEND_ATTEMPTS",
    "backoff_base": "TWILIO_BACKOFF_BASE",
    "backoff_max": "TWILIO_BACKOFF_MAX",
    "outbox_interval": "TWILIO_OUTBOX_INTERVAL",
    "outbox_max_age_hours": "TWILIO_OUTBOX_MAX_AGE_HOURS",
    "status_callbacks": "TWILIO_STATUS_CALLBACKS",
    "turn_timeout": "TWILIO_TURN_TIMEOUT",
    "turn_threads": "TWILIO_TURN_THREADS",
    "inbound_spool": "TWILIO_INBOUND_SPOOL",
    "max_body_bytes": "TWILIO_MAX_BODY_BYTES",
    "rate_limit_per_minute": "TWILIO_RATE_LIMIT_PER_MINUTE",
    "sends_per_second": "TWILIO_SENDS_PER_SECOND",
}
# Set to 1 by whatever wants the channels to send to the local stand-in (`make run` without an
# account, the channel benchmark, chaos runs): the stand-in is never chosen silently otherwise.
USE_STANDIN = "TWILIO_USE_STANDIN"


def _bool(value: Any) -> bool:
    return str(value).strip().lower() not in ("0", "false", "no", "off", "")


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str = ""
    auth_token: str = ""
    whatsapp_from: str = ""  # whatsapp:+14155238886 (the sandbox) or your approved sender
    sms_from: str = ""  # +1..., or leave empty and set messaging_service_sid
    messaging_service_sid: str = ""
    public_base_url: str = ""  # https://bot.example.mx : what Twilio calls (for signatures)
    api_base: str = ""  # http://127.0.0.1:4010 points the twilio client at the stand-in
    send_timeout: float = 10.0  # seconds per REST call
    send_attempts: int = 4  # tries per reply before it goes to the outbox
    backoff_base: float = 0.5  # 0.5 s, 1 s, 2 s ... (with jitter)
    backoff_max: float = 8.0
    outbox_interval: float = 30.0  # seconds between outbox rounds
    outbox_max_age_hours: float = 24.0  # WhatsApp's customer-service window: give up after
    status_callbacks: bool = True
    turn_timeout: float = 60.0  # a Rasa turn that takes longer is abandoned (and apologised)
    # Threads that run Rasa turns off the web server's loop (bot/channels/turn_threads.py); 0
    # runs them on the loop, as Rasa does. One is fastest on 2 cores (bench/channels_bench.py):
    # TensorFlow already spreads one inference over the cores, and more threads only contend
    # for the GIL with the webhook.
    turn_threads: int = 1
    inbound_spool: str = str(VAR_DIR / "inbound_spool.jsonl")  # when the database is down
    max_body_bytes: int = 64 * 1024  # a webhook body over this is refused (413) unread
    # Messages a number may send in a minute before the assistant stops answering it (a loop
    # between two bots, or someone running up our bill); 0 turns the limit off.
    rate_limit_per_minute: int = 30
    # What each sender (a From address or a Messaging Service) may send a second, shared by every
    # process (bot/messaging/pacing.py); an SMS counts its billed parts. Twilio's queue takes
    # about 10 a second from one sender; 0 turns pacing off.
    sends_per_second: float = 10.0

    @classmethod
    def from_env(
        cls, overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
    ) -> TwilioSettings:
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = None
            if overrides and overrides.get(field.name) not in (None, ""):
                raw = overrides[field.name]
            elif environ.get(_ENV[field.name], "").strip():
                raw = environ[_ENV[field.name]].strip()
            if raw is None:
                continue
            if field.type in ("float", float):
                values[field.name] = float(raw)
            elif field.type in ("int", int):
                values[field.name] = int(raw)
            elif field.type in ("bool", bool):
                values[field.name] = raw if isinstance(raw, bool) else _bool(raw)
            else:
                values[field.name] = str(raw)
        settings = cls(**values)
        return replace(
            settings,
            public_base_url=settings.public_base_url.rstrip("/"),
            api_base=settings.api_base.rstrip("/"),
        )

    def sender_for(self, medium: str) -> dict[str, str]:
        """The From (or Messaging Service) parameters for a medium. SMS goes through the Messaging
        Service when one is configured (what we send is application-to-person traffic, which
        Twilio's Mexico guidelines keep off Mexican long codes), else from TWILIO_SMS_FROM."""
        if medium == "whatsapp" and self.whatsapp_from:
            sender = self.whatsapp_from
            return {"from_": sender if sender.startswith("whatsapp:") else f"whatsapp:{sender}"}
        if medium != "whatsapp" and self.sms_from and not self.messaging_service_sid:
            return {"from_": self.sms_from}
        if self.messaging_service_sid:
            return {"messaging_service_sid": self.messaging_service_sid}
        raise RuntimeError(f"no sender configured for {medium}")

    def public_url(self, path: str) -> str:
        return f"{self.public_base_url}{path}"

    def problems(self) -> list[str]:
        missing = [
            _ENV[name] for name in ("account_sid", "auth_token", "public_base_url") if not getattr(self, name)
        ]
        return [f"{name} is not set" for name in missing]


def spool_path(settings: TwilioSettings) -> Path:
    return Path(settings.inbound_spool)


def credentials_overrides(medium: str, credentials_file: Path | None = None) -> dict[str, Any]:
    """The keys credentials.yml sets for a medium's channel; {} when it sets none or cannot be
    read."""
    path = CREDENTIALS_FILE if credentials_file is None else credentials_file
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    entry = data.get(CREDENTIALS_KEYS.get(medium, "")) if isinstance(data, dict) else None
    return dict(entry) if isinstance(entry, dict) else {}


class StandinConflict(RuntimeError):
    """The stand-in was asked for while a real Twilio account is configured."""


def account_source(environ: Mapping[str, str] | None = None, credentials_file: Path | None = None) -> str:
    """Where a Twilio account is set ("the environment", or the credentials file's name), or ""
    when none is."""
    environ = os.environ if environ is None else environ
    if any(environ.get(_ENV[name], "").strip() for name in ("account_sid", "auth_token")):
        return "the environment"
    path = CREDENTIALS_FILE if credentials_file is None else credentials_file
    for medium in CREDENTIALS_KEYS:
        entry = credentials_overrides(medium, path)
        if entry.get("account_sid") or entry.get("auth_token"):
            return path.name
    return ""


def use_standin(
    *,
    development: bool,
    environ: Mapping[str, str] | None = None,
    credentials_file: Path | None = None,
) -> bool:
    """Whether the channels send to the local Twilio stand-in: when asked for explicitly
    (TWILIO_USE_STANDIN=1), or in development mode (`make run`) when no account is set in the
    environment nor in credentials.yml. A real account is never overridden: asking for the
    stand-in while one is set raises StandinConflict."""
    environ = os.environ if environ is None else environ
    source = account_source(environ, credentials_file)
    if _bool(environ.get(USE_STANDIN, "")):
        if source:
            raise StandinConflict(f"{USE_STANDIN}=1, but a Twilio account is set in {source}: unset one")
        return True
    return development and not source


def settings_for_medium(medium: str, *, credentials_file: Path | None = None) -> TwilioSettings | None:
    """The settings a process outside `rasa run` (the staff console) sends with on a medium:
    the environment, overridden by the medium's credentials.yml entry, as the channel reads
    them. None when it cannot send on that medium (an unknown medium, no account SID or auth
    token, no sender)."""
    if medium not in CREDENTIALS_KEYS:
        return None
    settings = TwilioSettings.from_env(credentials_overrides(medium, credentials_file))
    if not (settings.account_sid and settings.auth_token):
        return None
    try:
        settings.sender_for(medium)
    except RuntimeError:
        return None
    return settings
