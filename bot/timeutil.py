"""Aware UTC datetimes everywhere (SQLite hands back naive ones: they were stored as UTC)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import overload
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@overload
def as_utc(value: datetime) -> datetime: ...


@overload
def as_utc(value: None) -> None: ...


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def local_today(zone: str) -> date:
    """Today's date on a zone's clock (Mexico's calendar day, not UTC's)."""
    return utcnow().astimezone(ZoneInfo(zone)).date()
